/**
 * The AMD certificate chain of a VCEK or VLEK (spec digest C2.2): VCEK → ASK → ARK or
 * VLEK → ASVK → ARK, ending at the pinned ARK **of the report's product**, with the
 * ARK-signed CRL applied when one is given.
 *
 * The pure part (path building, every RSASSA-PSS signature, the AMD profile, the CRL
 * signature) is cached under a content key of the leaf, the candidate intermediates, the
 * AMD anchors and the CRL; per report only the validity windows and the revoked serials
 * are checked at `ctx.now`.
 *
 * A chain that is valid but ends at the ARK of another product is `ERR_PRODUCT_MISMATCH`;
 * a chain that reaches no pinned ARK at all is `ERR_CHAIN_UNTRUSTED_ROOT` (or
 * `ERR_CHAIN_BROKEN` / `ERR_SIGNATURE_INVALID` when it breaks below the root).
 *
 * @internal
 * @module
 */
import { VerificationError } from '../../../../common/errors.js';
import { cached } from '../../../verify/cache.js';
import type { VerifyContext } from '../../../verify/types.js';
import { certLabel, parseCertificateDer } from '../../../../common/x509/certificate.js';
import type { Certificate } from '../../../../common/x509/certificate.js';
import {
  chainCacheKey,
  checkChainAt,
  createTrustAnchors,
  verifyChainSignatures,
} from '../../../../common/x509/chain.js';
import type { TrustAnchors, VerifiedChain } from '../../../../common/x509/chain.js';
import type { Crl } from '../../../../common/x509/crl.js';
import type { SnpProduct } from '../abi/types.js';
import type { SnpKeyMaterial } from '../collateral/endorsements.js';

/** Input of {@link verifySnpChain}. */
export interface SnpChainInput {
  /** The VCEK or VLEK (see `loadSnpKeyCert`). */
  readonly key: SnpKeyMaterial;
  /** The product whose ARK the chain must end at. */
  readonly product: SnpProduct;
  /** Supplied ASK/ASVK/ARK candidates; the anchor store's known intermediates are added. */
  readonly intermediates?: readonly Certificate[];
  /** The AMD CRL; when given it must be signed by the chain's ARK. */
  readonly crl?: Crl;
}

/** A verified AMD chain. */
export interface SnpChain {
  /** Key certificate, ASK/ASVK, ARK. */
  readonly verified: VerifiedChain;
  /** The ASK (VCEK) or ASVK (VLEK). */
  readonly signer: Certificate;
  /** The pinned ARK the chain ends at. */
  readonly ark: Certificate;
  /** The CRL that was applied, if any. */
  readonly crl: Crl | undefined;
}

const RECOVERABLE = new Set([
  'ERR_CHAIN_UNTRUSTED_ROOT',
  'ERR_CHAIN_BROKEN',
  'ERR_SIGNATURE_INVALID',
]);

/** Built-in intermediates, parsed once per anchor store (memo by identity, no I/O). */
const builtinMemo = new WeakMap<readonly Uint8Array[], readonly Certificate[]>();

function builtinIntermediates(ders: readonly Uint8Array[]): readonly Certificate[] {
  let certs = builtinMemo.get(ders);
  if (certs === undefined) {
    certs = Object.freeze(ders.map((d, i) => parseCertificateDer(d, `amdIntermediates[${i}]`)));
    builtinMemo.set(ders, certs);
  }
  return certs;
}

function productAnchors(all: TrustAnchors, product: SnpProduct): TrustAnchors {
  return createTrustAnchors(all.certificates.filter((c) => c.subjectCn === `ARK-${product}`));
}

function signerCn(key: SnpKeyMaterial, product: SnpProduct): string {
  return key.kind === 'vlek' ? `SEV-VLEK-${product}` : `SEV-${product}`;
}

