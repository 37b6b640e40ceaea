/**
 * Revocation of X.509 workload certificates by serial (docs/service.md "Admin API",
 * docs/x509.md "Revocation"): a certificate issued by `POST /v1/attest` is revoked with
 * `POST /v1/admin/certificates/{serial}/revoke`; the bundle then lists its `jti` and its serial,
 * and a relying party's mTLS server following the bundle events refuses the certificate with
 * `ERR_PEER_REVOKED` (the serial alone is enough). Revoking by `jti` lists the serial too.
 * Malformed and unknown serials get a 4xx with their code and write nothing.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { KeyObject } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { newKeyPair } from '../../common/key-pair.js';
import { MtlsError } from '../../wimse/errors.js';
import {
  createMtlsServer,
  mtlsAgent,
  mtlsPeer,
  verifyPeerCertificate,
  watchBundle,
  type BundleWatch,
  type MtlsPeer,
  type X509Bundle,
} from '../../wimse/rp.js';
import { b64u, evidenceCmw, NOW, startTestService, type TestService } from './harness.js';
import { makeCsr } from './ca/fixtures.js';
import { bundleOf, issue, newCa } from '../wimse/mtls-fixtures.js';

const TOKEN = 'x509-revoke-admin-token';
const RP_ID = 'spiffe://example.org/relying-party';
/** The relying party checks certificates at the service's clock (its certificates start at NOW). */
const RP_NOW = (): Date => new Date(NOW.getTime() + 60_000);

interface Issued {
  readonly jti: string;
  readonly serial: string;
  readonly leaf: Uint8Array;
  /** Leaf and CA, PEM. */
  readonly chainPem: string;
  readonly keyPem: string;
}

