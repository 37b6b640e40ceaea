/**
 * A bounded, content-addressed cache for verification results (chains, collateral),
 * so that repeated evidence from one platform costs only its own signatures.
 *
 * @module
 */

import { LRUCache } from 'lru-cache';

/** What the verifiers need of a cache: keys are content hashes, values immutable results. */
export interface VerificationCache {
  get<T>(key: string): T | undefined;
  set<T>(key: string, value: T): void;
  /** Hit and miss counters, for metrics and tests. */
  readonly stats: { hits: number; misses: number; size: number };
}

/**
 * Least-recently-used cache holding at most `maxEntries` results (default 4096), built on
 * lru-cache. Stored values must not be `undefined` (the verifiers store objects).
 */
export function createVerificationCache(maxEntries = 4096): VerificationCache {
  if (!Number.isInteger(maxEntries) || maxEntries < 1)
    throw new TypeError('maxEntries must be ≥ 1');
  const lru = new LRUCache<string, object>({ max: maxEntries });
  const stats = { hits: 0, misses: 0, size: 0 };
  return {
    stats,
    get<T>(key: string): T | undefined {
      const value = lru.get(key);
      if (value === undefined) {
        stats.misses++;
        return undefined;
      }
      stats.hits++;
      return value as T;
    },
    set<T>(key: string, value: T): void {
      lru.set(key, value as object);
      stats.size = lru.size;
    },
  };
}

/**
 * Memoises `compute` under `key`. Errors are cached too (as a rejected marker) so that a
 * forged chain repeated many times costs one verification, not one per request.
 *
 * @internal
 */
export function cached<T>(cache: VerificationCache, key: string, compute: () => T): T {
  const hit = cache.get<{ ok: true; value: T } | { ok: false; error: unknown }>(key);
  if (hit) {
    if (hit.ok) return hit.value;
    throw hit.error;
  }
  try {
    const value = compute();
    cache.set(key, { ok: true, value });
    return value;
  } catch (error) {
    cache.set(key, { ok: false, error });
    throw error;
  }
}
