/**
 * The quoting enclave's binding of the attestation key (spec digest B1.5 steps 3–4): the
 * PCK key signs the QE report, whose REPORTDATA is SHA-256(attestation key ‖ QE auth data)
 * followed by 32 zero bytes. Both checks and the attestation key's `KeyObject` depend only
 * on bytes that repeat for every quote of one platform, so they are computed once and
 * cached; only the quote signature itself (step 5) is checked per quote.
 *
 * @internal
 * @module
 */
import { createHash, createPublicKey, verify as cryptoVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { VerificationError } from '../../../../common/errors.js';
import { bytesEqual, isZero, sha256Hex } from '../../../../common/bytes.js';
import { certLabel } from '../../../../common/x509/certificate.js';
import type { Certificate } from '../../../../common/x509/certificate.js';
import { cached } from '../../../verify/cache.js';
import type { VerificationCache } from '../../../verify/cache.js';
import { serializeSgxReportBody } from '../abi/sgx-report.js';
import { quoteSignedBytes } from '../abi/quote.js';
import type { TdxQuote, TdxSignatureData } from '../abi/types.js';
import { tdxKeys } from './keys.js';

/** A QE report that verified under a PCK leaf and binds the attestation key. */
export interface QeBinding {
  /**
   * SHA-256 of QE report ‖ QE report signature ‖ PCK leaf fingerprint ‖ attestation key ‖
   * QE auth data: the cache identity of this binding.
   */
  readonly digest: string;
  /** The attestation key, ready for `crypto.verify`. */
  readonly attestationKey: KeyObject;
}

/** ECDSA-P256-SHA256 with a raw r‖s signature; false (not a throw) for malformed input. */
function verifyP256(key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return cryptoVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

function checkReportData(reportData: Uint8Array, attKey: Uint8Array, authData: Uint8Array): void {
  const expected = createHash('sha256').update(attKey).update(authData).digest();
  if (!bytesEqual(reportData.subarray(0, 32), expected)) {
    throw new VerificationError(
      'ERR_QE_REPORT_DATA_MISMATCH',
      'qe_report.report_data[0:32] is not SHA-256(attestation_key ‖ qe_auth_data)',
      'qe_report.report_data',
    );
  }
  if (!isZero(reportData.subarray(32))) {
    throw new VerificationError(
      'ERR_QE_REPORT_DATA_MISMATCH',
      'qe_report.report_data[32:64] is not zero',
      'qe_report.report_data',
    );
  }
}

function p256Key(raw: Uint8Array): KeyObject {
  const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
  try {
    if (raw.length !== 64) throw new RangeError(`${raw.length} bytes, not 64`);
    return createPublicKey({
      key: { kty: 'EC', crv: 'P-256', x: b64(raw.subarray(0, 32)), y: b64(raw.subarray(32)) },
      format: 'jwk',
    });
  } catch (err) {
    throw new VerificationError(
      'ERR_SIGNATURE_INVALID',
      `attestation_key is not a P-256 public key (${(err as Error).message})`,
      'attestation_key',
      { cause: err },
    );
  }
}

/**
 * Checks, in this order, the QE report signature with the PCK leaf's key (ECDSA-P256-SHA256
 * over the 384 report bytes) and the QE REPORTDATA binding; returns the attestation key.
 * Cached by {@link QeBinding.digest}, so repeated quotes of one platform pay one hash.
 *
 * @throws {VerificationError} `ERR_SIGNATURE_INVALID` (subject `qe_report_signature`, or
 *   `attestation_key` when it is not a P-256 point); `ERR_QE_REPORT_DATA_MISMATCH`.
 * @example
 * const qe = bindQeReport(quote.signatureData, pck.leaf, ctx.cache);
 * checkQuoteSignature(quote, qe);
 */
export function bindQeReport(
  sig: TdxSignatureData,
  leaf: Certificate,
  cache: VerificationCache,
): QeBinding {
  const c = sig.certificationData;
  const report = serializeSgxReportBody(c.qeReport);
  // Fixed-size parts first and the variable-length auth data last: the concatenation is unambiguous.
  const digest = sha256Hex(
    report,
    c.qeReportSignature,
    leaf.sha256,
    sig.attestationKey,
    c.qeAuthData,
  );
  return cached(cache, tdxKeys.qeBinding(digest), () => {
    if (!verifyP256(leaf.x509.publicKey, report, c.qeReportSignature)) {
      throw new VerificationError(
        'ERR_SIGNATURE_INVALID',
        `qe_report_signature does not verify with the key of ${certLabel(leaf)}`,
        'qe_report_signature',
      );
    }
    checkReportData(c.qeReport.reportData, sig.attestationKey, c.qeAuthData);
    return Object.freeze({ digest, attestationKey: p256Key(sig.attestationKey) });
  });
}

/**
 * B1.5 step 5: the quote signature, ECDSA-P256-SHA256 by the attestation key over the
 * header and body (`quoteSignedBytes`).
 *
 * @throws {VerificationError} `ERR_SIGNATURE_INVALID` (subject `signature`).
 * @example
 * checkQuoteSignature(quote, bindQeReport(quote.signatureData, pck.leaf, cache));
 */
export function checkQuoteSignature(quote: TdxQuote, qe: QeBinding): void {
  if (!verifyP256(qe.attestationKey, quoteSignedBytes(quote), quote.signatureData.signature)) {
    throw new VerificationError(
      'ERR_SIGNATURE_INVALID',
      'signature over the quote header and TD report body does not verify with attestation_key',
      'signature',
    );
  }
}
