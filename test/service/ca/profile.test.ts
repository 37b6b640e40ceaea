/**
 * The workload identity certificate (service/ca/profile.ts) field by field, read back with pkijs
 * and with `openssl x509 -text` / `openssl verify` (skipped with a message when openssl is
 * absent): version 3, 16-byte positive CSPRNG serial, issuer = the CA subject, empty subject,
 * one critical URI SAN (X509-SVID §2, §3.1; RFC 5280 §4.1.2.6), keyUsage digitalSignature only
 * (critical, X509-SVID §4.3), EKU clientAuth + serverAuth (§4.4), CA:false (§4.1), AKI = the
 * CA's SKI, SKI, the twi extension (jti, EAR SHA-256), default 1 h lifetime within the CA's.
 */
import assert from 'node:assert/strict';
import { X509Certificate, type KeyObject } from 'node:crypto';
import { before, describe, test } from 'node:test';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { VerificationError } from '../../../common/errors.js';
import { keyIdentifier, toPem } from '../../../service/ca/asn1.js';
import { checkCsr } from '../../../service/ca/csr.js';
import { CaError } from '../../../service/ca/errors.js';
import { createRootCa, type IssuingCa } from '../../../service/ca/issuer.js';
import {
  earDigest,
  issueWorkloadCertificate,
  type IssuedCertificate,
} from '../../../service/ca/profile.js';
import {
  encodeTwiExtension,
  oidAsDecoded,
  readTwiExtension,
  TWI_EXTENSION_OID,
} from '../../../common/x509/twi-extension.js';
import { b64u, makeCsr, NO_OPENSSL, openssl } from './fixtures.js';
import { newKeyPair } from '../../../common/key-pair.js';

const ID = 'spiffe://prod.example/ns/payments/sa/api';
const EAR = 'eyJhbGciOiJFUzI1NiJ9.eyJlYXJfdmVyaWZpZXJfaWQiOnt9fQ.c2ln';
const JTI = 'wit-01JABCDEF';

function ext(cert: pkijs.Certificate, oid: string): pkijs.Extension {
  const found = (cert.extensions ?? []).filter(
    (e) => e.extnID === oid || e.extnID === oidAsDecoded(oid),
  );
  assert.equal(found.length, 1, `one ${oid} extension`);
  return found[0]!;
}

function inner(e: pkijs.Extension): asn1js.AsnType {
  return asn1js.fromBER(e.extnValue.valueBlock.valueHexView).result;
}

async function issue(
  ca: IssuingCa,
  key: KeyObject,
  extra: { lifetimeSeconds?: number; now?: Date } = {},
) {
  return issueWorkloadCertificate(ca, {
    publicKey: key,
    workloadId: ID,
    jti: JTI,
    earSha256: earDigest(EAR),
    ...extra,
  });
}

