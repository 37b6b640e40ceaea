/**
 * The TDX simulator: its quotes parse with the codec, every signature checks with node:crypto
 * through the simulated Intel chain, the collateral has the shape of the real files, and the
 * output is deterministic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createIntelPki } from '../../simulators/pki/intel.js';
import { simulateTdx } from '../../simulators/tdx.js';
import type { TdxSimOptions } from '../../simulators/tdx.js';
import {
  TDX_COLLATERAL_KEYS,
  parseTdxQuote,
  quoteSignedBytes,
  serializeSgxReportBody,
  tdxClaims,
} from '../../verifier/platforms/tdx/index.js';
import type { TdxCollateralV3, TdxQuote } from '../../verifier/platforms/tdx/index.js';
import { bytesEqual, fromHex, isZero, toHex } from '../../common/bytes.js';
import { parseCertificateDer } from '../../common/x509/certificate.js';
import { parseCrlDer, type Crl } from '../../common/x509/crl.js';
import { haveVectors, loadManifest, readVector } from '../helpers/vectors.js';

const pki = createIntelPki({ seed: 'twi-test-intel', notBefore: new Date('2024-01-01T00:00:00Z') });
const now = new Date('2026-03-01T12:00:00Z');
const base: TdxSimOptions = { seed: 'td-one', now };

const ecdsa = (key: KeyObject | X509Certificate['publicKey']) => ({
  key,
  dsaEncoding: 'ieee-p1363' as const,
});

function p256FromRaw(raw: Uint8Array): KeyObject {
  const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
  return createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: b64(raw.subarray(0, 32)), y: b64(raw.subarray(32)) },
    format: 'jwk',
  });
}

function pemCerts(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

function checkQuoteSignatures(q: TdxQuote): void {
  const sig = q.signatureData;
  const cert = sig.certificationData;
  const attKey = p256FromRaw(sig.attestationKey);
  assert.ok(verify('sha256', quoteSignedBytes(q), ecdsa(attKey), sig.signature), 'quote signature');
  const hash = createHash('sha256').update(sig.attestationKey).update(cert.qeAuthData).digest();
  assert.ok(bytesEqual(cert.qeReport.reportData.subarray(0, 32), hash), 'QE REPORTDATA hash');
  assert.ok(isZero(cert.qeReport.reportData.subarray(32)));
  const chain = cert.pckCertChain.certificates.map((d) => new X509Certificate(d));
  assert.equal(chain.length, 3);
  const report = serializeSgxReportBody(cert.qeReport);
  assert.ok(
    verify('sha256', report, ecdsa(chain[0]!.publicKey), cert.qeReportSignature),
    'QE report',
  );
  assert.ok(chain[0]!.verify(chain[1]!.publicKey), 'PCK leaf signed by the PCK CA');
  assert.ok(chain[1]!.verify(chain[2]!.publicKey), 'PCK CA signed by the root');
  assert.ok(
    bytesEqual(new Uint8Array(chain[2]!.raw), pki.root.der),
    'chain ends at the simulated root',
  );
  assert.ok(chain[2]!.verify(chain[2]!.publicKey), 'root is self-signed');
}

function checkCrl(hexDer: string, issuer: { der: Uint8Array }): Crl {
  const crl = parseCrlDer(fromHex(hexDer));
  const issuerCert = new X509Certificate(issuer.der);
  assert.ok(verify('sha256', crl.tbs, issuerCert.publicKey, crl.signature), 'CRL signature');
  assert.ok(
    bytesEqual(crl.issuer.der, parseCertificateDer(issuer.der).subject.der),
    'CRL issuer name',
  );
  return crl;
}

function checkCollateral(c: TdxCollateralV3, pckCa: { der: Uint8Array }): void {
  assert.deepEqual(Object.keys(c), [...TDX_COLLATERAL_KEYS]);
  const [signing, root] = pemCerts(c.tcb_info_issuer_chain);
  assert.ok(signing!.verify(root!.publicKey), 'TCB signing cert chains to the root');
  assert.ok(bytesEqual(new Uint8Array(root!.raw), pki.root.der));
  assert.equal(c.qe_identity_issuer_chain, c.tcb_info_issuer_chain);
  for (const [text, sig] of [
    [c.tcb_info, c.tcb_info_signature],
    [c.qe_identity, c.qe_identity_signature],
  ] as const) {
    assert.equal(sig.length, 128);
    assert.ok(verify('sha256', Buffer.from(text, 'utf8'), ecdsa(signing!.publicKey), fromHex(sig)));
  }
  const [crlIssuer, crlRoot] = pemCerts(c.pck_crl_issuer_chain);
  assert.ok(bytesEqual(new Uint8Array(crlIssuer!.raw), pckCa.der));
  assert.ok(crlIssuer!.verify(crlRoot!.publicKey));
  checkCrl(c.pck_crl, pckCa);
  checkCrl(c.root_ca_crl, pki.root);
}

const variants: { name: string; opts: Partial<TdxSimOptions>; version: number; type: number }[] = [
  { name: 'v4', opts: { version: 4 }, version: 4, type: 2 },
  { name: 'v5 TD 1.0', opts: { version: 5, bodyType: 2 }, version: 5, type: 2 },
  { name: 'v5 TD 1.5', opts: { version: 5 }, version: 5, type: 3 },
];

for (const v of variants) {
  test(`${v.name}: parses, and every signature checks through the chain`, () => {
    const { quote, collateral } = simulateTdx(pki, { ...base, ...v.opts });
    const q = parseTdxQuote(quote);
    assert.equal(q.header.version, v.version);
    assert.equal(q.bodyType, v.type);
    assert.equal(q.trailing.length, 0);
    checkQuoteSignatures(q);
    checkCollateral(collateral, pki.platformCa);
    const claims = tdxClaims(q);
    assert.equal('tee_tcb_svn2' in claims, v.type === 3);
  });
}

test('the Processor CA path and a revoked PCK', () => {
  const { quote, collateral } = simulateTdx(pki, { ...base, pckCa: 'processor', pckRevoked: true });
  const q = parseTdxQuote(quote);
  checkQuoteSignatures(q);
  checkCollateral(collateral, pki.processorCa);
  const leaf = parseCertificateDer(q.signatureData.certificationData.pckCertChain.certificates[0]!);
  const crl = parseCrlDer(fromHex(collateral.pck_crl));
  assert.deepEqual(
    crl.entries.map((r) => r.serial),
    [leaf.serial],
  );
  assert.equal(parseCrlDer(fromHex(simulateTdx(pki, base).collateral.pck_crl)).entries.length, 0);
});

test('options reach the quote body and the QE report', () => {
  const mrTd = new Uint8Array(48).fill(0xaa);
  const reportData = new Uint8Array(64).fill(7);
  const teeTcbSvn2 = Uint8Array.of(9, 1, 3, ...new Array<number>(13).fill(0));
  const opts: TdxSimOptions = {
    ...base,
    version: 5,
    mrTd,
    reportData,
    debug: true,
    teeTcbSvn2,
    mrServiceTd: new Uint8Array(48).fill(1),
    mrOwnerConfig: new Uint8Array(48).fill(2),
    qeIsvSvn: 9,
  };
  const q = parseTdxQuote(simulateTdx(pki, opts).quote);
  const claims = tdxClaims(q);
  assert.equal(claims.mrtd, toHex(mrTd));
  assert.equal(claims.report_data, toHex(reportData));
  assert.equal(claims.td_attributes, '0100001000000000');
  assert.deepEqual(claims.td_attribute_flags, {
    debug: true,
    sept_ve_disable: true,
    pks: false,
    kl: false,
    perfmon: false,
  });
  assert.equal(claims.tee_tcb_svn2, toHex(teeTcbSvn2));
  assert.equal(claims.mrservicetd, '01'.repeat(48));
  assert.equal(toHex(q.body.mrOwnerConfig), '02'.repeat(48));
  assert.equal(q.signatureData.certificationData.qeReport.isvSvn, 9);
});

test('same seed and now give the same bytes; another seed or instant does not', () => {
  const a = simulateTdx(pki, { ...base, version: 5 });
  const b = simulateTdx(pki, { ...base, version: 5 });
  assert.ok(bytesEqual(a.quote, b.quote));
  assert.deepEqual(a.collateral, b.collateral);
  const other = simulateTdx(pki, { ...base, version: 5, seed: 'td-two' });
  assert.ok(!bytesEqual(a.quote, other.quote));
  const q1 = parseTdxQuote(a.quote);
  const q2 = parseTdxQuote(other.quote);
  assert.ok(!bytesEqual(q1.signatureData.attestationKey, q2.signatureData.attestationKey));
  const leaf = (q: TdxQuote) => q.signatureData.certificationData.pckCertChain.certificates[0]!;
  assert.ok(!bytesEqual(leaf(q1), leaf(q2)), 'PCK key depends on the seed');
  const later = simulateTdx(pki, { ...base, version: 5, now: new Date('2026-04-01T00:00:00Z') });
  assert.notEqual(later.collateral.tcb_info, a.collateral.tcb_info);
});

/** Key structure of a JSON value: object keys in order, recursively (arrays by first item). */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  }
  return typeof v;
}

