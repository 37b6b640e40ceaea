/**
 * `twi serve` over TLS: the development certificate (P-256, localhost SANs, 0600 files in a
 * 0700 directory, reused); the service on HTTPS answers the real curl with that CA, and the
 * discovery document it serves, with an https issuer, passes the ported validator rules; a
 * relying party given only the issuer URL (and the CA) finds the keys and verifies a WIT from a
 * simulated attestation, and refuses a mismatching issuer or an untrusted certificate; the same
 * end to end with `twi serve --dev-tls` and `twi rp verify --issuer --cacert`; with a
 * client CA the admin API needs a verified client certificate and the bearer token; bad TLS
 * files give one-line errors with stable codes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate, type JsonWebKey, type KeyObject } from 'node:crypto';
import { newKeyPair } from '../../common/key-pair.js';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAnchorStore } from '../../endorsements/anchors.js';
import { openSimulatedPki } from '../../simulators/index.js';
import { createService } from '../../service/service.js';
import { openStore } from '../../service/store/open.js';
import { ensureDevTls, issueTlsLeaf } from '../../service/dev-tls.js';
import { createRootCa } from '../../service/ca/issuer.js';
import { toPem } from '../../service/ca/asn1.js';
import { readServiceTls, TlsConfigError } from '../../service/tls.js';
import { discoverIssuer, issuerJwks } from '../../wimse/discovery.js';
import { DiscoveryError } from '../../wimse/errors.js';
import { verifyWit } from '../../wimse/wit.js';
import { signWpt } from '../../wimse/wpt.js';
import { cliPath } from '../helpers/cli.js';
import { evidenceCmw, GENEROUS_LIMITS, NOW, PKI_CREATED, workloadKey } from './harness.js';
import {
  DOCUMENTED_OIDC_DEVIATION,
  OIDC_RULES,
  RFC8414_RULES,
  validateMetadata,
} from './oidc-rules.js';

/** A port that was free a moment ago (the issuer URL must name it before the service listens). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** An HTTPS request trusting `ca` only, optionally with a client certificate. */
function httpsJson(
  url: string,
  o: {
    ca: string;
    method?: string;
    body?: unknown;
    headers?: Record<string, string>;
    cert?: string;
    key?: string;
  },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const data = o.body === undefined ? undefined : JSON.stringify(o.body);
    const req = request(
      url,
      {
        method: o.method ?? 'GET',
        ca: o.ca,
        ...(o.cert && { cert: o.cert, key: o.key }),
        headers: { ...(data && { 'content-type': 'application/json' }), ...o.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({
            status: res.statusCode ?? 0,
            body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
          });
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** Runs a program without blocking the event loop (the service under test is in-process). */
function run(
  cmd: string,
  args: string[],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const mode = (p: string): number => statSync(p).mode & 0o777;

test('the development certificate: P-256, localhost names, private files, reused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-devtls-'));
  try {
    const first = await ensureDevTls(join(dir, 'data'));
    assert.equal(first.created, true);
    assert.equal(mode(first.dir), 0o700);
    for (const f of [first.caFile, first.certFile, first.keyFile]) assert.equal(mode(f), 0o600, f);
    const [leaf] = readFileSync(first.certFile, 'utf8').match(
      /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g,
    )!;
    const cert = new X509Certificate(leaf!);
    const ca = new X509Certificate(readFileSync(first.caFile));
    assert.ok(cert.verify(ca.publicKey));
    assert.equal(cert.ca, false);
    assert.equal(ca.ca, true);
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(
      cert.subjectAltName,
      'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    assert.ok(cert.checkHost('localhost'));
    assert.ok(cert.checkIP('127.0.0.1'));
    assert.ok(cert.checkIP('::1'));
    assert.equal(cert.checkHost('example.org'), undefined);
    const before = readFileSync(first.certFile, 'utf8');
    const again = await ensureDevTls(join(dir, 'data'));
    assert.equal(again.created, false);
    assert.equal(readFileSync(again.certFile, 'utf8'), before);
    // A key that is not the certificate's (in a file left too open): made anew, 0600.
    writeFileSync(
      first.keyFile,
      newKeyPair('ec', { namedCurve: 'P-256' }).privateKey.export({
        format: 'pem',
        type: 'pkcs8',
      }),
    );
    chmodSync(first.keyFile, 0o644);
    const remade = await ensureDevTls(join(dir, 'data'));
    assert.equal(remade.created, true);
    for (const f of [remade.caFile, remade.certFile, remade.keyFile])
      assert.equal(mode(f), 0o600, f);
    assert.notEqual(readFileSync(remade.certFile, 'utf8'), before);
    assert.doesNotThrow(() => readServiceTls({ cert: remade.certFile, key: remade.keyFile }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('HTTPS service: curl, validated discovery, a relying party from the issuer URL', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-tls-'));
  const dev = await ensureDevTls(join(dir, 'data'));
  const caPem = readFileSync(dev.caFile, 'utf8');
  const pki = await openSimulatedPki(join(dir, 'pki'), { seed: 'tls', now: PKI_CREATED });
  const store = await openStore('sqlite:' + join(dir, 'twi.db'));
  const port = await freePort();
  const issuer = `https://127.0.0.1:${port}`;
  const app = await createService({
    store,
    anchors: loadAnchorStore([join(dir, 'pki', 'roots')]),
    issuer,
    trustDomain: 'example.org',
    now: () => NOW,
    logLevel: 'silent',
    limits: GENEROUS_LIMITS,
    tls: readServiceTls({ cert: dev.certFile, key: dev.keyFile }),
  });
  try {
    await app.listen({ host: '127.0.0.1', port });
    await test('curl --cacert <dev CA> fetches the discovery document', async (t) => {
      const curl = spawnSync('curl', ['--version'], { encoding: 'utf8' });
      if (curl.error) {
        t.skip('curl is not installed');
        return;
      }
      const r = await run('curl', [
        '-sS',
        '--fail',
        '--cacert',
        dev.caFile,
        `${issuer}/.well-known/openid-configuration`,
      ]);
      assert.equal(r.status, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as Record<string, unknown>;
      assert.equal(doc.issuer, issuer);
      assert.deepEqual(validateMetadata(doc, RFC8414_RULES), {});
      assert.deepEqual(validateMetadata(doc, OIDC_RULES), DOCUMENTED_OIDC_DEVIATION);
      // Without the CA, curl refuses the certificate.
      const untrusted = await run('curl', ['-sS', '--fail', `${issuer}/healthz`]);
      assert.notEqual(untrusted.status, 0);
    });
    // A WIT from a simulated TDX attestation over HTTPS.
    const key = workloadKey();
    const { body: c } = await httpsJson(`${issuer}/v1/challenge`, { ca: caPem, method: 'POST' });
    const nonce = c.nonce as string;
    const attested = await httpsJson(`${issuer}/v1/attest`, {
      ca: caPem,
      method: 'POST',
      body: { nonce, evidence: evidenceCmw(pki, 'tdx', nonce, key), key: key.jwk },
    });
    assert.equal(attested.status, 200, JSON.stringify(attested.body));
    const wit = attested.body.wit as string;

    const md = await discoverIssuer(issuer, { ca: caPem });
    assert.equal(md.jwks_uri, `${issuer}/.well-known/jwks.json`);
    const verified = await verifyWit(wit, { jwks: issuerJwks(issuer, { ca: caPem }), now: NOW });
    assert.equal(verified.trustDomain, 'example.org');
    assert.match(verified.claims.sub, /^spiffe:\/\/example\.org\//);

    await assert.rejects(
      discoverIssuer(`https://localhost:${port}`, { ca: caPem }),
      (err: unknown) => {
        assert.ok(err instanceof DiscoveryError);
        assert.equal(err.code, 'ERR_DISCOVERY_ISSUER');
        return true;
      },
    );
    await assert.rejects(discoverIssuer(issuer), { code: 'ERR_DISCOVERY_FETCH' });
    await assert.rejects(discoverIssuer('http://verifier.example'), { code: 'ERR_DISCOVERY_URL' });
    await assert.rejects(discoverIssuer(`${issuer}/?x=1`), { code: 'ERR_DISCOVERY_URL' });
    await assert.rejects(verifyWit(wit, { jwks: issuerJwks(issuer), now: NOW }), {
      code: 'ERR_JWKS_UNAVAILABLE',
    });
  } finally {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function clientCert(
  ca: Awaited<ReturnType<typeof createRootCa>>,
): Promise<{ cert: string; key: string }> {
  const leaf = await issueTlsLeaf(ca, {
    commonName: 'operator',
    names: ['operator.example'],
    usage: 'client',
  });
  return {
    cert: toPem('CERTIFICATE', leaf.certificate),
    key: (leaf.privateKey as KeyObject).export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

test('--tls-client-ca: the admin API needs a verified client certificate and the token', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-mtls-admin-'));
  const dev = await ensureDevTls(join(dir, 'data'));
  const caPem = readFileSync(dev.caFile, 'utf8');
  const operators = await createRootCa({ commonName: 'operators' });
  const strangers = await createRootCa({ commonName: 'strangers' });
  writeFileSync(join(dir, 'clients.pem'), toPem('CERTIFICATE', operators.certificate));
  const good = await clientCert(operators);
  const bad = await clientCert(strangers);
  const store = await openStore('sqlite:' + join(dir, 'twi.db'));
  const app = await createService({
    store,
    anchors: loadAnchorStore([]),
    issuer: 'https://127.0.0.1',
    trustDomain: 'example.org',
    logLevel: 'silent',
    limits: GENEROUS_LIMITS,
    adminToken: 'sesame',
    tls: readServiceTls({
      cert: dev.certFile,
      key: dev.keyFile,
      clientCa: join(dir, 'clients.pem'),
    }),
  });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    const base = `https://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    const auth = { authorization: 'Bearer sesame' };
    const rotate = `${base}/v1/admin/keys/rotate`;
    const none = await httpsJson(rotate, { ca: caPem, method: 'POST', headers: auth });
    assert.equal(none.status, 403);
    assert.equal(none.body.code, 'ERR_ADMIN_CLIENT_CERT');
    const stranger = await httpsJson(rotate, { ca: caPem, method: 'POST', headers: auth, ...bad });
    assert.equal(stranger.status, 403);
    assert.equal(stranger.body.code, 'ERR_ADMIN_CLIENT_CERT');
    const revoke = await httpsJson(`${base}/v1/revoke`, {
      ca: caPem,
      method: 'POST',
      headers: auth,
      body: {},
    });
    assert.equal(revoke.body.code, 'ERR_ADMIN_CLIENT_CERT');
    const noToken = await httpsJson(rotate, { ca: caPem, method: 'POST', ...good });
    assert.equal(noToken.status, 401);
    assert.equal(noToken.body.code, 'ERR_ADMIN_UNAUTHENTICATED');
    const ok = await httpsJson(rotate, { ca: caPem, method: 'POST', headers: auth, ...good });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    // Public routes stay open to clients without a certificate.
    assert.equal((await httpsJson(`${base}/.well-known/jwks.json`, { ca: caPem })).status, 200);
  } finally {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad TLS files: one-line errors with stable codes, from the library and from twi serve', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-tls-bad-'));
  try {
    const a = await ensureDevTls(join(dir, 'a'));
    const b = await ensureDevTls(join(dir, 'b'));
    writeFileSync(join(dir, 'junk.pem'), 'not a certificate\n');
    const cases: [string[], string, RegExp][] = [
      [
        ['--tls-cert', join(dir, 'missing.pem'), '--tls-key', a.keyFile],
        'ERR_TLS_FILE',
        /missing\.pem: ENOENT/,
      ],
      [
        ['--tls-cert', a.certFile, '--tls-key', b.keyFile],
        'ERR_TLS_KEY_MISMATCH',
        /is not the private key/,
      ],
      [
        ['--tls-cert', join(dir, 'junk.pem'), '--tls-key', a.keyFile],
        'ERR_TLS_INVALID',
        /no PEM certificate/,
      ],
      [
        ['--tls-cert', a.certFile, '--tls-key', join(dir, 'junk.pem')],
        'ERR_TLS_INVALID',
        /not a PEM private key/,
      ],
      [['--tls-cert', a.certFile], 'ERR_USAGE', /--tls-cert and --tls-key go together/],
    ];
    for (const [args, code, message] of cases) {
      const i = args.indexOf('--tls-key');
      if (i >= 0) {
        // The library gives the same error as the command.
        assert.throws(
          () => readServiceTls({ cert: args[1]!, key: args[i + 1]! }),
          (err: unknown) =>
            err instanceof TlsConfigError && err.code === code && message.test(err.message),
        );
      }
      const r = spawnSync(
        process.execPath,
        [cliPath, 'serve', '--port', '0', '--data', join(dir, 'd'), ...args],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      assert.equal(r.status, 3, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, new RegExp(`^twi: ${code}: `));
      assert.match(lines[0]!, message);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('twi serve --dev-tls listens on https, names the CA, and twi rp verify --issuer accepts its WIT', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-serve-devtls-'));
  const pki = await openSimulatedPki(join(dir, 'pki'), { seed: 'tls-cli' });
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      cliPath,
      'serve',
      '--dev-tls',
      '--port',
      String(port),
      '--data',
      join(dir, 'data'),
      '--trust-anchors',
      join(dir, 'pki', 'roots'),
      '--trust-domain',
      'example.org',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    const { url, ca } = await new Promise<{ url: string; ca: string }>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 60_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /twi: verifier listening on (https:\/\/127\.0\.0\.1:\d+)/.exec(out);
        const c = /trust (\S+) \(curl --cacert \1\)/.exec(out);
        if (m && c) {
          clearTimeout(timer);
          resolve({ url: m[1]!, ca: c[1]! });
        }
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    assert.equal(url, `https://127.0.0.1:${port}`);
    assert.equal(ca, join(dir, 'data', 'dev-tls', 'ca.pem'));
    const caPem = readFileSync(ca, 'utf8');
    const doc = await httpsJson(`${url}/.well-known/openid-configuration`, { ca: caPem });
    assert.equal(doc.body.issuer, url);
    assert.deepEqual(validateMetadata(doc.body, RFC8414_RULES), {});

    // A workload attests (simulated SEV-SNP: its evidence carries no dated collateral, so
    // the service's real clock suits it) and signs a WPT with its key.
    const { privateKey, publicKey } = newKeyPair('ec', { namedCurve: 'P-256' });
    const key = {
      jwk: { ...(publicKey.export({ format: 'jwk' }) as JsonWebKey), alg: 'ES256' },
      spki: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })),
    };
    const { body: c } = await httpsJson(`${url}/v1/challenge`, { ca: caPem, method: 'POST' });
    const nonce = c.nonce as string;
    const attested = await httpsJson(`${url}/v1/attest`, {
      ca: caPem,
      method: 'POST',
      body: { nonce, evidence: evidenceCmw(pki, 'sev-snp', nonce, key), key: key.jwk },
    });
    assert.equal(attested.status, 200, JSON.stringify(attested.body));
    const wit = attested.body.wit as string;
    const aud = 'https://rp.example/api';
    const wpt = await signWpt({ wit, key: privateKey, alg: 'ES256', aud, now: new Date() });
    const rp = (
      extra: string[],
    ): Promise<{ status: number | null; stdout: string; stderr: string }> =>
      run(process.execPath, [
        cliPath,
        'rp',
        'verify',
        '--wit',
        wit,
        '--wpt',
        wpt,
        '--aud',
        aud,
        '--json',
        ...extra,
      ]);
    const accepted = await rp(['--issuer', url, '--cacert', ca]);
    assert.equal(accepted.status, 0, accepted.stdout + accepted.stderr);
    const result = JSON.parse(accepted.stdout) as { accepted: boolean; trust_domain: string };
    assert.equal(result.accepted, true);
    assert.equal(result.trust_domain, 'example.org');
    // Without --cacert the issuer's certificate is not trusted: one line, exit 3.
    const untrusted = await rp(['--issuer', url]);
    assert.equal(untrusted.status, 3);
    assert.match(untrusted.stderr, /^twi: ERR_DISCOVERY_FETCH: [^\n]*\n$/);
    // The issuer must be the one the metadata names, exactly.
    const other = await rp(['--issuer', `https://localhost:${port}`, '--cacert', ca]);
    assert.equal(other.status, 3);
    assert.match(other.stderr, /^twi: ERR_DISCOVERY_ISSUER: /);
    // With --jwks too, the keys come from --jwks (here not a key set: refused as such) and
    // --cacert, which only serves discovery, is refused.
    const both = await rp(['--issuer', url, '--jwks', ca]);
    assert.equal(both.status, 3);
    assert.match(both.stderr, /^twi: ERR_INPUT_FILE: [^\n]*not JSON\n$/);
    const cacertWithJwks = await rp(['--issuer', url, '--jwks', ca, '--cacert', ca]);
    assert.equal(cacertWithJwks.status, 3);
    assert.match(cacertWithJwks.stderr, /--cacert goes with --issuer \(and no --jwks\)/);
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
});
