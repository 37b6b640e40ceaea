import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, constants, createHash, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AmdOids, createAmdPki } from '../../simulators/pki/amd.js';
import { SgxOids, createIntelPki } from '../../simulators/pki/intel.js';
import { createNitroPki } from '../../simulators/pki/aws.js';
import { deriveEcKey, deriveRsaKey, type SimKeyPair } from '../../simulators/pki/keys.js';
import { openSimulatedPki } from '../../simulators/pki/store.js';
import type { IssuedCert } from '../../simulators/pki/x509.js';
import { parseCertificateDer } from '../../common/x509/certificate.js';
import { parseCrlDer } from '../../common/x509/crl.js';
import {
  readBoolean,
  tagOf,
  childrenOf,
  readEnumerated,
  readInteger,
  readOctetString,
  readOid,
  readString,
  decodeDer,
  type Block,
} from '../../common/x509/decode.js';

// One seed for the whole file: RSA keys are cached per (seed, label), so the AMD chains
// built directly and through the store cost one key generation each.
const SEED = 'pki-test-seed';
const NOT_BEFORE = new Date('2026-01-01T00:00:00Z');
const LATER = new Date('2026-06-01T00:00:00Z');
const CPUSVN = [4, 4, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0];
const FMSPC = Uint8Array.from(Buffer.from('b0c06f000000', 'hex'));
const HWID = Uint8Array.from({ length: 64 }, (_, i) => (i * 7 + 3) & 0xff);

function x509(cert: { der: Uint8Array }): X509Certificate {
  return new X509Certificate(cert.der);
}

function assertIssued(child: IssuedCert, issuer: IssuedCert): void {
  assert.equal(x509(child).verify(issuer.key.publicKey), true, 'signature verifies');
  assert.equal(x509(child).checkIssued(x509(issuer)), true, 'names and key usage chain');
}

function verifySigned(signer: SimKeyPair, data: Uint8Array, signature: Uint8Array): boolean {
  const key: KeyObject = signer.publicKey;
  if (signer.kind === 'ec') {
    return verify(signer.curve === 'P-256' ? 'sha256' : 'sha384', data, key, signature);
  }
  return verify(
    'sha384',
    data,
    { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 },
    signature,
  );
}

/** SGX extension read back with the verifier's DER reader: OID suffix → DER node. */
function sgxFields(cert: Uint8Array): Map<string, Block> {
  const ext = parseCertificateDer(cert).extensions.get(SgxOids.extensions);
  assert.ok(ext, 'SGX extension present');
  assert.equal(ext.critical, false);
  const out = new Map<string, Block>();
  const walk = (seq: Block): void => {
    for (const item of childrenOf(seq, 'sgx')) {
      const [id, value] = childrenOf(item, 'sgx');
      const name = readOid(id, 'sgx.id').slice(SgxOids.extensions.length + 1);
      out.set(name, value!);
      if (name === '2' || name === '7') walk(value!);
    }
  };
  walk(decodeDer(ext.value, 'sgx'));
  return out;
}

function amdFields(cert: Uint8Array): Map<string, Uint8Array> {
  const exts = [...parseCertificateDer(cert).extensions.values()];
  assert.ok(exts.every((e) => !e.critical));
  return new Map(exts.map((e) => [e.oid, e.value]));
}

function amdInt(fields: Map<string, Uint8Array>, oid: string): number {
  return Number(readInteger(decodeDer(fields.get(oid)!, oid), oid));
}

function amdText(fields: Map<string, Uint8Array>, oid: string): string {
  return readString(decodeDer(fields.get(oid)!, oid), oid);
}

