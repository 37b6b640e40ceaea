/**
 * A segmented LRU: new keys enter a probation segment and only {@link SegmentedLru.protect}
 * moves them to the protected segment. Eviction takes the least recently used probation entry
 * first, so a flood of keys that are never confirmed (collateral fetched for evidence that then
 * failed) cannot push out entries that served successful verifications.
 *
 * Each segment is an lru-cache instance; this class only adds the shared bound and the moves
 * between segments.
 *
 * @internal
 * @module
 */

import { LRUCache } from 'lru-cache';

/** A bounded map of `max` entries in two segments; see the module comment. */
export class SegmentedLru<K extends NonNullable<unknown>, V extends NonNullable<unknown>> {
  readonly #probation: LRUCache<K, V>;
  readonly #protected: LRUCache<K, V>;
  readonly #max: number;
  readonly #protectedMax: number;
  readonly #onEvict: ((key: K, value: V) => void) | undefined;

  /**
   * @param max - entries in all (an integer ≥ 1).
   * @param onEvict - called for every entry dropped by the bound.
   * @throws TypeError when `max` is not an integer ≥ 1.
   */
  constructor(max: number, onEvict?: (key: K, value: V) => void) {
    if (!Number.isInteger(max) || max < 1) throw new TypeError('maxEntries must be an integer ≥ 1');
    this.#max = max;
    this.#onEvict = onEvict;
    // The shared bound is enforced by #trim; probation alone may fill all of it, and its own
    // eviction (a new key while it holds all `max` entries) is reported like the shared one.
    this.#probation = new LRUCache<K, V>({
      max,
      dispose: (value, key, reason) => {
        if (reason === 'evict') this.#onEvict?.(key, value);
      },
    });
    // At least a quarter (and one entry) stays for probation. The protected segment's own bound
    // demotes its least recently used entry back to probation (at the most recent end).
    this.#protectedMax = max - Math.max(1, Math.floor(max / 4));
    this.#protected = new LRUCache<K, V>({
      max: Math.max(1, this.#protectedMax),
      dispose: (value, key, reason) => {
        if (reason === 'evict') this.#probation.set(key, value);
      },
    });
  }

  /** Entries held in both segments. */
  get size(): number {
    return this.#probation.size + this.#protected.size;
  }

  /** Entries in the protected segment. */
  get protectedSize(): number {
    return this.#protected.size;
  }

  /** The value, marked as most recently used within its segment. */
  get(key: K): V | undefined {
    return this.#protected.get(key) ?? this.#probation.get(key);
  }

  /** The value, without touching its recency. */
  peek(key: K): V | undefined {
    return this.#protected.peek(key) ?? this.#probation.peek(key);
  }

  /** Stores `value`: in place for a known key, else on probation. */
  set(key: K, value: V): void {
    (this.#protected.has(key) ? this.#protected : this.#probation).set(key, value);
    this.#trim();
  }

  /** Moves a probation entry to the protected segment (a no-op for unknown keys). */
  protect(key: K): void {
    const value = this.#probation.peek(key) ?? this.#protected.peek(key);
    if (value === undefined) return;
    if (this.#protectedMax < 1) {
      this.#probation.get(key); // nothing can be protected: only refresh its recency
      return;
    }
    this.#probation.delete(key);
    this.#protected.set(key, value);
    this.#trim();
  }

  /** Keys of both segments, protected first, each least recently used first. */
  keys(): K[] {
    return [...this.#protected.rkeys(), ...this.#probation.rkeys()];
  }

  #trim(): void {
    while (this.size > this.#max) {
      const segment = this.#probation.size > 0 ? this.#probation : this.#protected;
      const key = segment.rkeys().next().value as K;
      const value = segment.peek(key) as V;
      segment.delete(key);
      this.#onEvict?.(key, value);
    }
  }
}
