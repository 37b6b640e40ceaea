/**
 * Decoders for the TD's TDATTRIBUTES and XFAM words (SPEC-DIGEST B1.3), for `twi inspect` and
 * reports: every bit with a name, by name, and the bits without one kept as a number.
 *
 * @module
 */
import { tdAttributesValue } from './claims.js';

/**
 * TDATTRIBUTES bits with a name (TDX module `td_param_attributes_t`): the TUD group (bit 0
 * DEBUG; bits 7:1 reserved), the SEC group (ICSSD, LASS, SEPT_VE_DISABLE, MIGRATABLE, PKS,
 * KL) and PERFMON. Bits 16, 27 and 29 are defined by newer module versions only.
 */
export const TD_ATTRIBUTE_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0: 'debug',
  16: 'icssd',
  27: 'lass',
  28: 'sept_ve_disable',
  29: 'migratable',
  30: 'pks',
  31: 'kl',
  63: 'perfmon',
});

/**
 * XSAVE state components (Intel SDM vol. 1 ch. 13, XCR0 and IA32_XSS bit numbers) that XFAM
 * enables for the TD.
 */
export const XFAM_COMPONENT_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0: 'x87',
  1: 'sse',
  2: 'avx',
  3: 'mpx_bndregs',
  4: 'mpx_bndcsr',
  5: 'avx512_opmask',
  6: 'avx512_zmm_hi256',
  7: 'avx512_hi16_zmm',
  8: 'pt',
  9: 'pkru',
  10: 'pasid',
  11: 'cet_u',
  12: 'cet_s',
  13: 'hdc',
  14: 'uintr',
  15: 'lbr',
  16: 'hwp',
  17: 'amx_tilecfg',
  18: 'amx_tiledata',
  19: 'apx',
});

/** A decoded 64-bit word: its value, the named bits set, and the other bits set. */
export interface DecodedBits {
  /** The u64 as `0x…` (the raw bytes are little-endian). */
  value: string;
  /** Names of the bits set, lowest bit first. */
  set: string[];
  /** Bits set that have no name here, as `0x…` (`0x0` when none). */
  other_bits: string;
}

function decodeBits(raw: Uint8Array, names: Readonly<Record<number, string>>): DecodedBits {
  if (raw.length !== 8) throw new RangeError(`expected 8 bytes, got ${raw.length}`);
  const v = tdAttributesValue(raw);
  const set: string[] = [];
  let other = v;
  for (let i = 0; i < 64; i++) {
    const name = names[i];
    if (name !== undefined && ((v >> BigInt(i)) & 1n) === 1n) {
      set.push(name);
      other &= ~(1n << BigInt(i));
    }
  }
  return { value: '0x' + v.toString(16), set, other_bits: '0x' + other.toString(16) };
}

/**
 * Decodes TDATTRIBUTES (the 8 raw bytes of the TD report).
 *
 * @example
 * ```ts
 * decodeTdAttributes(Buffer.from('0000001000000000', 'hex')).set; // ['sept_ve_disable']
 * ```
 */
export function decodeTdAttributes(raw: Uint8Array): DecodedBits {
  return decodeBits(raw, TD_ATTRIBUTE_NAMES);
}

/**
 * Decodes XFAM (the 8 raw bytes of the TD report) into the XSAVE components it enables.
 *
 * @example
 * ```ts
 * decodeXfam(Buffer.from('0702000000000000', 'hex')).set; // ['x87', 'sse', 'avx', 'pkru']
 * ```
 */
export function decodeXfam(raw: Uint8Array): DecodedBits {
  return decodeBits(raw, XFAM_COMPONENT_NAMES);
}
