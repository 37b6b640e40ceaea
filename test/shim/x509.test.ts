/**
 * The shim's X.509 mode against a real verifier service in-process: a simulated Nitro enclave
 * (real COSE_Sign1 evidence from the simulated AWS PKI) and a non-exportable native key that
 * signs the CSR. The files appear with their modes, `openssl verify` accepts the chain against
 * `bundle.pem`, the leaf's URI SAN is the WIT's `sub`, renewal replaces the certificate, and
 * `GET /v1/x509` serves the PEMs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer as createHttpServer } from 'node:http';
import { nativeWorkloadKey } from './native-key.js';
import { createShimClient, ShimApiError } from '../../shim/client.js';
import type { ShimX509 } from '../../shim/client.js';
import { readTwiExtension } from '../../common/x509/twi-extension.js';
import { ADMIN_TOKEN, startVerifier } from './setup.js';
import type { TestVerifier } from './setup.js';
import type { AttesterDevice } from '../../shim/attester.js';
import { buildCsr, ecdsaRawToDer } from '../../shim/csr.js';
import { checkCsr } from '../../service/ca/csr.js';
import { startShim } from '../../shim/shim.js';
import type { Shim } from '../../shim/shim.js';
import { openSimulatedPki, simulateNitro, simulatedNitroModuleId } from '../../simulators/index.js';
import type { SimulatedPki } from '../../simulators/index.js';
import { NITRO_ATTESTATION_MEDIA_TYPE } from '../../wire/media-types.js';
import { decodeCompact } from '../../wimse/jws.js';

const SEED = 'shim-x509';

/** A simulated Nitro enclave as the shim's device: one module id, native keys. */
function nitroAttester(pki: SimulatedPki): AttesterDevice {
  const moduleId = simulatedNitroModuleId(pki.nitro(), SEED, new Date(Date.now() - 60_000));
  return {
    platform: 'nitro',
    createKey: () => Promise.resolve(nativeWorkloadKey()),
    collectEvidence: (b) => {
      const sim = simulateNitro(pki.nitro(), {
        now: new Date(),
        seed: SEED,
        moduleId,
        nonce: b.nonce,
        userData: b.reportData,
        publicKey: b.publicKey,
      });
      return Promise.resolve({
        mediaType: NITRO_ATTESTATION_MEDIA_TYPE,
        evidence: sim.document,
        endorsements: [],
      });
    },
  };
}

/** A JSON answer of the local API (the fields these tests read). */
type Answer = Record<string, string | undefined>;

/** GET over the shim's socket: status and JSON body. */
function get(socketPath: string, path: string): Promise<{ status: number; body: Answer }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET' }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Answer }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** `x509()` of the client with the credential current before and after it (no renewal between). */
async function clientX509(
  shim: Shim,
  socketPath: string,
): Promise<{ x: ShimX509; c: NonNullable<ReturnType<Shim['current']>> }> {
  const client = createShimClient({ socketPath });
  for (let i = 0; ; i++) {
    const before = shim.current()!;
    const x = await client.x509();
    if (shim.current()?.jti === before.jti || i === 4) return { x, c: before };
  }
}

/** The `jti` in a PEM certificate's twi extension. */
function certJti(pem: string): string {
  return readTwiExtension(new X509Certificate(pem).raw).jti;
}

