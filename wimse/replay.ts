/**
 * Replay protection for WPTs: each `jti` is accepted once until its `exp`.
 *
 * @module
 */

/** Remembers WPT `jti`s until they expire. Shared stores (SQL, Redis) implement the same. */
export interface ReplayCache {
  /**
   * Records `jti` as used until `exp` (seconds since the epoch).
   *
   * @returns true the first time a live `jti` is seen, false for a replay (or a full cache).
   */
  checkAndStore(jti: string, exp: number, now: number): boolean | Promise<boolean>;
}

/** Options of {@link createMemoryReplayCache}. */
export interface MemoryReplayCacheOptions {
  /** Most live entries kept (default 100 000); when full of live entries, new ones are refused. */
  readonly maxEntries?: number;
}

/**
 * An in-process {@link ReplayCache}, bounded: expired entries are dropped when it fills, and a
 * cache full of live entries fails closed (refuses, rather than forgets a live `jti`).
 *
 * @example
 * ```ts
 * const replayCache = createMemoryReplayCache({ maxEntries: 10_000 });
 * await verifyWpt(wpt, { wit, expectedAudience, now: new Date(), replayCache });
 * ```
 */
export function createMemoryReplayCache(options: MemoryReplayCacheOptions = {}): ReplayCache & {
  readonly size: number;
} {
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError('maxEntries must be a positive integer');
  }
  const seen = new Map<string, number>();
  const prune = (now: number): void => {
    for (const [jti, exp] of seen) if (exp < now) seen.delete(jti);
  };
  return {
    get size() {
      return seen.size;
    },
    checkAndStore(jti, exp, now) {
      const known = seen.get(jti);
      if (known !== undefined && known >= now) return false;
      if (seen.size >= maxEntries) prune(now);
      if (seen.size >= maxEntries) return false;
      seen.set(jti, exp);
      return true;
    },
  };
}
