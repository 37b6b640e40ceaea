/**
 * Byte-exact parse and serialize of the 1184-byte ATTESTATION_REPORT, versions 2 to 5.
 *
 * @module
 */
import { EvidenceMalformedError, EvidenceUnsupportedError } from '../../../../common/errors.js';
import {
  POLICY_MBZ_MASK,
  POLICY_RESERVED_ONE,
  SIGNER_INFO_MBZ_MASK,
  signingKeyCode,
} from './bit-fields.js';
import {
  BYTE_FIELDS,
  OFF,
  reservedRanges,
  SNP_REPORT_SIZE,
  SNP_SIG_ALGO_ECDSA_P384_SHA384,
  SNP_SUPPORTED_VERSIONS,
} from './layout.js';
import { snpProductFromCpuid } from './tcb.js';
import { plainBytes } from '../../../../common/bytes.js';
import type { SnpCpuid, SnpFirmwareVersion, SnpProduct, SnpReport } from './types.js';
import { SNP_PRODUCTS } from './types.js';

/** Options of {@link parseSnpReport}. */
export interface ParseSnpReportOptions {
  /**
   * Generation to assume when the report does not say (VERSION 2, or CPUID fields naming no
   * known product), e.g. from the VCEK's productName extension. Ignored when the CPUID
   * fields name a known product. Unset: the product stays `undefined` and TCB_VERSION is
   * decoded in the Milan/Genoa layout.
   */
  product?: SnpProduct;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function hexOf(v: number | bigint): string {
  return '0x' + v.toString(16);
}

function checkVersionAndAlgo(dv: DataView): number {
  const version = dv.getUint32(OFF.VERSION, true);
  if (!SNP_SUPPORTED_VERSIONS.includes(version)) {
    throw new EvidenceUnsupportedError(
      `report's VERSION ${version} is not supported (supported: ${SNP_SUPPORTED_VERSIONS.join(', ')})`,
      { field: 'VERSION', offset: OFF.VERSION },
    );
  }
  const algo = dv.getUint32(OFF.SIGNATURE_ALGO, true);
  if (algo !== SNP_SIG_ALGO_ECDSA_P384_SHA384) {
    throw new EvidenceUnsupportedError(
      `report's SIGNATURE_ALGO ${algo} is not supported (only 1, ECDSA P-384 with SHA-384)`,
      { field: 'SIGNATURE_ALGO', offset: OFF.SIGNATURE_ALGO },
    );
  }
  return version;
}

function checkReserved(bytes: Uint8Array, version: number): void {
  for (const { field, lo, hi } of reservedRanges(version)) {
    for (let i = lo; i < hi; i++) {
      if (bytes[i] !== 0) {
        throw new EvidenceMalformedError(
          `must be zero, found 0x${bytes[i]!.toString(16).padStart(2, '0')} at 0x${i.toString(16)}`,
          { field, offset: i },
        );
      }
    }
  }
}

function checkPolicy(policy: bigint): void {
  const at = { field: 'POLICY', offset: OFF.POLICY };
  if ((policy & POLICY_RESERVED_ONE) === 0n) {
    throw new EvidenceMalformedError(`bit 17 is reserved and must be 1 (${hexOf(policy)})`, at);
  }
  if ((policy & POLICY_MBZ_MASK) !== 0n) {
    throw new EvidenceMalformedError(`bits 63:26 must be zero (${hexOf(policy)})`, at);
  }
}

function checkSignerInfo(info: number): void {
  if ((info & SIGNER_INFO_MBZ_MASK) !== 0) {
    throw new EvidenceMalformedError(`bits 31:5 must be zero (${hexOf(info)})`, {
      field: 'SIGNER_INFO',
      offset: OFF.SIGNER_INFO,
    });
  }
  const key = signingKeyCode(info);
  if (key >= 2 && key <= 6) {
    throw new EvidenceMalformedError(`SIGNING_KEY ${key} is reserved (0 VCEK, 1 VLEK, 7 none)`, {
      field: 'SIGNING_KEY',
      offset: OFF.SIGNER_INFO,
    });
  }
}

function readVersion(bytes: Uint8Array, at: number): SnpFirmwareVersion {
  return { build: bytes[at]!, minor: bytes[at + 1]!, major: bytes[at + 2]! };
}

function resolveProduct(cpuid: SnpCpuid | undefined, hint: SnpProduct | undefined) {
  return (cpuid && snpProductFromCpuid(cpuid)) ?? hint;
}

/**
 * Parses an SEV-SNP ATTESTATION_REPORT (VERSION 2, 3, 4 or 5).
 *
 * Checks every reserved range for its version, POLICY bit 17 (must be 1) and bits 63:26
 * (must be 0), the signer-info word, and that R and S are zero-extended 48-byte scalars.
 * Does not verify the signature. Bytes after the first 1184 are returned as `trailing`.
 *
 * @param bytes - the report, optionally followed by other bytes.
 * @param options - a product hint for reports that do not name their generation.
 * @returns the report's fields.
 * @throws EvidenceMalformedError when shorter than 1184 bytes or a field breaks its rules.
 * @throws EvidenceUnsupportedError for a VERSION other than 2–5 or SIGNATURE_ALGO other than 1.
 *
 * @example
 * ```ts
 * const report = parseSnpReport(bytes, { product: 'Milan' });
 * if (decodeSnpPolicy(report.policy).debug) throw new Error('debug guest');
 * ```
 */
export function parseSnpReport(input: Uint8Array, options: ParseSnpReportOptions = {}): SnpReport {
  if (!(input instanceof Uint8Array)) throw new TypeError('report must be a Uint8Array');
  const bytes = plainBytes(input);
  if (options.product !== undefined && !SNP_PRODUCTS.includes(options.product)) {
    throw new TypeError(`unknown SEV-SNP product ${String(options.product)}`);
  }
  if (bytes.length < SNP_REPORT_SIZE) {
    throw new EvidenceMalformedError(
      `truncated: ${bytes.length} bytes, an ATTESTATION_REPORT is ${SNP_REPORT_SIZE}`,
      { field: 'ATTESTATION_REPORT', offset: bytes.length },
    );
  }
  const dv = view(bytes);
  const version = checkVersionAndAlgo(dv);
  checkReserved(bytes, version);
  const policy = dv.getBigUint64(OFF.POLICY, true);
  checkPolicy(policy);
  const signerInfo = dv.getUint32(OFF.SIGNER_INFO, true);
  checkSignerInfo(signerInfo);

  const cpuid =
    version >= 3
      ? {
          family: bytes[OFF.CPUID_FAM_ID]!,
          model: bytes[OFF.CPUID_MOD_ID]!,
          stepping: bytes[OFF.CPUID_STEP]!,
        }
      : undefined;
  const u64 = (off: number) => dv.getBigUint64(off, true);
  const report = {
    version,
    guestSvn: dv.getUint32(OFF.GUEST_SVN, true),
    policy,
    vmpl: dv.getUint32(OFF.VMPL, true),
    signatureAlgo: dv.getUint32(OFF.SIGNATURE_ALGO, true),
    currentTcb: u64(OFF.CURRENT_TCB),
    platformInfo: u64(OFF.PLATFORM_INFO),
    signerInfo,
    reportedTcb: u64(OFF.REPORTED_TCB),
    cpuid,
    committedTcb: u64(OFF.COMMITTED_TCB),
    currentVersion: readVersion(bytes, OFF.CURRENT_BUILD),
    committedVersion: readVersion(bytes, OFF.COMMITTED_BUILD),
    launchTcb: u64(OFF.LAUNCH_TCB),
    launchMitVector: version >= 5 ? u64(OFF.LAUNCH_MIT_VECTOR) : undefined,
    currentMitVector: version >= 5 ? u64(OFF.CURRENT_MIT_VECTOR) : undefined,
    product: resolveProduct(cpuid, options.product),
    trailing: bytes.slice(SNP_REPORT_SIZE),
  } as SnpReport;
  for (const [, off, size, key] of BYTE_FIELDS) report[key] = bytes.slice(off, off + size);
  return report;
}

function checkVersionFields(report: SnpReport): void {
  if (report.version < 3 && report.cpuid !== undefined) {
    throw new TypeError(`cpuid needs report VERSION 3 or later, not ${report.version}`);
  }
  const hasMit = report.launchMitVector !== undefined || report.currentMitVector !== undefined;
  if (report.version < 5 && hasMit) {
    throw new TypeError(`mitigation vectors need report VERSION 5 or later, not ${report.version}`);
  }
}

function writeVersion(out: Uint8Array, at: number, v: SnpFirmwareVersion): void {
  out.set([v.build & 0xff, v.minor & 0xff, v.major & 0xff], at);
}

/**
 * Writes a report's fields in the ABI layout of its VERSION (reserved bytes zero).
 * Values are written as given, unchecked, so tests can build invalid reports;
 * `serializeSnpReport(parseSnpReport(b))` equals the first 1184 bytes of `b`.
 * Trailing bytes are not written.
 *
 * @throws TypeError when a byte field has the wrong length, or a field does not exist in
 *   the report's VERSION (cpuid before 3, mitigation vectors before 5).
 */
export function serializeSnpReport(report: SnpReport): Uint8Array {
  checkVersionFields(report);
  const out = new Uint8Array(SNP_REPORT_SIZE);
  const dv = view(out);
  const u64 = (off: number, v: bigint) => dv.setBigUint64(off, BigInt.asUintN(64, v), true);
  dv.setUint32(OFF.VERSION, report.version >>> 0, true);
  dv.setUint32(OFF.GUEST_SVN, report.guestSvn >>> 0, true);
  u64(OFF.POLICY, report.policy);
  dv.setUint32(OFF.VMPL, report.vmpl >>> 0, true);
  dv.setUint32(OFF.SIGNATURE_ALGO, report.signatureAlgo >>> 0, true);
  u64(OFF.CURRENT_TCB, report.currentTcb);
  u64(OFF.PLATFORM_INFO, report.platformInfo);
  dv.setUint32(OFF.SIGNER_INFO, report.signerInfo >>> 0, true);
  u64(OFF.REPORTED_TCB, report.reportedTcb);
  if (report.cpuid) {
    const { family, model, stepping } = report.cpuid;
    out.set([family & 0xff, model & 0xff, stepping & 0xff], OFF.CPUID_FAM_ID);
  }
  u64(OFF.COMMITTED_TCB, report.committedTcb);
  writeVersion(out, OFF.CURRENT_BUILD, report.currentVersion);
  writeVersion(out, OFF.COMMITTED_BUILD, report.committedVersion);
  u64(OFF.LAUNCH_TCB, report.launchTcb);
  if (report.launchMitVector !== undefined) u64(OFF.LAUNCH_MIT_VECTOR, report.launchMitVector);
  if (report.currentMitVector !== undefined) u64(OFF.CURRENT_MIT_VECTOR, report.currentMitVector);
  for (const [name, off, size, key] of BYTE_FIELDS) {
    const field = report[key];
    if (!(field instanceof Uint8Array) || field.length !== size) {
      throw new TypeError(`${name} must be ${size} bytes, got ${field?.length}`);
    }
    out.set(field, off);
  }
  return out;
}
