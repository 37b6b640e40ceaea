/**
 * Simulated SEV-SNP reports: they parse with the codec, the report signature verifies with
 * the VCEK/VLEK key, the certificate chains verify to the simulated ARK, options take
 * effect, and the output is byte-stable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, verify } from 'node:crypto';
import { AmdOids, createAmdPki } from '../../simulators/pki/amd.js';
import type { AmdPki, AmdProduct } from '../../simulators/pki/amd.js';
import { simulateSnp } from '../../simulators/sev-snp.js';
import type { SnpSimResult } from '../../simulators/sev-snp.js';
import {
  decodeSnpPolicy,
  decodeSnpSignerInfo,
  decodeSnpTcb,
  describeSnpFormat,
  parseSnpCertTable,
  parseSnpReport,
  serializeSnpReport,
  snpClaims,
  snpSignatureP1363,
  snpSignedBytes,
} from '../../verifier/platforms/sev-snp/index.js';
import { bytesEqual, isZero, toHex } from '../../common/bytes.js';
import { parseCertificateDer } from '../../common/x509/certificate.js';

// One seed for the file: the PKI's RSA keys are derived once per (seed, product).
const SEED = 'sev-snp-sim-test';
const NOT_BEFORE = new Date('2025-01-01T00:00:00Z');
const pkis = new Map<AmdProduct, AmdPki>();
function pkiFor(product: AmdProduct): AmdPki {
  let pki = pkis.get(product);
  if (!pki) pkis.set(product, (pki = createAmdPki({ seed: SEED, product, notBefore: NOT_BEFORE })));
  return pki;
}

function pemCerts(pem: string): X509Certificate[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)].map(
    (m) => new X509Certificate(m[0]),
  );
}

/** Report signature and VCEK/VLEK → ASK/ASVK → ARK, all with node:crypto. */
function assertVerifies(sim: SnpSimResult, product: AmdProduct): void {
  const report = parseSnpReport(sim.report, { product });
  const leaf = new X509Certificate(sim.vcekDer);
  assert.ok(
    verify(
      'sha384',
      snpSignedBytes(report),
      { key: leaf.publicKey, dsaEncoding: 'ieee-p1363' },
      snpSignatureP1363(report),
    ),
    'report signature verifies with the key certificate',
  );
  const [signer, ark] = pemCerts(sim.caChainPem);
  assert.ok(signer && ark);
  const vlek = sim.keyKind === 'vlek';
  assert.equal(signer.subject.split('\n').at(-1), `CN=${vlek ? 'SEV-VLEK-' : 'SEV-'}${product}`);
  assert.equal(leaf.subject.split('\n').at(-1), vlek ? 'CN=SEV-VLEK' : 'CN=SEV-VCEK');
  assert.ok(leaf.verify(signer.publicKey), 'key cert ← ASK/ASVK (RSA-PSS)');
  assert.ok(signer.verify(ark.publicKey), 'ASK/ASVK ← ARK');
  assert.ok(ark.verify(ark.publicKey), 'ARK self-signed');
}

const matrix: [AmdProduct, 2 | 3 | 5][] = [
  ['Milan', 2],
  ['Milan', 3],
  ['Milan', 5],
  ['Genoa', 2],
  ['Genoa', 3],
  ['Genoa', 5],
  ['Turin', 3],
  ['Turin', 5],
];

for (const [product, version] of matrix) {
  test(`${product} v${version}: parses, round-trips, VCEK signature and chain verify`, () => {
    const sim = simulateSnp(pkiFor(product), { version, seed: `${product}-${version}` });
    assert.equal(sim.report.length, 1184);
    assert.equal(sim.keyKind, 'vcek');
    const report = parseSnpReport(sim.report);
    assert.equal(report.version, version);
    assert.equal(report.product, version >= 3 ? product : undefined);
    assert.ok(bytesEqual(serializeSnpReport(report), sim.report));
    assertVerifies(sim, product);
    assert.equal(decodeSnpSignerInfo(report.signerInfo).signingKey, 'vcek');
    assert.equal(describeSnpFormat(report).mitigationVectors === null, version < 5);
  });
}

test('the VCEK is issued for CHIP_ID and REPORTED_TCB; Turin chip ids have 8 bytes', () => {
  for (const product of ['Milan', 'Turin'] as const) {
    const sim = simulateSnp(pkiFor(product), { reportedTcb: { snp: 30, ucode: 99 } });
    const report = parseSnpReport(sim.report);
    const cert = parseCertificateDer(sim.vcekDer);
    const hwid = cert.extensions.get(AmdOids.hwId)!.value;
    const turin = product === 'Turin';
    assert.equal(isZero(report.chipId.subarray(8)), turin);
    assert.equal(toHex(hwid), toHex(report.chipId.subarray(0, turin ? 8 : 64)));
    const parts = decodeSnpTcb(report.reportedTcb, product);
    assert.equal(parts.snp, 30);
    assert.equal(parts.ucode, 99);
    assert.equal(parts.fmc !== undefined, turin);
    const claims = snpClaims(report) as { current_tcb: string; reported_tcb: string };
    assert.equal(claims.current_tcb, claims.reported_tcb);
  }
});

