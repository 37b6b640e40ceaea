/**
 * The supplied TDX collateral in the verify stage: parsed once per content hash of the
 * exact text or bytes received, and authenticated (issuer chains, signatures over the
 * exact TCB Info and QE Identity texts, CRL signatures) once per content hash and anchor
 * set. Only the validity windows at `now` are checked per quote (`checkTdxCollateralAt`).
 *
 * @internal
 * @module
 */
import { VerificationError } from '../../../../common/errors.js';
import type { TrustAnchors } from '../../../../common/x509/chain.js';
import { parseCrlDer } from '../../../../common/x509/crl.js';
import type { Crl } from '../../../../common/x509/crl.js';
import { cached } from '../../../verify/cache.js';
import type { VerificationCache } from '../../../verify/cache.js';
import { parseTdxCollateral, verifyTdxCollateral } from '../collateral/v3.js';
import type { TdxCollateral, VerifiedTdxCollateral } from '../collateral/v3.js';
import { sha256Hex } from '../../../../common/bytes.js';
import { rememberedSha256, tdxKeys } from './keys.js';

/**
 * TDX collateral as the verify stage takes it: the `QuoteCollateralV3` JSON (text or UTF-8
 * bytes, as attesters and files carry it) or the typed {@link TdxCollateral} (as the wing's
 * endorsement collection builds it from Intel PCS responses, see `tdxCollateralOf`).
 */
export type TdxCollateralInput = string | Uint8Array | TdxCollateral;

/** True for the typed form of {@link TdxCollateralInput}. */
export function isTypedTdxCollateral(input: TdxCollateralInput): input is TdxCollateral {
  return typeof input === 'object' && !(input instanceof Uint8Array);
}

const TYPED_FIELDS = [
  'pckCrlIssuerChain',
  'rootCaCrl',
  'pckCrl',
  'tcbInfoIssuerChain',
  'tcbInfo',
  'tcbInfoSignature',
  'qeIdentityIssuerChain',
  'qeIdentity',
  'qeIdentitySignature',
] as const satisfies readonly (keyof TdxCollateral)[];

/**
 * A frozen copy of typed collateral (bytes copied: the caller may reuse its buffers), or a
 * `TypeError` naming the first field of the wrong type.
 */
export function copyTypedTdxCollateral(input: TdxCollateral): TdxCollateral {
  const text = (k: keyof TdxCollateral): string => {
    const v: unknown = input[k];
    if (typeof v !== 'string') throw new TypeError(`tdxCollateral.${k} must be a string`);
    return v;
  };
  const bytes = (k: keyof TdxCollateral): Buffer => {
    const v: unknown = input[k];
    if (!(v instanceof Uint8Array)) throw new TypeError(`tdxCollateral.${k} must be a Uint8Array`);
    return Buffer.from(v);
  };
  return Object.freeze({
    pckCrlIssuerChain: text('pckCrlIssuerChain'),
    rootCaCrl: bytes('rootCaCrl'),
    pckCrl: bytes('pckCrl'),
    tcbInfoIssuerChain: text('tcbInfoIssuerChain'),
    tcbInfo: text('tcbInfo'),
    tcbInfoSignature: bytes('tcbInfoSignature'),
    qeIdentityIssuerChain: text('qeIdentityIssuerChain'),
    qeIdentity: text('qeIdentity'),
    qeIdentitySignature: bytes('qeIdentitySignature'),
  });
}

/** Field-wise equality of two typed collaterals (string compare, `memcmp`). */
export function sameTypedTdxCollateral(a: TdxCollateral, b: TdxCollateral): boolean {
  return TYPED_FIELDS.every((k) => {
    const x = a[k];
    const y = b[k];
    return typeof x === 'string'
      ? x === y
      : y instanceof Uint8Array && Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(y);
  });
}

