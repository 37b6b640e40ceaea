/**
 * The caching layer: serves verified endorsements until their `nextUpdate`, refreshes them
 * ahead of time in the background, coalesces concurrent fetches of one key, and keeps serving
 * a still-valid copy while the upstream is down.
 *
 * @internal
 * @module
 */
import { EndorsementInvalidError, EndorsementUnavailableError } from '../../common/errors.js';
import type { EndorsementStore } from './directory-store.js';
import { EndorsementFetchLimitedError } from './fetch-guard.js';
import { SegmentedLru } from './slru.js';
import { type EndorsementVerifier } from './types.js';
import {
  requestKey,
  type CrlPolicy,
  type Endorsement,
  type EndorsementProvider,
  type EndorsementRequest,
  type GetOptions,
} from '../../verifier/verify/endorsement-provider.js';

/** What the caching layer counts (for tests and metrics). */
export interface CacheCounters {
  /** Calls answered from a valid cached copy. */
  hits: number;
  /** Calls that found no valid cached copy. */
  misses: number;
  /** Calls of the inner provider (foreground and background). */
  fetches: number;
  /** Calls that joined a fetch already in flight for their key. */
  coalesced: number;
  /** Background refreshes started. */
  refreshes: number;
  /** Hits served while the upstream is failing (the last refresh of that key failed). */
  staleServed: number;
  /** Failures of the inner provider. */
  errors: number;
  /** Misses answered from the persistent store. */
  storeHits: number;
  /** Entries dropped from memory by the LRU bound. */
  evictions: number;
}

/** One observable step of the caching layer. */
export type CacheEvent =
  | {
      readonly type: 'hit' | 'miss' | 'coalesced' | 'stale-served' | 'store-hit' | 'evict';
      readonly key: string;
    }
  | { readonly type: 'fetch' | 'refresh'; readonly key: string }
  | { readonly type: 'error'; readonly key: string; readonly error: unknown }
  | { readonly type: 'store-error'; readonly key: string; readonly error: unknown };

/** Options of {@link createCachingProvider}; every field says what happens when unset. */
export interface CachingProviderOptions {
  /** Entries kept in memory (LRU). Default 1024. */
  readonly maxEntries?: number;
  /** Refresh at most this long before `nextUpdate`. Default 1 h. */
  readonly refreshAheadMs?: number;
  /** …and at most this share of the entry's lifetime (`nextUpdate − fetchedAt`). Default 0.1. */
  readonly refreshAheadFraction?: number;
  /** After a failed background refresh, wait this long (by the callers' `now`) before the next. Default 60 s. */
  readonly refreshRetryMs?: number;
  /** Persistence across runs. Default none. */
  readonly store?: EndorsementStore;
  /** Re-verifies what `store` returns (a directory store already runs its own hook). Default none. */
  readonly verify?: EndorsementVerifier;
  /** Observer of every {@link CacheEvent}. */
  readonly onEvent?: (event: CacheEvent) => void;
  /** Published as {@link EndorsementProvider.crlPolicy}. Default unset (read as `'require'`). */
  readonly crlPolicy?: CrlPolicy;
}

/** The caching provider, with its counters. */
export interface CachingProvider extends EndorsementProvider {
  /** A snapshot of the counters. */
  readonly counters: Readonly<CacheCounters>;
  /** Entries held in memory. */
  readonly size: number;
  /** Settles once no fetch or refresh is in flight (tests, graceful shutdown). */
  idle(): Promise<void>;
  /**
   * Marks the cached answers to `requests` as having served a successful verification: they
   * move to the protected part of the LRU, which entries fetched for evidence that never
   * verified cannot evict.
   */
  confirm(requests: Iterable<EndorsementRequest>): void;
}

