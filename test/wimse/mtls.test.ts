/**
 * Mutual TLS with X.509 workload certificates (wimse/mtls.ts, wimse/x509-peer.ts): certificates
 * issued by the real CA core (service/ca/), two workloads talking over real `https` mutual TLS
 * and seeing each other's identifier and jti; peers of another CA, expired, revoked (jti or
 * serial in the bundle) or not on the allow-list refused with their codes; a bundle event that
 * revokes a connected peer disconnects it; curl as a client when it is installed.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { IssuingCa } from '../../service/ca/issuer.js';
import type { BundleWatch, WatchedBundle } from '../../wimse/bundle-watch.js';
import { MtlsError } from '../../wimse/errors.js';
import {
  asMtlsError,
  createMtlsServer,
  createMtlsTlsServer,
  mtlsAgent,
  mtlsConnect,
  mtlsPeer,
  parseAllowList,
  verifyPeerCertificate,
  x509AuthoritiesOf,
  type MtlsAllowList,
  type MtlsOptions,
  type MtlsPeer,
  type X509Bundle,
} from '../../wimse/rp.js';
import { bundleOf, issue, newCa, type Workload } from './mtls-fixtures.js';

const A = 'spiffe://prod.example/ns/shop/sa/api';
const B = 'spiffe://prod.example/ns/shop/sa/worker';
const C = 'spiffe://prod.example/ns/other/sa/intruder';
const CURL = spawnSync('curl', ['--version']).status === 0;

/** Runs curl without blocking the event loop (the server under test is in this process). */
function curl(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

/** A BundleWatch the test drives by hand. */
function manualWatch(first: X509Bundle): BundleWatch & { push(b: X509Bundle): void } {
  let latest: WatchedBundle = first;
  const listeners = new Set<(b: WatchedBundle) => void>();
  return {
    latest: () => latest,
    ready: Promise.resolve(first),
    subscribe: (l) => (listeners.add(l), () => listeners.delete(l)),
    close: () => listeners.clear(),
    push(b) {
      latest = b;
      for (const l of listeners) l(b);
    },
  };
}

interface Served {
  readonly url: string;
  readonly seen: MtlsPeer[];
  readonly rejected: MtlsError[];
  close(): Promise<void>;
}

async function serve(
  workload: Workload,
  bundle: MtlsOptions['bundle'],
  allow: MtlsAllowList = { trustDomains: ['prod.example'] },
): Promise<Served> {
  const seen: MtlsPeer[] = [];
  const rejected: MtlsError[] = [];
  const server = createMtlsServer(
    { bundle, allow, cert: workload.cert, key: workload.key, onReject: (e) => rejected.push(e) },
    (req, res) => {
      const peer = mtlsPeer(req)!;
      seen.push(peer);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: peer.workloadId, jti: peer.jti }));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}/`,
    seen,
    rejected,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Got {
  readonly body?: { id: string; jti: string };
  readonly server?: MtlsPeer;
  readonly error?: Error;
}

function get(url: string, agent: https.Agent): Promise<Got> {
  return new Promise((resolve) => {
    const req = https.get(url, { agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        const server = mtlsPeer(res);
        resolve({ body: JSON.parse(text) as Got['body'], ...(server ? { server } : {}) });
      });
    });
    req.on('error', (error) => resolve({ error }));
  });
}

function client(
  workload: Workload,
  bundle: MtlsOptions['bundle'],
  allow: MtlsAllowList = { ids: [A] },
) {
  return mtlsAgent({ bundle, allow, cert: workload.cert, key: workload.key });
}

/** Waits until `cond` holds (server-side rejection is reported asynchronously). */
async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('mutual TLS with X.509 workload certificates', { timeout: 120_000 }, () => {
  let ca: IssuingCa;
  let otherCa: IssuingCa;
  let a: Workload;
  let b: Workload;
  let bundle: X509Bundle;

  before(async () => {
    ca = await newCa();
    otherCa = await newCa('another CA');
    a = await issue(ca, A);
    b = await issue(ca, B);
    bundle = bundleOf([ca]);
  });

  test('x509AuthoritiesOf takes the first x5c of each x509-svid key only', () => {
    const pems = x509AuthoritiesOf({
      keys: [
        ...bundleOf([ca]).keys,
        {
          kty: 'EC',
          use: 'jwt-svid',
          kid: 'k1',
          x5c: [Buffer.from(otherCa.certificate).toString('base64')],
        },
        { kty: 'EC', use: 'x509-svid' },
        { kty: 'EC', use: 'x509-svid', x5c: [] },
      ],
    });
    assert.equal(pems.length, 1);
    const der = Buffer.from(pems[0]!.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    assert.ok(der.equals(ca.certificate));
  });

  test('verifyPeerCertificate: identity, jti, serial; each refusal with its code', async () => {
    const allow = { trustDomains: ['prod.example'] };
    const peer = verifyPeerCertificate([b.der], { bundle, allow, role: 'client' });
    assert.equal(peer.workloadId, B);
    assert.equal(peer.trustDomain, 'prod.example');
    assert.equal(peer.jti, b.jti);
    assert.equal(peer.serial, b.serial);
    assert.equal(peer.earSha256?.length, 32);

    const expectCode = (chain: Uint8Array[], expected: string, opts = {}) => {
      try {
        verifyPeerCertificate(chain, { bundle, allow, ...opts });
        assert.fail(`expected ${expected}`);
      } catch (err) {
        assert.ok(err instanceof MtlsError, String(err));
        assert.equal(err.code, expected, err.message);
      }
    };
    const foreign = await issue(otherCa, B);
    expectCode([foreign.der], 'ERR_PEER_UNTRUSTED');
    expectCode([b.der], 'ERR_PEER_UNTRUSTED', { bundle: bundleOf([otherCa]) });
    expectCode([b.der], 'ERR_PEER_UNTRUSTED', { bundle: { keys: [] } });
    expectCode([], 'ERR_PEER_CERT_MISSING');
    expectCode([ca.certificate], 'ERR_PEER_INVALID');
    expectCode([b.der], 'ERR_PEER_EXPIRED', { now: new Date(b.notAfter.getTime() + 1000) });
    expectCode([b.der], 'ERR_PEER_NOT_YET_VALID', { now: new Date(Date.now() - 3600_000) });
    expectCode([b.der], 'ERR_PEER_REVOKED', { bundle: bundleOf([ca], { revoked_jtis: [b.jti] }) });
    const upper = `00:${b.serial.toUpperCase()}`;
    expectCode([b.der], 'ERR_PEER_REVOKED', {
      bundle: bundleOf([ca], { revoked_serials: [upper] }),
    });
    expectCode([b.der], 'ERR_PEER_ID_NOT_ALLOWED', { allow: { ids: [A] } });
    expectCode([b.der], 'ERR_PEER_ID_NOT_ALLOWED', { allow: { trustDomains: ['other.example'] } });
    assert.throws(() => verifyPeerCertificate([b.der], { bundle, allow: {} }), TypeError);
    // The chain verified above is cached per bundle object; a copy with its signature changed
    // is another chain and is checked afresh, and the cached one still gets every other check.
    const forged = new Uint8Array(b.der);
    forged[forged.length - 2]! ^= 0x01;
    expectCode([forged], 'ERR_PEER_UNTRUSTED');
    expectCode([b.der], 'ERR_PEER_EXPIRED', { now: new Date(b.notAfter.getTime() + 1000) });
    assert.equal(verifyPeerCertificate([b.der], { bundle, allow }).jti, b.jti);
    assert.deepEqual(parseAllowList(['prod.example', 'spiffe://x.example', B]), {
      ids: [B],
      trustDomains: ['prod.example', 'x.example'],
    });
  });

  test('two workloads see each other over mutual TLS', async () => {
    const server = await serve(a, bundle);
    const agent = client(b, bundle);
    try {
      const got = await get(server.url, agent);
      assert.equal(got.error, undefined, got.error?.message);
      assert.deepEqual(got.body, { id: B, jti: b.jti });
      assert.equal(got.server?.workloadId, A);
      assert.equal(got.server?.jti, a.jti);
      assert.equal(server.seen[0]?.serial, b.serial);
      assert.deepEqual(server.rejected, []);
    } finally {
      agent.destroy();
      await server.close();
    }
  });

  test('the server refuses another CA, expired, revoked and unlisted clients with their codes', async () => {
    const foreign = await issue(otherCa, B);
    const expired = await issue(ca, B, {
      now: new Date(Date.now() - 7200_000),
      lifetimeSeconds: 3600,
    });
    const intruder = await issue(ca, C);
    const revokedBundle = bundleOf([ca], { revoked_jtis: [b.jti] });
    const cases: [Workload, X509Bundle, string][] = [
      [foreign, bundle, 'ERR_PEER_UNTRUSTED'],
      [expired, bundle, 'ERR_PEER_EXPIRED'],
      [b, revokedBundle, 'ERR_PEER_REVOKED'],
      [intruder, bundle, 'ERR_PEER_ID_NOT_ALLOWED'],
    ];
    for (const [workload, serverBundle, expected] of cases) {
      const server = await serve(a, serverBundle, { ids: [B] });
      const agent = client(workload, bundle);
      try {
        const got = await get(server.url, agent);
        assert.ok(got.error, `${expected}: the request must fail`);
        await until(() => server.rejected.length > 0);
        assert.equal(server.rejected[0]!.code, expected, server.rejected[0]!.message);
        assert.deepEqual(server.seen, []);
      } finally {
        agent.destroy();
        await server.close();
      }
    }
  });

  test('the client refuses a server of another CA or not on its list', async () => {
    const foreign = await issue(otherCa, A);
    const untrusted = await serve(foreign, bundleOf([ca, otherCa]));
    const unlisted = await serve(await issue(ca, C), bundle);
    const agent = client(b, bundle);
    try {
      const got = await get(untrusted.url, agent);
      assert.equal(asMtlsError(got.error)?.code, 'ERR_PEER_UNTRUSTED', got.error?.message);
      const other = await get(unlisted.url, agent);
      assert.ok(other.error instanceof MtlsError);
      assert.equal(other.error.code, 'ERR_PEER_ID_NOT_ALLOWED');
      assert.equal(asMtlsError(new Error('ECONNRESET')), undefined);
    } finally {
      agent.destroy();
      await untrusted.close();
      await unlisted.close();
    }
  });

  test('a bundle event revoking a connected peer disconnects it; a new CA is trusted', async () => {
    const watch = manualWatch(bundle);
    const server = await serve(a, watch);
    const agent = mtlsAgent({
      bundle,
      allow: { ids: [A] },
      cert: b.cert,
      key: b.key,
      agent: { keepAlive: true },
    });
    try {
      assert.equal((await get(server.url, agent)).body?.id, B);
      watch.push(bundleOf([ca], { revoked_jtis: [b.jti], spiffe_sequence: 2 }));
      await until(() => server.rejected.length === 1);
      assert.equal(server.rejected[0]!.code, 'ERR_PEER_REVOKED');
      assert.ok((await get(server.url, agent)).error);

      const newCa2 = await newCa('rotated CA');
      const c = await issue(newCa2, B);
      const before = await get(server.url, client(c, bundleOf([newCa2])));
      assert.ok(before.error);
      watch.push(bundleOf([ca, newCa2], { spiffe_sequence: 3 }));
      const afterRotation = await get(server.url, client(c, bundleOf([ca])));
      assert.deepEqual(afterRotation.body, { id: B, jti: c.jti });
    } finally {
      agent.destroy();
      await server.close();
    }
  });

  test('mtlsConnect builds its TLS context once per bundle; a new bundle replaces it', async () => {
    const server = createMtlsTlsServer(
      { bundle, allow: { ids: [B] }, cert: a.cert, key: a.key },
      (socket) => socket.end('k'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const watch = manualWatch(bundleOf([ca]));
    const connect = (): Promise<MtlsPeer> =>
      new Promise((resolve, reject) => {
        const socket = mtlsConnect({
          bundle: watch,
          allow: { ids: [A] },
          cert: b.cert,
          key: b.key,
          host: '127.0.0.1',
          port,
        });
        socket.once('error', reject);
        socket.once('data', () => {
          resolve(mtlsPeer(socket)!);
          socket.destroy();
        });
      });
    // Every secure context built in this process is counted: node's own (a `tls.connect`
    // without a `secureContext` builds one per connection) and the helpers'.
    const original = tls.createSecureContext;
    let built = 0;
    tls.createSecureContext = (options) => {
      built += 1;
      return original(options);
    };
    try {
      assert.equal((await connect()).workloadId, A);
      assert.equal(built, 1, 'the first connection builds the context');
      assert.equal((await connect()).workloadId, A);
      assert.equal(built, 1, 'the second one, on the same bundle, reuses it');
      watch.push(bundleOf([ca], { spiffe_sequence: 2 }));
      assert.equal((await connect()).workloadId, A);
      assert.equal(built, 2, 'a new bundle gets a new context');
      assert.equal((await connect()).workloadId, A);
      assert.equal(built, 2);
      // The reused context still carries the bundle's trust: a bundle without the server's CA
      // is a new context that refuses it.
      watch.push(bundleOf([otherCa], { spiffe_sequence: 3 }));
      await assert.rejects(connect(), (err: unknown) => {
        assert.equal(asMtlsError(err)?.code, 'ERR_PEER_UNTRUSTED', String(err));
        return true;
      });
      assert.equal(built, 3);
    } finally {
      tls.createSecureContext = original;
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test(
    'curl presents a workload certificate to the server',
    { skip: CURL ? false : 'curl is not installed' },
    async () => {
      const server = await serve(a, bundle);
      const dir = mkdtempSync(join(tmpdir(), 'twi-mtls-'));
      try {
        writeFileSync(join(dir, 'svid.pem'), b.cert);
        writeFileSync(join(dir, 'svid-key.pem'), b.key, { mode: 0o600 });
        writeFileSync(join(dir, 'bundle.pem'), x509AuthoritiesOf(bundle).join(''));
        // The server's identity is its URI SAN, not a host name, so curl's host name check (which
        // --cacert cannot turn off alone) is skipped with -k; the server still checks curl's cert.
        const args = ['-sS', '-k', '--cacert', join(dir, 'bundle.pem'), '--max-time', '20'];
        const ok = await curl([
          ...args,
          '--cert',
          join(dir, 'svid.pem'),
          '--key',
          join(dir, 'svid-key.pem'),
          server.url,
        ]);
        assert.equal(ok.status, 0, ok.stderr);
        assert.deepEqual(JSON.parse(ok.stdout), { id: B, jti: b.jti });
        const anonymous = await curl([...args, server.url]);
        assert.notEqual(anonymous.status, 0);
        await until(() => server.rejected.length > 0);
        assert.equal(server.rejected[0]!.code, 'ERR_PEER_CERT_MISSING');
      } finally {
        rmSync(dir, { recursive: true, force: true });
        await server.close();
      }
    },
  );
});
