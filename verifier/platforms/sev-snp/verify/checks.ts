/**
 * Per-report comparisons between an ATTESTATION_REPORT and the VCEK/VLEK that signs it
 * (spec digest B3, C2.3, C2.4): SIGNING_KEY against the certificate kind, the product
 * named by CPUID against the certificate's, hwID against CHIP_ID, the certificate's SPLs
 * against REPORTED_TCB, and the report signature itself.
 *
 * @internal
 * @module
 */
import { verify } from 'node:crypto';
import { VerificationError } from '../../../../common/errors.js';
import { bytesEqual, toHex } from '../../../../common/bytes.js';
import { decodeSnpSignerInfo, signingKeyCode } from '../abi/bit-fields.js';
import { snpSignatureP1363, snpSignedBytes } from '../abi/signature.js';
import { decodeSnpTcb, hasFmcTcbLayout, snpProductFromCpuid } from '../abi/tcb.js';
import type { SnpProduct, SnpReport, SnpTcbParts } from '../abi/types.js';
import type { SnpKeyMaterial } from '../collateral/endorsements.js';
import type { VcekTcb } from '../collateral/vcek-extensions.js';

const KIND_NAME = { vcek: 'VCEK', vlek: 'VLEK' } as const;

function keyLabel(key: SnpKeyMaterial): string {
  return KIND_NAME[key.kind];
}

/**
 * The report's SIGNING_KEY (bits 4:2 at 0x48) must name the kind of the certificate:
 * 0 for a VCEK, 1 for a VLEK. 7 (no key) matches neither.
 *
 * @throws {VerificationError} `ERR_KEY_MISMATCH`.
 * @example
 * checkSnpSigningKey(report, loadSnpKeyCert(vlekDer, cache));
 */
export function checkSnpSigningKey(report: SnpReport, key: SnpKeyMaterial): void {
  const signing = decodeSnpSignerInfo(report.signerInfo).signingKey;
  if (signing === key.kind) return;
  const code = signingKeyCode(report.signerInfo);
  const named = signing === 'none' ? 'no key' : KIND_NAME[signing];
  throw new VerificationError(
    'ERR_KEY_MISMATCH',
    `report's SIGNING_KEY ${code} (${named}) does not match the ${keyLabel(key)} certificate`,
    'SIGNING_KEY',
  );
}

/**
 * The report's product: CPUID_FAM_ID/CPUID_MOD_ID (VERSION 3+) or the parser's product hint
 * when they exist, which must then equal the certificate's product; otherwise (VERSION 2
 * without a hint) the certificate's product.
 *
 * @throws {VerificationError} `ERR_PRODUCT_MISMATCH`.
 * @example
 * resolveSnpProduct(report, key); // 'Genoa'
 */
export function resolveSnpProduct(report: SnpReport, key: SnpKeyMaterial): SnpProduct {
  const claimed = report.product;
  if (claimed === undefined || claimed === key.product) return key.product;
  const fromCpuid = report.cpuid !== undefined && snpProductFromCpuid(report.cpuid) === claimed;
  const source = fromCpuid
    ? `CPUID_FAM_ID 0x${report.cpuid!.family.toString(16)} / CPUID_MOD_ID 0x${report.cpuid!.model.toString(16)}`
    : 'product hint';
  throw new VerificationError(
    'ERR_PRODUCT_MISMATCH',
    `report's ${source} names ${claimed}, but the ${keyLabel(key)}'s productName ` +
      `'${key.extensions.productName}' names ${key.product}`,
    fromCpuid ? 'CPUID_FAM_ID' : 'product',
  );
}

/**
 * A VCEK's hwID must equal CHIP_ID: all 64 bytes on Milan and Genoa, the first 8 on Turin
 * (whose VCEKs carry an 8-byte hwID). Nothing is compared for a VLEK (which carries no
 * hwID) or when MASK_CHIP_KEY is set (CHIP_ID is zeroed).
 *
 * @returns whether hwID was compared.
 * @throws {VerificationError} `ERR_KEY_MISMATCH`; `ERR_CERT_PROFILE` for an hwID whose
 *   length does not fit the product.
 * @example
 * const compared = checkSnpHwId(report, key, 'Milan');
 */
