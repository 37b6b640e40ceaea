/**
 * The relying party's side of `GET /v1/bundle/events`: a subscription to the issuer's bundle
 * stream (server-sent events) that reconnects with backoff, keeps the latest bundle, and feeds
 * a {@link createJwksCache} and a `verifyWit` revocation check from it.
 *
 * @module
 */
import { createParser } from 'eventsource-parser';
import { EVENT_STREAM_MEDIA_TYPE } from '../wire/media-types.js';
import { nextBackoff } from '../common/backoff.js';
import { createJwksCache, type Jwks, type JwksResolver } from './jwks.js';

/** A bundle as pushed by the issuer: a JWKS with SPIFFE members and revoked credential ids. */
export interface WatchedBundle extends Jwks {
  readonly revoked_jtis?: readonly string[];
}

/** Options of {@link watchBundle}. */
export interface WatchBundleOptions {
  /** Called with every bundle received, the first one included. */
  readonly onBundle?: (bundle: WatchedBundle) => void;
  /** Called when the stream fails or ends (it is then reopened after a backoff). */
  readonly onError?: (err: unknown) => void;
  /** The fetch to use (default the global one). */
  readonly fetch?: typeof fetch;
  /** First reconnection delay (default 250 ms); doubles up to `maxBackoffMs`. */
  readonly minBackoffMs?: number;
  /** Longest reconnection delay (default 30 s). */
  readonly maxBackoffMs?: number;
}

/** A running subscription. */
export interface BundleWatch {
  /** The latest bundle, or `undefined` before the first. */
  latest(): WatchedBundle | undefined;
  /** Resolves with the first bundle. */
  readonly ready: Promise<WatchedBundle>;
  /** Adds a listener for every later bundle; returns its remover. */
  subscribe(listener: (bundle: WatchedBundle) => void): () => void;
  /** Stops the subscription and closes the stream. */
  close(): void;
}

/** One parsed server-sent event. */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

/**
 * Splits server-sent event text into events (WHATWG HTML "event stream interpretation", by
 * eventsource-parser): feed chunks, get complete events; comments and `id`/`retry` fields are
 * ignored.
 */
export function createSseParser(): (chunk: string) => SseEvent[] {
  let out: SseEvent[] = [];
  const parser = createParser({
    onEvent: (message) => out.push({ event: message.event ?? 'message', data: message.data }),
  });
  return (chunk) => {
    out = [];
    parser.feed(chunk);
    return out;
  };
}

function parseBundle(data: string): WatchedBundle {
  const bundle = JSON.parse(data) as WatchedBundle;
  if (bundle === null || typeof bundle !== 'object' || !Array.isArray(bundle.keys)) {
    throw new TypeError('a bundle event must carry a JSON object with a keys array');
  }
  return bundle;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Reads one connection to its end; calls `deliver` for each bundle event. */
async function readStream(
  url: string | URL,
  doFetch: typeof fetch,
  signal: AbortSignal,
  deliver: (bundle: WatchedBundle) => void,
): Promise<void> {
  const res = await doFetch(url, { headers: { accept: EVENT_STREAM_MEDIA_TYPE }, signal });
  const type = res.headers.get('content-type') ?? '';
  if (!res.ok || !type.startsWith(EVENT_STREAM_MEDIA_TYPE) || !res.body) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`bundle events: HTTP ${res.status} ${type}`);
  }
  const parse = createSseParser();
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    for (const ev of parse(decoder.decode(chunk, { stream: true }))) {
      if (ev.event === 'bundle') deliver(parseBundle(ev.data));
    }
  }
  throw new Error('bundle events: the stream ended');
}

/**
 * Subscribes to an issuer's bundle events. The stream is reopened after any failure, first
 * after `minBackoffMs`, doubling up to `maxBackoffMs` (with jitter), and back to the minimum
 * once a bundle arrives.
 *
 * @example
 * ```ts
 * const watch = watchBundle('https://verifier.example/v1/bundle/events', {
 *   onBundle: (b) => log.info({ sequence: b.spiffe_sequence }, 'bundle'),
 * });
 * await watch.ready;
 * ```
 */
export function watchBundle(url: string | URL, options: WatchBundleOptions = {}): BundleWatch {
  const doFetch = options.fetch ?? fetch;
  const minMs = options.minBackoffMs ?? 250;
  const maxMs = options.maxBackoffMs ?? 30_000;
  const controller = new AbortController();
  const listeners = new Set<(bundle: WatchedBundle) => void>();
  if (options.onBundle) listeners.add(options.onBundle);
  let latest: WatchedBundle | undefined;
  let resolveReady!: (bundle: WatchedBundle) => void;
  const ready = new Promise<WatchedBundle>((resolve) => (resolveReady = resolve));
  let attempt = 0;

  const deliver = (bundle: WatchedBundle): void => {
    latest = bundle;
    attempt = 0;
    resolveReady(bundle);
    for (const listener of listeners) listener(bundle);
  };

  void (async () => {
    while (!controller.signal.aborted) {
      try {
        await readStream(url, doFetch, controller.signal, deliver);
      } catch (err) {
        if (controller.signal.aborted) break;
        options.onError?.(err);
      }
      const wait = nextBackoff(attempt++, { baseMs: minMs, maxMs, jitter: 'half' });
      await sleep(wait, controller.signal);
    }
  })();

  return {
    latest: () => latest,
    ready,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => controller.abort(),
  };
}

/** What {@link bundleTrust} gives `verifyWit`. */
export interface BundleTrust {
  /**
   * Issuer keys from the latest bundle, invalidated on every bundle event: a revoked (or
   * retired) key is gone from it, so its WITs fail with `ERR_WIT_UNKNOWN_KEY`.
   */
  readonly jwks: JwksResolver;
  /** True for a `jti` in the latest bundle's `revoked_jtis` (`ERR_WIT_REVOKED`). */
  isRevoked(jti: string | undefined, kid: string): boolean;
}

/**
 * Plugs a {@link BundleWatch} into WIT verification: a {@link createJwksCache} whose key set is
 * the watched bundle (waiting for the first one) and that is invalidated on each event, and an
 * `isRevoked` for `verifyWit`.
 *
 * @example
 * ```ts
 * const trust = bundleTrust(watchBundle(eventsUrl));
 * await verifyWit(token, { jwks: trust.jwks, isRevoked: trust.isRevoked, now: new Date() });
 * ```
 */
export function bundleTrust(watch: BundleWatch): BundleTrust {
  const jwks = createJwksCache({ fetchJwks: async () => watch.latest() ?? (await watch.ready) });
  let revoked = new Set<string>();
  const update = (bundle: WatchedBundle): void => {
    revoked = new Set(bundle.revoked_jtis ?? []);
    jwks.invalidate();
  };
  const current = watch.latest();
  if (current) update(current);
  watch.subscribe(update);
  return { jwks, isRevoked: (jti) => jti !== undefined && revoked.has(jti) };
}