/** SHA-256 over every field of typed collateral, each length-prefixed, in a fixed order. */
function typedSha256(c: TdxCollateral): string {
  const parts: Buffer[] = [];
  for (const k of TYPED_FIELDS) {
    const v = c[k];
    const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    parts.push(Buffer.from(k, 'latin1'), len, bytes);
  }
  return sha256Hex(Buffer.concat(parts));
}

/** Collateral as supplied, parsed but not yet authenticated. */
export interface SuppliedTdxCollateral {
  /** SHA-256 of the supplied text or bytes: the cache identity of everything derived. */
  readonly sha256: string;
  readonly collateral: TdxCollateral;
  /** Parsed, signatures not yet checked: the PCK chain step verifies them with its path. */
  readonly pckCrl: Crl;
  readonly rootCaCrl: Crl;
  /** SHA-256 of the exact signed texts (`tcb_info`, `qe_identity`) as UTF-8. */
  readonly tcbInfoSha256: string;
  readonly qeIdentitySha256: string;
}

/**
 * Parses the `QuoteCollateralV3` JSON (text or UTF-8 bytes) or takes typed collateral as
 * it is, or returns the result of an earlier call with identical content from `cache`.
 *
 * @throws {VerificationError} `ERR_ENDORSEMENT_MISSING` when `input` is undefined;
 *   `ERR_COLLATERAL_INVALID` or `ERR_CRL_INVALID` when it does not parse.
 * @example
 * const supplied = supplyTdxCollateral(endorsements.tdxCollateral, ctx.cache);
 * supplied.pckCrl.nextUpdate; // Date
 */
export function supplyTdxCollateral(
  input: TdxCollateralInput | undefined,
  cache: VerificationCache,
): SuppliedTdxCollateral {
  if (input === undefined) {
    throw new VerificationError(
      'ERR_ENDORSEMENT_MISSING',
      'no TDX collateral supplied: the PCK CRL, Root CA CRL, TCB Info and QE Identity ' +
        '(QuoteCollateralV3) are needed to verify a quote',
      'tdxCollateral',
    );
  }
  if (typeof input !== 'string' && (typeof input !== 'object' || input === null)) {
    throw new TypeError('tdxCollateral must be a string, a Uint8Array or typed TDX collateral');
  }
  const typed = isTypedTdxCollateral(input) ? copyTypedTdxCollateral(input) : undefined;
  const sha256 = typed
    ? typedSha256(typed)
    : rememberedSha256(cache, 'collateral', input as string | Uint8Array);
  return cached(cache, tdxKeys.collateral(sha256), () => {
    const collateral = typed ?? parseTdxCollateral(input as string | Uint8Array);
    return Object.freeze({
      sha256,
      collateral,
      pckCrl: parseCrlDer(collateral.pckCrl, 'collateral.pck_crl'),
      rootCaCrl: parseCrlDer(collateral.rootCaCrl, 'collateral.root_ca_crl'),
      tcbInfoSha256: sha256Hex(collateral.tcbInfo),
      qeIdentitySha256: sha256Hex(collateral.qeIdentity),
    });
  });
}

/**
 * Authenticates the collateral against `anchors` (see `verifyTdxCollateral`), once per
 * collateral content and anchor set. Time-independent: follow with `checkTdxCollateralAt`.
 *
 * @throws {VerificationError} `ERR_SIGNATURE_INVALID`, `ERR_COLLATERAL_INVALID`,
 *   `ERR_CRL_INVALID`, `ERR_CERT_PROFILE` and the chain codes.
 * @example
 * const verified = authenticateTdxCollateral(supplied, ctx.anchors.intel, anchorsKey(ctx.anchors.intel), ctx.cache);
 * checkTdxCollateralAt(verified, ctx.now);
 */
export function authenticateTdxCollateral(
  supplied: SuppliedTdxCollateral,
  anchors: TrustAnchors,
  anchorsId: string,
  cache: VerificationCache,
): VerifiedTdxCollateral {
  return cached(cache, tdxKeys.collateralVerified(supplied.sha256, anchorsId), () =>
    verifyTdxCollateral(supplied.collateral, anchors),
  );
}