const pem = (der: Uint8Array): string =>
  `-----BEGIN CERTIFICATE-----\n${Buffer.from(der)
    .toString('base64')
    .replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;

/** challenge → attest with a CSR; the certificate, its key and what the ledger knows of it. */
async function attestCert(svc: TestService): Promise<Issued> {
  const pair: { privateKey: KeyObject; publicKey: KeyObject } = newKeyPair('ec', {
    namedCurve: 'prime256v1',
  });
  const jwk = { ...pair.publicKey.export({ format: 'jwk' }), alg: 'ES256' };
  const spki = new Uint8Array(pair.publicKey.export({ format: 'der', type: 'spki' }));
  const c = await fetch(svc.base + '/v1/challenge', { method: 'POST' });
  const { nonce } = (await c.json()) as { nonce: string };
  const r = await fetch(svc.base + '/v1/attest', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      nonce,
      evidence: evidenceCmw(svc.pki, 'tdx', nonce, { jwk, spki }),
      key: jwk,
      csr: b64u(makeCsr(pair)),
    }),
  });
  const body = (await r.json()) as { wit: string; x509: { chain: string[] } };
  assert.equal(r.status, 200, JSON.stringify(body));
  const chain = body.x509.chain.map((c) => new Uint8Array(Buffer.from(c, 'base64url')));
  const jti = String(JSON.parse(Buffer.from(body.wit.split('.')[1]!, 'base64url').toString()).jti);
  const stored = await svc.store.credentials.get(jti);
  assert.ok(stored?.serial, 'the ledger row has the serial');
  return {
    jti,
    serial: stored.serial,
    leaf: chain[0]!,
    chainPem: chain.map(pem).join(''),
    keyPem: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

async function admin(
  svc: TestService,
  path: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(svc.base + '/v1/admin' + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

async function bundleOfService(svc: TestService): Promise<X509Bundle & Record<string, unknown>> {
  return (await (await fetch(svc.base + '/v1/bundle')).json()) as X509Bundle &
    Record<string, unknown>;
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    assert.ok(Date.now() < end, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** One HTTPS request through `agent`: the body, or the error. */
function get(url: string, agent: https.Agent): Promise<{ body?: string; error?: Error }> {
  return new Promise((resolve) => {
    const req = https.get(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ body }));
    });
    req.on('error', (error) => resolve({ error }));
  });
}

describe('revocation by certificate serial', { timeout: 300_000 }, () => {
  let svc: TestService;

  before(async () => {
    svc = await startTestService({ seed: 'x509-revoke', clock: () => NOW, adminToken: TOKEN });
  });
  after(async () => svc.close());

  test('revoke by serial: the bundle lists jti and serial; the mTLS relying party refuses the peer', async () => {
    const cert = await attestCert(svc);
    // The relying party: an mTLS server following the service's bundle events, with its own
    // certificate from a CA its clients trust.
    const rpCa = await newCa('relying party CA');
    const rp = await issue(rpCa, RP_ID);
    const watch: BundleWatch = watchBundle(svc.base + '/v1/bundle/events', { minBackoffMs: 20 });
    const seen: MtlsPeer[] = [];
    const rejected: MtlsError[] = [];
    const server = createMtlsServer(
      {
        bundle: watch,
        allow: { trustDomains: ['example.org'] },
        cert: rp.cert,
        key: rp.key,
        now: RP_NOW,
        onReject: (err) => rejected.push(err),
      },
      (req, res) => {
        seen.push(mtlsPeer(req)!);
        res.end('ok');
      },
    );
    const client = () =>
      mtlsAgent({
        bundle: bundleOf([rpCa]),
        allow: { ids: [RP_ID] },
        cert: cert.chainPem,
        key: cert.keyPem,
      });
    try {
      await watch.ready;
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const before = client();
      assert.equal((await get(url, before)).body, 'ok');
      before.destroy();
      assert.equal(seen[0]?.serial, cert.serial, 'the peer serial is the ledger serial');
      assert.equal(seen[0]?.jti, cert.jti);

      const revoked = await admin(svc, `/certificates/${cert.serial}/revoke`);
      assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
      assert.equal(revoked.body.serial, cert.serial);
      assert.equal(revoked.body.jti, cert.jti);
      assert.equal(revoked.body.revoked, true);
      const bundle = await bundleOfService(svc);
      assert.equal(bundle.spiffe_sequence, revoked.body.spiffe_sequence);
      assert.deepEqual(bundle.revoked_jtis, [cert.jti]);
      assert.deepEqual(bundle.revoked_serials, [cert.serial]);
      assert.ok((await svc.store.credentials.get(cert.jti))?.revokedAt, 'the jti is revoked');

      await until(
        () => (watch.latest() as X509Bundle | undefined)?.revoked_serials?.length === 1,
        'the bundle event',
      );
      const after = client();
      const refused = await get(url, after);
      after.destroy();
      assert.ok(refused.error, 'the request fails');
      await until(() => rejected.length === 1, 'the refusal');
      assert.equal(rejected[0]!.code, 'ERR_PEER_REVOKED', rejected[0]!.message);
      assert.equal(seen.length, 1);

      // The serial alone is enough: a bundle without the jti still refuses the certificate.
      assert.throws(
        () =>
          verifyPeerCertificate([cert.leaf], {
            bundle: { ...bundle, revoked_jtis: [] },
            allow: { trustDomains: ['example.org'] },
            now: RP_NOW(),
          }),
        (err: unknown) => err instanceof MtlsError && err.code === 'ERR_PEER_REVOKED',
      );
    } finally {
      watch.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('revoking by jti lists the serial; a serial already revoked is 409', async () => {
    const cert = await attestCert(svc);
    const byJti = await admin(svc, `/credentials/${cert.jti}/revoke`);
    assert.equal(byJti.status, 200, JSON.stringify(byJti.body));
    const bundle = await bundleOfService(svc);
    assert.ok((bundle.revoked_jtis as string[]).includes(cert.jti));
    assert.ok((bundle.revoked_serials as string[]).includes(cert.serial));
    const again = await admin(svc, `/certificates/${cert.serial}/revoke`);
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'ERR_CREDENTIAL_REVOKED');
  });

  test('hex in capitals is the same serial', async () => {
    const cert = await attestCert(svc);
    const r = await admin(svc, `/certificates/${cert.serial.toUpperCase()}/revoke`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.serial, cert.serial);
  });

  test('malformed and unknown serials: 4xx with their code, nothing written', async () => {
    const cert = await attestCert(svc);
    const colons = cert.serial.match(/../g)!.join(':');
    const cases: [string, number, string][] = [
      [`00${cert.serial}`, 400, 'ERR_SERIAL_INVALID'],
      [cert.serial.slice(1), 400, 'ERR_SERIAL_INVALID'],
      [colons, 400, 'ERR_SERIAL_INVALID'],
      [`0x${cert.serial}`, 400, 'ERR_SERIAL_INVALID'],
      ['zz', 400, 'ERR_SERIAL_INVALID'],
      ['00', 400, 'ERR_SERIAL_INVALID'],
      ['7f'.repeat(21), 400, 'ERR_SERIAL_INVALID'],
      [encodeURIComponent(`${cert.serial} `), 400, 'ERR_SERIAL_INVALID'],
      ['7f'.repeat(20), 404, 'ERR_CERTIFICATE_UNKNOWN'],
      [cert.jti, 400, 'ERR_SERIAL_INVALID'],
    ];
    const seq = await svc.store.changes.latest();
    for (const [serial, status, code] of cases) {
      const r = await admin(svc, `/certificates/${serial}/revoke`);
      assert.equal(r.status, status, `${serial}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code, code, serial);
    }
    assert.equal(await svc.store.changes.latest(), seq, 'no change written');
    assert.equal((await svc.store.credentials.get(cert.jti))?.revokedAt, undefined);
    const anonymous = await fetch(`${svc.base}/v1/admin/certificates/${cert.serial}/revoke`, {
      method: 'POST',
    });
    assert.equal(anonymous.status, 401);
    assert.equal((await svc.store.credentials.get(cert.jti))?.revokedAt, undefined);
  });
});
