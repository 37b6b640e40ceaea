/**
 * Simulated AMD SEV-SNP attestation: an ATTESTATION_REPORT written with the twi SEV-SNP
 * codec and signed by the VCEK (or VLEK) a simulated AMD PKI issues for the chip and its
 * REPORTED_TCB, with the certificates a host would hand out (cert table, KDS chain).
 * Output is byte-stable for a given PKI, seed and options.
 *
 * @module
 */
import { encodeSnpSignerInfo } from '../verifier/platforms/sev-snp/abi/bit-fields.js';
import { encodeSnpTcb } from '../verifier/platforms/sev-snp/abi/tcb.js';
import { serializeSnpCertTable } from '../verifier/platforms/sev-snp/abi/cert-table.js';
import { serializeSnpReport } from '../verifier/platforms/sev-snp/abi/report.js';
import { SNP_SIG_ALGO_ECDSA_P384_SHA384 } from '../verifier/platforms/sev-snp/abi/layout.js';
import { snpSignatureFromRS, snpSignedBytes } from '../verifier/platforms/sev-snp/abi/signature.js';
import type { SnpReport } from '../verifier/platforms/sev-snp/abi/types.js';
import type { AmdPki } from './pki/amd.js';
import type { EcKeyPair } from './pki/keys.js';
import type { IssuedCert } from './pki/x509.js';
import {
  chipIdFor,
  cpuidOf,
  DEFAULT_CSP_ID,
  DEFAULT_SEED,
  derived,
  firmwareOf,
  mitVectorsOf,
  platformInfoOf,
  policyOf,
  tcbParts,
} from './sev-snp-options.js';
import type { SnpSimOptions } from './sev-snp-options.js';

export type { SnpSimOptions } from './sev-snp-options.js';

/** What {@link simulateSnp} produced. */
export interface SnpSimResult {
  /** The signed 1184-byte ATTESTATION_REPORT. */
  report: Uint8Array;
  /** DER of the key certificate that signed it: the VCEK, or the VLEK when `keyKind` is `'vlek'`. */
  vcekDer: Uint8Array;
  keyKind: 'vcek' | 'vlek';
  /** ASK (or ASVK for a VLEK) then ARK, PEM, as KDS `cert_chain` serves them. */
  caChainPem: string;
  /** GHCB certificate table (extended report / `auxblob`): VCEK or VLEK, ASK or ASVK, ARK. */
  certTable: Uint8Array;
  /** The fields that were written (`product` is the PKI's). */
  fields: SnpReport;
  /** The issued key certificate with its private key. */
  keyCert: IssuedCert<EcKeyPair>;
}

const VERSIONS: readonly number[] = [2, 3, 4, 5];

function bytesOr(value: Uint8Array | undefined, size: number, fill = 0): Uint8Array {
  return value ?? new Uint8Array(size).fill(fill);
}

function checkOptions(o: SnpSimOptions): number {
  const version = o.version ?? 5;
  if (!VERSIONS.includes(version)) throw new TypeError(`unsupported report version ${version}`);
  if (o.signingKey !== undefined && o.signingKey !== 'vcek' && o.signingKey !== 'vlek') {
    throw new TypeError(`signingKey must be 'vcek' or 'vlek', not ${String(o.signingKey)}`);
  }
  return version;
}

function issueKey(pki: AmdPki, o: SnpSimOptions, seed: string): IssuedCert<EcKeyPair> {
  const tcb = tcbParts(pki.product, o.reportedTcb);
  const validity = o.keyCertValidity ?? {};
  if (o.signingKey === 'vlek') {
    return pki.issueVlek({ tcb, cspId: o.cspId ?? DEFAULT_CSP_ID, ...validity });
  }
  return pki.issueVcek({ hwid: chipIdFor(pki.product, seed), tcb, ...validity });
}

function reportChipId(pki: AmdPki, o: SnpSimOptions, seed: string): Uint8Array {
  if (o.chipId) return o.chipId;
  if (o.maskChipKey || o.signingKey === 'vlek') return new Uint8Array(64);
  return chipIdFor(pki.product, seed);
}

