/**
 * Quote header (`sgx_quote4_header_t`, 48 bytes) and the v5 body descriptor (`type`, `size`).
 *
 * @module
 */
import { EvidenceMalformedError, EvidenceUnsupportedError } from '../../../../common/errors.js';
import type { ByteReader, ByteWriter } from '../../../../common/bytes.js';
import {
  ATT_KEY_TYPE_ECDSA_P256,
  BODY_TYPE_SGX,
  BODY_TYPE_TD10,
  BODY_TYPE_TD15,
  TD_REPORT10_SIZE,
  TD_REPORT15_SIZE,
  TEE_TYPE_TDX,
} from './types.js';
import type { TdxBodyType, TdxQuoteHeader } from './types.js';

/** Body size in bytes for a TD body type. */
export function tdBodySize(type: TdxBodyType): number {
  return type === BODY_TYPE_TD15 ? TD_REPORT15_SIZE : TD_REPORT10_SIZE;
}

function readVersion(r: ByteReader): 4 | 5 {
  const offset = r.pos;
  const version = r.u16('version');
  if (version !== 4 && version !== 5) {
    throw new EvidenceUnsupportedError(`quote version ${version} is not a TDX quote (4 or 5)`, {
      field: 'version',
      offset,
    });
  }
  return version;
}

function readKeyType(r: ByteReader): typeof ATT_KEY_TYPE_ECDSA_P256 {
  const offset = r.pos;
  const keyType = r.u16('att_key_type');
  if (keyType !== ATT_KEY_TYPE_ECDSA_P256) {
    throw new EvidenceUnsupportedError(
      `attestation key type ${keyType} is not supported (only 2, ECDSA-P256)`,
      { field: 'att_key_type', offset },
    );
  }
  return ATT_KEY_TYPE_ECDSA_P256;
}

function readTeeType(r: ByteReader): typeof TEE_TYPE_TDX {
  const offset = r.pos;
  const teeType = r.u32('tee_type');
  if (teeType !== TEE_TYPE_TDX) {
    throw new EvidenceUnsupportedError(`TEE type 0x${teeType.toString(16)} is not TDX (0x81)`, {
      field: 'tee_type',
      offset,
    });
  }
  return TEE_TYPE_TDX;
}

/**
 * Reads the 48-byte header; version, key type and TEE type are checked as they are read.
 *
 * @internal
 */
export function readHeader(r: ByteReader): TdxQuoteHeader {
  const version = readVersion(r);
  const attestationKeyType = readKeyType(r);
  const teeType = readTeeType(r);
  return {
    version,
    attestationKeyType,
    teeType,
    reserved: r.bytesOf(4, 'reserved'),
    qeVendorId: r.bytesOf(16, 'qe_vendor_id'),
    userData: r.bytesOf(20, 'user_data'),
  };
}

/** Reads the v5 `type` and `size` fields that precede the body. @internal */
export function readBodyDescriptor(r: ByteReader): TdxBodyType {
  const typeOffset = r.pos;
  const type = r.u16('body_type');
  if (type !== BODY_TYPE_TD10 && type !== BODY_TYPE_TD15) {
    const what = type === BODY_TYPE_SGX ? 'an SGX enclave report' : 'unknown';
    throw new EvidenceUnsupportedError(`body type ${type} (${what}) is not a TD report`, {
      field: 'body_type',
      offset: typeOffset,
    });
  }
  const sizeOffset = r.pos;
  const size = r.u32('body_size');
  if (size !== tdBodySize(type)) {
    throw new EvidenceMalformedError(
      `body size ${size} does not match body type ${type} (${tdBodySize(type)} bytes)`,
      { field: 'body_size', offset: sizeOffset },
    );
  }
  return type;
}

/** Writes the header; throws TypeError on fields of the wrong size. @internal */
export function writeHeader(w: ByteWriter, h: TdxQuoteHeader): void {
  w.u16(h.version).u16(h.attestationKeyType).u32(h.teeType);
  w.raw(h.reserved, 4, 'reserved');
  w.raw(h.qeVendorId, 16, 'qe_vendor_id');
  w.raw(h.userData, 20, 'user_data');
}

/** Writes the v5 body descriptor. @internal */
export function writeBodyDescriptor(w: ByteWriter, type: TdxBodyType): void {
  w.u16(type).u32(tdBodySize(type));
}