test('VLEK-signed reports chain VLEK → ASVK → ARK', () => {
  for (const product of ['Milan', 'Genoa', 'Turin'] as const) {
    const sim = simulateSnp(pkiFor(product), { signingKey: 'vlek', version: 3, vmpl: 1 });
    assert.equal(sim.keyKind, 'vlek');
    assertVerifies(sim, product);
    const report = parseSnpReport(sim.report);
    assert.equal(decodeSnpSignerInfo(report.signerInfo).signingKey, 'vlek');
    assert.ok(isZero(report.chipId), 'VLEK reports carry no CHIP_ID');
    assert.equal(report.vmpl, 1);
    const table = parseSnpCertTable(sim.certTable);
    assert.deepEqual(
      table.map((e) => e.kind),
      ['vlek', 'ask', 'ark'],
    );
    assert.ok(bytesEqual(table[0]!.data, sim.vcekDer));
  }
});

test('options land in the fields they name', () => {
  const reportData = new Uint8Array(64).fill(0xab);
  const authorKeyDigest = new Uint8Array(48).fill(0x11);
  const sim = simulateSnp(pkiFor('Genoa'), {
    version: 5,
    reportData,
    hostData: new Uint8Array(32).fill(2),
    idKeyDigest: new Uint8Array(48).fill(3),
    authorKeyDigest,
    familyId: new Uint8Array(16).fill(4),
    imageId: new Uint8Array(16).fill(5),
    guestSvn: 7,
    debug: true,
    maskChipKey: true,
    platformInfo: { smtEn: true, tsmeEn: true },
    launchMitVector: 0x3n,
    currentMitVector: 0x7n,
    currentTcb: { snp: 24 },
    committedTcb: { snp: 23 },
    launchTcb: { snp: 22 },
    currentVersion: { major: 1, minor: 58, build: 9 },
  });
  const report = parseSnpReport(sim.report);
  const d = describeSnpFormat(report);
  assert.ok(bytesEqual(report.reportData, reportData));
  assert.equal(toHex(report.hostData), '02'.repeat(32));
  assert.equal(d.authorKeyDigest, '11'.repeat(48));
  assert.equal(d.signerInfo.authorKeyEn, true);
  assert.equal(d.signerInfo.maskChipKey, true);
  assert.ok(isZero(report.chipId));
  assert.equal(d.familyId, '04'.repeat(16));
  assert.equal(d.imageId, '05'.repeat(16));
  assert.equal(report.guestSvn, 7);
  assert.equal(d.policy.debug, true);
  assert.equal(d.policy.smt, true);
  assert.equal(d.platformInfo.raw, '0x3');
  assert.deepEqual(d.mitigationVectors, { launch: '0x3', current: '0x7' });
  assert.deepEqual(
    [d.tcb.current.snp, d.tcb.committed.snp, d.tcb.launch.snp, d.tcb.reported.snp],
    [24, 23, 22, 23],
  );
  assert.equal(d.currentVersion, '1.58.9');
  assert.equal(d.committedVersion, '1.58.9');
  assertVerifies(sim, 'Genoa');
});

test('default POLICY is 0x30000 and the explicit forms are honoured', () => {
  const pki = pkiFor('Milan');
  const policyOf = (o: Parameters<typeof simulateSnp>[1]) =>
    parseSnpReport(simulateSnp(pki, o).report).policy;
  assert.equal(policyOf({}), 0x30000n);
  assert.equal(policyOf({ policy: 0x3001fn }), 0x3001fn);
  assert.equal(
    decodeSnpPolicy(policyOf({ policy: { abiMajor: 1, singleSocket: true } })).singleSocket,
    true,
  );
  // A raw POLICY is written unchecked, so invalid reports can be built for tests.
  assert.throws(
    () => parseSnpReport(simulateSnp(pki, { policy: 0x10000n }).report),
    (e: unknown) => (e as { field?: string }).field === 'POLICY',
  );
});

test('same seed, same bytes; another seed, another chip', () => {
  const pki = pkiFor('Milan');
  const a = simulateSnp(pki, { seed: 'one', reportData: new Uint8Array(64).fill(9) });
  const b = simulateSnp(pki, { seed: 'one', reportData: new Uint8Array(64).fill(9) });
  const c = simulateSnp(pki, { seed: 'two', reportData: new Uint8Array(64).fill(9) });
  assert.ok(bytesEqual(a.report, b.report));
  assert.ok(bytesEqual(a.vcekDer, b.vcekDer));
  assert.ok(bytesEqual(a.certTable, b.certTable));
  assert.ok(!bytesEqual(a.fields.chipId, c.fields.chipId));
  assert.ok(!bytesEqual(a.vcekDer, c.vcekDer));
});

test('misuse is a TypeError', () => {
  const pki = pkiFor('Milan');
  assert.throws(() => simulateSnp(pki, { version: 7 as 5 }), TypeError);
  assert.throws(() => simulateSnp(pki, { version: 3, launchMitVector: 1n }), TypeError);
  assert.throws(
    () => simulateSnp(pki, { version: 2, cpuid: { family: 0x19, model: 1, stepping: 1 } }),
    TypeError,
  );
  assert.throws(() => simulateSnp(pki, { reportData: new Uint8Array(63) }), TypeError);
  assert.throws(() => simulateSnp(pki, { signingKey: 'ark' as 'vcek' }), TypeError);
});
