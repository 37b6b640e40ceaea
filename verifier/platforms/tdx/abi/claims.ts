/**
 * Claims extracted from a TDX quote's TD report body, in the encoding the rest of twi
 * (reference values, EAR submodule claims, real-vector manifests) uses: lowercase hex.
 *
 * @module
 */
import { toHex } from '../../../../common/bytes.js';
import { BODY_TYPE_TD15 } from './types.js';
import type { TdxQuote } from './types.js';

/** TDATTRIBUTES bits with a name in the claims (TDX module `td_param_attributes_t`). */
export const TD_ATTRIBUTE_BITS = {
  debug: 0n,
  sept_ve_disable: 28n,
  pks: 30n,
  kl: 31n,
  perfmon: 63n,
} as const;

/** Decodes TDATTRIBUTES (8 bytes, little-endian) as a u64. */
export function tdAttributesValue(raw: Uint8Array): bigint {
  return new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getBigUint64(0, true);
}

/** The named TDATTRIBUTES flags. */
export function tdAttributeFlags(raw: Uint8Array): Record<keyof typeof TD_ATTRIBUTE_BITS, boolean> {
  const v = tdAttributesValue(raw);
  const bit = (n: bigint): boolean => ((v >> n) & 1n) === 1n;
  return {
    debug: bit(TD_ATTRIBUTE_BITS.debug),
    sept_ve_disable: bit(TD_ATTRIBUTE_BITS.sept_ve_disable),
    pks: bit(TD_ATTRIBUTE_BITS.pks),
    kl: bit(TD_ATTRIBUTE_BITS.kl),
    perfmon: bit(TD_ATTRIBUTE_BITS.perfmon),
  };
}

/**
 * The TD's measurement claims: `mrtd`, `rtmr0`..`rtmr3`, `mrseam`, `mrconfigid`, `mrowner`,
 * `td_attributes` (hex of the 8 raw bytes), `td_attribute_flags` (`debug` bit 0,
 * `sept_ve_disable` bit 28, `pks` bit 30, `kl` bit 31, `perfmon` bit 63), `xfam`,
 * `tee_tcb_svn`, `report_data`, and for TD report 1.5 bodies `tee_tcb_svn2` and `mrservicetd`.
 * Byte values are lowercase hex of the raw bytes. No other keys.
 *
 * These are claims of a parsed, not yet verified quote; only the verify stage makes them trusted.
 *
 * @example
 * ```ts
 * tdxClaims(parseTdxQuote(bytes)).mrtd; // '91eb2b44…'
 * ```
 */
export function tdxClaims(q: TdxQuote): Record<string, unknown> {
  const b = q.body;
  const claims: Record<string, unknown> = {
    mrtd: toHex(b.mrTd),
    rtmr0: toHex(b.rtmr[0]),
    rtmr1: toHex(b.rtmr[1]),
    rtmr2: toHex(b.rtmr[2]),
    rtmr3: toHex(b.rtmr[3]),
    mrseam: toHex(b.mrSeam),
    mrconfigid: toHex(b.mrConfigId),
    mrowner: toHex(b.mrOwner),
    td_attributes: toHex(b.tdAttributes),
    td_attribute_flags: tdAttributeFlags(b.tdAttributes),
    xfam: toHex(b.xfam),
    tee_tcb_svn: toHex(b.teeTcbSvn),
    report_data: toHex(b.reportData),
  };
  if (q.bodyType === BODY_TYPE_TD15 && b.teeTcbSvn2 && b.mrServiceTd) {
    claims.tee_tcb_svn2 = toHex(b.teeTcbSvn2);
    claims.mrservicetd = toHex(b.mrServiceTd);
  }
  return claims;
}