/**
 * Wraps a provider with an in-memory LRU cache (optionally persisted). A cached endorsement
 * is served while `now < nextUpdate`; within the refresh-ahead window one background refresh
 * starts and callers keep getting the cached copy at once. One `inner.get` runs per request
 * key however many callers wait. `EndorsementInvalidError` from `inner` is rethrown and
 * nothing is cached; any other failure becomes `EndorsementUnavailableError` naming the
 * request, unless a valid copy is at hand.
 *
 * @example
 * ```ts
 * const network = createCachingProvider(createKdsProvider(withRetry(createHttpFetcher())), {
 *   store: createDirectoryStore('cache/endorsements', { verify: verifyKdsEndorsement }),
 *   onEvent: (e) => metrics.increment(`endorsements.${e.type}`),
 * });
 * const vcek = await network.get(
 *   { kind: 'amd-vcek', product: 'Milan', hwid, tcb: { bl: 3, tee: 0, snp: 8, ucode: 115 } },
 *   { now: new Date() },
 * );
 * ```
 */
export function createCachingProvider(
  inner: EndorsementProvider,
  options: CachingProviderOptions = {},
): CachingProvider {
  const layer = new CachingLayer(inner, options);
  return {
    ...(options.crlPolicy === undefined ? {} : { crlPolicy: options.crlPolicy }),
    get counters() {
      return { ...layer.counters };
    },
    get size() {
      return layer.lru.size;
    },
    idle: () => layer.idle(),
    confirm(requests) {
      for (const r of requests) layer.lru.protect(requestKey(r));
    },
    get: (request, getOptions) => layer.get(request, getOptions),
  };
}

interface Slot {
  readonly e: Endorsement;
  retryAt?: number;
  refreshFailed?: boolean;
}

class CachingLayer {
  readonly counters: CacheCounters = {
    hits: 0,
    misses: 0,
    fetches: 0,
    coalesced: 0,
    refreshes: 0,
    staleServed: 0,
    errors: 0,
    storeHits: 0,
    evictions: 0,
  };
  readonly lru: SegmentedLru<string, Slot>;
  readonly #inflight = new Map<string, Promise<Endorsement>>();
  readonly #windowOf: (e: Endorsement) => number;
  readonly #refreshRetryMs: number;

  constructor(
    readonly inner: EndorsementProvider,
    readonly options: CachingProviderOptions,
  ) {
    this.lru = new SegmentedLru<string, Slot>(options.maxEntries ?? 1024, (key) => {
      this.counters.evictions++;
      this.emit({ type: 'evict', key });
    });
    this.#windowOf = refreshWindow(options);
    this.#refreshRetryMs = options.refreshRetryMs ?? 60_000;
  }

  emit(event: CacheEvent): void {
    this.options.onEvent?.(event);
  }

