import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCachingProvider, type CacheEvent } from '../../endorsements/provider/caching.js';
import { requestKey, type EndorsementRequest } from '../../verifier/verify/endorsement-provider.js';
import { EndorsementInvalidError, EndorsementUnavailableError } from '../../common/errors.js';
import { at, DAY, FakeUpstream, flush, HOUR, QE, T0, TCB, VCEK } from './provider-fixtures.js';

test('first get fetches, the next 1000 are hits', async () => {
  const upstream = new FakeUpstream();
  const cache = createCachingProvider(upstream);
  const first = await cache.get(TCB, { now: T0 });
  assert.equal(first.source, 'network');
  for (let i = 0; i < 1000; i++) {
    const e = await cache.get(TCB, { now: at(i * 60_000) });
    assert.equal(e.source, 'cache');
    assert.equal(e.sha256, first.sha256);
  }
  assert.equal(upstream.calls, 1);
  assert.deepEqual(cache.counters, {
    hits: 1000,
    misses: 1,
    fetches: 1,
    coalesced: 0,
    refreshes: 0,
    staleServed: 0,
    errors: 0,
    storeHits: 0,
    evictions: 0,
  });
});

test('50 concurrent gets of one key → one fetch (coalesced)', async () => {
  const upstream = new FakeUpstream();
  upstream.mode = 'hold';
  const cache = createCachingProvider(upstream);
  const pending = Array.from({ length: 50 }, () => cache.get(VCEK, { now: T0 }));
  await flush();
  assert.equal(upstream.calls, 1);
  upstream.release();
  const all = await Promise.all(pending);
  assert.equal(new Set(all.map((e) => e.sha256)).size, 1);
  const c = cache.counters;
  assert.equal(c.fetches, 1);
  assert.equal(c.coalesced, 49);
  assert.equal(c.misses, 50);
});

test('different keys are fetched independently', async () => {
  const upstream = new FakeUpstream();
  const cache = createCachingProvider(upstream);
  await Promise.all([TCB, QE, VCEK, TCB, QE].map((r) => cache.get(r, { now: T0 })));
  assert.equal(upstream.calls, 3);
  assert.equal(cache.counters.coalesced, 2);
});

test('refresh-ahead: one background fetch, callers never wait', async () => {
  const upstream = new FakeUpstream();
  const events: CacheEvent['type'][] = [];
  const cache = createCachingProvider(upstream, { onEvent: (e) => events.push(e.type) });
  const original = await cache.get(TCB, { now: T0 }); // valid until T0 + 30 d
  upstream.mode = 'hold';
  const inWindow = at(30 * DAY - 30 * 60_000); // 30 min before nextUpdate (window: 1 h)
  for (let i = 0; i < 20; i++) {
    const e = await cache.get(TCB, { now: inWindow }); // resolves while the refresh is held
    assert.equal(e.sha256, original.sha256);
    assert.equal(e.source, 'cache');
  }
  assert.equal(upstream.calls, 2, 'prime + exactly one refresh');
  assert.equal(cache.counters.refreshes, 1);
  upstream.release();
  await cache.idle();
  const refreshed = await cache.get(TCB, { now: inWindow });
  assert.notEqual(refreshed.sha256, original.sha256);
  assert.equal(refreshed.nextUpdate.getTime(), inWindow.getTime() + 30 * DAY);
  assert.equal(upstream.calls, 2);
  assert.equal(events.filter((t) => t === 'refresh').length, 1);
});

test('the refresh window is the smaller of refreshAheadMs and a share of the lifetime', async () => {
  const upstream = new FakeUpstream();
  upstream.lifetimeMs = 2 * HOUR; // 10 % of the lifetime = 12 min < 1 h
  const cache = createCachingProvider(upstream);
  await cache.get(QE, { now: T0 });
  await cache.get(QE, { now: at(2 * HOUR - 20 * 60_000) });
  assert.equal(cache.counters.refreshes, 0, '20 min before expiry is outside a 12 min window');
  await cache.get(QE, { now: at(2 * HOUR - 10 * 60_000) });
  assert.equal(cache.counters.refreshes, 1);
  await cache.idle();
});

test('dead inner + valid cache → served from cache; refresh retried after a pause', async () => {
  const upstream = new FakeUpstream();
  const cache = createCachingProvider(upstream, { refreshRetryMs: 5 * 60_000 });
  const original = await cache.get(TCB, { now: T0 });
  upstream.mode = 'down';
  const t = 30 * DAY - 40 * 60_000;
  assert.equal((await cache.get(TCB, { now: at(t) })).sha256, original.sha256);
  await cache.idle(); // the background refresh fails
  for (let i = 1; i <= 10; i++) {
    const e = await cache.get(TCB, { now: at(t + i * 1000) });
    assert.equal(e.source, 'cache');
    assert.equal(e.sha256, original.sha256);
  }
  assert.equal(upstream.calls, 2, 'no new refresh during the pause');
  assert.equal(cache.counters.staleServed, 10);
  assert.equal(cache.counters.errors, 1);
  await cache.get(TCB, { now: at(t + 6 * 60_000) }); // pause over: one more attempt
  await cache.idle();
  assert.equal(upstream.calls, 3);
});