test('Intel chain verifies and the PCK carries the SGX extensions asked for', () => {
  const intel = createIntelPki({ seed: SEED, notBefore: NOT_BEFORE });
  assertIssued(intel.root, intel.root);
  assertIssued(intel.platformCa, intel.root);
  assertIssued(intel.processorCa, intel.root);
  assertIssued(intel.tcbSigning, intel.root);
  const ppid = Uint8Array.from({ length: 16 }, (_, i) => i);
  const pck = intel.issuePck({ ca: 'platform', ppid, cpusvn: CPUSVN, pcesvn: 13, fmspc: FMSPC });
  assertIssued(pck, intel.platformCa);
  assert.equal(
    x509(pck).subject,
    'CN=Intel SGX PCK Certificate\nO=Intel Corporation\nL=Santa Clara\nST=CA\nC=US',
  );

  const f = sgxFields(pck.der);
  assert.deepEqual(readOctetString(f.get('1'), 'ppid'), ppid);
  CPUSVN.forEach((svn, i) =>
    assert.equal(readInteger(f.get(`2.${i + 1}`), `2.${i + 1}`), BigInt(svn)),
  );
  assert.equal(readInteger(f.get('2.17'), 'pcesvn'), 13n);
  assert.deepEqual([...readOctetString(f.get('2.18'), 'cpusvn')], CPUSVN);
  assert.deepEqual(readOctetString(f.get('3'), 'pceid'), new Uint8Array(2));
  assert.deepEqual(readOctetString(f.get('4'), 'fmspc'), FMSPC);
  assert.equal(tagOf(f.get('5')!), 0x0a, 'sgxType is an ENUMERATED');
  assert.equal(readEnumerated(f.get('5'), 'sgxType'), 1n);
  assert.equal(readOctetString(f.get('6'), 'platformInstanceId').length, 16);
  assert.deepEqual(
    ['7.1', '7.2', '7.3'].map((k) => readBoolean(f.get(k), k)),
    [true, true, true],
  );

  const proc = intel.issuePck({ ca: 'processor', cpusvn: CPUSVN, pcesvn: 11, fmspc: FMSPC });
  assertIssued(proc, intel.processorCa);
  const pf = sgxFields(proc.der);
  assert.equal(readEnumerated(pf.get('5'), 'sgxType'), 0n);
  assert.equal(pf.has('6') || pf.has('7'), false, 'processor PCKs have no platform fields');
});

test('Intel PCK keys are per platform and TCB; bad PCK input is refused', () => {
  const intel = createIntelPki({ seed: SEED, notBefore: NOT_BEFORE });
  const base = { ca: 'platform' as const, cpusvn: CPUSVN, pcesvn: 13, fmspc: FMSPC };
  const a = intel.issuePck(base);
  assert.deepEqual(intel.issuePck(base).der, a.der);
  assert.notDeepEqual(intel.issuePck({ ...base, pcesvn: 14 }).key.spki, a.key.spki);
  assert.notDeepEqual(intel.issuePck({ ...base, label: 'host-2' }).key.spki, a.key.spki);
  assert.throws(() => intel.issuePck({ ...base, cpusvn: [1, 2] }), TypeError);
  assert.throws(() => intel.issuePck({ ...base, pcesvn: 70000 }), RangeError);
  assert.throws(() => intel.issuePck({ ...base, fmspc: new Uint8Array(5) }), TypeError);
  const processor = { ...base, ca: 'processor' as const };
  assert.throws(() => intel.issuePck({ ...processor, configuration: {} }), TypeError);
});

test('Intel CRLs and collateral signatures verify', () => {
  const intel = createIntelPki({ seed: SEED, notBefore: NOT_BEFORE });
  const revoked = [0x1234n, 2n ** 159n + 5n];
  for (const ca of ['platform', 'processor'] as const) {
    const issuer = ca === 'platform' ? intel.platformCa : intel.processorCa;
    const crl = parseCrlDer(
      intel.pckCrl(ca, { revoked, thisUpdate: NOT_BEFORE, nextUpdate: LATER }),
    );
    assert.equal(verifySigned(issuer.key, crl.tbs, crl.signature), true);
    assert.deepEqual(crl.issuer.der, parseCertificateDer(issuer.der).subject.der);
    assert.deepEqual(
      crl.entries.map((r) => r.serial),
      revoked,
    );
    assert.deepEqual(crl.nextUpdate, LATER);
  }
  const rootCrl = parseCrlDer(intel.rootCrl({ thisUpdate: NOT_BEFORE, nextUpdate: LATER }));
  assert.equal(verifySigned(intel.root.key, rootCrl.tbs, rootCrl.signature), true);
  assert.deepEqual(rootCrl.entries, []);

  const json = '{"id":"TDX","version":3,"fmspc":"B0C06F000000","note":"é"}';
  const sig = intel.signCollateral(json);
  assert.match(sig, /^[0-9a-f]{128}$/);
  const ok = verify(
    'sha256',
    Buffer.from(json, 'utf8'),
    { key: intel.tcbSigning.key.publicKey, dsaEncoding: 'ieee-p1363' },
    Buffer.from(sig, 'hex'),
  );
  assert.equal(ok, true);
  assert.equal(intel.issuerChainPem, intel.tcbSigning.pem + intel.root.pem);
});

