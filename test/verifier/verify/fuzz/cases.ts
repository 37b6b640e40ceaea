/**
 * Base cases of the verify-path property test: evidence with real signatures from the
 * simulators (and the real vectors when present) plus the endorsements that make each one
 * verify, with the byte ranges a signature covers and the ranges worth aiming at.
 *
 * @module
 */
import type { SimulatedPki } from '../../../../simulators/pki/store.js';
import { simulateNitro } from '../../../../simulators/nitro.js';
import { simulateSnp } from '../../../../simulators/sev-snp.js';
import { simulateTdx } from '../../../../simulators/tdx.js';
import { parseNitroDocument } from '../../../../verifier/platforms/nitro/index.js';
import { parseTdxQuote, signedRegionLength } from '../../../../verifier/platforms/tdx/index.js';
import { parseCertificateDer } from '../../../../common/x509/certificate.js';
import { parseCrlDer } from '../../../../common/x509/crl.js';
import { haveVectors, loadManifest, readVector } from '../../../helpers/vectors.js';
import type { Sample } from '../../../helpers/vectors.js';
import { findPemCerts } from './mutate.js';
import type { FuzzItem, Range } from './mutate.js';

/** Platforms the test covers. */
export type FuzzPlatform = 'tdx' | 'sev-snp' | 'nitro';

/** One base case: it verifies unmutated at `now` with the named anchors. */
export interface FuzzCase {
  readonly name: string;
  readonly platform: FuzzPlatform;
  /** ISO instant of the appraisal. */
  readonly now: string;
  /** `vendor`: pinned roots; `simulator`: the simulated PKI's roots configured. */
  readonly anchors: 'vendor' | 'simulator';
  /** `evidence` first, then the endorsements. */
  readonly items: readonly FuzzItem[];
}

/** The instant simulated evidence is appraised at (inside the simulated PKI's windows). */
export const SIM_NOW = new Date('2025-06-01T00:00:00Z');
/** The simulated PKI's creation instant. */
export const SIM_PKI_NOW = new Date('2025-01-01T00:00:00Z');

const SNP_SIGNED_LENGTH = 0x2a0;

function locate(hay: Uint8Array, needle: Uint8Array, from = 0): Range {
  const at = Buffer.from(hay.buffer, hay.byteOffset, hay.byteLength).indexOf(needle, from);
  if (at < 0) throw new Error('fuzz case: range not found');
  return [at, at + needle.length];
}

/** TBS and SPKI ranges of a DER certificate. */
function certRanges(der: Uint8Array): { tbs: Range; spki: Range } {
  const cert = parseCertificateDer(der);
  return { tbs: locate(der, cert.tbs), spki: locate(der, cert.spki) };
}

function shift([s, e]: Range, by: number): Range {
  return [s + by, e + by];
}

/** A DER certificate item: its TBS is signed (it is the key that must be used). */
function derCertItem(key: string, der: Uint8Array, signed = true): FuzzItem {
  const { tbs, spki } = certRanges(der);
  return { key, bytes: der, signed: signed ? [tbs] : [], hot: [spki, [0, 8]], pem: [] };
}

function pemItem(key: string, bytes: Uint8Array, signedIndex = -1): FuzzItem {
  const pem = findPemCerts(bytes, certRanges, (i) => i === signedIndex);
  return { key, bytes, signed: [], hot: [], pem };
}

function crlItem(der: Uint8Array): FuzzItem {
  return {
    key: 'snpCrl',
    bytes: der,
    signed: [locate(der, parseCrlDer(der).tbs)],
    hot: [],
    pem: [],
  };
}

function snpCases(sim: SimulatedPki): FuzzCase[] {
  const text = (s: string) => new TextEncoder().encode(s);
  const crl = (vlek: boolean, product: 'Milan' | 'Genoa') =>
    sim.amd(product).crl({
      vlek,
      thisUpdate: new Date('2025-05-01T00:00:00Z'),
      nextUpdate: new Date('2025-07-01T00:00:00Z'),
    });
  const vcek = simulateSnp(sim.amd('Milan'), { seed: 'fuzz-vcek' });
  const vlek = simulateSnp(sim.amd('Genoa'), { seed: 'fuzz-vlek', signingKey: 'vlek' });
  const tableTbs = locate(vlek.certTable, parseCertificateDer(vlek.vcekDer).tbs);
  const tableSpki = locate(vlek.certTable, parseCertificateDer(vlek.vcekDer).spki);
  const evidence = (report: Uint8Array): FuzzItem => ({
    key: 'evidence',
    bytes: report,
    signed: [[0, SNP_SIGNED_LENGTH]],
    hot: [[0, 0x50]],
    pem: [],
  });
  const base = { platform: 'sev-snp' as const, now: SIM_NOW.toISOString() };
  return [
    {
      ...base,
      name: 'sim milan vcek + chain + crl',
      anchors: 'simulator',
      items: [
        evidence(vcek.report),
        derCertItem('snpKeyCert', vcek.vcekDer),
        pemItem('snpCaChain', text(vcek.caChainPem)),
        crlItem(crl(false, 'Milan')),
      ],
    },
    {
      ...base,
      name: 'sim genoa vlek in cert table + crl',
      anchors: 'simulator',
      items: [
        evidence(vlek.report),
        {
          key: 'snpCertTable',
          bytes: vlek.certTable,
          signed: [tableTbs],
          hot: [tableSpki],
          pem: [],
        },
        crlItem(crl(true, 'Genoa')),
      ],
    },
    ...realSamples('sev-snp').map((s): FuzzCase => {
      const keyCert = readVector(s.files.vcek ?? s.files.vlek!);
      return {
        ...base,
        name: `real ${s.name}`,
        now: s.verify_at,
        anchors: 'vendor',
        items: [
          evidence(readVector(s.files.report!)),
          derCertItem('snpKeyCert', keyCert),
          pemItem('snpCaChain', readVector(s.files.ca_chain!)),
        ],
      };
    }),
  ];
}

