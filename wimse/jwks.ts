/**
 * The WIT issuer's key set as a relying party sees it: a JWKS or SPIFFE bundle (`keys` with
 * `kid`, `use`), cached, refreshed when a WIT names an unknown `kid` (rate-limited) and on
 * {@link JwksResolver.invalidate} (bundle events).
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { WimseError } from './errors.js';
import { importPublicJwk } from './jws.js';

/** An RFC 7517 JWK Set, optionally with the SPIFFE bundle members. */
export interface Jwks {
  readonly keys: readonly Record<string, unknown>[];
  readonly spiffe_sequence?: number;
  readonly spiffe_refresh_hint?: number;
}

/** Finds the issuer key a WIT names. */
export interface JwksResolver {
  /**
   * The public key with this `kid` usable with `alg`.
   *
   * @throws WimseError `ERR_WIT_UNKNOWN_KEY`, or `ERR_JWKS_UNAVAILABLE` when the set cannot be had.
   */
  getKey(kid: string, alg: string): Promise<KeyObject>;
  /** Forgets the cached set; the next lookup fetches it again. */
  invalidate(): void;
}

/** Key `use` values that may sign WITs: absent, `sig`, or the SPIFFE bundle's `wit-svid`. */
const WIT_USES = new Set([undefined, 'sig', 'wit-svid']);

interface Entry {
  readonly key: KeyObject;
  readonly alg: string | undefined;
}

/** Indexes usable keys by `kid`; keys of unknown type or use, or without `kid`, are ignored. */
function indexJwks(jwks: Jwks): Map<string, Entry> {
  if (jwks === null || typeof jwks !== 'object' || !Array.isArray(jwks.keys)) {
    throw new TypeError('a JWKS needs a keys array');
  }
  const byKid = new Map<string, Entry>();
  for (const jwk of jwks.keys) {
    if (typeof jwk?.kid !== 'string' || !WIT_USES.has(jwk.use as string | undefined)) continue;
    let key: KeyObject;
    try {
      key = importPublicJwk(jwk);
    } catch {
      continue;
    }
    const alg = typeof jwk.alg === 'string' ? jwk.alg : undefined;
    if (byKid.has(jwk.kid)) byKid.delete(jwk.kid);
    else byKid.set(jwk.kid, { key, alg });
  }
  return byKid;
}

function pick(byKid: Map<string, Entry>, kid: string, alg: string): KeyObject | undefined {
  const entry = byKid.get(kid);
  if (!entry || (entry.alg !== undefined && entry.alg !== alg)) return undefined;
  return entry.key;
}

function unknownKey(kid: string): WimseError {
  return new WimseError('ERR_WIT_UNKNOWN_KEY', `no issuer key with kid ${JSON.stringify(kid)}`);
}

/**
 * A resolver over a fixed key set (tests, pinned issuers). Duplicate `kid`s make that `kid`
 * unusable rather than ambiguous.
 *
 * @example
 * ```ts
 * const jwks = staticJwks({ keys: [issuer.publicJwk] });
 * ```
 */
export function staticJwks(jwks: Jwks): JwksResolver {
  const byKid = indexJwks(jwks);
  return {
    getKey: (kid, alg) => {
      const key = pick(byKid, kid, alg);
      return key ? Promise.resolve(key) : Promise.reject(unknownKey(kid));
    },
    invalidate: () => undefined,
  };
}

/** Options of {@link createJwksCache}. */
export interface JwksCacheOptions {
  /** Fetches the issuer's current key set (e.g. `GET /v1/bundle`). */
  readonly fetchJwks: () => Promise<Jwks>;
  /** Least time between two refreshes triggered by unknown `kid`s (default 30 s). */
  readonly minRefreshMs?: number;
  /** The clock, in milliseconds (default `Date.now`). */
  readonly now?: () => number;
}

/**
 * A caching resolver: fetches the set on first use, again when a WIT names an unknown `kid` but
 * at most once per `minRefreshMs`, and on the next lookup after `invalidate()`. Concurrent
 * lookups share one fetch. A failed refresh keeps the previous set.
 *
 * @example
 * ```ts
 * const jwks = createJwksCache({ fetchJwks: async () => (await fetch(bundleUrl)).json() });
 * bundleEvents.on('change', () => jwks.invalidate());
 * ```
 */
export function createJwksCache(options: JwksCacheOptions): JwksResolver {
  const minRefreshMs = options.minRefreshMs ?? 30_000;
  const now = options.now ?? Date.now;
  let byKid: Map<string, Entry> | undefined;
  let fetchedAt = -Infinity;
  let pending: Promise<void> | undefined;

  const refresh = (): Promise<void> => {
    pending ??= (async () => {
      fetchedAt = now();
      try {
        byKid = indexJwks(await options.fetchJwks());
      } catch (err) {
        if (!byKid) {
          throw new WimseError('ERR_JWKS_UNAVAILABLE', 'the issuer JWKS could not be fetched', {
            cause: err,
          });
        }
      } finally {
        pending = undefined;
      }
    })();
    return pending;
  };

  return {
    async getKey(kid, alg) {
      if (!byKid) await refresh();
      let key = pick(byKid!, kid, alg);
      if (!key && now() - fetchedAt >= minRefreshMs) {
        await refresh();
        key = pick(byKid!, kid, alg);
      }
      if (!key) throw unknownKey(kid);
      return key;
    },
    invalidate() {
      byKid = undefined;
    },
  };
}