test('AMD Milan chains ARK→ASK→VCEK and ARK→ASVK→VLEK verify (RSA-PSS)', () => {
  const amd = createAmdPki({ seed: SEED, product: 'Milan', notBefore: NOT_BEFORE });
  assertIssued(amd.ark, amd.ark);
  assertIssued(amd.ask, amd.ark);
  assertIssued(amd.asvk, amd.ark);
  const tcb = { bl: 4, tee: 0, snp: 27, ucode: 222 };
  const vcek = amd.issueVcek({ hwid: HWID, tcb });
  assertIssued(vcek, amd.ask);
  assert.equal(vcek.key.curve, 'P-384');
  const f = amdFields(vcek.der);
  assert.deepEqual(f.get(AmdOids.hwId), HWID);
  assert.equal(amdInt(f, AmdOids.structVersion), 0);
  assert.equal(amdText(f, AmdOids.productName), 'Milan-B0');
  assert.deepEqual(
    [AmdOids.blSpl, AmdOids.teeSpl, AmdOids.snpSpl, AmdOids.ucodeSpl].map((o) => amdInt(f, o)),
    [4, 0, 27, 222],
  );
  assert.equal(f.has(AmdOids.fmcSpl), false);

  const vlek = amd.issueVlek({ tcb, cspId: 'CN=cc-us-east-2.amazonaws.com' });
  assertIssued(vlek, amd.asvk);
  const v = amdFields(vlek.der);
  assert.equal(v.has(AmdOids.hwId), false);
  assert.equal(amdText(v, AmdOids.cspId), 'CN=cc-us-east-2.amazonaws.com');
  assert.equal(amdText(v, AmdOids.productName), 'Milan');
  assert.equal(amd.caChainPem(), amd.ask.pem + amd.ark.pem);
  assert.equal(amd.caChainPem(true), amd.asvk.pem + amd.ark.pem);
});

test('AMD VCEK keys follow (hwid, tcb); the ARK-signed CRL verifies', () => {
  const amd = createAmdPki({ seed: SEED, product: 'Milan', notBefore: NOT_BEFORE });
  const tcb = { bl: 4, tee: 0, snp: 27, ucode: 222 };
  const a = amd.issueVcek({ hwid: HWID, tcb });
  assert.deepEqual(amd.issueVcek({ hwid: HWID, tcb }).key.spki, a.key.spki);
  assert.notDeepEqual(amd.issueVcek({ hwid: HWID, tcb: { ...tcb, snp: 28 } }).key.spki, a.key.spki);
  assert.throws(() => amd.issueVcek({ hwid: HWID.subarray(0, 8), tcb }), TypeError);
  assert.throws(() => amd.issueVcek({ hwid: HWID, tcb: { ...tcb, fmc: 1 } }), TypeError);

  const crl = parseCrlDer(
    amd.crl({ revoked: [amd.ask.serial], thisUpdate: NOT_BEFORE, nextUpdate: LATER }),
  );
  assert.equal(verifySigned(amd.ark.key, crl.tbs, crl.signature), true);
  assert.deepEqual(
    crl.entries.map((r) => r.serial),
    [0x10001n],
  );
  assert.deepEqual(crl.issuer.der, parseCertificateDer(amd.ark.der).subject.der);
});