test('dead inner + expired cache → ERR_ENDORSEMENT_UNAVAILABLE naming the request', async () => {
  const upstream = new FakeUpstream();
  const cache = createCachingProvider(upstream);
  await cache.get(VCEK, { now: T0 });
  upstream.mode = 'down';
  const err = await cache.get(VCEK, { now: at(30 * DAY) }).catch((e: unknown) => e);
  assert.ok(err instanceof EndorsementUnavailableError);
  assert.equal(err.code, 'ERR_ENDORSEMENT_UNAVAILABLE');
  assert.equal(err.retryable, true);
  assert.ok(err.message.includes(requestKey(VCEK)), err.message);
  assert.match(err.message, /HTTP 503/);
});

test('nothing cached and inner down → unavailable; other errors are wrapped too', async () => {
  const cache = createCachingProvider({
    get: async () => {
      throw new Error('ECONNRESET');
    },
  });
  await assert.rejects(cache.get(QE, { now: T0 }), {
    code: 'ERR_ENDORSEMENT_UNAVAILABLE',
    message: /tdx-qe-identity: no valid copy \(none cached; upstream: ECONNRESET\)/,
  });
});

test('invalid is rethrown and never cached: the next call fetches again', async () => {
  const upstream = new FakeUpstream();
  upstream.mode = 'invalid';
  const cache = createCachingProvider(upstream);
  for (let i = 0; i < 3; i++) {
    await assert.rejects(cache.get(TCB, { now: T0 }), EndorsementInvalidError);
  }
  assert.equal(upstream.calls, 3);
  assert.equal(cache.size, 0);
  upstream.mode = 'ok';
  assert.equal((await cache.get(TCB, { now: T0 })).source, 'network');
  assert.equal(cache.counters.errors, 3);
});

test('an answer for another request is invalid', async () => {
  const upstream = new FakeUpstream();
  const cache = createCachingProvider({ get: (_r, o) => upstream.get(QE, o) });
  await assert.rejects(cache.get(TCB, { now: T0 }), /asked for tdx-tcb-info\/00906ed50000/);
  assert.equal(cache.size, 0);
});

test('LRU bound: the least recently used key is evicted', async () => {
  const upstream = new FakeUpstream();
  const cache = createCachingProvider(upstream, { maxEntries: 3 });
  const req = (i: number): EndorsementRequest => ({
    kind: 'tdx-tcb-info',
    fmspc: `00000000000${i}`,
  });
  for (let i = 0; i < 3; i++) await cache.get(req(i), { now: T0 });
  await cache.get(req(0), { now: T0 }); // 0 is now the most recent
  await cache.get(req(3), { now: T0 }); // evicts 1
  assert.equal(cache.size, 3);
  assert.equal(cache.counters.evictions, 1);
  const before = upstream.calls;
  await cache.get(req(0), { now: T0 });
  await cache.get(req(2), { now: T0 });
  assert.equal(upstream.calls, before, '0 and 2 are still cached');
  await cache.get(req(1), { now: T0 });
  assert.equal(upstream.calls, before + 1, '1 was evicted');
});

test("a caller's abort leaves the shared fetch running for the others", async () => {
  const upstream = new FakeUpstream();
  upstream.mode = 'hold';
  const cache = createCachingProvider(upstream);
  const controller = new AbortController();
  const a = cache.get(TCB, { now: T0, signal: controller.signal });
  const b = cache.get(TCB, { now: T0 });
  await flush();
  controller.abort(new Error('client went away'));
  await assert.rejects(a, /client went away/);
  upstream.release();
  assert.equal((await b).source, 'network');
  assert.equal(upstream.calls, 1);
  await assert.rejects(cache.get(TCB, { now: T0, signal: AbortSignal.abort() }), {
    name: 'AbortError',
  });
});

test('measured: 10 keys × 100 gets over a day of simulated time', async (t) => {
  const upstream = new FakeUpstream();
  upstream.lifetimeMs = 6 * HOUR;
  const cache = createCachingProvider(upstream);
  for (let minute = 0; minute < 24 * 60; minute += 1440 / 100) {
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        cache.get(
          { kind: 'tdx-tcb-info', fmspc: `0000000000${String(i).padStart(2, '0')}` },
          {
            now: at(minute * 60_000),
          },
        ),
      ),
    );
  }
  await cache.idle();
  const c = cache.counters;
  // every key: 1 first fetch + one refresh per 6 h lifetime, all others hits
  assert.equal(c.misses, 10);
  assert.equal(c.hits, 990);
  assert.equal(c.fetches, 10 + c.refreshes);
  assert.ok(c.refreshes >= 30 && c.refreshes <= 40, `refreshes ${c.refreshes}`);
  t.diagnostic(`measured counters: ${JSON.stringify(c)}`);
});

test('bad options are caller misuse', () => {
  const upstream = new FakeUpstream();
  assert.throws(() => createCachingProvider(upstream, { maxEntries: 0 }), TypeError);
  assert.throws(() => createCachingProvider(upstream, { refreshAheadFraction: 2 }), TypeError);
});
