/**
 * The attester's view of the TEE: detect the platform, then get evidence bound to
 * REPORT_DATA (TDX, SEV-SNP) or to nonce / user data / public key (Nitro), with the
 * endorsements the platform hands out itself (the SEV-SNP certificate table).
 *
 * @internal
 * @module
 */
import { EVIDENCE_MEDIA_TYPES, SEV_SNP_CERTS_MEDIA_TYPE } from '../wire/media-types.js';
import { DeviceError } from './errors.js';
import {
  NSM_LIMITS,
  REPORT_DATA_SIZE,
  detectPlatforms,
  nsmGetAttestation,
  snpGetReport,
  tsmReport,
} from './devices.js';
import type { NsmAttestationInput, PlatformProbe } from './devices.js';
import { bytesArg, optionalBytesArg } from './validate.js';

/** A TEE platform twi attests. */
export type TeePlatform = 'tdx' | 'sev-snp' | 'nitro';

/** What to bind into the evidence. */
export interface EvidenceRequest {
  /** TDX / SEV-SNP: exactly 64 bytes. Nitro: used as `user_data` unless `userData` is set. */
  reportData?: Uint8Array;
  /** Nitro: `nonce` (≤ 512 bytes). */
  nonce?: Uint8Array;
  /** Nitro: `user_data` (≤ 512 bytes). */
  userData?: Uint8Array;
  /** Nitro: `public_key`, e.g. the SPKI DER of the workload key (1-1024 bytes). */
  publicKey?: Uint8Array;
}

/** An endorsement the attester supplies with its evidence (CMW indicator 2). */
export interface SuppliedEndorsement {
  readonly mediaType: string;
  readonly bytes: Uint8Array;
}

/** Evidence as the device produced it. */
export interface Evidence {
  readonly platform: TeePlatform;
  readonly mediaType: string;
  readonly evidence: Uint8Array;
  readonly endorsements: readonly SuppliedEndorsement[];
  /** The interface it came through: `configfs-tsm`, `/dev/sev-guest` or `/dev/nsm`. */
  readonly source: string;
}

/** The interface the shim attests through (one per detected platform). */
export interface TeeDevice {
  readonly platform: TeePlatform;
  getEvidence(request: EvidenceRequest): Promise<Evidence>;
}

function reportDataOf(platform: TeePlatform, r: EvidenceRequest): Uint8Array {
  if (r.reportData === undefined) {
    throw new TypeError(`${platform} evidence needs reportData (${REPORT_DATA_SIZE} bytes)`);
  }
  if (r.nonce !== undefined || r.userData !== undefined || r.publicKey !== undefined) {
    throw new TypeError(
      `${platform} evidence binds reportData only (nonce/userData/publicKey are Nitro's)`,
    );
  }
  return bytesArg('reportData', r.reportData, REPORT_DATA_SIZE, REPORT_DATA_SIZE);
}

async function tdxEvidence(r: EvidenceRequest): Promise<Evidence> {
  const report = await tsmReport(reportDataOf('tdx', r), 'tdx_guest');
  return {
    platform: 'tdx',
    mediaType: EVIDENCE_MEDIA_TYPES.tdx,
    evidence: report.outblob,
    endorsements: [],
    source: 'configfs-tsm',
  };
}

function snpResult(report: Uint8Array, certs: Uint8Array, source: string): Evidence {
  return {
    platform: 'sev-snp',
    mediaType: EVIDENCE_MEDIA_TYPES['sev-snp'],
    evidence: report,
    endorsements: certs.length > 0 ? [{ mediaType: SEV_SNP_CERTS_MEDIA_TYPE, bytes: certs }] : [],
    source,
  };
}

async function snpEvidence(r: EvidenceRequest, viaTsm: boolean): Promise<Evidence> {
  const reportData = reportDataOf('sev-snp', r);
  if (viaTsm) {
    const t = await tsmReport(reportData, 'sev_guest');
    return snpResult(t.outblob, t.auxblob, 'configfs-tsm');
  }
  const s = await snpGetReport(reportData, { extended: true });
  return snpResult(s.report, s.certs, '/dev/sev-guest');
}

function nitroInputs(r: EvidenceRequest): NsmAttestationInput {
  const userData =
    optionalBytesArg('userData', r.userData, 0, NSM_LIMITS.userData) ??
    optionalBytesArg('reportData', r.reportData, 0, NSM_LIMITS.userData);
  const nonce = optionalBytesArg('nonce', r.nonce, 0, NSM_LIMITS.nonce);
  const publicKey = optionalBytesArg('publicKey', r.publicKey, 1, NSM_LIMITS.publicKey);
  return {
    ...(userData && { userData }),
    ...(nonce && { nonce }),
    ...(publicKey && { publicKey }),
  };
}

async function nitroEvidence(r: EvidenceRequest): Promise<Evidence> {
  const document = await nsmGetAttestation(nitroInputs(r));
  return {
    platform: 'nitro',
    mediaType: EVIDENCE_MEDIA_TYPES.nitro,
    evidence: document,
    endorsements: [],
    source: '/dev/nsm',
  };
}

function usable(probe: PlatformProbe, name: string): boolean {
  return probe.interfaces.some((i) => i.name === name && i.usable);
}

/** A {@link TeeDevice} for a probed platform; SEV-SNP prefers configfs-tsm over the ioctl. */
export function teeDeviceFor(probe: PlatformProbe): TeeDevice {
  const platform = probe.platform;
  if (platform === 'tdx') return { platform, getEvidence: tdxEvidence };
  if (platform === 'sev-snp') {
    const viaTsm = usable(probe, 'configfs-tsm');
    return { platform, getEvidence: (r) => snpEvidence(r, viaTsm) };
  }
  return { platform, getEvidence: nitroEvidence };
}

/**
 * The most preferred usable platform of this machine, or the one asked for.
 *
 * @throws {DeviceError} `ERR_DEVICE_UNAVAILABLE` when there is none (or not that one).
 */
export async function openTeeDevice(platform?: TeePlatform): Promise<TeeDevice> {
  if (platform !== undefined && !(platform in EVIDENCE_MEDIA_TYPES)) {
    throw new TypeError('platform must be tdx, sev-snp or nitro');
  }
  const probes = await detectPlatforms();
  const probe = probes.find((p) => p.usable && (platform === undefined || p.platform === platform));
  if (!probe) {
    const seen = probes
      .map((p) => `${p.platform}: ${p.interfaces.map((i) => `${i.name} ${i.detail}`).join(', ')}`)
      .join('; ');
    throw new DeviceError(
      'ERR_DEVICE_UNAVAILABLE',
      `no usable ${platform ?? 'TEE'} guest interface (${seen})`,
    );
  }
  return teeDeviceFor(probe);
}

/** Evidence from this machine's TEE (or `platform`'s): {@link openTeeDevice} then `getEvidence`. */
export async function getEvidence(
  request: EvidenceRequest & { platform?: TeePlatform },
): Promise<Evidence> {
  const { platform, ...rest } = request;
  // Misuse is reported before the devices are probed when the platform is known.
  if (platform === 'tdx' || platform === 'sev-snp') reportDataOf(platform, rest);
  if (platform === 'nitro') nitroInputs(rest);
  return (await openTeeDevice(platform)).getEvidence(rest);
}
