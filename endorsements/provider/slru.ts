/**
 * A segmented LRU: new keys enter a probation segment and only {@link SegmentedLru.protect}
 * moves them to the protected segment. Eviction takes the least recently used probation entry
 * first, so a flood of keys that are never confirmed (collateral fetched for evidence that then
 * failed) cannot push out entries that served successful verifications.
 *
 * @module
 */

/** A bounded map of `max` entries in two segments; see the module comment. */
export class SegmentedLru<K, V> {
  readonly #probation = new Map<K, V>();
  readonly #protected = new Map<K, V>();
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
    // At least a quarter (and one entry) stays for probation.
    this.#protectedMax = max - Math.max(1, Math.floor(max / 4));
    this.#onEvict = onEvict;
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
    for (const segment of [this.#protected, this.#probation]) {
      const value = segment.get(key);
      if (value !== undefined) {
        segment.delete(key);
        segment.set(key, value);
        return value;
      }
    }
    return undefined;
  }

  /** The value, without touching its recency. */
  peek(key: K): V | undefined {
    return this.#protected.get(key) ?? this.#probation.get(key);
  }

  /** Stores `value`: in place for a known key, else on probation. */
  set(key: K, value: V): void {
    const segment = this.#protected.has(key) ? this.#protected : this.#probation;
    segment.delete(key);
    segment.set(key, value);
    this.#trim();
  }

  /** Moves a probation entry to the protected segment (a no-op for unknown keys). */
  protect(key: K): void {
    const value = this.#probation.get(key) ?? this.#protected.get(key);
    if (value === undefined) return;
    this.#probation.delete(key);
    this.#protected.delete(key);
    this.#protected.set(key, value);
    while (this.#protected.size > this.#protectedMax) {
      const [k, v] = this.#protected.entries().next().value as [K, V];
      this.#protected.delete(k);
      this.#probation.set(k, v);
    }
    this.#trim();
  }

  /** Keys of both segments, protected first, each least recently used first. */
  keys(): K[] {
    return [...this.#protected.keys(), ...this.#probation.keys()];
  }

  #trim(): void {
    while (this.size > this.#max) {
      const segment = this.#probation.size > 0 ? this.#probation : this.#protected;
      const [k, v] = segment.entries().next().value as [K, V];
      segment.delete(k);
      this.#onEvict?.(k, v);
    }
  }
}