function unsignedReport(pki: AmdPki, o: SnpSimOptions, seed: string, version: number): SnpReport {
  const { product } = pki;
  const tcb = (over?: Parameters<typeof tcbParts>[1]) =>
    encodeSnpTcb(tcbParts(product, { ...o.reportedTcb, ...over }), product);
  const mit = mitVectorsOf(o, version);
  const currentVersion = o.currentVersion ?? firmwareOf(version);
  return {
    version,
    guestSvn: o.guestSvn ?? 0,
    policy: policyOf(o),
    familyId: bytesOr(o.familyId, 16),
    imageId: bytesOr(o.imageId, 16),
    vmpl: o.vmpl ?? 0,
    signatureAlgo: SNP_SIG_ALGO_ECDSA_P384_SHA384,
    currentTcb: tcb(o.currentTcb),
    platformInfo: platformInfoOf(o, version),
    signerInfo: encodeSnpSignerInfo({
      authorKeyEn: o.authorKeyEn ?? o.authorKeyDigest !== undefined,
      maskChipKey: o.maskChipKey ?? false,
      signingKey: o.signingKey ?? 'vcek',
    }),
    reportData: bytesOr(o.reportData, 64),
    measurement: o.measurement ?? derived(seed, 'measurement', 48),
    hostData: bytesOr(o.hostData, 32),
    idKeyDigest: bytesOr(o.idKeyDigest, 48),
    authorKeyDigest: bytesOr(o.authorKeyDigest, 48),
    reportId: o.reportId ?? derived(seed, 'report-id', 32),
    reportIdMa: bytesOr(o.reportIdMa, 32, 0xff),
    reportedTcb: tcb(),
    cpuid: cpuidOf(o, product, version),
    chipId: reportChipId(pki, o, seed),
    committedTcb: tcb(o.committedTcb),
    currentVersion,
    committedVersion: o.committedVersion ?? { ...currentVersion },
    launchTcb: tcb(o.launchTcb),
    launchMitVector: mit.launch,
    currentMitVector: mit.current,
    signature: new Uint8Array(512),
    product,
    trailing: new Uint8Array(0),
  };
}

/**
 * Produces an SEV-SNP attestation report signed like real hardware: the fields are written
 * with {@link serializeSnpReport}, bytes [0, 0x2A0) are signed (ECDSA P-384, SHA-384) with
 * the key of the VCEK that `pki` issues for (CHIP_ID, REPORTED_TCB) — or of the VLEK for
 * (cspId, REPORTED_TCB) — and R and S are stored little-endian by {@link snpSignatureFromRS}.
 * Values are written as given, so invalid reports (bad POLICY, odd TCBs) can be produced.
 *
 * @throws TypeError for an unsupported version, a byte field of the wrong length, or
 *   fields that do not exist in the chosen version (cpuid before 3, mitigation vectors before 5).
 *
 * @example
 * ```ts
 * const pki = createAmdPki({ seed: 'demo', product: 'Genoa', notBefore });
 * const { report, vcekDer, caChainPem } = simulateSnp(pki, { reportData, version: 3 });
 * ```
 */
export function simulateSnp(pki: AmdPki, opts: SnpSimOptions = {}): SnpSimResult {
  const version = checkOptions(opts);
  const seed = opts.seed ?? DEFAULT_SEED;
  const keyCert = issueKey(pki, opts, seed);
  const fields = unsignedReport(pki, opts, seed, version);
  fields.signature = snpSignatureFromRS(keyCert.key.signRaw(snpSignedBytes(fields)));
  const keyKind = opts.signingKey ?? 'vcek';
  const signer = keyKind === 'vlek' ? pki.asvk : pki.ask;
  const certTable = serializeSnpCertTable([
    { kind: keyKind, data: keyCert.der },
    { kind: 'ask', data: signer.der },
    { kind: 'ark', data: pki.ark.der },
  ]);
  return {
    report: serializeSnpReport(fields),
    vcekDer: keyCert.der,
    keyKind,
    caChainPem: pki.caChainPem(keyKind === 'vlek'),
    certTable,
    fields,
    keyCert,
  };
}
