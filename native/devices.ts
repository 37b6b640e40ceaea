/**
 * Typed access to the TEE guest devices, one function per kernel interface. Each call
 * runs on the libuv pool (never the JavaScript thread), callers of one device are
 * serialised in the addon, and failures are {@link DeviceError}s.
 *
 * @internal
 * @module
 */
import { loadNative } from './binding.js';
import type { RawPlatformProbe } from './binding.js';
import { settle } from './errors.js';
import { bytesArg, intArg, optionalBytesArg } from './validate.js';

/** REPORT_DATA / inblob size of TDX and SEV-SNP (TDX_REPORTDATA_LEN, SNP_REPORT_USER_DATA_SIZE). */
export const REPORT_DATA_SIZE = 64;

/** NSM Attestation input limits (aws-nitro-enclaves-nsm-api docs/attestation_process.md). */
export const NSM_LIMITS = { userData: 512, nonce: 512, publicKey: 1024 } as const;

/** One guest interface of a platform. */
export interface InterfaceProbe {
  /** `configfs-tsm`, `/dev/sev-guest`, `/dev/tdx_guest`, `/dev/nsm`. */
  readonly name: string;
  readonly path: string;
  readonly present: boolean;
  /** Opens (devices) or has the platform's provider (configfs-tsm). */
  readonly usable: boolean;
  /** The provider, or why it is not usable. */
  readonly detail: string;
  readonly errno?: number;
}

/** What {@link detectPlatforms} found for one platform. */
export interface PlatformProbe {
  readonly platform: 'tdx' | 'sev-snp' | 'nitro';
  /** Evidence a remote verifier accepts can be produced (TDX needs configfs-tsm for quotes). */
  readonly usable: boolean;
  readonly interfaces: readonly InterfaceProbe[];
}

/**
 * Which TEE interfaces exist and work, most preferred platform first (TDX, SEV-SNP,
 * Nitro). configfs-tsm is probed by creating and removing a report entry.
 */
export async function detectPlatforms(): Promise<PlatformProbe[]> {
  const raw: RawPlatformProbe[] = await settle(loadNative().detectPlatforms());
  return raw;
}

/** A configfs-tsm report. */
export interface TsmReport {
  /** `tdx_guest` or `sev_guest`. */
  readonly provider: string;
  /** TDX: the quote; SEV-SNP: the ATTESTATION_REPORT. */
  readonly outblob: Uint8Array;
  /** SEV-SNP: the GHCB certificate table (empty when the host provides none). */
  readonly auxblob: Uint8Array;
  /** `generation` after the report (the one write of inblob accounted for). */
  readonly generation: number;
  /** Attempts used (generation races and EBUSY are retried up to 3 times). */
  readonly attempts: number;
}

/**
 * Runs the configfs-tsm sequence (Documentation/ABI/testing/configfs-tsm-report): a
 * uniquely named entry, `provider` checked, one 64-byte `inblob` write, `outblob`
 * (and `auxblob`) read, `generation` checked, entry removed.
 *
 * @throws {DeviceError} `ERR_DEVICE_UNAVAILABLE` (no tree, no or another provider),
 * `ERR_DEVICE_BUSY` (generation race or EBUSY three times), `ERR_DEVICE_IO`...
 */
export async function tsmReport(
  inblob: Uint8Array,
  provider: 'tdx_guest' | 'sev_guest',
): Promise<TsmReport> {
  bytesArg('inblob', inblob, REPORT_DATA_SIZE, REPORT_DATA_SIZE);
  if (provider !== 'tdx_guest' && provider !== 'sev_guest') {
    throw new TypeError('provider must be tdx_guest or sev_guest');
  }
  return settle(loadNative().tsmReport(inblob, provider, provider === 'sev_guest'));
}

/** An SEV-SNP report from `/dev/sev-guest`. */
export interface SnpReport {
  /** The 1184-byte (v2-v5) ATTESTATION_REPORT, MSG_REPORT_RSP header removed. */
  readonly report: Uint8Array;
  /** Extended report: the certificate table trimmed to its last entry's end (empty: none). */
  readonly certs: Uint8Array;
  /** Extended report: the certificate buffer size the successful call used. */
  readonly certsBufferLength: number;
  readonly attempts: number;
}

/**
 * SNP_GET_REPORT, or with `extended` SNP_GET_EXT_REPORT: the certificate buffer starts at
 * one page and grows to what the host asks for (EIO with vmm_error 1), at most 16 KiB.
 *
 * @throws {DeviceError} `ERR_DEVICE_FIRMWARE` (fwError / vmmError), `ERR_DEVICE_DISABLED`
 * (ENOTTY: VMPCK wiped), `ERR_DEVICE_BUSY`, `ERR_DEVICE_RESPONSE` (certificates over 16 KiB).
 */
export async function snpGetReport(
  userData: Uint8Array,
  options: { vmpl?: number; extended?: boolean } = {},
): Promise<SnpReport> {
  bytesArg('userData', userData, REPORT_DATA_SIZE, REPORT_DATA_SIZE);
  const vmpl = intArg('vmpl', options.vmpl ?? 0, 0, 3);
  return settle(loadNative().snpGetReport(userData, vmpl, options.extended ?? true));
}

/** TDX_CMD_GET_REPORT0: the 1024-byte TDREPORT (MAC'd, verifiable only on this platform). */
export async function tdxGetReport0(reportData: Uint8Array): Promise<Uint8Array> {
  bytesArg('reportData', reportData, REPORT_DATA_SIZE, REPORT_DATA_SIZE);
  return settle(loadNative().tdxGetReport0(reportData));
}

/** Extends TDX RTMR `index` (0-3) with a 48-byte digest (sysfs `rtmr<N>:sha384`). */
export async function tdxExtendRtmr(index: number, digest: Uint8Array): Promise<void> {
  intArg('index', index, 0, 3);
  bytesArg('digest', digest, 48, 48);
  await settle(loadNative().tdxExtendRtmr(index, digest));
}

/** Reads TDX RTMR `index` (0-3). */
export async function tdxReadRtmr(index: number): Promise<Uint8Array> {
  intArg('index', index, 0, 3);
  return settle(loadNative().tdxReadRtmr(index));
}

/** Inputs of an NSM Attestation request; absent fields are sent as CBOR null. */
export interface NsmAttestationInput {
  userData?: Uint8Array;
  nonce?: Uint8Array;
  publicKey?: Uint8Array;
}

/**
 * The NSM Attestation request over NSM_IOCTL_RAW (CBOR encoded in the addon, request
 * ≤ 4096 bytes, 12 KiB response buffer): the COSE_Sign1 attestation document.
 *
 * @throws {DeviceError} `ERR_DEVICE_FIRMWARE` with `nsmError` for `{"Error": ...}` answers,
 * `ERR_DEVICE_RESPONSE` for truncated or malformed ones.
 */
export async function nsmGetAttestation(input: NsmAttestationInput): Promise<Uint8Array> {
  const userData = optionalBytesArg('userData', input.userData, 0, NSM_LIMITS.userData);
  const nonce = optionalBytesArg('nonce', input.nonce, 0, NSM_LIMITS.nonce);
  const publicKey = optionalBytesArg('publicKey', input.publicKey, 1, NSM_LIMITS.publicKey);
  return settle(loadNative().nsmGetAttestation(userData, nonce, publicKey));
}
