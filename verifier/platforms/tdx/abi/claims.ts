/**
 * Claims extracted from a TDX quote's TD report body, in the encoding the rest of twi
 * (reference values, EAR submodule claims, real-vector manifests) uses: lowercase hex.
 *
 * @module
 */
import { toHex } from '../../../../common/bytes.js';
import type { PckCaKind } from '../collateral/pck-extensions.js';
import type { TcbStatus } from '../verify/tcb-status.js';
import { BODY_TYPE_TD15 } from './types.js';
import type { TdxBodyType, TdxQuote } from './types.js';

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
export function tdAttributeFlags(raw: Uint8Array): TdAttributeFlags {
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

/** The named TDATTRIBUTES flags, as {@link tdAttributeFlags} decodes them. */
export type TdAttributeFlags = Record<keyof typeof TD_ATTRIBUTE_BITS, boolean>;

/**
 * The claims of a TDX quote, as {@link tdxClaims} returns them (a type alias, so that it is
 * assignable to `Record<string, unknown>`). Byte values are lowercase hex of the raw bytes.
 */
export type TdxClaims = {
  mrtd: string;
  rtmr0: string;
  rtmr1: string;
  rtmr2: string;
  rtmr3: string;
  mrseam: string;
  mrconfigid: string;
  mrowner: string;
  td_attributes: string;
  td_attribute_flags: TdAttributeFlags;
  xfam: string;
  tee_tcb_svn: string;
  report_data: string;
  /** TD report 1.5 bodies only. */
  tee_tcb_svn2?: string;
  /** TD report 1.5 bodies only. */
  mrservicetd?: string;
  /**
   * Verified claims only: the shim's SHA-384 (hex) when the attester's event log replayed to
   * RTMR0-3 (`docs/shim.md` "Self-measurement"); never from the quote alone.
   */
  shim?: string;
};

/**
 * What the TDX verify stage records about verified evidence besides its claims (JSON-safe):
 * the quote's shape, the PCK certificate's FMSPC, PCE-ID and CA, the collateral's TCB
 * evaluation data numbers and issue dates, the statuses the TCB evaluation converged from,
 * and MROWNERCONFIG.
 */
export type TdxDetails = {
  quoteVersion: number;
  bodyType: TdxBodyType;
  fmspc: string;
  pceId: string;
  pckCa: PckCaKind;
  tcbDate: string;
  tcbEvaluationDataNumber: number;
  tcbInfoIssueDate: string;
  qeIdentityTcbEvaluationDataNumber: number;
  qeIdentityIssueDate: string;
  platformStatus: TcbStatus;
  moduleId: string | null;
  moduleStatus: TcbStatus;
  qeStatus: TcbStatus;
  qeIsvSvn: number;
  relaunchAdvised: boolean;
  trailingBytes: number;
  mrOwnerConfig: string;
};

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
export function tdxClaims(q: TdxQuote): TdxClaims {
  const b = q.body;
  const claims: TdxClaims = {
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
