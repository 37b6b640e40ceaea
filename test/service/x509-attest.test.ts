/**
 * X.509 workload certificates through `POST /v1/attest` (docs/x509.md, docs/service.md): a
 * `csr` for the bound key on simulated evidence gets a chain that `openssl verify` accepts
 * against `GET /v1/bundle.pem`, whose leaf names the assigned identifier and carries the WIT's
 * `jti` (the ledger's and the provenance log's); every bad request is a 4xx with its `ERR_CSR_*`
 * code and writes nothing (the nonce stays usable, no ledger row, no log leaf); the SPIFFE bundle
 * carries the CA as an `x509-svid` key with `x5c` that the WIT checks ignore.
 */
import assert from 'node:assert/strict';
import { X509Certificate, type JsonWebKey, type KeyObject } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { earDigest } from '../../service/ca/profile.js';
import { readTwiExtension } from '../../common/x509/twi-extension.js';
import { staticJwks } from '../../wimse/jwks.js';
import { verifyWit } from '../../wimse/wit.js';
import { MAX_CSR_BYTES } from '../../service/ca/csr.js';
import { b64u, evidenceCmw, NOW, startTestService, type TestService } from './harness.js';
import { makeCsr, NO_OPENSSL, openssl } from './ca/fixtures.js';
import { newKeyPair } from '../../common/key-pair.js';

interface Pair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

const p256 = (): Pair => newKeyPair('ec', { namedCurve: 'prime256v1' });

function keyOf(pair: Pair): { jwk: JsonWebKey & { alg: string }; spki: Uint8Array } {
  return {
    jwk: { ...pair.publicKey.export({ format: 'jwk' }), alg: 'ES256' },
    spki: new Uint8Array(pair.publicKey.export({ format: 'der', type: 'spki' })),
  };
}

function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

async function challenge(svc: TestService): Promise<string> {
  const r = await fetch(svc.base + '/v1/challenge', { method: 'POST' });
  return ((await r.json()) as { nonce: string }).nonce;
}

async function attestWith(
  svc: TestService,
  nonce: string,
  pair: Pair,
  csr: string | undefined,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const key = keyOf(pair);
  const r = await fetch(svc.base + '/v1/attest', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      nonce,
      evidence: evidenceCmw(svc.pki, 'tdx', nonce, key),
      key: key.jwk,
      ...(csr !== undefined && { csr }),
    }),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

