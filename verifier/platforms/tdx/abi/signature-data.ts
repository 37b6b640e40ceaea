/**
 * ECDSA signature data (`sgx_ecdsa_sig_data_v4_t`) with QE report certification data
 * (type 6, `sgx_qe_report_certification_data_t`) wrapping the PCK certificate chain (type 5).
 *
 * Every length field is checked against the bytes its enclosing structure has left, and every
 * structure must be filled exactly by its content.
 *
 * @module
 */
import { EvidenceMalformedError, EvidenceUnsupportedError } from '../../../../common/errors.js';
import { ByteReader } from '../../../../common/bytes.js';
import type { ByteWriter } from '../../../../common/bytes.js';
import { checkPemCertificates, pckCertChainOf } from '../collateral/pem.js';
import { readSgxReportBody, writeSgxReportBody } from './sgx-report.js';
import { CERT_TYPE_PCK_CHAIN, CERT_TYPE_QE_REPORT } from './types.js';
import type { PckCertChain, QeReportCertificationData, TdxSignatureData } from './types.js';

/** Field names used in errors for the certification data layers. @internal */
export const CERT_FIELDS = {
  outerType: 'certification_data.type',
  outerSize: 'certification_data.size',
  authSize: 'qe_auth_data.size',
  innerType: 'qe_report_certification_data.certification_data.type',
  innerSize: 'qe_report_certification_data.certification_data.size',
} as const;

const CERT_TYPE_NAMES: Record<number, string> = {
  1: 'PPID in plain text',
  2: 'PPID RSA-2048-OAEP',
  3: 'PPID RSA-3072-OAEP',
  4: 'PCK leaf certificate',
  5: 'PCK certificate chain',
  6: 'QE report certification data',
  7: 'platform manifest',
};

function typeName(type: number): string {
  return CERT_TYPE_NAMES[type] ?? 'unknown';
}

/**
 * Reads a length field and returns a reader bounded to the `length` bytes that follow it.
 *
 * @internal
 */
export function readBounded(r: ByteReader, field: string, width: 2 | 4): ByteReader {
  const offset = r.pos;
  const length = width === 2 ? r.u16(field) : r.u32(field);
  if (length > r.remaining) {
    throw new EvidenceMalformedError(`length ${length} exceeds the ${r.remaining} bytes left`, {
      field,
      offset,
    });
  }
  const sub = new ByteReader(r.bytes.subarray(0, r.pos + length), r.pos, true);
  r.pos += length;
  return sub;
}

/** Throws unless the bounded reader consumed all of its bytes. @internal */
export function expectConsumed(sub: ByteReader, field: string, fieldOffset: number): void {
  if (sub.remaining !== 0) {
    throw new EvidenceMalformedError(`${sub.remaining} bytes left over after the content`, {
      field,
      offset: fieldOffset,
    });
  }
}

function readCertType(r: ByteReader, field: string, expected: number): void {
  const offset = r.pos;
  const type = r.u16(field);
  if (type !== expected) {
    throw new EvidenceUnsupportedError(
      `certification data type ${type} (${typeName(type)}) is not supported here; ` +
        `expected ${expected} (${typeName(expected)})`,
      { field, offset },
    );
  }
}

function readPckCertChain(r: ByteReader): PckCertChain {
  readCertType(r, CERT_FIELDS.innerType, CERT_TYPE_PCK_CHAIN);
  const sub = readBounded(r, CERT_FIELDS.innerSize, 4);
  const pemOffset = sub.pos;
  const pem = sub.bytesOf(sub.remaining, 'pck_cert_chain');
  checkPemCertificates(pem, pemOffset);
  return pckCertChainOf(pem);
}

function readQeReportCertData(r: ByteReader): QeReportCertificationData {
  readCertType(r, CERT_FIELDS.outerType, CERT_TYPE_QE_REPORT);
  const sizeOffset = r.pos;
  const sub = readBounded(r, CERT_FIELDS.outerSize, 4);
  const qeReport = readSgxReportBody(sub, 'qe_report');
  const qeReportSignature = sub.bytesOf(64, 'qe_report_signature');
  const auth = readBounded(sub, CERT_FIELDS.authSize, 2);
  const qeAuthData = auth.bytesOf(auth.remaining, 'qe_auth_data');
  const pckCertChain = readPckCertChain(sub);
  expectConsumed(sub, CERT_FIELDS.outerSize, sizeOffset);
  return { type: CERT_TYPE_QE_REPORT, qeReport, qeReportSignature, qeAuthData, pckCertChain };
}

/**
 * Reads `signature_data_len` and the signature data it announces.
 * The reader ends just after the signature data.
 *
 * @internal
 */
export function readSignatureData(r: ByteReader): TdxSignatureData {
  const lenOffset = r.pos;
  const sub = readBounded(r, 'signature_data_len', 4);
  const signature = sub.bytesOf(64, 'signature');
  const attestationKey = sub.bytesOf(64, 'attestation_key');
  const certificationData = readQeReportCertData(sub);
  expectConsumed(sub, 'signature_data_len', lenOffset);
  return { signature, attestationKey, certificationData };
}

function u16Length(n: number, field: string): number {
  if (n > 0xffff) throw new TypeError(`${field} is ${n} bytes, more than a u16 length allows`);
  return n;
}

function qeCertDataSize(c: QeReportCertificationData): number {
  return 384 + 64 + 2 + c.qeAuthData.length + 2 + 4 + c.pckCertChain.pem.length;
}

/** Size in bytes of the signature data (the value of `signature_data_len`). */
export function signatureDataSize(s: TdxSignatureData): number {
  return 64 + 64 + 2 + 4 + qeCertDataSize(s.certificationData);
}

/**
 * Writes `signature_data_len` and the signature data; throws TypeError on bad field sizes.
 *
 * @internal
 */
export function writeSignatureData(w: ByteWriter, s: TdxSignatureData): void {
  const c = s.certificationData;
  if (c.type !== CERT_TYPE_QE_REPORT || c.pckCertChain.type !== CERT_TYPE_PCK_CHAIN) {
    throw new TypeError('only certification data type 6 wrapping type 5 can be serialized');
  }
  w.u32(signatureDataSize(s));
  w.raw(s.signature, 64, 'signature');
  w.raw(s.attestationKey, 64, 'attestation_key');
  w.u16(CERT_TYPE_QE_REPORT).u32(qeCertDataSize(c));
  writeSgxReportBody(w, c.qeReport);
  w.raw(c.qeReportSignature, 64, 'qe_report_signature');
  w.u16(u16Length(c.qeAuthData.length, 'qe_auth_data')).raw(c.qeAuthData);
  w.u16(CERT_TYPE_PCK_CHAIN).u32(c.pckCertChain.pem.length).raw(c.pckCertChain.pem);
}
