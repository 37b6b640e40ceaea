/**
 * A bounded, content-addressed cache for verification results (chains, collateral),
 * so that repeated evidence from one platform costs only its own signatures.
 *
 * @module
 */

/** What the verifiers need of a cache: keys are content hashes, values immutable results. */
export interface VerificationCache {
  get<T>(key: string): T | undefined;
  set<T>(key: string, value: T): void;
  /** Hit and miss counters, for metrics and tests. */
  readonly stats: { hits: number; misses: number; size: number };
}

/** Least-recently-used cache holding at most `maxEntries` results (default 4096). */
export function createVerificationCache(maxEntries = 4096): VerificationCache {
  if (!Number.isInteger(maxEntries) || maxEntries < 1)
    throw new TypeError('maxEntries must be ≥ 1');
  const map = new Map<string, unknown>();
  const stats = { hits: 0, misses: 0, size: 0 };
  return {
    stats,
    get<T>(key: string): T | undefined {
      if (!map.has(key)) {
        stats.misses++;
        return undefined;
      }
      const value = map.get(key);
      map.delete(key);
      map.set(key, value);
      stats.hits++;
      return value as T;
    },
    set<T>(key: string, value: T): void {
      map.delete(key);
      map.set(key, value);
      if (map.size > maxEntries) map.delete(map.keys().next().value as string);
      stats.size = map.size;
    },
  };
}

/**
 * Memoises `compute` under `key`. Errors are cached too (as a rejected marker) so that a
 * forged chain repeated many times costs one verification, not one per request.
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