test('AMD Turin VCEK carries fmcSPL and an 8-byte hwID', () => {
  const amd = createAmdPki({ seed: SEED, product: 'Turin', notBefore: NOT_BEFORE });
  const vcek = amd.issueVcek({ hwid: HWID, tcb: { fmc: 2, bl: 3, tee: 1, snp: 4, ucode: 9 } });
  assertIssued(vcek, amd.ask);
  assertIssued(amd.ask, amd.ark);
  const f = amdFields(vcek.der);
  assert.deepEqual(f.get(AmdOids.hwId), HWID.subarray(0, 8));
  assert.equal(amdInt(f, AmdOids.structVersion), 1);
  assert.equal(amdInt(f, AmdOids.fmcSpl), 2);
  assert.deepEqual(
    [AmdOids.blSpl, AmdOids.teeSpl, AmdOids.snpSpl, AmdOids.ucodeSpl].map((o) => amdInt(f, o)),
    [3, 1, 4, 9],
  );
  assert.deepEqual(
    amd.issueVcek({ hwid: HWID.subarray(0, 8), tcb: { fmc: 2, bl: 3, tee: 1, snp: 4, ucode: 9 } })
      .der,
    vcek.der,
  );
});

test('Nitro chain root→regional→zonal→instance→leaf verifies', () => {
  const nitro = createNitroPki({ seed: SEED, notBefore: NOT_BEFORE });
  assert.equal(nitro.intermediates.length, 3);
  assert.deepEqual(nitro.cabundle[0], nitro.root.der);
  assertIssued(nitro.root, nitro.root);
  let issuer = nitro.root;
  for (const cert of nitro.intermediates) {
    assertIssued(cert, issuer);
    issuer = cert;
  }
  const leaf = nitro.issueLeaf({
    moduleId: `${nitro.instanceId}-enc019b55a68bd2ed4b`,
    notBefore: LATER,
  });
  assertIssued(leaf, issuer);
  const x = x509(leaf);
  assert.equal(x.ca, false);
  assert.equal(new Date(x.validTo).getTime() - new Date(x.validFrom).getTime(), 3 * 3600 * 1000);
  assert.equal(leaf.serial >> 64n, 0x019b55a68bd2ed4bn);
  assert.equal(x509(nitro.root).subject, 'C=US\nO=Amazon\nOU=AWS\nCN=aws.nitro-enclaves');
  assert.equal(leaf.key.signRaw(new Uint8Array([1])).length, 96);
});

test('output is byte-stable for a seed and dates, and differs across seeds', () => {
  const build = (seed: string): Uint8Array[] => {
    const intel = createIntelPki({ seed, notBefore: NOT_BEFORE });
    const amd = createAmdPki({ seed, product: 'Milan', notBefore: NOT_BEFORE });
    const nitro = createNitroPki({ seed, notBefore: NOT_BEFORE });
    const crl = { revoked: [7n], thisUpdate: NOT_BEFORE, nextUpdate: LATER };
    return [
      intel.root.der,
      intel.issuePck({ ca: 'platform', cpusvn: CPUSVN, pcesvn: 1, fmspc: FMSPC }).der,
      intel.pckCrl('platform', crl),
      Buffer.from(intel.signCollateral('{}')),
      amd.ark.der,
      amd.issueVcek({ hwid: HWID, tcb: { bl: 1, tee: 2, snp: 3, ucode: 4 } }).der,
      amd.crl(crl),
      ...nitro.cabundle,
      nitro.issueLeaf({ moduleId: 'i-0-enc0000000000000001', notBefore: LATER }).der,
    ];
  };
  assert.deepEqual(build(SEED), build(SEED));
  const other = createIntelPki({ seed: SEED + '!', notBefore: NOT_BEFORE });
  assert.notDeepEqual(
    other.root.der,
    createIntelPki({ seed: SEED, notBefore: NOT_BEFORE }).root.der,
  );
});

test('derivation is pinned: a store written by one version reopens under the next', () => {
  // Changing any of these hashes re-keys every simulated PKI already on disk.
  const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
  const intel = createIntelPki({ seed: SEED, notBefore: NOT_BEFORE });
  const nitro = createNitroPki({ seed: SEED, notBefore: NOT_BEFORE });
  const amd = createAmdPki({ seed: SEED, product: 'Milan', notBefore: NOT_BEFORE });
  assert.equal(
    sha256(intel.root.der),
    '9985d461f3d5442fd246006d1a3d4f36b306b21a52c95d866c4aa39a61e5bafd',
  );
  assert.equal(
    sha256(nitro.root.der),
    '31e65c47563315d66bd2d397b248adab7168a2c767fee14814056c0919821d3d',
  );
  assert.equal(
    sha256(amd.ark.der),
    '8d888384c8fd2ff3aad09d002a6866db4bec9b9acdf7ea1126e7cc036d78c4f4',
  );
});