const pem = (der: Uint8Array): string =>
  `-----BEGIN CERTIFICATE-----\n${Buffer.from(der)
    .toString('base64')
    .replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;

describe('attest with a CSR', { timeout: 300_000 }, () => {
  let svc: TestService;
  const clock = (): Date => NOW;

  before(async () => {
    svc = await startTestService({ seed: 'x509-attest', clock });
  });
  after(async () => svc.close());

  test('issues a chain openssl verifies against bundle.pem; SAN and jti match', async () => {
    const pair = p256();
    const nonce = await challenge(svc);
    const csr = b64u(makeCsr(pair));
    const { status, body } = await attestWith(svc, nonce, pair, csr);
    assert.equal(status, 200, JSON.stringify(body));
    const chain = (body.x509 as { chain: string[] }).chain.map(
      (c) => new Uint8Array(Buffer.from(c, 'base64url')),
    );
    assert.equal(chain.length, 2, 'leaf and the self-signed root');
    const leaf = new X509Certificate(chain[0]!);
    const wit = claimsOf(body.wit as string);
    assert.equal(leaf.subjectAltName, `URI:${String(wit.sub)}`);
    assert.ok(leaf.publicKey.equals(pair.publicKey), 'the CSR key is certified');
    const ext = readTwiExtension(chain[0]!);
    assert.equal(ext.jti, wit.jti);
    assert.deepEqual(ext.earSha256, earDigest(body.ear as string));
    const stored = await svc.store.credentials.get(String(wit.jti));
    assert.ok(stored, 'one ledger row for the WIT and the certificate');
    const x509 = (stored.record as { x509?: { serial: string } }).x509;
    assert.equal(x509?.serial, leaf.serialNumber.toLowerCase());
    const prov = await fetch(`${svc.base}/v1/provenance/${String(ext.jti)}`);
    assert.equal(prov.status, 200, 'the certificate jti resolves to its provenance record');

    const bundle = await fetch(svc.base + '/v1/bundle.pem');
    assert.equal(bundle.status, 200);
    assert.match(bundle.headers.get('content-type') ?? '', /^application\/x-pem-file/);
    const anchors = await bundle.text();
    assert.ok(leaf.checkIssued(new X509Certificate(anchors)));
    assert.ok(leaf.verify(new X509Certificate(anchors).publicKey));
    if (!NO_OPENSSL) {
      const out = openssl(
        [
          'verify',
          // The service's clock is the test's NOW.
          '-attime',
          String(NOW.getTime() / 1000 + 60),
          '-CAfile',
          'bundle.pem',
          '-purpose',
          'sslclient',
          'leaf.pem',
        ],
        { 'bundle.pem': anchors, 'leaf.pem': pem(chain[0]!) },
      );
      assert.match(out, /leaf\.pem: OK/);
    }
  });

  test('openssl verify', { skip: NO_OPENSSL }, () => {
    assert.ok(true, 'openssl is installed: the chain check above ran it');
  });

  test('the bundle carries the CA as an x509-svid key with x5c; WIT checks ignore it', async () => {
    const r = await fetch(svc.base + '/v1/bundle');
    const bundle = (await r.json()) as { keys: Record<string, unknown>[] };
    const x509 = bundle.keys.filter((k) => k.use === 'x509-svid');
    assert.equal(x509.length, 1);
    const [ca] = x509;
    assert.equal(ca!.kid, undefined, 'X509-SVID §6.1: no kid');
    assert.ok(Array.isArray(ca!.x5c) && ca!.x5c.length === 1);
    const cert = new X509Certificate(Buffer.from(String((ca!.x5c as string[])[0]), 'base64'));
    assert.ok(cert.ca);
    const pemText = await (await fetch(svc.base + '/v1/bundle.pem')).text();
    assert.ok(new X509Certificate(pemText).raw.equals(cert.raw), 'bundle.pem = the x5c anchor');

    // A WIT still verifies with the bundle as its key set: the x509-svid key is skipped.
    const pair = p256();
    const nonce = await challenge(svc);
    const { body } = await attestWith(svc, nonce, pair, undefined);
    assert.equal(body.x509, undefined, 'no csr, no certificate');
    const verified = await verifyWit(body.wit as string, {
      jwks: staticJwks(bundle as Parameters<typeof staticJwks>[0]),
      trustDomains: ['example.org'],
      now: NOW,
    });
    assert.equal(verified.claims.sub, claimsOf(body.wit as string).sub);
  });

  const bad: [string, (pair: Pair) => string, string, number][] = [
    ['wrong key', () => b64u(makeCsr(p256())), 'ERR_CSR_KEY_MISMATCH', 400],
    [
      'bad signature',
      (pair) => {
        const der = makeCsr(pair);
        der[der.length - 5] ^= 0x01;
        return b64u(der);
      },
      'ERR_CSR_SIGNATURE',
      400,
    ],
    ['CA request', (pair) => b64u(makeCsr({ ...pair, ca: true })), 'ERR_CSR_CA_REQUESTED', 400],
    [
      'extra SAN',
      (pair) => b64u(makeCsr({ ...pair, sans: ['uri:spiffe://example.org/a', 'dns:api.example'] })),
      'ERR_CSR_SAN',
      400,
    ],
    [
      'RSA key',
      () => {
        const rsa = newKeyPair('rsa', { modulusLength: 2048 });
        return b64u(makeCsr(rsa));
      },
      'ERR_CSR_UNSUPPORTED_ALG',
      400,
    ],
    [
      'oversize',
      () => 'A'.repeat(Math.ceil((MAX_CSR_BYTES * 4) / 3) + 4),
      'ERR_CSR_TOO_LARGE',
      413,
    ],
    ['garbage', () => b64u(Buffer.from('not a certificate request')), 'ERR_CSR_INVALID', 400],
  ];

  for (const [name, make, code, status] of bad) {
    test(`${name}: ${status} ${code}, nothing written`, async () => {
      const pair = p256();
      const nonce = await challenge(svc);
      const before = await svc.store.provenance.treeState();
      const refused = await attestWith(svc, nonce, pair, make(pair));
      assert.equal(refused.status, status, JSON.stringify(refused.body));
      assert.equal(refused.body.code, code);
      assert.equal((await svc.store.provenance.treeState()).size, before.size, 'no log leaf');
      // The nonce was not consumed: the same challenge still gets a credential.
      const ok = await attestWith(svc, nonce, pair, b64u(makeCsr(pair)));
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      const after = await svc.store.provenance.treeState();
      assert.equal(after.size, before.size + 1, 'exactly one issuance: the good one');
    });
  }

  test('a SAN other than the assigned identifier is refused before any write', async () => {
    const pair = p256();
    const nonce = await challenge(svc);
    const before = await svc.store.provenance.treeState();
    const r = await attestWith(
      svc,
      nonce,
      pair,
      b64u(makeCsr({ ...pair, sans: ['uri:spiffe://example.org/someone-else'] })),
    );
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.code, 'ERR_CSR_SAN');
    assert.equal((await svc.store.provenance.treeState()).size, before.size, 'no log leaf');
  });
});

describe('CA rotation through the admin API', { timeout: 300_000 }, () => {
  let svc: TestService;
  const TOKEN = 'x509-admin-token';

  before(async () => {
    svc = await startTestService({ seed: 'x509-rotate', clock: () => NOW, adminToken: TOKEN });
  });
  after(async () => svc.close());

  test('a new root signs from then on; the old one stays published', async () => {
    const anchorsOf = async (): Promise<string[]> => {
      const b = (await (await fetch(svc.base + '/v1/bundle')).json()) as {
        keys: { use: string; x5c?: string[] }[];
      };
      return b.keys.filter((k) => k.use === 'x509-svid').map((k) => k.x5c![0]!);
    };
    const [first] = await anchorsOf();
    const r = await fetch(svc.base + '/v1/admin/ca/rotate', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const out = (await r.json()) as Record<string, string>;
    assert.equal(r.status, 200, JSON.stringify(out));
    assert.notEqual(out.ca, out.previous_ca);
    assert.ok(out.previous_retires_at);
    const anchors = await anchorsOf();
    assert.equal(anchors.length, 2);
    assert.equal(anchors[0], first, 'the old CA is still published');

    const pair = p256();
    const nonce = await challenge(svc);
    const { status, body } = await attestWith(svc, nonce, pair, b64u(makeCsr(pair)));
    assert.equal(status, 200, JSON.stringify(body));
    const issuer = (body.x509 as { chain: string[] }).chain[1]!;
    assert.equal(
      Buffer.from(issuer, 'base64url').toString('base64'),
      anchors[1],
      'issued by the new CA',
    );
    assert.equal((await svc.store.caKeys.list()).length, 2);
  });
});
