/**
 * The TDREPORT_STRUCT (1024 bytes) that TDG.MR.REPORT returns and `/dev/tdx_guest`
 * hands out through TDX_CMD_GET_REPORT0 (SPEC-DIGEST A3.2; Intel TDX module ABI
 * `td_report_t`): REPORTMACSTRUCT, TEE_TCB_INFO and TDINFO, built from the same TD report
 * body the simulated quote carries, so a TDREPORT and a quote of the same TD agree.
 *
 * The MAC is an HMAC-SHA-256 under a key derived from the simulator seed: like the real
 * one (a CPU-internal key) it can only be checked on the "same platform", here with
 * {@link tdReportMac}.
 *
 * @module
 */
import { createHash, createHmac } from 'node:crypto';
import { BODY_TYPE_TD15 } from '../verifier/platforms/tdx/abi/types.js';
import type { TdReportBody } from '../verifier/platforms/tdx/abi/types.js';

/** @internal */
export const TDREPORT_SIZE = 1024;
/** TDREPORT type: TEE type 0x81 (TDX), subtype 0. */
const REPORT_TYPE_TDX = 0x81;
const MAC_STRUCT = 0x000;
const TEE_TCB_INFO = 0x100;
const TEE_TCB_INFO_SIZE = 239;
const TD_INFO = 0x200;
const TD_INFO_SIZE = 512;
const MAC_OFFSET = 0xe0;

/** What a TDREPORT says: the TD report body plus the REPORTMACSTRUCT fields. */
export interface TdReport {
  /** REPORTMACSTRUCT.report_type.version: 0 (TDX 1.0) or 1 (TDX 1.5, with the 1.5 fields). */
  version: number;
  cpuSvn: Uint8Array;
  teeTcbInfoHash: Uint8Array;
  teeInfoHash: Uint8Array;
  mac: Uint8Array;
  body: TdReportBody;
}

/** The MAC key of a simulated platform. */
function macKey(seed: string): Buffer {
  return createHash('sha256').update(`twi-sim-tdx|${seed}|tdreport-mac-key`).digest();
}

/** The MAC a simulated platform computes over bytes [0, 0xE0) of a TDREPORT. */
export function tdReportMac(seed: string, report: Uint8Array): Uint8Array {
  return new Uint8Array(
    createHmac('sha256', macKey(seed)).update(report.subarray(0, MAC_OFFSET)).digest(),
  );
}

function put(out: Uint8Array, at: number, bytes: Uint8Array | undefined, size: number): void {
  if (bytes === undefined) return;
  if (bytes.length !== size)
    throw new TypeError(`TDREPORT field at 0x${at.toString(16)}: ${size} bytes`);
  out.set(bytes, at);
}

/**
 * Builds a TDREPORT_STRUCT for `body`.
 *
 * @param body - the TD report body (the one the quote carries; its body type decides the version).
 * @param opts.seed - seed of the simulated platform (MAC key).
 * @param opts.cpuSvn - CPUSVN (16 bytes; default zero).
 * @param opts.bodyType - 2 (TD 1.0, version 0) or 3 (TD 1.5, version 1).
 */
export function buildTdReport(
  body: TdReportBody,
  opts: { seed: string; cpuSvn?: Uint8Array; bodyType: 2 | 3 },
): Uint8Array {
  const out = new Uint8Array(TDREPORT_SIZE);
  const v15 = opts.bodyType === BODY_TYPE_TD15;
  out[MAC_STRUCT] = REPORT_TYPE_TDX;
  out[MAC_STRUCT + 2] = v15 ? 1 : 0;
  put(out, 0x10, opts.cpuSvn ?? new Uint8Array(16), 16);
  put(out, 0x80, body.reportData, 64);
  // TEE_TCB_INFO: valid bitmap, TEE_TCB_SVN, MRSEAM, MRSIGNERSEAM, ATTRIBUTES, TEE_TCB_SVN2.
  const valid = v15 ? 0x3ffn : 0x1ffn;
  new DataView(out.buffer).setBigUint64(TEE_TCB_INFO, valid, true);
  put(out, TEE_TCB_INFO + 8, body.teeTcbSvn, 16);
  put(out, TEE_TCB_INFO + 24, body.mrSeam, 48);
  put(out, TEE_TCB_INFO + 72, body.mrSignerSeam, 48);
  put(out, TEE_TCB_INFO + 120, body.seamAttributes, 8);
  if (v15) put(out, TEE_TCB_INFO + 128, body.teeTcbSvn2 ?? body.teeTcbSvn, 16);
  // TDINFO.
  put(out, TD_INFO, body.tdAttributes, 8);
  put(out, TD_INFO + 8, body.xfam, 8);
  put(out, TD_INFO + 16, body.mrTd, 48);
  put(out, TD_INFO + 64, body.mrConfigId, 48);
  put(out, TD_INFO + 112, body.mrOwner, 48);
  put(out, TD_INFO + 160, body.mrOwnerConfig, 48);
  body.rtmr.forEach((r, i) => put(out, TD_INFO + 208 + 48 * i, r, 48));
  if (v15) put(out, TD_INFO + 400, body.mrServiceTd ?? new Uint8Array(48), 48);
  const sha384 = (b: Uint8Array) => createHash('sha384').update(b).digest();
  out.set(sha384(out.subarray(TEE_TCB_INFO, TEE_TCB_INFO + TEE_TCB_INFO_SIZE)), 0x20);
  out.set(sha384(out.subarray(TD_INFO, TD_INFO + TD_INFO_SIZE)), 0x50);
  out.set(tdReportMac(opts.seed, out), MAC_OFFSET);
  return out;
}

/** Reads a TDREPORT_STRUCT back into its fields. */
export function parseTdReport(report: Uint8Array): TdReport {
  if (report.length !== TDREPORT_SIZE) throw new TypeError('a TDREPORT is 1024 bytes');
  if (report[0] !== REPORT_TYPE_TDX) throw new TypeError('not a TDX TDREPORT (type != 0x81)');
  const at = (off: number, n: number) => report.slice(off, off + n);
  const version = report[2]!;
  const body: TdReportBody = {
    teeTcbSvn: at(TEE_TCB_INFO + 8, 16),
    mrSeam: at(TEE_TCB_INFO + 24, 48),
    mrSignerSeam: at(TEE_TCB_INFO + 72, 48),
    seamAttributes: at(TEE_TCB_INFO + 120, 8),
    tdAttributes: at(TD_INFO, 8),
    xfam: at(TD_INFO + 8, 8),
    mrTd: at(TD_INFO + 16, 48),
    mrConfigId: at(TD_INFO + 64, 48),
    mrOwner: at(TD_INFO + 112, 48),
    mrOwnerConfig: at(TD_INFO + 160, 48),
    rtmr: [0, 1, 2, 3].map((i) => at(TD_INFO + 208 + 48 * i, 48)) as TdReportBody['rtmr'],
    reportData: at(0x80, 64),
  };
  if (version >= 1) {
    body.teeTcbSvn2 = at(TEE_TCB_INFO + 128, 16);
    body.mrServiceTd = at(TD_INFO + 400, 48);
  }
  return {
    version,
    cpuSvn: at(0x10, 16),
    teeTcbInfoHash: at(0x20, 48),
    teeInfoHash: at(0x50, 48),
    mac: at(MAC_OFFSET, 32),
    body,
  };
}
