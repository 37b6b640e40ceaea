/**
 * CSR checks of the CA (service/ca/csr.ts): real PKCS#10 requests (pkijs-built and
 * node:crypto-signed, and from `openssl req` when installed) are accepted for EC P-256, P-384 and
 * Ed25519 keys bound into the evidence, and every refusal carries its code: wrong key, bad
 * signature, CA request, extra or other SANs, unsupported algorithm (RSA, P-521), oversize,
 * garbage, truncation and trailing bytes.
 */
import assert from 'node:assert/strict';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { describe, test } from 'node:test';
import { checkCsr, MAX_CSR_BYTES, MAX_CSR_CHARS } from '../../../service/ca/csr.js';
import { CsrError, type CsrCode } from '../../../service/ca/errors.js';
import { b64u, makeCsr, NO_OPENSSL, openssl, opensslFiles } from './fixtures.js';
import { newKeyPair } from '../../../common/key-pair.js';

const ID = 'spiffe://prod.example/ns/payments/sa/api';

interface Pair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

const p256 = (): Pair => newKeyPair('ec', { namedCurve: 'prime256v1' });
const p384 = (): Pair => newKeyPair('ec', { namedCurve: 'secp384r1' });
const ed25519 = (): Pair => newKeyPair('ed25519');

function expect(pair: Pair, workloadId = ID) {
  return { key: pair.publicKey.export({ format: 'jwk' }), workloadId };
}

