/**
 * How the shim tells that the credential it serves was revoked, from the trust bundle it
 * watches (`docs/shim.md` "Revocation"): the WIT's `jti` is listed in `revoked_jtis`, or the
 * issuer key that signed it (`kid`) was in an earlier bundle and is gone from the latest one
 * (or is marked `revoked`). A key the shim has not yet seen in any bundle is not taken as
 * revoked: the credential may come from an instance whose key reached the shim's bundle
 * stream later.
 *
 * @internal
 * @module
 */
import { decodeCompact } from '../wimse/jws.js';
import type { WatchedBundle } from '../wimse/bundle-watch.js';
import type { Credential } from './credential.js';

/** Why a credential stopped being served. */
export type RevocationReason =
  { readonly kind: 'jti'; readonly jti: string } | { readonly kind: 'kid'; readonly kid: string };

/** Follows bundles and judges credentials against the latest one. */
export interface RevocationGuard {
  /** Takes a new bundle (remembers its keys). */
  observe(bundle: WatchedBundle): void;
  /** Why `c` is revoked according to the latest bundle, or `undefined`. */
  check(c: Credential): RevocationReason | undefined;
}

/** The `kid` in a WIT's protected header, when it has one. */
export function witKid(wit: string): string | undefined {
  try {
    const kid = decodeCompact(wit).header.kid;
    return typeof kid === 'string' ? kid : undefined;
  } catch {
    return undefined;
  }
}

function liveKids(bundle: WatchedBundle): Set<string> {
  const kids = new Set<string>();
  for (const k of bundle.keys as readonly Record<string, unknown>[]) {
    if (typeof k.kid === 'string' && k.revoked !== true) kids.add(k.kid);
  }
  return kids;
}

/** A guard with no bundle yet (nothing is revoked until one arrives). */
export function createRevocationGuard(): RevocationGuard {
  const seen = new Set<string>();
  let live = new Set<string>();
  let revokedJtis = new Set<string>();
  let any = false;
  return {
    observe(bundle) {
      any = true;
      live = liveKids(bundle);
      for (const k of bundle.keys as readonly Record<string, unknown>[]) {
        if (typeof k.kid === 'string') seen.add(k.kid);
      }
      revokedJtis = new Set(
        (bundle.revoked_jtis ?? []).filter((j): j is string => typeof j === 'string'),
      );
    },
    check(c) {
      if (!any) return undefined;
      if (c.jti !== undefined && revokedJtis.has(c.jti)) return { kind: 'jti', jti: c.jti };
      // The certificate of a held key has its own jti (docs/shim.md "X.509 mode").
      const certJti = c.x509?.jti;
      if (certJti !== undefined && revokedJtis.has(certJti)) return { kind: 'jti', jti: certJti };
      const kid = witKid(c.wit);
      if (kid !== undefined && seen.has(kid) && !live.has(kid)) return { kind: 'kid', kid };
      return undefined;
    },
  };
}

/** The log line of a revocation: the `jti` or `kid`, never the token. */
export function describeRevocation(r: RevocationReason): string {
  return r.kind === 'jti'
    ? `credential revoked: its jti ${r.jti} is listed in the bundle's revoked_jtis; re-attesting`
    : `credential revoked: its signing key ${r.kid} is no longer in the bundle; re-attesting`;
}
