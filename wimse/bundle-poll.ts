/**
 * The pull side of key and revocation distribution: a relying party that does not subscribe
 * to `GET /v1/bundle/events` fetches `GET /v1/bundle` again every `spiffe_refresh_hint`
 * seconds (the SPIFFE trust bundle's refresh hint, clamped to bounds the relying party sets).
 * Its time to revocation is therefore at most one hint plus one fetch. The result is a
 * {@link BundleWatch}, so {@link bundleTrust} plugs it into `verifyWit` unchanged.
 *
 * @module
 */
import { JSON_MEDIA_TYPE } from '../wire/media-types.js';
import { nextBackoff } from '../common/backoff.js';
import type { BundleWatch, WatchedBundle } from './bundle-watch.js';

/** Options of {@link pollBundle}. */
export interface PollBundleOptions {
  /** Called with every bundle that differs from the previous one, the first one included. */
  readonly onBundle?: (bundle: WatchedBundle) => void;
  /** Called when a fetch fails (retried after a backoff, never later than the interval). */
  readonly onError?: (err: unknown) => void;
  /** The fetch to use (default the global one). */
  readonly fetch?: typeof fetch;
  /** Shortest interval whatever the hint says (default 1000 ms). */
  readonly minIntervalMs?: number;
  /** Longest interval whatever the hint says (default 1 h). */
  readonly maxIntervalMs?: number;
  /** Interval while no bundle has stated a hint (default 300 s, the issuer's default hint). */
  readonly defaultIntervalMs?: number;
  /** Timeout of one fetch (default 10 s). */
  readonly timeoutMs?: number;
}

/** The interval a bundle asks for, within `[min, max]`; `fallback` when it states none. */
export function refreshIntervalMs(
  bundle: WatchedBundle | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  const hint = bundle?.spiffe_refresh_hint;
  const ms = typeof hint === 'number' && Number.isFinite(hint) && hint > 0 ? hint * 1000 : fallback;
  return Math.min(max, Math.max(min, ms));
}

/** One `GET` of a bundle URL (JSON with a `keys` array); throws on any other answer. */
export async function fetchBundle(
  url: string | URL,
  doFetch: typeof fetch,
  signal: AbortSignal,
): Promise<WatchedBundle> {
  const res = await doFetch(url, { headers: { accept: JSON_MEDIA_TYPE }, signal });
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`bundle: HTTP ${res.status}`);
  }
  const bundle = (await res.json()) as WatchedBundle;
  if (bundle === null || typeof bundle !== 'object' || !Array.isArray(bundle.keys)) {
    throw new TypeError('a bundle must be a JSON object with a keys array');
  }
  return bundle;
}

/**
 * Fetches the issuer's bundle now and then every `spiffe_refresh_hint` seconds (clamped to
 * `[minIntervalMs, maxIntervalMs]`). A failed fetch keeps the last bundle and is retried after
 * 250 ms, doubling, but never later than the interval.
 *
 * @example
 * ```ts
 * const trust = bundleTrust(pollBundle('https://verifier.example/v1/bundle'));
 * await verifyWit(token, { jwks: trust.jwks, isRevoked: trust.isRevoked, now: new Date() });
 * ```
 */
export function pollBundle(url: string | URL, options: PollBundleOptions = {}): BundleWatch {
  const doFetch = options.fetch ?? fetch;
  const min = options.minIntervalMs ?? 1000;
  const max = options.maxIntervalMs ?? 3_600_000;
  const fallback = options.defaultIntervalMs ?? 300_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!(min > 0) || !(max >= min)) throw new RangeError('need 0 < minIntervalMs ≤ maxIntervalMs');
  const controller = new AbortController();
  const listeners = new Set<(bundle: WatchedBundle) => void>();
  if (options.onBundle) listeners.add(options.onBundle);
  let latest: WatchedBundle | undefined;
  let latestText = '';
  let resolveReady!: (bundle: WatchedBundle) => void;
  const ready = new Promise<WatchedBundle>((resolve) => (resolveReady = resolve));
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;

  const schedule = (ms: number): void => {
    if (controller.signal.aborted) return;
    timer = setTimeout(() => void tick(), ms);
  };

  const tick = async (): Promise<void> => {
    const interval = refreshIntervalMs(latest, min, max, fallback);
    try {
      const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(timeoutMs)]);
      const bundle = await fetchBundle(url, doFetch, signal);
      failures = 0;
      const text = JSON.stringify(bundle);
      if (text !== latestText) {
        latest = bundle;
        latestText = text;
        resolveReady(bundle);
        for (const listener of listeners) listener(bundle);
      }
      schedule(refreshIntervalMs(bundle, min, max, fallback));
    } catch (err) {
      if (controller.signal.aborted) return;
      options.onError?.(err);
      // 250 ms doubling, never later than the interval; no jitter.
      schedule(nextBackoff(failures++, { baseMs: 250, maxMs: interval, jitter: 'none' }));
    }
  };

  void tick();
  return {
    latest: () => latest,
    ready,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      controller.abort();
      clearTimeout(timer);
    },
  };
}
