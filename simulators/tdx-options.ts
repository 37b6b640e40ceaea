/**
 * Options of the TDX evidence simulator and their defaults.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { TdxBodyType } from '../verifier/platforms/tdx/abi/types.js';
import type { TcbStatus } from '../verifier/platforms/tdx/verify/tcb-status.js';

/** A TCB status as written in Intel TCB Info / QE identity JSON. */
export type { TcbStatus };

/** One platform TCB level written into the TCB Info (`tcbLevels[]`). @internal */
export interface SimTcbLevel {
  /** 16 SGX TCB component SVNs. */
  sgxTcbComps: number[];
  pceSvn: number;
  /** 16 TDX TCB component SVNs (compared with TEE_TCB_SVN). */
  tdxTcbComps: number[];
  status: TcbStatus;
  advisoryIds?: string[];
  /** ISO date; default: the simulator's TCB date. */
  tcbDate?: string;
}

/** One QE identity TCB level (`tcbLevels[]` of the `TD_QE` identity). @internal */
export interface SimQeTcbLevel {
  isvSvn: number;
  status: TcbStatus;
  advisoryIds?: string[];
  tcbDate?: string;
}

/** Which platform TCB level the generated TCB Info offers for the simulated platform. @internal */
export interface SimPlatformTcb {
  /** Status of the level the platform matches (default `UpToDate`). */
  status?: TcbStatus;
  /** Advisory IDs of that level (only written when non-empty). */
  advisoryIds?: string[];
  /** When false, no level matches the platform (TCB level not supported). Default true. */
  match?: boolean;
}

/** Options of {@link simulateTdx}. Every byte field has a deterministic default. */
export interface TdxSimOptions {
  /** Seed of the attestation and PCK keys and of the default measurements. */
  seed: string;
  /** The instant the evidence is produced; collateral windows are placed around it. */
  now: Date;
  /** Quote version (default 4). */
  version?: 4 | 5;
  /** Body type for v5 (default 3 = TD report 1.5); v4 always carries type 2. */
  bodyType?: TdxBodyType;
  /** MRTD (48 bytes; default seeded). */
  mrTd?: Uint8Array;
  /** RTMR0..3 (48 bytes each; default seeded, RTMR3 zero). */
  rtmr?: [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  /** MRCONFIGID (48 bytes; default zero). */
  mrConfigId?: Uint8Array;
  /** MROWNER (48 bytes; default zero). */
  mrOwner?: Uint8Array;
  /** MROWNERCONFIG (48 bytes; default zero). */
  mrOwnerConfig?: Uint8Array;
  /** REPORTDATA (64 bytes; default seeded). */
  reportData?: Uint8Array;
  /** TDATTRIBUTES as a u64 (default bit 28 SEPT_VE_DISABLE); `debug` sets bit 0 on top. */
  tdAttributes?: bigint;
  /** Shortcut for TDATTRIBUTES.DEBUG (bit 0). */
  debug?: boolean;
  /** XFAM as a u64 (default 0x0006_02e7). */
  xfam?: bigint;
  /** TEE_TCB_SVN (16 bytes, default 06 01 03 00…). */
  teeTcbSvn?: Uint8Array;
  /** TEE_TCB_SVN2 (body type 3; default = TEE_TCB_SVN). */
  teeTcbSvn2?: Uint8Array;
  /** MRSEAM (48 bytes; default seeded). MRSIGNERSEAM and SEAMATTRIBUTES are zero, as Intel's. */
  mrSeam?: Uint8Array;
  /** MRSERVICETD (body type 3; default zero). */
  mrServiceTd?: Uint8Array;
  /** The PCK certificate's SGX TCB: 16 component SVNs (default 3,3,2,2,4,1,0,5,0…). */
  sgxTcbComps?: number[];
  /** PCESVN in the PCK certificate (default 11). */
  pceSvn?: number;
  /** FMSPC, 12 hex digits (default `50806f000000`). */
  fmspc?: string;
  /** Issuing PCK CA (default `platform`). */
  pckCa?: 'platform' | 'processor';
  /** Put the PCK certificate on the PCK CRL. */
  pckRevoked?: boolean;
  /** QE ISVSVN in the QE report (default 4). */
  qeIsvSvn?: number;
  /** Platform TCB level control (ignored when `tcbLevels` is given). */
  platformTcb?: SimPlatformTcb;
  /** Explicit TCB levels, highest first (overrides `platformTcb`). */
  tcbLevels?: SimTcbLevel[];
  /** Status of the TDX module identity level the module matches (default `UpToDate`). */
  tdxModuleStatus?: TcbStatus;
  /** QE identity TCB levels (default one `UpToDate` level at ISVSVN 4). */
  qeTcbLevels?: SimQeTcbLevel[];
  /** `tcbEvaluationDataNumber` (default 17). */
  tcbEvaluationDataNumber?: number;
}

/** Deterministic filler bytes for a field, from the seed and a label. @internal */
export function seededBytes(seed: string, label: string, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0, block = 0; i < n; block++) {
    const h = createHash('sha512').update(`twi-sim-tdx|${seed}|${label}|${block}`).digest();
    out.set(h.subarray(0, Math.min(h.length, n - i)), i);
    i += h.length;
  }
  return out;
}

/** Little-endian bytes of a u64. @internal */
export function u64Bytes(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  return b;
}

/** Defaults shared by the quote and the collateral. @internal */
export const SIM_DEFAULTS = {
  sgxTcbComps: [3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0],
  pceSvn: 11,
  fmspc: '50806f000000',
  pceId: '0000',
  teeTcbSvn: Uint8Array.of(6, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
  tdAttributes: 1n << 28n,
  xfam: 0x0006_02e7n,
  qeIsvSvn: 4,
  qeIsvProdId: 2,
  /** QE ATTRIBUTES as Intel's TD QE reports them (masked they equal the identity's value). */
  qeAttributes: '1500000000000000e700000000000000',
  qeIdentityAttributes: '11000000000000000000000000000000',
  qeIdentityAttributesMask: 'FBFFFFFFFFFFFFFF0000000000000000',
  tcbEvaluationDataNumber: 17,
} as const;

/** MRSIGNER of the simulated TD QE: a fixed, obviously simulated value (not Intel's). @internal */
export const SIM_QE_MRSIGNER = new Uint8Array(
  createHash('sha256').update('twi simulated TD QE signer').digest(),
);
/** MRENCLAVE of the simulated TD QE. @internal */
export const SIM_QE_MRENCLAVE = new Uint8Array(
  createHash('sha256').update('twi simulated TD QE').digest(),
);