for (const alg of ['ES256', 'ES384'] as const) {
  describe(`workload certificate under an ${alg} root`, { timeout: 120_000 }, () => {
    let ca: IssuingCa;
    let leafKey: { publicKey: KeyObject; privateKey: KeyObject };
    let issued: IssuedCertificate;
    let cert: pkijs.Certificate;
    const now = new Date('2026-12-07T12:00:00.400Z');

    before(async () => {
      ca = await createRootCa({
        commonName: 'twi test CA',
        organization: 'twi',
        alg,
        now: new Date(now.getTime() - 60_000),
      });
      leafKey = newKeyPair('ec', { namedCurve: 'prime256v1' });
      // the key comes through a checked CSR, as it will on the wire
      const checked = checkCsr(b64u(makeCsr({ ...leafKey, sans: [`uri:${ID}`] })), {
        key: leafKey.publicKey.export({ format: 'jwk' }),
        workloadId: ID,
      });
      issued = await issue(ca, checked.publicKey, { now });
      cert = pkijs.Certificate.fromBER(issued.der);
    });

    test('version 3, a 16-byte positive serial, issuer = CA subject, empty subject', () => {
      assert.equal(cert.version, 2);
      const serial = cert.serialNumber.valueBlock.valueHexView;
      assert.equal(serial.length, 16);
      assert.ok(serial[0]! > 0 && serial[0]! < 0x80, 'positive, minimal');
      assert.equal(Buffer.from(serial).toString('hex'), issued.serial);
      assert.deepEqual(new Uint8Array(cert.issuer.toSchema().toBER(false)), ca.subject);
      assert.equal(cert.subject.typesAndValues.length, 0);
      assert.deepEqual(
        new Uint8Array(cert.subject.toSchema().toBER(false)),
        new Uint8Array([0x30, 0x00]),
      );
    });

    test('valid for one hour from the issuance second', () => {
      assert.equal(cert.notBefore.value.toISOString(), '2026-12-07T12:00:00.000Z');
      assert.equal(cert.notAfter.value.toISOString(), '2026-12-07T13:00:00.000Z');
      assert.equal(cert.notBefore.type, pkijs.TimeType.UTCTime);
      assert.deepEqual(
        [issued.notBefore, issued.notAfter],
        [cert.notBefore.value, cert.notAfter.value],
      );
    });

    test('exactly the profile extensions, with their criticality', () => {
      const got = (cert.extensions ?? []).map((e) => [e.extnID, e.critical]);
      assert.deepEqual(got, [
        ['2.5.29.19', true],
        ['2.5.29.15', true],
        ['2.5.29.37', false],
        ['2.5.29.17', true],
        ['2.5.29.35', false],
        ['2.5.29.14', false],
        [oidAsDecoded(TWI_EXTENSION_OID), false],
      ]);
    });

    test('X509-SVID: exactly one URI SAN, not a CA, keyUsage digitalSignature only', () => {
      const names = new pkijs.GeneralNames({ schema: inner(ext(cert, '2.5.29.17')) }).names;
      assert.deepEqual(
        names.map((n) => [n.type, n.value]),
        [[6, ID]],
      );
      const bc = new pkijs.BasicConstraints({ schema: inner(ext(cert, '2.5.29.19')) });
      assert.equal(bc.cA, false);
      assert.equal(bc.pathLenConstraint, undefined);
      const ku = inner(ext(cert, '2.5.29.15')) as asn1js.BitString;
      assert.deepEqual([...ku.valueBlock.valueHexView], [0x80]);
      assert.equal(ku.valueBlock.unusedBits, 7);
      const eku = new pkijs.ExtKeyUsage({ schema: inner(ext(cert, '2.5.29.37')) });
      assert.deepEqual(eku.keyPurposes, ['1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.1']);
    });

    test("AKI is the CA's SKI, SKI is the leaf key's identifier", () => {
      const aki = new pkijs.AuthorityKeyIdentifier({ schema: inner(ext(cert, '2.5.29.35')) });
      assert.deepEqual(new Uint8Array(aki.keyIdentifier!.valueBlock.valueHexView), ca.keyId);
      const caCert = pkijs.Certificate.fromBER(ca.certificate);
      const caSki = inner(ext(caCert, '2.5.29.14')) as asn1js.OctetString;
      assert.deepEqual(new Uint8Array(caSki.valueBlock.valueHexView), ca.keyId);
      const ski = inner(ext(cert, '2.5.29.14')) as asn1js.OctetString;
      assert.deepEqual(
        new Uint8Array(ski.valueBlock.valueHexView),
        keyIdentifier(cert.subjectPublicKeyInfo),
      );
    });

    test('the twi extension carries the jti and the EAR SHA-256, and reads back', () => {
      const value = ext(cert, TWI_EXTENSION_OID).extnValue.valueBlock.valueHexView;
      assert.deepEqual(
        new Uint8Array(value),
        encodeTwiExtension({ jti: JTI, earSha256: earDigest(EAR) }),
      );
      const read = readTwiExtension(issued.der);
      assert.equal(read.jti, JTI);
      assert.deepEqual(read.earSha256, earDigest(EAR));
    });

    test('the signature and chain check with node:crypto; the key is the CSR key', () => {
      const leaf = new X509Certificate(issued.der);
      const root = new X509Certificate(ca.certificate);
      assert.ok(leaf.checkIssued(root));
      assert.ok(leaf.verify(root.publicKey));
      assert.ok(leaf.publicKey.equals(leafKey.publicKey));
      assert.equal(leaf.ca, false);
      assert.deepEqual(issued.chain, [issued.der, ca.certificate]);
      assert.equal(issued.pem, toPem('CERTIFICATE', issued.der));
      assert.equal(issued.chainPem, issued.pem + toPem('CERTIFICATE', ca.certificate));
      assert.equal(
        cert.signatureAlgorithm.algorithmId,
        alg === 'ES256' ? '1.2.840.10045.4.3.2' : '1.2.840.10045.4.3.3',
      );
    });

    test('openssl x509 -text shows exactly the profile', { skip: NO_OPENSSL }, () => {
      const text = openssl(['x509', '-in', 'leaf.pem', '-text', '-noout'], {
        'leaf.pem': issued.pem,
      });
      assert.match(text, /Version: 3 \(0x2\)/);
      assert.match(text, /Issuer: O = twi, CN = twi test CA/);
      assert.match(text, /Subject: *\n/);
      assert.match(text, /Not Before: Dec {2}7 12:00:00 2026 GMT/);
      assert.match(text, /Not After : Dec {2}7 13:00:00 2026 GMT/);
      assert.match(text, new RegExp(`Signature Algorithm: ecdsa-with-SHA${alg.slice(2)}`));
      assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/);
      assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature\n/);
      assert.match(
        text,
        /X509v3 Extended Key Usage: \n\s+TLS Web Client Authentication, TLS Web Server Authentication\n/,
      );
      assert.match(
        text,
        new RegExp(`X509v3 Subject Alternative Name: critical\\n\\s+URI:${ID}\\n`),
      );
      assert.match(text, /X509v3 Authority Key Identifier: \n\s+([0-9A-F]{2}:){19}[0-9A-F]{2}\n/);
      assert.match(text, /X509v3 Subject Key Identifier: \n\s+([0-9A-F]{2}:){19}[0-9A-F]{2}\n/);
      assert.ok(text.includes(`${TWI_EXTENSION_OID}: \n`), 'the twi OID, not critical');
      const named = (text.match(/X509v3 [A-Za-z ]+:/g) ?? []).filter(
        (m) => m !== 'X509v3 extensions:',
      );
      assert.equal(named.length, 6);
      assert.equal((text.match(/URI:/g) ?? []).length, 1);
      const asn1 = openssl(['asn1parse', '-in', 'leaf.pem'], { 'leaf.pem': issued.pem });
      assert.ok(asn1.includes(`OBJECT            :${TWI_EXTENSION_OID}`));
    });

    test(
      'openssl verify accepts it against the CA, for TLS client and server',
      { skip: NO_OPENSSL },
      () => {
        const files = { 'ca.pem': toPem('CERTIFICATE', ca.certificate), 'leaf.pem': issued.pem };
        const at = String(Math.floor(now.getTime() / 1000) + 60);
        for (const purpose of ['sslclient', 'sslserver']) {
          const out = openssl(
            ['verify', '-attime', at, '-purpose', purpose, '-CAfile', 'ca.pem', 'leaf.pem'],
            files,
          );
          assert.equal(out.trim(), 'leaf.pem: OK');
        }
        const ca2 = openssl(['x509', '-in', 'ca.pem', '-text', '-noout'], files);
        assert.match(ca2, /X509v3 Basic Constraints: critical\n\s+CA:TRUE, pathlen:0\n/);
        assert.match(ca2, /X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign\n/);
      },
    );
  });
}