test(
  'TCB Info and QE identity have the layout of the real collateral',
  { skip: !haveVectors },
  () => {
    const real = loadManifest().samples.find((s) => s.name === 'tdx-v4-dcapqvl-b0c06f-uptodate');
    assert.ok(real?.files.collateral);
    const realColl = JSON.parse(
      Buffer.from(readVector(real.files.collateral)).toString('utf8'),
    ) as TdxCollateralV3;
    const sim = simulateTdx(pki, base).collateral;
    const simTcb = JSON.parse(sim.tcb_info) as Record<string, unknown>;
    const realTcb = JSON.parse(realColl.tcb_info) as Record<string, unknown>;
    assert.deepEqual(Object.keys(simTcb), Object.keys(realTcb));
    assert.deepEqual(shape(simTcb), shape(realTcb));
    const realQe = JSON.parse(realColl.qe_identity) as Record<string, unknown>;
    assert.deepEqual(shape(JSON.parse(sim.qe_identity)), shape(realQe));
    assert.equal(sim.tcb_info, JSON.stringify(simTcb), 'compact JSON like Intel PCS');
  },
);

interface TcbJson {
  issueDate: string;
  nextUpdate: string;
  fmspc: string;
  tdxModuleIdentities: {
    id: string;
    tcbLevels: { tcb: { isvsvn: number }; tcbStatus: string }[];
  }[];
  tcbLevels: {
    tcb: {
      sgxtcbcomponents: { svn: number }[];
      pcesvn: number;
      tdxtcbcomponents: { svn: number }[];
    };
    tcbStatus: string;
    advisoryIDs?: string[];
  }[];
}