async function until<T>(what: string, f: () => T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('shim CSR', { timeout: 30_000 }, () => {
  it('builds a PKCS#10 request the service accepts as proof of possession of the TEE key', async () => {
    const key = nativeWorkloadKey();
    try {
      const der = await buildCsr(key);
      const checked = checkCsr(Buffer.from(der).toString('base64url'), { key: key.publicJwk });
      assert.equal(checked.keyAlg, 'ES256');
      assert.equal(checked.requestedUri, undefined);
      // Another key's CSR is refused for this key.
      const other = nativeWorkloadKey();
      assert.throws(
        () => checkCsr(Buffer.from(der).toString('base64url'), { key: other.publicJwk as never }),
        (e: { code?: string }) => typeof e.code === 'string' && e.code.startsWith('ERR_CSR'),
      );
      other.dispose();
    } finally {
      key.dispose();
    }
  });

  it('converts raw ECDSA signatures to minimal DER integers', () => {
    const raw = new Uint8Array(64);
    raw[0] = 0x80; // r needs a leading zero
    raw[63] = 1; // s is 1 after stripping zeros
    const der = Buffer.from(ecdsaRawToDer(raw));
    assert.equal(der[0], 0x30);
    assert.equal(der[2], 0x02);
    assert.equal(der[3], 33);
    assert.equal(der[4], 0);
    assert.deepEqual([...der.subarray(der.length - 3)], [0x02, 1, 1]);
    assert.throws(() => ecdsaRawToDer(new Uint8Array(3)), RangeError);
  });
});

describe('shim X.509 mode against the service', { timeout: 120_000 }, () => {
  let verifier: TestVerifier;
  let shim: Shim;
  let dir: string;
  let files: string;
  let socketPath: string;

  before(async () => {
    verifier = await startVerifier({ seed: SEED, witLifetimeSeconds: 8 });
    const pki = await openSimulatedPki(verifier.pkiDir, { seed: SEED });
    dir = mkdtempSync(join(tmpdir(), 'twi-shim-x509-'));
    files = join(dir, 'files');
    socketPath = join(dir, 'shim.sock');
    shim = await startShim({
      attester: nitroAttester(pki),
      verifier: verifier.base,
      socketPath,
      filesDir: files,
      x509: true,
      renewFraction: 0.5,
      maxBackoffMs: 500,
    });
    await shim.ready;
  });

  after(async () => {
    await shim?.close();
    await verifier?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes svid.pem and bundle.pem with their modes, and no private key file', async () => {
    const svid = join(files, 'svid.pem');
    const bundle = join(files, 'bundle.pem');
    await until('bundle.pem', () => {
      try {
        return statSync(bundle);
      } catch {
        return undefined;
      }
    });
    assert.equal(statSync(svid).mode & 0o777, 0o600);
    assert.equal(statSync(join(files, 'wit.jwt')).mode & 0o777, 0o600);
    assert.equal(statSync(bundle).mode & 0o777, 0o640);
    assert.equal(statSync(files).mode & 0o777, 0o700);
    assert.throws(() => statSync(join(files, 'svid-key.pem')), { code: 'ENOENT' });
  });

  it("issues a leaf for the TEE key whose URI SAN is the WIT's sub", () => {
    const c = shim.current()!;
    const leaf = new X509Certificate(readFileSync(join(files, 'svid.pem')));
    const sub = decodeCompact(c.wit).payload.sub as string;
    assert.equal(leaf.subjectAltName, `URI:${sub}`);
    assert.equal(leaf.ca, false);
    const cnf = (decodeCompact(c.wit).payload.cnf as { jwk: Record<string, unknown> }).jwk;
    const leafJwk = leaf.publicKey.export({ format: 'jwk' });
    assert.equal(leafJwk.x, cnf.x);
    assert.equal(leafJwk.y, cnf.y);
    assert.ok(c.expiresAt.getTime() <= new Date(leaf.validTo).getTime());
  });

  it('passes openssl verify -CAfile bundle.pem svid.pem', (t) => {
    if (!hasOpenssl()) return t.skip('openssl is not installed');
    const out = execFileSync(
      'openssl',
      [
        'verify',
        '-CAfile',
        join(files, 'bundle.pem'),
        '-untrusted',
        join(files, 'svid.pem'),
        join(files, 'svid.pem'),
      ],
      { stdio: 'pipe' },
    ).toString();
    assert.match(out, /svid\.pem: OK/);
  });

  it('serves the PEMs on GET /v1/x509', async () => {
    const { status, body } = await get(socketPath, '/v1/x509');
    assert.equal(status, 200);
    const c = shim.current()!;
    assert.equal(body.sub, c.sub);
    assert.equal(body.jti, c.jti);
    assert.equal(body.svid_pem, c.x509!.pem);
    assert.equal(body.bundle_pem, readFileSync(join(files, 'bundle.pem'), 'utf8'));
    assert.match(body.expires_at ?? '', /^\d{4}-/);
    assert.match(body.bundle_expires_at ?? '', /^\d{4}-/);
  });

  it('the twi/shim client reads it with x509(): the chain, the bundle, no key', async () => {
    const { x, c } = await clientX509(shim, socketPath);
    assert.equal(x.certificatePem, c.x509!.pem);
    assert.equal(x.chain.join(''), x.certificatePem);
    assert.equal(new X509Certificate(x.chain[0]!).subjectAltName, `URI:${c.sub}`);
    assert.equal(x.keyPem, undefined, 'the key stays in the TEE');
    assert.equal(x.bundlePem, readFileSync(join(files, 'bundle.pem'), 'utf8'));
    assert.equal(x.spiffeId, c.sub);
    assert.equal(x.jti, c.jti);
    assert.equal(x.witJti, c.jti);
    assert.equal(certJti(x.chain[0]!), x.jti);
    assert.equal(x.expiresAt.getTime(), c.expiresAt.getTime());
    assert.ok(x.bundleExpiresAt.getTime() > Date.now());
  });

  it('renewal replaces the certificate and its file', async () => {
    const first = shim.current()!;
    const firstPem = readFileSync(join(files, 'svid.pem'), 'utf8');
    const next = await until(
      'a renewed credential',
      () => {
        const c = shim.current();
        return c && c.jti !== first.jti ? c : undefined;
      },
      20_000,
    );
    await until('the renewed svid.pem', () =>
      readFileSync(join(files, 'svid.pem'), 'utf8') === next.x509!.pem ? true : undefined,
    );
    assert.notEqual(next.x509!.pem, firstPem);
    assert.equal(next.sub, first.sub);
    const leaf = new X509Certificate(readFileSync(join(files, 'svid.pem')));
    assert.equal(leaf.subjectAltName, `URI:${next.sub}`);
    const { body } = await get(socketPath, '/v1/x509');
    assert.equal(body.svid_pem, next.x509!.pem);
  });

  it('refreshes bundle.pem when the CA rotates (old and new CA both trusted)', async () => {
    const bundle = join(files, 'bundle.pem');
    const count = (): number =>
      (readFileSync(bundle, 'utf8').match(/BEGIN CERTIFICATE/g) ?? []).length;
    assert.equal(count(), 1);
    const r = await fetch(verifier.base + '/v1/admin/ca/rotate', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(r.status, 200, await r.text());
    await until('bundle.pem with two authorities', () => (count() === 2 ? true : undefined));
    // The next certificate comes from the new CA and still verifies against the file.
    const before = shim.current()!.jti;
    await until('a credential from the new CA', () => {
      const c = shim.current();
      return c && c.jti !== before ? c : undefined;
    });
    await until('the new svid.pem', () =>
      readFileSync(join(files, 'svid.pem'), 'utf8') === shim.current()!.x509!.pem
        ? true
        : undefined,
    );
    if (hasOpenssl()) {
      const svid = join(files, 'svid.pem');
      execFileSync('openssl', ['verify', '-CAfile', bundle, '-untrusted', svid, svid], {
        stdio: 'pipe',
      });
    }
    const { body } = await get(socketPath, '/v1/x509');
    assert.equal(body.bundle_pem, readFileSync(bundle, 'utf8'));
  });
});

describe('shim X.509 mode with a key the workload holds', { timeout: 120_000 }, () => {
  let verifier: TestVerifier;
  let shim: Shim;
  let dir: string;
  let files: string;
  let socketPath: string;

  before(async () => {
    verifier = await startVerifier({ seed: `${SEED}-held`, witLifetimeSeconds: 600 });
    const pki = await openSimulatedPki(verifier.pkiDir, { seed: `${SEED}-held` });
    dir = mkdtempSync(join(tmpdir(), 'twi-shim-x509-held-'));
    files = join(dir, 'files');
    socketPath = join(dir, 'shim.sock');
    shim = await startShim({
      attester: nitroAttester(pki),
      verifier: verifier.base,
      socketPath,
      filesDir: files,
      x509WorkloadKey: true,
    });
    await shim.ready;
    await until('bundle.pem', () => {
      try {
        return statSync(join(files, 'bundle.pem'));
      } catch {
        return undefined;
      }
    });
  });

  after(async () => {
    await shim?.close();
    await verifier?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes svid-key.pem (0600) for a second key, not the WIT key, with its own jti', () => {
    assert.equal(statSync(join(files, 'svid-key.pem')).mode & 0o777, 0o600);
    assert.equal(statSync(join(files, 'svid.pem')).mode & 0o777, 0o600);
    const leaf = new X509Certificate(readFileSync(join(files, 'svid.pem')));
    const key = createPrivateKey(readFileSync(join(files, 'svid-key.pem')));
    assert.ok(leaf.checkPrivateKey(key));
    const c = shim.current()!;
    assert.equal(leaf.subjectAltName, `URI:${c.sub}`);
    const cnf = (decodeCompact(c.wit).payload.cnf as { jwk: Record<string, unknown> }).jwk;
    assert.notEqual(leaf.publicKey.export({ format: 'jwk' }).x, cnf.x);
    assert.ok(c.x509!.jti);
    assert.notEqual(c.x509!.jti, c.jti);
  });

  it('passes openssl verify, and two parties complete mutual TLS with svid.pem, svid-key.pem and bundle.pem', async (t) => {
    const svid = join(files, 'svid.pem');
    const bundle = join(files, 'bundle.pem');
    if (hasOpenssl()) {
      execFileSync('openssl', ['verify', '-CAfile', bundle, '-untrusted', svid, svid], {
        stdio: 'pipe',
      });
    } else {
      t.diagnostic('openssl is not installed: openssl verify skipped');
    }
    const creds = {
      key: readFileSync(join(files, 'svid-key.pem')),
      cert: readFileSync(svid),
      ca: readFileSync(bundle),
    };
    const server = createTlsServer({ ...creds, requestCert: true, rejectUnauthorized: true }, (s) =>
      s.end(s.authorized ? 'peer ok' : 'peer refused'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = tlsConnect(
          { ...creds, host: '127.0.0.1', port, checkServerIdentity: () => undefined },
          () => {
            if (!socket.authorized) reject(new Error(String(socket.authorizationError)));
          },
        );
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString()));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      assert.equal(answer, 'peer ok');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('serves the key on GET /v1/x509', async () => {
    const { status, body } = await get(socketPath, '/v1/x509');
    assert.equal(status, 200);
    assert.equal(body.svid_key_pem, readFileSync(join(files, 'svid-key.pem'), 'utf8'));
    assert.equal(body.svid_pem, readFileSync(join(files, 'svid.pem'), 'utf8'));
    assert.equal(body.svid_jti, shim.current()!.x509!.jti);
  });

  it("x509() returns the key, and the certificate's own jti beside the WIT's", async () => {
    const { x, c } = await clientX509(shim, socketPath);
    assert.equal(x.keyPem, readFileSync(join(files, 'svid-key.pem'), 'utf8'));
    assert.ok(new X509Certificate(x.chain[0]!).checkPrivateKey(createPrivateKey(x.keyPem!)));
    assert.equal(x.jti, c.x509!.jti);
    assert.equal(certJti(x.chain[0]!), x.jti);
    assert.equal(x.witJti, c.jti);
    assert.notEqual(x.jti, x.witJti);
    assert.equal(x.spiffeId, c.sub);
  });
});

describe('shim without X.509 mode', { timeout: 30_000 }, () => {
  it('answers 404 on GET /v1/x509', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twi-shim-nox509-'));
    const { startLocalApi } = await import('../../shim/local-api.js');
    const key = nativeWorkloadKey();
    const api = await startLocalApi({
      socketPath: join(dir, 's.sock'),
      state: {
        credential: () => undefined,
        bundle: () => undefined,
        key,
        now: () => new Date(),
      },
    });
    try {
      const { status, body } = await get(api.socketPath, '/v1/x509');
      assert.equal(status, 404);
      assert.equal(body.code, 'ERR_SHIM_NOT_FOUND');
      await assert.rejects(
        createShimClient({ socketPath: api.socketPath }).x509(),
        (e: unknown) =>
          e instanceof ShimApiError && e.code === 'ERR_SHIM_NOT_FOUND' && e.status === 404,
      );
    } finally {
      await api.close();
      key.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('x509() of the client against a malformed answer', { timeout: 30_000 }, () => {
  it('is ERR_SHIM_API naming what is missing, and ERR_SHIM_UNREACHABLE without a shim', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twi-shim-x509-bad-'));
    let answer: Record<string, unknown> = {};
    const server = createHttpServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(answer));
    });
    const socketPath = join(dir, 'bad.sock');
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    const client = createShimClient({ socketPath });
    const good = {
      svid_pem: '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n',
      bundle_pem: 'x',
      sub: 'spiffe://a.example/w',
      jti: 'j',
      expires_at: new Date().toISOString(),
      bundle_expires_at: new Date().toISOString(),
    };
    try {
      answer = good;
      assert.equal((await client.x509()).jti, 'j', 'without svid_jti, the WIT jti');
      for (const [change, what] of [
        [{ svid_pem: 'no pem' }, 'svid_pem holds no certificate'],
        [{ svid_pem: undefined }, 'no svid_pem'],
        [{ bundle_pem: 7 }, 'no bundle_pem'],
        [{ sub: undefined }, 'no sub'],
        [{ expires_at: 'soon' }, 'no expires_at'],
      ] as const) {
        answer = { ...good, ...change };
        await assert.rejects(
          client.x509(),
          (e: unknown) =>
            e instanceof ShimApiError && e.code === 'ERR_SHIM_API' && e.message.includes(what),
        );
      }
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await assert.rejects(
      client.x509(),
      (e: unknown) => e instanceof ShimApiError && e.code === 'ERR_SHIM_UNREACHABLE',
    );
    rmSync(dir, { recursive: true, force: true });
  });
});