describe('issuance options and refusals', { timeout: 120_000 }, () => {
  let ca: IssuingCa;
  before(async () => {
    ca = await createRootCa({ commonName: 'short CA', validitySeconds: 7200 });
  });

  test('Ed25519 and P-384 workload keys; a configurable lifetime; fresh serials', async () => {
    const serials = new Set<string>();
    for (const pair of [newKeyPair('ed25519'), newKeyPair('ec', { namedCurve: 'secp384r1' })]) {
      const issued = await issue(ca, pair.publicKey, { lifetimeSeconds: 600 });
      assert.equal(issued.notAfter.getTime() - issued.notBefore.getTime(), 600_000);
      assert.ok(new X509Certificate(issued.der).publicKey.equals(pair.publicKey));
      serials.add(issued.serial);
    }
    const key = newKeyPair('ed25519').publicKey;
    for (let i = 0; i < 30; i++) serials.add((await issue(ca, key)).serial);
    assert.equal(serials.size, 32);
  });

  test("never past the CA's notAfter; nothing from an expired CA", async () => {
    const key = newKeyPair('ed25519').publicKey;
    const late = new Date(ca.notAfter.getTime() - 1800_000);
    const issued = await issue(ca, key, { now: late });
    assert.equal(issued.notAfter.getTime(), ca.notAfter.getTime());
    await assert.rejects(issue(ca, key, { now: ca.notAfter }), (err: unknown) => {
      return err instanceof CaError && err.code === 'ERR_CA_EXPIRED';
    });
  });

  test('bad requests are caller misuse (TypeError)', async () => {
    const key = newKeyPair('ed25519').publicKey;
    const base = { publicKey: key, workloadId: ID, jti: JTI, earSha256: earDigest(EAR) };
    for (const bad of [
      { workloadId: 'https://prod.example/x' },
      { workloadId: 'spiffe://prod.example' },
      { jti: '' },
      { earSha256: new Uint8Array(31) },
      { lifetimeSeconds: 0 },
      { lifetimeSeconds: 86_401 },
      { publicKey: newKeyPair('ed25519').privateKey },
    ]) {
      await assert.rejects(
        issueWorkloadCertificate(ca, { ...base, ...bad }),
        TypeError,
        JSON.stringify(Object.keys(bad)),
      );
    }
  });

  test('readTwiExtension refuses a certificate without it, and garbage, with ERR_CERT_PROFILE', () => {
    for (const der of [ca.certificate, new Uint8Array([1, 2, 3])]) {
      assert.throws(
        () => readTwiExtension(der),
        (err: unknown) => err instanceof VerificationError && err.code === 'ERR_CERT_PROFILE',
      );
    }
  });
});
