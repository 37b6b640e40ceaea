/**
 * Revocation and certificate profile checks. Real Intel CRLs cover the parser; the
 * simulated vendor PKIs (same profiles, other keys) supply what no real vector can: a
 * revoked certificate, an expired CRL, an AMD RSASSA-PSS CRL, CAs that break the profile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basicConstraints, keyUsage } from '../../../simulators/pki/extensions.js';
import { buildCrl, issueCertificate } from '../../../simulators/pki/x509.js';
import { createAmdPki } from '../../../simulators/pki/amd.js';
import { createIntelPki } from '../../../simulators/pki/intel.js';
import { enumerated, toDer } from '../../helpers/asn1.js';
import { deriveEcKey } from '../../../simulators/pki/keys.js';
import type { DistinguishedName, Extension } from '../../../simulators/pki/x509.js';
import { parseTdxCollateral } from '../../../verifier/platforms/tdx/collateral/v3.js';
import { parseCertificateDer, parsePemChain } from '../../../common/x509/certificate.js';
import {
  checkChainAt,
  createTrustAnchors,
  verifyChain,
  verifyChainSignatures,
} from '../../../common/x509/chain.js';
import {
  checkCrlCurrent,
  isRevoked,
  parseCrlDer,
  verifyCrlSignature,
} from '../../../common/x509/crl.js';
import { haveVectors, loadManifest, readVector } from '../../helpers/vectors.js';

const skip = haveVectors ? false : 'real vectors not present';

function code(expected: string, subject?: string) {
  return (e: unknown): boolean => {
    const err = e as { code?: string; subject?: string; message?: string };
    assert.equal(err.code, expected, err.message);
    if (subject !== undefined) assert.equal(err.subject, subject);
    return true;
  };
}

const T0 = new Date('2024-01-01T00:00:00Z');
const NOW = new Date('2025-03-01T00:00:00Z');
const window = {
  thisUpdate: new Date('2025-02-15T00:00:00Z'),
  nextUpdate: new Date('2025-03-15T00:00:00Z'),
};
const intel = createIntelPki({ seed: 'twi-x509-tests', notBefore: T0 });
const pck = intel.issuePck({
  ca: 'platform',
  cpusvn: new Array(16).fill(1),
  pcesvn: 11,
  fmspc: new Uint8Array(6),
});
const anchors = createTrustAnchors([parseCertificateDer(intel.root.der)]);
const leaf = parseCertificateDer(pck.der);
const intermediates = [parseCertificateDer(intel.platformCa.der)];

test(
  'real Intel CRLs parse: issuer, window, CRL number, serials as positive integers',
  { skip },
  () => {
    for (const s of loadManifest().samples.filter((x) => x.platform === 'tdx')) {
      const c = parseTdxCollateral(readVector(s.files.collateral!));
      const pckCrl = parseCrlDer(c.pckCrl);
      const rootCrl = parseCrlDer(c.rootCaCrl);
      const w = s.pck_crl as { this: string; next: string };
      assert.equal(pckCrl.version, 2);
      assert.equal(pckCrl.issuer.cn, s.pck_ca);
      assert.equal(pckCrl.thisUpdate.getTime(), Date.parse(w.this));
      assert.equal(pckCrl.nextUpdate!.getTime(), Date.parse(w.next));
      assert.equal(rootCrl.issuer.cn, 'Intel SGX Root CA');
      assert.ok([...pckCrl.revoked.keys()].every((serial) => serial > 0n));
      const issuers = parsePemChain(c.pckCrlIssuerChain);
      assert.equal(verifyCrlSignature(pckCrl, issuers[0]!).issuerCn, s.pck_ca);
      assert.equal(verifyCrlSignature(rootCrl, issuers[1]!).issuerCn, 'Intel SGX Root CA');
      assert.throws(() => verifyCrlSignature(pckCrl, issuers[1]!), code('ERR_CRL_INVALID'));
    }
  },
);

test('a certificate listed on its issuer CRL is revoked', () => {
  const pckCrl = parseCrlDer(intel.pckCrl('platform', { ...window, revoked: [5n, pck.serial] }));
  const rootCrl = parseCrlDer(intel.rootCrl(window));
  assert.ok(isRevoked(pckCrl, pck.serial));
  assert.throws(
    () => verifyChain({ leaf, intermediates, anchors, crls: [pckCrl, rootCrl], now: NOW }),
    code('ERR_CERT_REVOKED', 'Intel SGX PCK Certificate'),
  );
  const rootRevokes = parseCrlDer(intel.rootCrl({ ...window, revoked: [intel.platformCa.serial] }));
  assert.throws(
    () => verifyChain({ leaf, intermediates, anchors, crls: [rootRevokes], now: NOW }),
    code('ERR_CERT_REVOKED', 'Intel SGX PCK Platform CA'),
  );
  const clean = parseCrlDer(intel.pckCrl('platform', { ...window, revoked: [5n] }));
  verifyChain({
    leaf,
    intermediates,
    anchors,
    crls: [clean, rootCrl],
    now: NOW,
    requireCrlFor: 'all',
  });
});

test('entries keep encoding order, repeated serials and entry extensions; revoked is by serial', () => {
  const issuerKey = deriveEcKey('twi-x509-tests', 'entries', 'P-256');
  const date = new Date('2025-01-02T03:04:05Z');
  const crl = parseCrlDer(
    buildCrl({
      issuer: [['CN', 'Entries CA']],
      issuerKey,
      ...window,
      revoked: [9n, { serial: 3n, revocationDate: date, reason: null }, { serial: 9n, reason: 4 }],
      extensions: [],
    }),
  );
  assert.deepEqual(
    crl.entries.map((e) => [e.serial, e.revocationDate, [...e.extensions.keys()]]),
    [
      [9n, window.thisUpdate, ['2.5.29.21']],
      [3n, date, []],
      [9n, window.thisUpdate, ['2.5.29.21']],
    ],
  );
  assert.deepEqual(crl.entries[2]!.extensions.get('2.5.29.21'), {
    oid: '2.5.29.21',
    critical: false,
    value: toDer(enumerated(4)),
  });
  assert.deepEqual([...crl.revoked.keys()], [9n, 3n]);
  assert.equal(crl.revoked.get(9n), crl.entries[2]);
  assert.deepEqual(parseCrlDer(intel.rootCrl(window)).entries, []);
});

test('a certificate exposes its SubjectPublicKeyInfo exactly as encoded', () => {
  assert.deepEqual(leaf.spki, pck.key.spki);
  assert.deepEqual(parseCertificateDer(intel.root.der).spki, intel.root.key.spki);
});

test('a CRL outside its window is expired; one without nextUpdate is refused', () => {
  const crl = parseCrlDer(intel.pckCrl('platform', window));
  const chain = verifyChainSignatures({ leaf, intermediates, anchors, crls: [crl] });
  checkChainAt(chain, { now: NOW });
  assert.throws(
    () => checkChainAt(chain, { now: new Date('2025-03-16T00:00:00Z') }),
    code('ERR_CRL_EXPIRED'),
  );
  assert.throws(
    () => checkChainAt(chain, { now: new Date('2025-02-14T00:00:00Z') }),
    code('ERR_CRL_EXPIRED'),
  );
  checkCrlCurrent(crl, window.nextUpdate);
  assert.throws(
    () => checkCrlCurrent({ ...crl, nextUpdate: undefined }, NOW),
    code('ERR_CRL_INVALID'),
  );
});

test('a CRL signed by another key, or tampered, is invalid', () => {
  const other = createIntelPki({ seed: 'another-intel', notBefore: T0 });
  const forged = parseCrlDer(other.pckCrl('platform', window));
  assert.throws(
    () => verifyChainSignatures({ leaf, intermediates, anchors, crls: [forged] }),
    code('ERR_CRL_INVALID'),
  );
  const der = intel.pckCrl('platform', window).slice();
  der[der.length - 2] ^= 1;
  assert.throws(
    () => verifyCrlSignature(parseCrlDer(der), intermediates[0]!),
    code('ERR_CRL_INVALID'),
  );
  assert.throws(() => parseCrlDer(der.subarray(0, 40)), code('ERR_CRL_INVALID'));
});

test('an AMD RSASSA-PSS CRL from the ARK verifies and revokes the ASK', () => {
  const amd = createAmdPki({ seed: 'twi-x509-tests', product: 'Milan', notBefore: T0 });
  const vcek = amd.issueVcek({
    hwid: new Uint8Array(64).fill(7),
    tcb: { bl: 3, tee: 0, snp: 8, ucode: 115 },
  });
  const amdAnchors = createTrustAnchors([parseCertificateDer(amd.ark.der)]);
  const chainCerts = parsePemChain(amd.caChainPem());
  const amdLeaf = parseCertificateDer(vcek.der);
  const crl = parseCrlDer(amd.crl({ ...window }));
  assert.equal(crl.signatureAlgorithm.kind, 'rsa-pss');
  const ok = verifyChain({
    leaf: amdLeaf,
    intermediates: chainCerts,
    anchors: amdAnchors,
    crls: [crl],
    now: NOW,
  });
  assert.equal(ok.crls[0]!.issuerCn, 'ARK-Milan');
  const revoking = parseCrlDer(amd.crl({ ...window, revoked: [amd.ask.serial] }));
  assert.throws(
    () =>
      verifyChain({
        leaf: amdLeaf,
        intermediates: chainCerts,
        anchors: amdAnchors,
        crls: [revoking],
        now: NOW,
      }),
    code('ERR_CERT_REVOKED', 'SEV-Milan'),
  );
});

const dn = (cn: string): DistinguishedName => [
  ['CN', cn],
  ['O', 'twi test'],
];

function ca(name: string, issuer: string, exts: Extension[], serial: bigint) {
  return issueCertificate({
    serial,
    issuer: dn(issuer),
    subject: dn(name),
    notBefore: T0,
    notAfter: new Date('2030-01-01T00:00:00Z'),
    subjectKey: deriveEcKey('profile', name, 'P-256'),
    issuerKey: deriveEcKey('profile', issuer, 'P-256'),
    extensions: exts,
  });
}

test('issuer profile: CA flag, keyCertSign, pathLen, unknown critical extensions', () => {
  const caExts = (pathLen?: number) => [
    basicConstraints(true, pathLen),
    keyUsage(['keyCertSign', 'cRLSign']),
  ];
  const root = ca('Root', 'Root', caExts(0), 1n);
  const run =
    (mid: ReturnType<typeof ca>, rootCert = root) =>
    () =>
      verifyChainSignatures({
        leaf: parseCertificateDer(ca('Leaf', 'Mid', [basicConstraints(false)], 3n).der),
        intermediates: [parseCertificateDer(mid.der)],
        anchors: createTrustAnchors([parseCertificateDer(rootCert.der)]),
      });
  run(ca('Mid', 'Root', caExts(), 2n), ca('Root', 'Root', caExts(1), 1n))();
  assert.throws(run(ca('Mid', 'Root', caExts(), 2n)), code('ERR_CERT_PROFILE', 'Root'));
  const rootNoLimit = ca('Root', 'Root', caExts(), 1n);
  assert.throws(
    run(ca('Mid', 'Root', [basicConstraints(false), keyUsage(['keyCertSign'])], 2n), rootNoLimit),
    code('ERR_CERT_PROFILE', 'Mid'),
  );
  assert.throws(
    run(
      ca('Mid', 'Root', [basicConstraints(true), keyUsage(['digitalSignature'])], 2n),
      rootNoLimit,
    ),
    code('ERR_CERT_PROFILE', 'Mid'),
  );
  const odd: Extension = { oid: '1.2.3.4', critical: true, value: Uint8Array.of(5, 0) };
  assert.throws(
    run(ca('Mid', 'Root', [...caExts(), odd], 2n), rootNoLimit),
    code('ERR_CERT_PROFILE', 'Mid'),
  );
});