test('keys: deterministic ECDSA and RSA-PSS that node:crypto verifies', (t) => {
  const ec = deriveEcKey(SEED, 'test/ec', 'P-256');
  const msg = new TextEncoder().encode('message');
  assert.deepEqual(ec.signRaw(msg), ec.signRaw(msg));
  assert.equal(ec.publicRaw.length, 64);
  assert.equal(
    verify('sha256', msg, { key: ec.publicKey, dsaEncoding: 'ieee-p1363' }, ec.signRaw(msg)),
    true,
  );

  const started = performance.now();
  const rsa = deriveRsaKey(SEED, 'test/rsa-timing', 4096);
  const ms = performance.now() - started;
  t.diagnostic(`RSA-4096 derivation took ${ms.toFixed(0)} ms`);
  assert.equal(deriveRsaKey(SEED, 'test/rsa-timing', 4096), rsa, 'cached');
  assert.equal(rsa.publicKey.asymmetricKeyDetails?.modulusLength, 4096);
  assert.deepEqual(rsa.signPss(msg), rsa.signPss(msg));
  assert.equal(verifySigned(rsa, msg, rsa.signPss(msg)), true);
});

test('store: creates the roots, reopens to identical bytes, guards its state', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-pki-'));
  try {
    const now = new Date('2026-03-04T00:00:00Z');
    const sim = await openSimulatedPki(dir, { seed: SEED, now });
    const names = [
      'intel-sgx-root-ca.der',
      'intel-sgx-root-ca.pem',
      ...['milan', 'genoa', 'turin'].flatMap((p) => [
        `amd-${p}-ask-ark.pem`,
        `amd-${p}-asvk-ark.pem`,
      ]),
      'aws-nitro-enclaves-root-g1.pem',
    ];
    const read = (n: string): Buffer => readFileSync(join(dir, 'roots', n));
    const first = names.map(read);
    assert.deepEqual(first[0], Buffer.from(sim.intel().root.der));
    assert.equal(first[2]!.toString(), sim.amd('Milan').caChainPem());
    const state = JSON.parse(readFileSync(join(dir, 'pki.json'), 'utf8'));
    assert.deepEqual(state, { version: 1, seed: SEED, createdAt: now.toISOString() });
    assert.deepEqual(new Date(x509(sim.intel().root).validFrom), new Date('2026-03-03T00:00:00Z'));

    unlinkSync(join(dir, 'roots', names[0]!));
    const again = await openSimulatedPki(dir);
    assert.equal(again.seed, SEED);
    assert.deepEqual(again.createdAt, now);
    assert.deepEqual(names.map(read), first);
    assert.deepEqual(again.nitro().root.der, sim.nitro().root.der);
    assert.equal(again.intel(), again.intel(), 'memoised');
    await assert.rejects(openSimulatedPki(dir, { seed: 'other' }), TypeError);

    const rootPath = join(dir, 'roots', 'intel-sgx-root-ca.der');
    writeFileSync(rootPath, Buffer.from(sim.nitro().root.der));
    await assert.rejects(openSimulatedPki(dir), { code: 'ERR_SIMULATOR_STATE' });
    writeFileSync(rootPath, first[0]!);

    writeFileSync(join(dir, 'pki.json'), '{"version":1}');
    await assert.rejects(openSimulatedPki(dir), { code: 'ERR_SIMULATOR_STATE' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('store: default creation instant is the start of the current UTC day', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-pki-'));
  try {
    const sim = await openSimulatedPki(join(dir, 'nested'), { seed: SEED });
    const today = new Date();
    assert.deepEqual(
      sim.createdAt,
      new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate())),
    );
    assert.ok(existsSync(join(dir, 'nested', 'roots', 'aws-nitro-enclaves-root-g1.pem')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
