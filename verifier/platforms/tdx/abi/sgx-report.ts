/**
 * SGX report body (`sgx_report_body_t`, 384 bytes), used here for the quoting enclave's
 * report inside QE report certification data.
 *
 * @module
 */
import { EvidenceMalformedError } from '../../../../common/errors.js';
import { ByteReader, ByteWriter, isZero } from '../../../../common/bytes.js';
import { SGX_REPORT_BODY_SIZE } from './types.js';
import type { SgxReportBody } from './types.js';

const RESERVED_SIZES = { reserved1: 12, reserved2: 32, reserved3: 32, reserved4: 42 } as const;

function readReserved(r: ByteReader, name: keyof typeof RESERVED_SIZES, prefix: string): void {
  const offset = r.pos;
  const field = `${prefix}.${name}`;
  if (!isZero(r.bytesOf(RESERVED_SIZES[name], field))) {
    throw new EvidenceMalformedError('reserved bytes are not zero', { field, offset });
  }
}

/** Reads an SGX report body from a reader positioned at its start. @internal */
export function readSgxReportBody(r: ByteReader, prefix = 'qe_report'): SgxReportBody {
  r.need(SGX_REPORT_BODY_SIZE, prefix);
  const f = (name: string): string => `${prefix}.${name}`;
  const cpuSvn = r.bytesOf(16, f('cpu_svn'));
  const miscSelect = r.u32(f('misc_select'));
  readReserved(r, 'reserved1', prefix);
  const isvExtProdId = r.bytesOf(16, f('isv_ext_prod_id'));
  const attributes = r.bytesOf(16, f('attributes'));
  const mrEnclave = r.bytesOf(32, f('mr_enclave'));
  readReserved(r, 'reserved2', prefix);
  const mrSigner = r.bytesOf(32, f('mr_signer'));
  readReserved(r, 'reserved3', prefix);
  const configId = r.bytesOf(64, f('config_id'));
  const isvProdId = r.u16(f('isv_prod_id'));
  const isvSvn = r.u16(f('isv_svn'));
  const configSvn = r.u16(f('config_svn'));
  readReserved(r, 'reserved4', prefix);
  const isvFamilyId = r.bytesOf(16, f('isv_family_id'));
  const reportData = r.bytesOf(64, f('report_data'));
  return {
    cpuSvn,
    miscSelect,
    isvExtProdId,
    attributes,
    mrEnclave,
    mrSigner,
    configId,
    isvProdId,
    isvSvn,
    configSvn,
    isvFamilyId,
    reportData,
  };
}

/**
 * Parses a 384-byte SGX report body (`sgx_report_body_t`), e.g. the QE report of a quote.
 *
 * @param bytes - exactly 384 bytes.
 * @param offset - where these bytes sit in the enclosing evidence, used in error offsets.
 * @throws {@link EvidenceMalformedError} on a wrong length or non-zero reserved bytes.
 *
 * @example
 * ```ts
 * const qe = parseSgxReportBody(serializeSgxReportBody(quote.signatureData.certificationData.qeReport));
 * ```
 */
export function parseSgxReportBody(bytes: Uint8Array, offset = 0): SgxReportBody {
  if (bytes.length !== SGX_REPORT_BODY_SIZE) {
    throw new EvidenceMalformedError(
      `an SGX report body is ${SGX_REPORT_BODY_SIZE} bytes, got ${bytes.length}`,
      { field: 'sgx_report_body', offset },
    );
  }
  try {
    return readSgxReportBody(new ByteReader(bytes), 'sgx_report_body');
  } catch (err) {
    if (!(err instanceof EvidenceMalformedError)) throw err;
    throw new EvidenceMalformedError('reserved bytes are not zero', {
      field: err.field,
      offset: (err.offset ?? 0) + offset,
    });
  }
}

function checkUint(v: number, max: number, field: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new TypeError(`${field} must be an integer in 0..${max}, got ${v}`);
  }
}

/**
 * Appends an SGX report body to a writer; throws TypeError on fields of the wrong size.
 *
 * @internal
 */
export function writeSgxReportBody(w: ByteWriter, b: SgxReportBody): void {
  const zeros = (n: number): Uint8Array => new Uint8Array(n);
  checkUint(b.miscSelect, 0xffffffff, 'misc_select');
  checkUint(b.isvProdId, 0xffff, 'isv_prod_id');
  checkUint(b.isvSvn, 0xffff, 'isv_svn');
  checkUint(b.configSvn, 0xffff, 'config_svn');
  w.raw(b.cpuSvn, 16, 'cpu_svn').u32(b.miscSelect);
  w.raw(zeros(RESERVED_SIZES.reserved1));
  w.raw(b.isvExtProdId, 16, 'isv_ext_prod_id');
  w.raw(b.attributes, 16, 'attributes');
  w.raw(b.mrEnclave, 32, 'mr_enclave');
  w.raw(zeros(RESERVED_SIZES.reserved2));
  w.raw(b.mrSigner, 32, 'mr_signer');
  w.raw(zeros(RESERVED_SIZES.reserved3));
  w.raw(b.configId, 64, 'config_id');
  w.u16(b.isvProdId).u16(b.isvSvn).u16(b.configSvn);
  w.raw(zeros(RESERVED_SIZES.reserved4));
  w.raw(b.isvFamilyId, 16, 'isv_family_id');
  w.raw(b.reportData, 64, 'report_data');
}

/**
 * The 384 bytes of an SGX report body: what the PCK key signs for a QE report.
 *
 * @example
 * ```ts
 * const signed = serializeSgxReportBody(quote.signatureData.certificationData.qeReport);
 * ```
 */
export function serializeSgxReportBody(b: SgxReportBody): Uint8Array {
  const w = new ByteWriter();
  writeSgxReportBody(w, b);
  return w.finish();
}