function refused(code: CsrCode, run: () => unknown): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof CsrError, `a CsrError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

describe('CSRs the CA accepts', { timeout: 120_000 }, () => {
  for (const [name, make, alg] of [
    ['EC P-256', p256, 'ES256'],
    ['EC P-384', p384, 'ES384'],
    ['Ed25519', ed25519, 'EdDSA'],
  ] as const) {
    test(`${name}, no SAN, and with exactly the assigned URI SAN`, () => {
      const pair = make();
      for (const sans of [[], [`uri:${ID}`]]) {
        const der = makeCsr({ ...pair, sans });
        const checked = checkCsr(b64u(der), expect(pair));
        assert.equal(checked.keyAlg, alg);
        assert.ok(checked.publicKey.equals(pair.publicKey));
        assert.deepEqual(checked.der, der);
        // DER bytes are accepted too
        assert.equal(checkCsr(der, expect(pair)).keyAlg, alg);
      }
    });
  }

  test('ECDSA over SHA-384 and SHA-512 on P-256 (openssl picks hashes freely)', () => {
    const pair = p256();
    for (const hash of ['sha384', 'sha512'] as const) {
      assert.equal(checkCsr(b64u(makeCsr({ ...pair, hash })), expect(pair)).keyAlg, 'ES256');
    }
  });

  test('requests made by openssl req', { skip: NO_OPENSSL }, () => {
    for (const [genArgs, alg] of [
      [['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'ES256'],
      [['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'], 'ES384'],
      [['-algorithm', 'ED25519'], 'EdDSA'],
    ] as const) {
      const { 'key.pem': keyPem } = opensslFiles(['genpkey', ...genArgs, '-out', 'key.pem'], {}, [
        'key.pem',
      ]);
      const withSan = ['-addext', `subjectAltName=URI:${ID}`];
      for (const extra of [[], withSan]) {
        const { 'csr.der': der } = opensslFiles(
          [
            'req',
            '-new',
            '-key',
            'key.pem',
            '-subj',
            '/CN=workload',
            '-outform',
            'DER',
            '-out',
            'csr.der',
            ...extra,
          ],
          { 'key.pem': keyPem! },
          ['csr.der'],
        );
        const pub = openssl(['pkey', '-in', 'key.pem', '-pubout'], { 'key.pem': keyPem! });
        const jwk = createPublicKey(pub).export({ format: 'jwk' });
        assert.equal(
          checkCsr(b64u(new Uint8Array(der!)), { key: jwk, workloadId: ID }).keyAlg,
          alg,
        );
      }
    }
  });
});

describe('CSRs the CA refuses, each with its code', { timeout: 120_000 }, () => {
  const pair = p256();
  const good = makeCsr(pair);

  test('ERR_CSR_KEY_MISMATCH: a valid request for another key', () => {
    refused('ERR_CSR_KEY_MISMATCH', () => checkCsr(b64u(makeCsr(p256())), expect(pair)));
    refused('ERR_CSR_KEY_MISMATCH', () => checkCsr(b64u(makeCsr(ed25519())), expect(pair)));
  });

  test('ERR_CSR_SIGNATURE: a signature by another key, a flipped signature or body byte', () => {
    const other = p256();
    const stolen = makeCsr({ privateKey: other.privateKey, publicKey: pair.publicKey });
    refused('ERR_CSR_SIGNATURE', () => checkCsr(b64u(stolen), expect(pair)));
    const ed = ed25519();
    const edBad = makeCsr(ed);
    edBad[edBad.length - 1]! ^= 0x01;
    refused('ERR_CSR_SIGNATURE', () => checkCsr(b64u(edBad), expect(ed)));
    // the subject CN "workload": change one letter of the signed body
    const body = Buffer.from(good);
    const at = body.indexOf(Buffer.from('workload'));
    assert.ok(at > 0);
    body[at] = 'W'.charCodeAt(0);
    refused('ERR_CSR_SIGNATURE', () => checkCsr(b64u(new Uint8Array(body)), expect(pair)));
  });

  test('ERR_CSR_CA_REQUESTED: basicConstraints CA:true', () => {
    refused('ERR_CSR_CA_REQUESTED', () =>
      checkCsr(b64u(makeCsr({ ...pair, ca: true })), expect(pair)),
    );
  });

  test('ERR_CSR_SAN: another URI, two URIs, a DNS name beside the URI, a DNS name alone', () => {
    for (const sans of [
      ['uri:spiffe://prod.example/ns/payments/sa/admin'],
      [`uri:${ID}`, 'uri:spiffe://prod.example/other'],
      [`uri:${ID}`, 'dns:api.prod.example'],
      ['dns:api.prod.example'],
    ]) {
      refused('ERR_CSR_SAN', () => checkCsr(b64u(makeCsr({ ...pair, sans })), expect(pair)));
    }
  });

  test('ERR_CSR_UNSUPPORTED_ALG: RSA, EC P-521, Ed448', () => {
    const rsa = newKeyPair('rsa', { modulusLength: 2048 });
    refused('ERR_CSR_UNSUPPORTED_ALG', () => checkCsr(b64u(makeCsr(rsa)), expect(rsa)));
    const p521 = newKeyPair('ec', { namedCurve: 'secp521r1' });
    refused('ERR_CSR_UNSUPPORTED_ALG', () => checkCsr(b64u(makeCsr(p521)), expect(p521)));
    const ed448 = newKeyPair('ed448');
    refused('ERR_CSR_UNSUPPORTED_ALG', () => checkCsr(b64u(makeCsr(ed448)), expect(ed448)));
  });

  test('ERR_CSR_TOO_LARGE: over 8 KiB, as base64url or as bytes', () => {
    refused('ERR_CSR_TOO_LARGE', () => checkCsr('A'.repeat(MAX_CSR_CHARS + 1), expect(pair)));
    refused('ERR_CSR_TOO_LARGE', () => checkCsr(new Uint8Array(MAX_CSR_BYTES + 1), expect(pair)));
    // a 8 KiB+ request that is otherwise well-formed: a long SAN list
    const sans = Array.from({ length: 400 }, (_, i) => `dns:host-${i}.prod.example`);
    const big = makeCsr({ ...pair, sans });
    assert.ok(big.byteLength > MAX_CSR_BYTES);
    refused('ERR_CSR_TOO_LARGE', () => checkCsr(b64u(big), expect(pair)));
  });

  test('ERR_CSR_INVALID: garbage, truncation, trailing bytes, not base64url, empty', () => {
    const random = new Uint8Array(512).map((_, i) => (i * 151 + 7) & 0xff);
    refused('ERR_CSR_INVALID', () => checkCsr(b64u(random), expect(pair)));
    refused('ERR_CSR_INVALID', () =>
      checkCsr(b64u(good.subarray(0, good.length - 1)), expect(pair)),
    );
    refused('ERR_CSR_INVALID', () => checkCsr(b64u(good.subarray(0, 40)), expect(pair)));
    refused('ERR_CSR_INVALID', () => checkCsr(b64u(new Uint8Array([...good, 0])), expect(pair)));
    refused('ERR_CSR_INVALID', () => checkCsr(Buffer.from(good).toString('base64'), expect(pair)));
    refused('ERR_CSR_INVALID', () => checkCsr('', expect(pair)));
    refused('ERR_CSR_INVALID', () => checkCsr(b64u(new Uint8Array([0x30, 0x00])), expect(pair)));
    // a certificate is DER but not a CertificationRequest
    refused('ERR_CSR_INVALID', () =>
      checkCsr(b64u(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00])), expect(pair)),
    );
  });

  test('every prefix of a good request is refused as invalid', () => {
    for (let n = 0; n < good.length; n += 7) {
      assert.throws(() => checkCsr(good.subarray(0, n), expect(pair)), CsrError);
    }
  });

  test('a bad expected key is caller misuse (TypeError)', () => {
    assert.throws(() => checkCsr(b64u(good), { key: { kty: 'EC' }, workloadId: ID }), TypeError);
  });
});
