/**
 * A token-bucket rate limiter keyed by client address, with a bounded number of buckets.
 *
 * @internal
 * @module
 */

/** The outcome of {@link TokenBuckets.take}. */
export type TakeResult =
  { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * One bucket per key: `burst` tokens, refilled at `perSecond`. At most `maxKeys` buckets are
 * kept; the least recently used is forgotten first (a forgotten client starts full again,
 * which is what it would have been after a pause).
 *
 * @example
 * ```ts
 * const buckets = new TokenBuckets({ perSecond: 20, burst: 100, maxClients: 10_000 });
 * const r = buckets.take(clientKey(request.ip), Date.now());
 * if (!r.allowed) reply.header('retry-after', r.retryAfterSeconds);
 * ```
 */
export class TokenBuckets {
  readonly #buckets = new Map<string, Bucket>();
  readonly #perMs: number;
  readonly #burst: number;
  readonly #max: number;

  constructor(o: { perSecond: number; burst: number; maxClients: number }) {
    this.#perMs = o.perSecond / 1000;
    this.#burst = o.burst;
    this.#max = o.maxClients;
  }

  /** Buckets held. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one token of `key` at `nowMs`, or says how long until one is available. */
  take(key: string, nowMs: number): TakeResult {
    const b = this.#buckets.get(key) ?? { tokens: this.#burst, at: nowMs };
    this.#buckets.delete(key);
    b.tokens = Math.min(this.#burst, b.tokens + Math.max(0, nowMs - b.at) * this.#perMs);
    b.at = nowMs;
    this.#buckets.set(key, b);
    this.#trim();
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { allowed: true };
    }
    const waitMs = (1 - b.tokens) / this.#perMs;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  #trim(): void {
    while (this.#buckets.size > this.#max) {
      const oldest = this.#buckets.keys().next().value as string;
      this.#buckets.delete(oldest);
    }
  }
}

/**
 * The bucket key of a client address: IPv4 (and IPv4-mapped IPv6) as is, other IPv6 by its
 * /64 prefix, since one host usually holds a whole /64.
 */
export function clientKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!ip.includes(':')) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::')
    ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  return groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')
    .concat('::/64');
}
