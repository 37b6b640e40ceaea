/**
 * Claims and a JSON description of a parsed report.
 *
 * @module
 */
import { toHex } from '../../../../common/bytes.js';
import type { SnpPlatformInfo, SnpPolicy, SnpSignerInfo } from './bit-fields.js';
import {
  decodeSnpPlatformInfo,
  decodeSnpPolicy,
  decodeSnpSignerInfo,
  POLICY_RESERVED_ONE,
} from './bit-fields.js';
import { OFF, SNP_REPORT_SIZE, SNP_SIG_ALGO_ECDSA_P384_SHA384 } from './layout.js';
import { decodeSnpTcb, snpTcbHex } from './tcb.js';
import type { SnpCpuid, SnpProduct, SnpReport, SnpTcbParts } from './types.js';

const hex0x = (v: bigint): string => '0x' + v.toString(16);

/**
 * The claims of an SEV-SNP report, as {@link snpClaims} returns them (a type alias, so that
 * it is assignable to `Record<string, unknown>`).
 */
export type SnpClaims = {
  measurement: string;
  report_data: string;
  host_data: string;
  id_key_digest: string;
  /** `0x…` without padding. */
  policy: string;
  vmpl: number;
  guest_svn: number;
  /** `0x…` without padding. */
  platform_info: string;
  chip_id: string;
  report_id: string;
  /** 16 hex digits of the u64. */
  reported_tcb: string;
  reported_tcb_parts: SnpTcbParts;
  current_tcb: string;
  committed_tcb: string;
  launch_tcb: string;
};

/**
 * What the SEV-SNP verify stage records about verified evidence besides its claims
 * (JSON-safe). The members the appraisal and the launch identity read are typed; the rest
 * (decoded POLICY, PLATFORM_INFO, TCBs, key certificate, chain) is description for reports.
 */
export type SnpDetails = {
  /** The product the chain was verified for (e.g. `Milan`). */
  product: SnpProduct | undefined;
  reportVersion: number;
  keyKind: 'vcek' | 'vlek';
  vmpl: number;
  guestSvn: number;
  /** Lowercase hex. */
  authorKeyDigest: string;
  /** Lowercase hex. */
  familyId: string;
  /** Lowercase hex. */
  imageId: string;
  [key: string]: unknown;
};

/**
 * The report's appraisal claims, with the keys and encodings of the real-vector manifest's
 * `measurements`: byte fields as lowercase hex, `policy` and `platform_info` as `0x…`
 * without padding, `vmpl` and `guest_svn` as numbers, each TCB as 16 hex digits of its u64,
 * and `reported_tcb_parts` as `{bl, tee, snp, ucode}` (plus `fmc` on Turin and later).
 */
export function snpClaims(report: SnpReport): SnpClaims {
  return {
    measurement: toHex(report.measurement),
    report_data: toHex(report.reportData),
    host_data: toHex(report.hostData),
    id_key_digest: toHex(report.idKeyDigest),
    policy: hex0x(report.policy),
    vmpl: report.vmpl,
    guest_svn: report.guestSvn,
    platform_info: hex0x(report.platformInfo),
    chip_id: toHex(report.chipId),
    report_id: toHex(report.reportId),
    reported_tcb: snpTcbHex(report.reportedTcb),
    reported_tcb_parts: decodeSnpTcb(report.reportedTcb, report.product),
    current_tcb: snpTcbHex(report.currentTcb),
    committed_tcb: snpTcbHex(report.committedTcb),
    launch_tcb: snpTcbHex(report.launchTcb),
  };
}

/**
 * JSON-safe description of a report, as {@link describeSnpFormat} returns it (a type alias,
 * so that it is assignable to `Record<string, unknown>`).
 */
export type SnpFormatDescription = {
  format: 'sev-snp-attestation-report';
  version: number;
  product: string | null;
  cpuid: SnpCpuid | null;
  signatureAlgo: number;
  policy: SnpPolicy & { raw: string };
  platformInfo: Omit<SnpPlatformInfo, 'unknownBits'> & { raw: string; unknownBits: string };
  signerInfo: SnpSignerInfo & { raw: string };
  vmpl: number;
  guestSvn: number;
  familyId: string;
  imageId: string;
  authorKeyDigest: string;
  reportIdMa: string;
  tcb: Record<'current' | 'reported' | 'committed' | 'launch', SnpTcbParts & { raw: string }>;
  currentVersion: string;
  committedVersion: string;
  mitigationVectors: { launch: string; current: string } | null;
  trailing: number;
};

function tcb(v: bigint, report: SnpReport): SnpTcbParts & { raw: string } {
  return { ...decodeSnpTcb(v, report.product), raw: snpTcbHex(v) };
}

function mitigation(report: SnpReport): SnpFormatDescription['mitigationVectors'] {
  if (report.launchMitVector === undefined || report.currentMitVector === undefined) return null;
  return { launch: hex0x(report.launchMitVector), current: hex0x(report.currentMitVector) };
}

/**
 * Describes a report for humans and logs: version, product, decoded POLICY, PLATFORM_INFO,
 * signer info and TCBs, CPUID, the digests and IDs not in {@link snpClaims}, firmware
 * versions, mitigation vectors (VERSION 5) and the number of trailing bytes. Contains no
 * `bigint`, `Uint8Array` or `undefined`, so `JSON.stringify` keeps everything.
 */
export function describeSnpFormat(report: SnpReport): SnpFormatDescription {
  const pi = decodeSnpPlatformInfo(report.platformInfo);
  const ver = (v: SnpReport['currentVersion']) => `${v.major}.${v.minor}.${v.build}`;
  return {
    format: 'sev-snp-attestation-report',
    version: report.version,
    product: report.product ?? null,
    cpuid: report.cpuid ? { ...report.cpuid } : null,
    signatureAlgo: report.signatureAlgo,
    policy: { ...decodeSnpPolicy(report.policy), raw: hex0x(report.policy) },
    platformInfo: { ...pi, raw: hex0x(report.platformInfo), unknownBits: hex0x(pi.unknownBits) },
    signerInfo: {
      ...decodeSnpSignerInfo(report.signerInfo),
      raw: hex0x(BigInt(report.signerInfo)),
    },
    vmpl: report.vmpl,
    guestSvn: report.guestSvn,
    familyId: toHex(report.familyId),
    imageId: toHex(report.imageId),
    authorKeyDigest: toHex(report.authorKeyDigest),
    reportIdMa: toHex(report.reportIdMa),
    tcb: {
      current: tcb(report.currentTcb, report),
      reported: tcb(report.reportedTcb, report),
      committed: tcb(report.committedTcb, report),
      launch: tcb(report.launchTcb, report),
    },
    currentVersion: ver(report.currentVersion),
    committedVersion: ver(report.committedVersion),
    mitigationVectors: mitigation(report),
    trailing: report.trailing.length,
  };
}

/**
 * Cheap sniff: at least 1184 bytes, VERSION 2–5, SIGNATURE_ALGO 1 and POLICY bit 17 set.
 * A `true` answer does not mean the report parses.
 */
export function looksLikeSnpReport(bytes: Uint8Array): boolean {
  if (!(bytes instanceof Uint8Array) || bytes.length < SNP_REPORT_SIZE) return false;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(OFF.VERSION, true);
  return (
    version >= 2 &&
    version <= 5 &&
    dv.getUint32(OFF.SIGNATURE_ALGO, true) === SNP_SIG_ALGO_ECDSA_P384_SHA384 &&
    (dv.getBigUint64(OFF.POLICY, true) & POLICY_RESERVED_ONE) !== 0n
  );
}