/** First level the platform meets (Intel QVL order; module bytes skipped when TEE_TCB_SVN[1] > 0). */
function matchLevel(tcb: TcbJson, sgx: number[], pceSvn: number, teeTcbSvn: Uint8Array) {
  const start = teeTcbSvn[1]! > 0 ? 2 : 0;
  return tcb.tcbLevels.find(
    (l) =>
      l.tcb.sgxtcbcomponents.every((c, i) => sgx[i]! >= c.svn) &&
      pceSvn >= l.tcb.pcesvn &&
      l.tcb.tdxtcbcomponents.every((c, i) => i < start || teeTcbSvn[i]! >= c.svn),
  );
}

test('TCB levels: default UpToDate match, OutOfDate/Revoked with advisories, no match', () => {
  const sgx = [3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0];
  const svn = Uint8Array.of(6, 1, 3, ...new Array<number>(13).fill(0));
  const tcbOf = (o: Partial<TdxSimOptions>): TcbJson =>
    JSON.parse(simulateTdx(pki, { ...base, ...o }).collateral.tcb_info) as TcbJson;
  const def = tcbOf({});
  assert.equal(matchLevel(def, sgx, 11, svn)?.tcbStatus, 'UpToDate');
  assert.equal(def.tcbLevels.length, 1);
  assert.equal(def.tdxModuleIdentities[0]!.id, 'TDX_01');
  assert.equal(def.tdxModuleIdentities[0]!.tcbLevels[0]!.tcb.isvsvn, 6);
  assert.equal(def.fmspc, '50806F000000');
  assert.equal(def.issueDate, '2026-02-28T12:00:00Z');
  assert.equal(def.nextUpdate, '2026-03-30T12:00:00Z');
  for (const status of ['OutOfDate', 'Revoked'] as const) {
    const ids = ['INTEL-SA-00001', 'INTEL-SA-00002'];
    const t = tcbOf({ platformTcb: { status, advisoryIds: ids } });
    const m = matchLevel(t, sgx, 11, svn);
    assert.equal(m?.tcbStatus, status);
    assert.deepEqual(m?.advisoryIDs, ids);
    assert.equal(t.tcbLevels[0]!.tcbStatus, 'UpToDate');
  }
  assert.equal(matchLevel(tcbOf({ platformTcb: { match: false } }), sgx, 11, svn), undefined);
  const moduleOld = tcbOf({
    tdxModuleStatus: 'OutOfDate',
    teeTcbSvn: Uint8Array.of(2, 3, ...new Array<number>(14).fill(0)),
  });
  assert.equal(moduleOld.tdxModuleIdentities[0]!.id, 'TDX_03');
  const lvl = moduleOld.tdxModuleIdentities[0]!.tcbLevels.find((l) => 2 >= l.tcb.isvsvn);
  assert.equal(lvl?.tcbStatus, 'OutOfDate');
});

test('QE identity matches the simulated QE report', () => {
  const { quote, collateral } = simulateTdx(pki, base);
  const qe = parseTdxQuote(quote).signatureData.certificationData.qeReport;
  const id = JSON.parse(collateral.qe_identity) as Record<string, unknown> & {
    tcbLevels: { tcb: { isvsvn: number }; tcbStatus: string }[];
  };
  assert.equal(id.id, 'TD_QE');
  assert.equal(id.version, 2);
  assert.equal(String(id.mrsigner).toLowerCase(), toHex(qe.mrSigner));
  assert.equal(id.isvprodid, qe.isvProdId);
  const attrs = fromHex(String(id.attributes));
  const mask = fromHex(String(id.attributesMask));
  assert.ok(qe.attributes.every((b, i) => (b & mask[i]!) === attrs[i]));
  assert.equal(
    qe.miscSelect & Number.parseInt(String(id.miscselectMask), 16),
    Number.parseInt(String(id.miscselect), 16),
  );
  assert.equal(id.tcbLevels.find((l) => qe.isvSvn >= l.tcb.isvsvn)?.tcbStatus, 'UpToDate');
});

test('v4 with body type 3 is caller misuse', () => {
  assert.throws(() => simulateTdx(pki, { ...base, version: 4, bodyType: 3 }), TypeError);
  assert.throws(() => simulateTdx(pki, { ...base, mrTd: new Uint8Array(47) }), TypeError);
});
