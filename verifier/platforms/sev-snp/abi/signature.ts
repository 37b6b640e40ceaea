/**
 * The signed bytes and the ECDSA P-384 signature of a report (SPEC-DIGEST B3.1): R at 0x2A0
 * and S at 0x2E8, each a 72-byte little-endian integer of which only the low 48 bytes may be
 * non-zero.
 *
 * @module
 */
import { EvidenceMalformedError } from '../../../../common/errors.js';
import { isZero } from '../../../../common/bytes.js';
import {
  OFF,
  P384_SCALAR_SIZE,
  SIG_COMPONENT_SIZE,
  SIGNATURE_SIZE,
  SNP_SIGNED_SIZE,
} from './layout.js';
import { serializeSnpReport } from './report.js';
import type { SnpReport } from './types.js';

/** A P-384 signature as two 48-byte big-endian integers. */
export interface SnpSignatureRS {
  r: Uint8Array;
  s: Uint8Array;
}

/**
 * The bytes the signature covers: [0x000, 0x2A0) of the report as serialized from its
 * fields. For a parsed report these are exactly the bytes received (the parser only accepts
 * reports that round-trip), and verifying them proves the decoded fields are the signed ones.
 */
export function snpSignedBytes(report: SnpReport): Uint8Array {
  return serializeSnpReport(report).slice(0, SNP_SIGNED_SIZE);
}

function component(sig: Uint8Array, index: 0 | 1, name: 'R' | 'S'): Uint8Array {
  const lo = index * SIG_COMPONENT_SIZE;
  const le = sig.subarray(lo, lo + SIG_COMPONENT_SIZE);
  if (!isZero(le.subarray(P384_SCALAR_SIZE))) {
    throw new EvidenceMalformedError('bytes 48..71 of the little-endian value must be zero', {
      field: `SIGNATURE.${name}`,
      offset: OFF.SIGNATURE + lo + P384_SCALAR_SIZE,
    });
  }
  // Uint8Array.from copies even when the field is a Buffer view (Buffer#slice does not).
  return Uint8Array.from(le.subarray(0, P384_SCALAR_SIZE)).reverse();
}

/**
 * R and S of the report signature, big-endian, 48 bytes each.
 *
 * @throws EvidenceMalformedError when R or S has non-zero bytes above the low 48.
 */
export function snpSignatureRS(report: SnpReport): SnpSignatureRS {
  if (report.signature.length !== SIGNATURE_SIZE) {
    throw new TypeError(`SIGNATURE must be ${SIGNATURE_SIZE} bytes`);
  }
  return { r: component(report.signature, 0, 'R'), s: component(report.signature, 1, 'S') };
}

/**
 * The signature as `r ‖ s` (96 bytes), the IEEE P1363 form Node's `crypto.verify` takes with
 * `dsaEncoding: 'ieee-p1363'`.
 */
export function snpSignatureP1363(report: SnpReport): Uint8Array {
  const { r, s } = snpSignatureRS(report);
  const out = new Uint8Array(2 * P384_SCALAR_SIZE);
  out.set(r, 0);
  out.set(s, P384_SCALAR_SIZE);
  return out;
}

function toLittleEndian(be: Uint8Array, name: string): Uint8Array {
  if (!(be instanceof Uint8Array) || be.length > P384_SCALAR_SIZE) {
    throw new TypeError(`${name} must be at most ${P384_SCALAR_SIZE} big-endian bytes`);
  }
  return Uint8Array.from(be).reverse();
}

/**
 * The 512-byte SIGNATURE field for big-endian R and S (inverse of {@link snpSignatureRS}).
 * Also accepts a 96-byte `r ‖ s`.
 */
export function snpSignatureFromRS(rs: SnpSignatureRS | Uint8Array): Uint8Array {
  const { r, s } =
    rs instanceof Uint8Array
      ? { r: rs.subarray(0, P384_SCALAR_SIZE), s: rs.subarray(P384_SCALAR_SIZE) }
      : rs;
  if (rs instanceof Uint8Array && rs.length !== 2 * P384_SCALAR_SIZE) {
    throw new TypeError(`r ‖ s must be ${2 * P384_SCALAR_SIZE} bytes, got ${rs.length}`);
  }
  const out = new Uint8Array(SIGNATURE_SIZE);
  out.set(toLittleEndian(r, 'r'), 0);
  out.set(toLittleEndian(s, 's'), SIG_COMPONENT_SIZE);
  return out;
}