  async idle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight.values()]);
  }

  async get(request: EndorsementRequest, { now, signal }: GetOptions): Promise<Endorsement> {
    signal?.throwIfAborted();
    const key = requestKey(request);
    const slot = this.lru.get(key);
    if (slot && isValid(slot.e, now)) {
      const served = this.#serveCached(key, slot);
      this.#maybeRefresh(key, request, slot, now);
      return served;
    }
    this.counters.misses++;
    this.emit({ type: 'miss', key });
    let pending = this.#inflight.get(key);
    if (pending) {
      this.counters.coalesced++;
      this.emit({ type: 'coalesced', key });
    } else {
      pending = this.#start(key, request, now, false);
    }
    try {
      return await abortable(pending, signal);
    } catch (err) {
      if (signal?.aborted || err instanceof EndorsementInvalidError) throw err;
      // A caller whose `now` is earlier than the one that started the fetch may hold a valid copy.
      const kept = this.lru.peek(key);
      if (kept && isValid(kept.e, now))
        return this.#serveCached(key, { ...kept, refreshFailed: true });
      throw err;
    }
  }

  #serveCached(key: string, slot: Slot): Endorsement {
    this.counters.hits++;
    this.emit({ type: 'hit', key });
    if (slot.refreshFailed) {
      this.counters.staleServed++;
      this.emit({ type: 'stale-served', key });
    }
    return { ...slot.e, source: 'cache' };
  }

  #maybeRefresh(key: string, request: EndorsementRequest, slot: Slot, now: Date): void {
    const t = now.getTime();
    if (t < slot.e.nextUpdate.getTime() - this.#windowOf(slot.e)) return;
    if (this.#inflight.has(key) || (slot.retryAt !== undefined && t < slot.retryAt)) return;
    this.counters.refreshes++;
    this.emit({ type: 'refresh', key });
    this.#start(key, request, now, true).catch(() => {
      slot.refreshFailed = true;
      slot.retryAt = t + this.#refreshRetryMs;
    });
  }

  #start(key: string, request: EndorsementRequest, now: Date, refresh: boolean) {
    const p = this.#resolve(key, request, now, refresh).finally(() => this.#inflight.delete(key));
    p.catch(() => undefined);
    this.#inflight.set(key, p);
    return p;
  }

  /** The one shared job per key: the store (not for refreshes), else the inner provider. */
  async #resolve(
    key: string,
    request: EndorsementRequest,
    now: Date,
    refresh: boolean,
  ): Promise<Endorsement> {
    if (!refresh && this.options.store) {
      const stored = await this.#loadStored(this.options.store, key, now);
      if (stored) return stored;
    }
    this.counters.fetches++;
    this.emit({ type: 'fetch', key });
    let e: Endorsement;
    try {
      e = await this.inner.get(request, { now });
      if (requestKey(e.request) !== key) {
        throw new EndorsementInvalidError(`asked for ${key}, got ${requestKey(e.request)}`);
      }
    } catch (err) {
      this.counters.errors++;
      this.emit({ type: 'error', key, error: err });
      throw unavailable(err, key, this.lru.peek(key)?.e);
    }
    this.lru.set(key, { e });
    try {
      await this.options.store?.save(e);
    } catch (err) {
      this.emit({ type: 'store-error', key, error: err });
    }
    return e;
  }

  async #loadStored(store: EndorsementStore, key: string, now: Date) {
    try {
      const e = await store.load(key, now);
      if (!e || !isValid(e, now)) return undefined;
      await this.options.verify?.(e, now);
      this.counters.storeHits++;
      this.emit({ type: 'store-hit', key });
      this.lru.set(key, { e });
      return { ...e, source: 'cache' } satisfies Endorsement;
    } catch (err) {
      this.emit({ type: 'store-error', key, error: err });
      return undefined;
    }
  }
}

/** True while `now` is before the endorsement's `nextUpdate`. */
export function isValid(e: Endorsement, now: Date): boolean {
  return now.getTime() < e.nextUpdate.getTime();
}

function refreshWindow(o: CachingProviderOptions): (e: Endorsement) => number {
  const ms = o.refreshAheadMs ?? 3_600_000;
  const fraction = o.refreshAheadFraction ?? 0.1;
  if (!(ms >= 0) || !(fraction >= 0 && fraction <= 1)) {
    throw new TypeError('refreshAheadMs must be ≥ 0 and refreshAheadFraction within [0, 1]');
  }
  return (e) =>
    Math.min(ms, Math.max(0, fraction * (e.nextUpdate.getTime() - e.fetchedAt.getTime())));
}

function unavailable(err: unknown, key: string, cachedCopy: Endorsement | undefined): unknown {
  if (
    err instanceof EndorsementInvalidError ||
    err instanceof TypeError ||
    err instanceof EndorsementFetchLimitedError
  ) {
    return err;
  }
  const cached = cachedCopy
    ? `cached copy's nextUpdate ${cachedCopy.nextUpdate.toISOString()}`
    : 'none cached';
  const why = err instanceof Error ? err.message : String(err);
  return new EndorsementUnavailableError(`${key}: no valid copy (${cached}; upstream: ${why})`, {
    cause: err,
  });
}

function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolvePromise, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolvePromise, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
