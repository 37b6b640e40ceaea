/**
 * Keys for the TDX verify stage's cache. A cached result is keyed by the SHA-256 of the
 * exact bytes its computation consumed plus the trust anchors it ran against, so a hit can
 * only return a result computed from identical input. The two cheaper kinds of entry, the
 * remembered digests here and the platform records (`verify-platform.ts`), are slots whose
 * content is compared byte for byte with the input before it is used.
 *
 * @internal
 * @module
 */
import { sha256Hex } from '../../../../common/bytes.js';
import type { VerificationCache } from '../../../verify/cache.js';
import type { TrustAnchors } from '../../../../common/x509/chain.js';

interface Remembered {
  readonly input: string | Buffer;
  readonly sha256: string;
}

/**
 * {@link sha256Hex} of one input, remembered in `cache` under a slot named by `kind` and the
 * input's length. A remembered digest is reused only when the stored copy equals `input`
 * exactly (a string compare or `memcmp`, far cheaper than hashing 16 KB of collateral), so a
 * slot shared by different inputs only costs a fresh hash, never a wrong digest.
 *
 * @example
 * const collateralSha = rememberedSha256(ctx.cache, 'collateral', collateralJsonText);
 */
export function rememberedSha256(
  cache: VerificationCache,
  kind: string,
  input: string | Uint8Array,
): string {
  const text = typeof input === 'string';
  const slot = `tdx/sha256-of/${kind}/${text ? 't' : 'b'}${input.length}`;
  const hit = cache.get<Remembered>(slot);
  if (hit !== undefined) {
    if (text ? hit.input === input : Buffer.isBuffer(hit.input) && hit.input.equals(input)) {
      return hit.sha256;
    }
  }
  const sha256 = sha256Hex(input);
  // A copy: the caller may reuse or mutate its buffer after this call.
  cache.set<Remembered>(slot, { input: text ? input : Buffer.from(input), sha256 });
  return sha256;
}

/**
 * The anchor set as part of a key: results verified against one set of roots must not be
 * served to a caller trusting another (say, vendor roots only versus a simulator root).
 *
 * @example
 * tdxKeys.pckChain(pemSha, pckCrlSha, rootCrlSha, anchorsKey(ctx.anchors.intel));
 */
export function anchorsKey(anchors: TrustAnchors): string {
  return [...anchors.fingerprints].sort().join('+');
}

/** Namespaced cache keys; the prefixes keep TDX entries apart from other platforms'. */
export const tdxKeys = {
  collateral: (collateralSha: string): string => `tdx/collateral/${collateralSha}`,
  collateralVerified: (collateralSha: string, anchors: string): string =>
    `tdx/collateral-verified/${collateralSha}/${anchors}`,
  pckChain: (pemSha: string, pckCrlSha: string, rootCrlSha: string, anchors: string): string =>
    `tdx/pck-chain/${pemSha}/${pckCrlSha}/${rootCrlSha}/${anchors}`,
  qeBinding: (digest: string): string => `tdx/qe-binding/${digest}`,
  platform: (attestationKeyHex: string, anchors: string): string =>
    `tdx/platform/${attestationKeyHex}/${anchors}`,
} as const;
