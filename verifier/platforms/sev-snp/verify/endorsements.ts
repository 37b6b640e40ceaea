/**
 * What an SEV-SNP report needs from the endorsement provider (spec digest C2): the VCEK for
 * the chip and REPORTED_TCB (or the VLEK), the KDS chain of that key kind and the AMD CRL.
 * An attester's VCEK/VLEK (`snpKeyCert`, else the certificate table's entry for the
 * report's SIGNING_KEY) is used as the key certificate, but its chain and CRL always come
 * from the provider, under the same CRL policy as a fetched VCEK; under `allow-missing` a
 * CRL the provider cannot supply is replaced by the attester's, if it sent one.
 *
 * @internal
 * @module
 */
import { EndorsementUnavailableError } from '../../../../common/errors.js';
import { toHex } from '../../../../common/bytes.js';
import { parseCertificateDer, parsePemChain } from '../../../../common/x509/certificate.js';
import type { EndorsementPlan, EndorsementWing } from '../../../verify/collect.js';
import type { AmdProduct, EndorsementRequest } from '../../../verify/endorsement-provider.js';
import type { CollateralSource, SuppliedEndorsements } from '../../../verify/types.js';
import { decodeSnpSignerInfo, type SnpSigningKey } from '../abi/bit-fields.js';
import { parseSnpCertTable } from '../abi/cert-table.js';
import type { SnpCertTableEntry } from '../abi/cert-table.js';
import { decodeSnpTcb } from '../abi/tcb.js';
import type { SnpReport } from '../abi/types.js';
import { productFromCertificate } from '../collateral/vcek-extensions.js';

const ATTESTER: Readonly<Record<string, CollateralSource>> = Object.freeze({
  vcek: 'attester',
  vlek: 'attester',
  'amd-crl': 'attester',
});

function isPem(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.subarray(0, 64)).toString('latin1').trimStart().startsWith('-----BEGIN');
}

function productOfKeyCert(bytes: Uint8Array): string {
  const cert = isPem(bytes)
    ? parsePemChain(bytes, 'snpKeyCert')[0]!
    : parseCertificateDer(bytes, 'snpKeyCert');
  return productFromCertificate(cert);
}

function snpProduct(report: SnpReport, keyCert: Uint8Array | undefined): AmdProduct {
  const p = report.product ?? (keyCert && productOfKeyCert(keyCert));
  if (p === 'Milan' || p === 'Genoa' || p === 'Turin') return p;
  throw new EndorsementUnavailableError(
    `the report does not name its product (VERSION ${report.version} without a known CPUID); ` +
      'supply the VCEK (--vcek) so the product comes from the certificate',
  );
}

interface AttesterSnp {
  /** The VCEK or VLEK: `snpKeyCert`, else the cert table's entry for SIGNING_KEY. */
  readonly keyCert: Uint8Array | undefined;
  /** The cert table's CRL, used only when the provider has none under `allow-missing`. */
  readonly crl: Uint8Array | undefined;
}

/** Cert tables parsed once per byte array: `needs` and `assemble` both read the same table. */
const certTables = new WeakMap<Uint8Array, readonly SnpCertTableEntry[]>();

function certTableOf(bytes: Uint8Array): readonly SnpCertTableEntry[] {
  let entries = certTables.get(bytes);
  if (entries === undefined) {
    entries = parseSnpCertTable(bytes);
    certTables.set(bytes, entries);
  }
  return entries;
}

function attesterSnp(supplied: SuppliedEndorsements, signingKey: SnpSigningKey): AttesterSnp {
  const entries = supplied.snpCertTable === undefined ? [] : certTableOf(supplied.snpCertTable);
  const first = (kind: string) => entries.find((e) => e.kind === kind)?.data;
  const fromTable =
    signingKey === 'vlek' ? (first('vlek') ?? first('vcek')) : (first('vcek') ?? first('vlek'));
  return { keyCert: supplied.snpKeyCert ?? fromTable, crl: supplied.snpCrl ?? first('crl') };
}

function keyKindOf(report: SnpReport): 'vcek' | 'vlek' {
  return decodeSnpSignerInfo(report.signerInfo).signingKey === 'vlek' ? 'vlek' : 'vcek';
}

function needs(report: SnpReport, supplied: SuppliedEndorsements): EndorsementPlan {
  const keyKind = keyKindOf(report);
  const attester = attesterSnp(supplied, decodeSnpSignerInfo(report.signerInfo).signingKey);
  const product = snpProduct(report, attester.keyCert);
  const tcb = decodeSnpTcb(report.reportedTcb, product);
  const hwid = toHex(report.chipId.subarray(0, product === 'Turin' ? 8 : 64));
  const keyRequest: EndorsementRequest =
    keyKind === 'vlek'
      ? { kind: 'amd-vlek', product, tcb }
      : { kind: 'amd-vcek', product, hwid, tcb };
  return {
    needs: [
      ...(attester.keyCert === undefined ? [{ kind: keyKind, request: keyRequest }] : []),
      {
        kind: keyKind === 'vlek' ? 'asvk' : 'ask',
        request: { kind: 'amd-cert-chain', product, keyKind },
      },
      { kind: 'amd-crl', request: { kind: 'amd-crl', product, keyKind }, revocation: true },
    ],
    ...(attester.keyCert !== undefined && { fixedSources: { [keyKind]: 'attester' } }),
  };
}

/** The endorsement part of the SEV-SNP wing. */
export const snpEndorsements: EndorsementWing<SnpReport> = {
  suppliedSources: ATTESTER,
  needs,
  assemble(report, supplied, answers) {
    const keyKind = keyKindOf(report);
    const attester = attesterSnp(supplied, decodeSnpSignerInfo(report.signerInfo).signingKey);
    const chain = answers.get(keyKind === 'vlek' ? 'asvk' : 'ask');
    const keyCert = attester.keyCert ?? answers.get(keyKind)?.body;
    if (chain === undefined || keyCert === undefined) throw new TypeError('no AMD key or chain');
    const fetchedCrl = answers.get('amd-crl');
    const endorsements = { snpKeyCert: keyCert, snpCaChain: chain.body };
    if (fetchedCrl) return { endorsements: { ...endorsements, snpCrl: fetchedCrl.body } };
    const product = snpProduct(report, attester.keyCert ?? keyCert);
    const crl = attester.crl;
    return {
      endorsements: { ...endorsements, ...(crl && { snpCrl: crl }) },
      notes: [
        crl
          ? `AMD ${product} CRL unavailable; the attester's CRL is checked instead (crlPolicy allow-missing)`
          : `AMD ${product} CRL unavailable; revocation not checked (crlPolicy allow-missing)`,
      ],
      ...(crl && { sources: { 'amd-crl': 'attester' } }),
    };
  },
};
