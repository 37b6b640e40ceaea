import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FetchError } from '../../endorsements/provider/http-fetcher.js';
import {
  isRetryableStatus,
  parseRetryAfter,
  withRetry,
  type RetryOptions,
} from '../../endorsements/provider/retry.js';
import type { Fetcher, HttpResponse } from '../../endorsements/provider/types.js';

type Step = HttpResponse | Error;

const res = (status: number, headers: Record<string, string> = {}): HttpResponse => ({
  status,
  headers,
  body: new TextEncoder().encode(`status ${status}`),
});

/** A fetcher that plays a script, one step per call. */
function scripted(steps: Step[]): Fetcher & { calls: number } {
  const f = Object.assign(
    async (): Promise<HttpResponse> => {
      const step = steps[Math.min(f.calls, steps.length - 1)]!;
      f.calls++;
      if (step instanceof Error) throw step;
      return step;
    },
    { calls: 0 },
  );
  return f;
}

function retrying(inner: Fetcher, o: RetryOptions = {}): { fetcher: Fetcher; slept: number[] } {
  const slept: number[] = [];
  const fetcher = withRetry(inner, {
    sleep: async (ms) => void slept.push(ms),
    random: () => 0.5,
    ...o,
  });
  return { fetcher, slept };
}

const init = { signal: new AbortController().signal };
const URL_ = 'https://kds.example/vcek/v1/Milan/cert_chain';

test('429 with Retry-After in seconds waits exactly that long', async () => {
  const inner = scripted([
    res(429, { 'retry-after': '3' }),
    res(429, { 'retry-after': '1' }),
    res(200),
  ]);
  const { fetcher, slept } = retrying(inner);
  const out = await fetcher(URL_, init);
  assert.equal(out.status, 200);
  assert.equal(inner.calls, 3);
  assert.deepEqual(slept, [3000, 1000]);
});

test('503 with an HTTP-date Retry-After waits until that date, capped at maxDelayMs', async () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const inner = scripted([
    res(503, { 'retry-after': 'Thu, 01 Jan 2026 00:00:20 GMT' }),
    res(503, { 'retry-after': '3600' }),
    res(200),
  ]);
  const { fetcher, slept } = retrying(inner, { clock: () => now, maxDelayMs: 60_000 });
  assert.equal((await fetcher(URL_, init)).status, 200);
  assert.deepEqual(slept, [20_000, 60_000]);
});

test('5xx then success: exponential backoff with full jitter', async () => {
  const inner = scripted([res(500), res(502), res(504), res(200)]);
  const { fetcher, slept } = retrying(inner, { baseDelayMs: 100 });
  assert.equal((await fetcher(URL_, init)).status, 200);
  assert.equal(inner.calls, 4);
  // random() = 0.5 → half of 100·2ⁿ
  assert.deepEqual(slept, [50, 100, 200]);
});

test('jitter none waits the whole backoff; the backoff is capped', async () => {
  const inner = scripted([res(500), res(500), res(500), res(500), res(500)]);
  const { fetcher, slept } = retrying(inner, {
    jitter: 'none',
    baseDelayMs: 1000,
    maxDelayMs: 3000,
  });
  const out = await fetcher(URL_, init);
  assert.equal(out.status, 500, 'the final response is returned after the last attempt');
  assert.equal(inner.calls, 5);
  assert.deepEqual(slept, [1000, 2000, 3000, 3000]);
});

test('other 4xx are returned at once, never retried', async () => {
  for (const status of [400, 401, 403, 404, 410]) {
    const inner = scripted([res(status), res(200)]);
    const { fetcher, slept } = retrying(inner);
    assert.equal((await fetcher(URL_, init)).status, status);
    assert.equal(inner.calls, 1);
    assert.deepEqual(slept, []);
  }
});

test('429 without Retry-After falls back to the backoff; 500 ignores Retry-After', async () => {
  const inner = scripted([res(429), res(500, { 'retry-after': '99' }), res(200)]);
  const { fetcher, slept } = retrying(inner, { baseDelayMs: 1000 });
  await fetcher(URL_, init);
  assert.deepEqual(slept, [500, 1000]);
});

test('network errors and timeouts are retried; the last error is thrown', async () => {
  const timeout = new FetchError('ERR_FETCH_TIMEOUT', URL_, 'no response');
  const network = new FetchError('ERR_FETCH_NETWORK', URL_, 'ECONNRESET');
  const inner = scripted([timeout, new TypeError('fetch failed'), network]);
  const { fetcher, slept } = retrying(inner, { retries: 2, baseDelayMs: 10 });
  await assert.rejects(fetcher(URL_, init), (e: unknown) => e === network);
  assert.equal(inner.calls, 3);
  assert.deepEqual(slept, [5, 10]);
});

test('a body over the cap is not retried', async () => {
  const inner = scripted([new FetchError('ERR_FETCH_BODY_TOO_LARGE', URL_, 'too big'), res(200)]);
  const { fetcher } = retrying(inner);
  await assert.rejects(fetcher(URL_, init), { code: 'ERR_FETCH_BODY_TOO_LARGE' });
  assert.equal(inner.calls, 1);
});

test("the caller's abort stops retrying", async () => {
  const controller = new AbortController();
  const inner = scripted([res(503)]);
  const fetcher = withRetry(inner, {
    sleep: async () => {
      controller.abort(new Error('shutting down'));
      throw controller.signal.reason;
    },
  });
  await assert.rejects(fetcher(URL_, { signal: controller.signal }), /shutting down/);
  assert.equal(inner.calls, 1);
});

test('the default sleep really waits and is abortable', async () => {
  const controller = new AbortController();
  const inner = scripted([res(503, { 'retry-after': '30' }), res(200)]);
  const pending = withRetry(inner)(URL_, { signal: controller.signal });
  setImmediate(() => controller.abort());
  await assert.rejects(pending, { name: 'AbortError' });
});

test('onRetry reports each wait', async () => {
  const seen: unknown[] = [];
  const inner = scripted([res(429, { 'retry-after': '2' }), res(200)]);
  const { fetcher } = retrying(inner, { onRetry: (i) => seen.push(i) });
  await fetcher(URL_, init);
  assert.deepEqual(seen, [{ url: URL_, attempt: 1, delayMs: 2000, reason: 429 }]);
});

test('parseRetryAfter and isRetryableStatus', () => {
  const now = Date.parse('2015-10-21T07:27:00Z');
  assert.equal(parseRetryAfter('120', now), 120_000);
  assert.equal(parseRetryAfter(' 0 ', now), 0);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', now), 60_000);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter('-5', now), undefined);
  assert.equal(parseRetryAfter('1.5', now), undefined);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.deepEqual([200, 304, 400, 404, 429, 500, 503, 599].map(isRetryableStatus), [
    false,
    false,
    false,
    false,
    true,
    true,
    true,
    true,
  ]);
  assert.throws(() => withRetry(scripted([]), { retries: -1 }), TypeError);
});
