/**
 * Types shared by the device-emulation backends.
 *
 * @module
 */
import type { TdxCollateralV3 } from '../../verifier/platforms/tdx/collateral/v3.js';
import type { SimulatedPki } from '../pki/store.js';
import type { FaultQueue } from './faults.js';

/** Which TEE the emulated machine is. */
export type EmulatedPlatform = 'tdx' | 'sev-snp' | 'nitro';

/**
 * One request the backend was asked to serve, in arrival order. `error` is the errno name
 * the caller saw (absent on success); the bytes are copies.
 */
export interface DeviceRequestRecord {
  readonly device: 'tsm' | 'tdx_guest' | 'sev-guest' | 'nsm';
  /** e.g. `report` (configfs outblob), `get-report0`, `rtmr-extend`, `get-ext-report`, `Attestation`. */
  readonly op: string;
  readonly error?: string;
  /** REPORT_DATA / inblob as asked (TDX, SNP). */
  readonly reportData?: Uint8Array;
  /** SNP VMPL / configfs privlevel asked for. */
  readonly vmpl?: number;
  /** SNP extended report: the certs_len the caller offered. */
  readonly certsLen?: number;
  /** SNP fw_error / vmm_error as written back (exitinfo2). */
  readonly exitinfo2?: bigint;
  /** SNP derived key: the guest_field_select asked for. */
  readonly fieldSelect?: bigint;
  /** TDX RTMR extend: index and the 48 bytes. */
  readonly rtmrIndex?: number;
  readonly extendData?: Uint8Array;
  /** Nitro Attestation fields (null when the request carried null or nothing). */
  readonly userData?: Uint8Array | null;
  readonly nonce?: Uint8Array | null;
  readonly publicKey?: Uint8Array | null;
  /** The evidence produced (quote, SNP report, NSM document). */
  readonly evidence?: Uint8Array;
  /** TDX: the collateral that goes with `evidence`. */
  readonly collateral?: TdxCollateralV3;
  /** The generation the configfs entry reached for this report. */
  readonly generation?: number;
}

/** What a backend may use. @internal */
export interface BackendContext {
  readonly pki: SimulatedPki;
  readonly faults: FaultQueue;
  /** The instant evidence is produced at. */
  now(): Date;
  record(entry: DeviceRequestRecord): void;
}

/** What the configfs-tsm report provider (tdx_guest / sev_guest) generates. @internal */
export interface TsmReport {
  outblob: Uint8Array;
  auxblob?: Uint8Array;
}

/** A configfs-tsm provider: `ops->report_new` and the attributes it shows. @internal */
export interface TsmProvider {
  readonly name: 'tdx_guest' | 'sev_guest';
  /** SNP: the lowest privlevel accepted (the VMPL the guest runs at). */
  readonly privlevelFloor?: number;
  /** Throws a DeviceErrno as report_new fails. */
  reportNew(desc: { inblob: Uint8Array; privlevel: number }, generation: number): TsmReport;
}