export function checkSnpHwId(report: SnpReport, key: SnpKeyMaterial, product: SnpProduct): boolean {
  if (key.kind === 'vlek' || decodeSnpSignerInfo(report.signerInfo).maskChipKey) return false;
  const hwId = key.extensions.hwId!;
  const fits = hwId.length === 64 || (hwId.length === 8 && hasFmcTcbLayout(product));
  if (!fits) {
    throw new VerificationError(
      'ERR_CERT_PROFILE',
      `VCEK hwID is ${hwId.length} bytes, which does not fit ${product} (64, or 8 on Turin)`,
      'hwID',
    );
  }
  const chipId = report.chipId.subarray(0, hwId.length);
  if (!bytesEqual(hwId, chipId)) {
    throw new VerificationError(
      'ERR_KEY_MISMATCH',
      `VCEK hwID ${toHex(hwId)} differs from the report's CHIP_ID ${toHex(chipId)}: ` +
        'the certificate belongs to another chip',
      'CHIP_ID',
    );
  }
  return true;
}

const TCB_FIELDS: readonly (readonly [keyof SnpTcbParts, keyof VcekTcb, string, string])[] = [
  ['fmc', 'fmcSpl', 'fmcSPL', 'FMC'],
  ['bl', 'blSpl', 'blSPL', 'BOOT_LOADER'],
  ['tee', 'teeSpl', 'teeSPL', 'TEE'],
  ['snp', 'snpSpl', 'snpSPL', 'SNP'],
  ['ucode', 'ucodeSpl', 'ucodeSPL', 'MICROCODE'],
];

/**
 * The certificate's SPLs (blSPL, teeSPL, snpSPL, ucodeSPL, and fmcSPL on Turin) must equal
 * REPORTED_TCB decoded in the product's layout (spec digest C2.4: the key is derived for
 * exactly that TCB).
 *
 * @throws {VerificationError} `ERR_TCB_MISMATCH` listing every differing part;
 *   `ERR_CERT_PROFILE` for a Turin certificate without fmcSPL.
 * @example
 * checkSnpReportedTcb(report, key, 'Milan');
 */
export function checkSnpReportedTcb(
  report: SnpReport,
  key: SnpKeyMaterial,
  product: SnpProduct,
): void {
  const reported = decodeSnpTcb(report.reportedTcb, product);
  const name = keyLabel(key);
  if (hasFmcTcbLayout(product) && key.extensions.tcb.fmcSpl === undefined) {
    throw new VerificationError(
      'ERR_CERT_PROFILE',
      `${name} for ${product} lacks fmcSPL (1.3.6.1.4.1.3704.1.3.9)`,
      'fmcSPL',
    );
  }
  const diffs: string[] = [];
  for (const [part, ext, extName, field] of TCB_FIELDS) {
    const want = reported[part];
    if (want === undefined) continue;
    const got = key.extensions.tcb[ext];
    if (got !== want)
      diffs.push(`${name} ${extName} ${got} differs from REPORTED_TCB ${field} ${want}`);
  }
  if (diffs.length > 0) {
    throw new VerificationError('ERR_TCB_MISMATCH', diffs.join('; '), 'REPORTED_TCB');
  }
}

/**
 * Verifies SIGNATURE (ECDSA P-384 with SHA-384) over bytes [0x000, 0x2A0) with the key
 * certificate's public key.
 *
 * @throws {VerificationError} `ERR_SIGNATURE_INVALID`.
 * @example
 * verifySnpReportSignature(report, loadSnpKeyCert(vcekDer, cache));
 */
export function verifySnpReportSignature(report: SnpReport, key: SnpKeyMaterial): void {
  const signature = snpSignatureP1363(report);
  let ok: boolean;
  try {
    ok = verify(
      'sha384',
      snpSignedBytes(report),
      { key: key.publicKey, dsaEncoding: 'ieee-p1363' },
      signature,
    );
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new VerificationError(
      'ERR_SIGNATURE_INVALID',
      `report SIGNATURE does not verify with the ${keyLabel(key)} key ` +
        '(ECDSA P-384, SHA-384 over bytes 0x000–0x29F)',
      'SIGNATURE',
    );
  }
}