/** The quote's signed ranges: header and body, attestation key, QE report, QE auth data. */
function tdxQuoteItem(quote: Uint8Array): FuzzItem {
  const q = parseTdxQuote(quote);
  const sig = signedRegionLength(q);
  const cert = sig + 4 + 128;
  const auth = cert + 6 + 384 + 64;
  const authLength = q.signatureData.certificationData.qeAuthData.length;
  const signed: Range[] = [
    [0, sig],
    [sig + 4 + 64, sig + 4 + 128],
    [cert + 6, cert + 6 + 384],
    [auth, auth + 2 + authLength],
  ];
  const pem = findPemCerts(quote, certRanges, (i) => i === 0);
  const hot: Range[] = [
    [0, 8],
    [sig, sig + 4],
    [cert, cert + 6],
    [auth, auth + 8],
  ];
  return { key: 'evidence', bytes: quote, signed, hot, pem };
}

/** The collateral's signed JSON texts (as JSON string literals in the collateral). */
function tdxCollateralItem(bytes: Uint8Array): FuzzItem {
  const doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, string>;
  const signed = ['tcb_info', 'qe_identity'].map((k) =>
    locate(bytes, new TextEncoder().encode(JSON.stringify(doc[k]))),
  );
  const hot = signed.map(([s]): Range => [s, s + 64]);
  return { key: 'tdxCollateral', bytes, signed, hot, pem: pemItem('', bytes).pem };
}

function tdxCases(sim: SimulatedPki): FuzzCase[] {
  const json = (c: unknown) => new TextEncoder().encode(JSON.stringify(c));
  const simCase = (version: 4 | 5): FuzzCase => {
    const t = simulateTdx(sim.intel(), { seed: `fuzz-v${version}`, now: SIM_NOW, version });
    return {
      name: `sim v${version}`,
      platform: 'tdx',
      now: SIM_NOW.toISOString(),
      anchors: 'simulator',
      items: [tdxQuoteItem(t.quote), tdxCollateralItem(json(t.collateral))],
    };
  };
  return [
    simCase(4),
    simCase(5),
    ...realSamples('tdx').map((s): FuzzCase => ({
      name: `real ${s.name}`,
      platform: 'tdx',
      now: s.verify_at,
      anchors: 'vendor',
      items: [
        tdxQuoteItem(readVector(s.files.quote!)),
        tdxCollateralItem(readVector(s.files.collateral!)),
      ],
    })),
  ];
}

function nitroItem(document: Uint8Array): FuzzItem {
  const doc = parseNitroDocument(document);
  const payload = locate(document, doc.payloadBytes);
  const header = locate(document, doc.protectedHeader);
  const keys = [doc.payload.certificate, ...doc.payload.cabundle].map((der) =>
    shift(certRanges(der).spki, locate(document, der)[0]),
  );
  return { key: 'evidence', bytes: document, signed: [header, payload], hot: keys, pem: [] };
}

function nitroCases(sim: SimulatedPki): FuzzCase[] {
  const doc = simulateNitro(sim.nitro(), { now: SIM_NOW, nonce: new Uint8Array(32).fill(1) });
  return [
    {
      name: 'sim',
      platform: 'nitro',
      now: SIM_NOW.toISOString(),
      anchors: 'simulator',
      items: [nitroItem(doc.document)],
    },
    ...realSamples('nitro').map((s): FuzzCase => ({
      name: `real ${s.name}`,
      platform: 'nitro',
      now: s.verify_at,
      anchors: 'vendor',
      items: [nitroItem(readVector(s.files.cose_sign1!))],
    })),
  ];
}

/** Real samples of `platform` that verify at their `verify_at` and carry evidence. */
function realSamples(platform: FuzzPlatform): Sample[] {
  if (!haveVectors || process.env.TWI_FUZZ_REAL === '0') return [];
  return loadManifest().samples.filter(
    (s) =>
      s.platform === platform &&
      s.expected.verifies &&
      (s.files.report ?? s.files.quote ?? s.files.cose_sign1) !== undefined,
  );
}

/** Every base case of `platform`. */
export function buildCases(sim: SimulatedPki, platform: FuzzPlatform): FuzzCase[] {
  if (platform === 'sev-snp') return snpCases(sim);
  if (platform === 'tdx') return tdxCases(sim);
  return nitroCases(sim);
}