/** When the product's ARK is not reached, tell "another product's ARK" from "no ARK". */
function diagnose(
  err: unknown,
  build: () => VerifiedChain,
  key: SnpKeyMaterial,
  product: string,
): unknown {
  if (!(err instanceof VerificationError) || !RECOVERABLE.has(err.code)) return err;
  let other: VerifiedChain;
  try {
    other = build();
  } catch {
    return err;
  }
  const ark = other.anchor;
  return new VerificationError(
    'ERR_PRODUCT_MISMATCH',
    `${key.kind.toUpperCase()} chains to ${certLabel(ark)} (SHA-256 ${ark.sha256}), ` +
      `not to the ARK of the report's product ${product}`,
    certLabel(key.cert),
  );
}

function checkAmdPath(chain: VerifiedChain, key: SnpKeyMaterial, product: SnpProduct): void {
  const [, signer] = chain.path;
  const expected = signerCn(key, product);
  if (chain.path.length !== 3 || signer === undefined) {
    throw new VerificationError(
      'ERR_CERT_PROFILE',
      `${certLabel(key.cert)}: an AMD chain is ${key.kind.toUpperCase()} → ${expected} → ARK-${product}, ` +
        `found ${chain.path.map(certLabel).join(' → ')}`,
      certLabel(key.cert),
    );
  }
  if (signer.subjectCn !== expected) {
    throw new VerificationError(
      'ERR_CERT_PROFILE',
      `${certLabel(key.cert)} is issued by ${certLabel(signer)}, expected ${expected}`,
      certLabel(key.cert),
    );
  }
}

function buildSnpChain(
  input: SnpChainInput,
  intermediates: readonly Certificate[],
  all: TrustAnchors,
): SnpChain {
  const { key, product, crl } = input;
  const crls = crl === undefined ? [] : [crl];
  const build = (anchors: TrustAnchors) =>
    verifyChainSignatures({ leaf: key.cert, intermediates, anchors, crls });
  let verified: VerifiedChain;
  try {
    verified = build(productAnchors(all, product));
  } catch (err) {
    throw diagnose(err, () => build(all), key, product);
  }
  checkAmdPath(verified, key, product);
  if (crl !== undefined && verified.crls.length === 0) {
    throw new VerificationError(
      'ERR_CRL_INVALID',
      `the AMD CRL (SHA-256 ${crl.sha256}) is not issued by ${certLabel(verified.anchor)}`,
      'snpCrl',
    );
  }
  return Object.freeze({ verified, signer: verified.path[1]!, ark: verified.anchor, crl });
}

/**
 * Verifies the chain of a VCEK or VLEK up to the pinned ARK of `product` in
 * `ctx.anchors.amd`, using the supplied intermediates plus `ctx.anchors.amdIntermediates`,
 * and checks every certificate (and the CRL, when given) at `ctx.now`. The time-independent
 * part is cached in `ctx.cache`.
 *
 * @throws {VerificationError} `ERR_PRODUCT_MISMATCH` (valid chain to another product's ARK),
 *   `ERR_CHAIN_UNTRUSTED_ROOT`, `ERR_CHAIN_BROKEN`, `ERR_SIGNATURE_INVALID`,
 *   `ERR_CERT_PROFILE`, `ERR_CRL_INVALID`, `ERR_CRL_EXPIRED`, `ERR_CERT_EXPIRED`,
 *   `ERR_CERT_NOT_YET_VALID`, `ERR_CERT_REVOKED`.
 * @example
 * const key = loadSnpKeyCert(vcekDer, ctx.cache);
 * const chain = verifySnpChain({ key, product: key.product }, ctx);
 * chain.ark.subjectCn; // 'ARK-Turin'
 */
export function verifySnpChain(input: SnpChainInput, ctx: VerifyContext): SnpChain {
  const all = ctx.anchors.amd;
  const intermediates = [
    ...(input.intermediates ?? []),
    ...builtinIntermediates(ctx.anchors.amdIntermediates),
  ];
  const crls = input.crl === undefined ? [] : [input.crl];
  const contentKey = chainCacheKey({ leaf: input.key.cert, intermediates, anchors: all, crls });
  const chain = cached(ctx.cache, `sev-snp:chain:${input.product}:${contentKey}`, () =>
    buildSnpChain(input, intermediates, all),
  );
  checkChainAt(chain.verified, { now: ctx.now });
  return chain;
}
