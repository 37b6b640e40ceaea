/**
 * Retry layer over a {@link Fetcher}: exponential backoff with full jitter, `Retry-After`
 * (RFC 9110 §10.2.3) on 429 and 503, no retry on other 4xx.
 *
 * @internal
 * @module
 */
import { setTimeout as delay } from 'node:timers/promises';
import { nextBackoff } from '../../common/backoff.js';
import { TwiError } from '../../common/errors.js';
import type { Fetcher, HttpResponse } from './types.js';

/** Options of {@link withRetry}; every field says what happens when unset. */
export interface RetryOptions {
  /** Retries after the first attempt. Default 4 (five attempts in all). */
  readonly retries?: number;
  /** Backoff before retry `n` (0-based) is `min(maxDelayMs, baseDelayMs · 2ⁿ)`. Default 250 ms. */
  readonly baseDelayMs?: number;
  /** Cap of every wait, `Retry-After` included. Default 30 000 ms. */
  readonly maxDelayMs?: number;
  /** `'full'` (default): wait a uniform random share of the backoff; `'none'`: the whole backoff. */
  readonly jitter?: 'full' | 'none';
  /** Waits `ms`, rejecting when `signal` aborts. Default: a timer. Inject to test without waiting. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Uniform in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
  /** Wall clock in ms, for `Retry-After` HTTP dates. Default `Date.now`. */
  readonly clock?: () => number;
  /** Called before each wait (metrics, logs). */
  readonly onRetry?: (info: RetryInfo) => void;
}

/** Why and how long {@link withRetry} waits before another attempt. */
export interface RetryInfo {
  readonly url: string;
  /** 1 for the first retry. */
  readonly attempt: number;
  readonly delayMs: number;
  /** The status that is retried, or the error. */
  readonly reason: number | unknown;
}

/**
 * Wraps a fetcher so that network errors, timeouts, 5xx and 429 are retried. Waits follow
 * exponential backoff with full jitter; on 429 and 503 a `Retry-After` header (seconds or an
 * HTTP date) sets the wait instead, capped at `maxDelayMs`. Other statuses return at once.
 * After the last attempt the final response is returned (or its error thrown): mapping
 * statuses stays the caller's job. The caller's abort stops retrying immediately.
 *
 * @example
 * ```ts
 * const fetcher = withRetry(createHttpFetcher(), { retries: 3, maxDelayMs: 10_000 });
 * // in tests: record the waits instead of sleeping
 * const waits: number[] = [];
 * const fast = withRetry(fake, { sleep: async (ms) => void waits.push(ms), random: () => 0.5 });
 * ```
 */
export function withRetry(inner: Fetcher, options: RetryOptions = {}): Fetcher {
  const cfg = settings(options);
  return async (url, init) => {
    for (let attempt = 0; ; attempt++) {
      let response: HttpResponse | undefined;
      let waitMs: number;
      try {
        response = await inner(url, init);
      } catch (err) {
        if (attempt >= cfg.retries || !isRetryableError(err, init.signal)) throw err;
        waitMs = cfg.backoff(attempt);
        cfg.onRetry?.({ url, attempt: attempt + 1, delayMs: waitMs, reason: err });
        await cfg.sleep(waitMs, init.signal);
        continue;
      }
      if (attempt >= cfg.retries || !isRetryableStatus(response.status)) return response;
      waitMs = cfg.retryAfter(response) ?? cfg.backoff(attempt);
      cfg.onRetry?.({ url, attempt: attempt + 1, delayMs: waitMs, reason: response.status });
      await cfg.sleep(waitMs, init.signal);
    }
  };
}

/** True for the statuses worth asking again: 429 and every 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/**
 * The wait a `Retry-After` value asks for, in ms, or `undefined` when it is neither
 * delay-seconds nor an HTTP date. Dates in the past mean 0.
 *
 * @example
 * ```ts
 * parseRetryAfter('120', Date.now()); // 120000
 * parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('2015-10-21T07:27:00Z')); // 60000
 * ```
 */
export function parseRetryAfter(value: string, nowMs: number): number | undefined {
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/[A-Za-z]/.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function isRetryableError(err: unknown, signal: AbortSignal): boolean {
  if (signal.aborted) return false;
  if (err instanceof TwiError) return (err as { retryable?: unknown }).retryable === true;
  return true;
}

interface Settings {
  readonly retries: number;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly onRetry: RetryOptions['onRetry'];
  backoff(attempt: number): number;
  retryAfter(res: HttpResponse): number | undefined;
}

function settings(o: RetryOptions): Settings {
  const retries = o.retries ?? 4;
  const base = o.baseDelayMs ?? 250;
  const max = o.maxDelayMs ?? 30_000;
  if (!Number.isInteger(retries) || retries < 0) throw new TypeError('retries must be ≥ 0');
  if (!(base >= 0) || !(max >= 0)) throw new TypeError('delays must be ≥ 0');
  const random = o.random ?? Math.random;
  const clock = o.clock ?? Date.now;
  return {
    retries,
    sleep: o.sleep ?? ((ms, signal) => delay(ms, undefined, { signal })),
    onRetry: o.onRetry,
    backoff(attempt) {
      return nextBackoff(attempt, {
        baseMs: base,
        maxMs: max,
        jitter: o.jitter === 'none' ? 'none' : 'full',
        random,
      });
    },
    retryAfter(res) {
      if (res.status !== 429 && res.status !== 503) return undefined;
      const header = res.headers['retry-after'];
      const ms = header === undefined ? undefined : parseRetryAfter(header, clock());
      return ms === undefined ? undefined : Math.min(max, ms);
    },
  };
}
