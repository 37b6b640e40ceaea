/** A bounded map that forgets the least recently used key first (Map keeps insertion order). */
export class Lru<K, V> {
  readonly #map = new Map<K, V>();
  readonly #max: number;
  readonly #onEvict: ((key: K, value: V) => void) | undefined;

  constructor(max: number, onEvict?: (key: K, value: V) => void) {
    if (!Number.isInteger(max) || max < 1) throw new TypeError('maxEntries must be an integer ≥ 1');
    this.#max = max;
    this.#onEvict = onEvict;
  }

  get size(): number {
    return this.#map.size;
  }

  /** The value, marked as most recently used. */
  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  /** The value, without touching its recency. */
  peek(key: K): V | undefined {
    return this.#map.get(key);
  }

  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    while (this.#map.size > this.#max) {
      const [oldest, old] = this.#map.entries().next().value as [K, V];
      this.#map.delete(oldest);
      this.#onEvict?.(oldest, old);
    }
  }

  keys(): K[] {
    return [...this.#map.keys()];
  }
}
