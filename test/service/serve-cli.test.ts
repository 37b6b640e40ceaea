/**
 * `twi serve` as a process: it listens on loopback with an SQLite store and stops on SIGTERM;
 * `--ca-cert`/`--ca-key` issue under the operator CA; `--builder-keys` with a Sigstore identity
 * needs `--sigstore-trusted-root`, and with it a real Sigstore bundle is accepted by the admin
 * API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath } from '../helpers/cli.js';
import { projectRoot } from '../helpers/vectors.js';
import { createRootCa } from '../../service/ca/issuer.js';
import { toPem } from '../../service/ca/asn1.js';

test('twi serve (what npm run start:http runs; npm start adds --dev-tls, tls.test.ts) listens on loopback with an SQLite store and stops on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-serve-'));
  const child = spawn(
    process.execPath,
    [cliPath, 'serve', '--port', '0', '--data', join(dir, 'data')],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 30_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /twi: verifier listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    const challenge = await fetch(`${url}/v1/challenge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(challenge.status, 200);
    const { nonce } = (await challenge.json()) as { nonce: string };
    assert.equal(Buffer.from(nonce, 'base64url').length, 32);
    const missing = await fetch(`${url}/nope`);
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.ok(existsSync(join(dir, 'data', 'twi.db')));
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Starts `twi serve` with `args`; resolves with its URL, or rejects with its exit and output. */
function serve(args: string[]): { url: Promise<string>; child: ReturnType<typeof spawn> } {
  const child = spawn(process.execPath, [cliPath, 'serve', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 30_000);
    const take = (chunk: Buffer): void => {
      out += chunk.toString();
      const m = /twi: verifier listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code}: ${out}`));
    });
  });
  return { url, child };
}

test('twi serve --ca-cert/--ca-key issues under the operator CA and serves it at /v1/bundle.pem', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-serve-ca-'));
  const ca = await createRootCa({ commonName: 'operator CA' });
  const certPem = toPem('CERTIFICATE', ca.certificate);
  writeFileSync(join(dir, 'ca.pem'), certPem);
  writeFileSync(
    join(dir, 'ca.key'),
    ca.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    { mode: 0o600 },
  );
  const half = serve(['--data', join(dir, 'd1'), '--ca-cert', join(dir, 'ca.pem')]);
  await assert.rejects(half.url, /--ca-cert and --ca-key go together/);
  const { url, child } = serve([
    '--data',
    join(dir, 'data'),
    '--ca-cert',
    join(dir, 'ca.pem'),
    '--ca-key',
    join(dir, 'ca.key'),
    '--cert-lifetime',
    '600',
  ]);
  try {
    const base = await url;
    const r = await fetch(`${base}/v1/bundle.pem`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), certPem);
    const bundle = (await (await fetch(`${base}/v1/bundle`)).json()) as {
      keys: { use: string; x5c?: string[] }[];
    };
    const x509 = bundle.keys.filter((k) => k.use === 'x509-svid');
    assert.deepEqual(
      x509.map((k) => k.x5c),
      [[Buffer.from(ca.certificate).toString('base64')]],
    );
  } finally {
    child.kill('SIGKILL');
    half.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('twi serve --builder-keys with a Sigstore identity needs --sigstore-trusted-root; a real bundle is then accepted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-serve-sigstore-'));
  const fixtures = join(projectRoot, 'test', 'fixtures', 'sigstore');
  const builders = [
    {
      builder_ids: ['https://github.com/actions/runner'],
      sigstore: {
        issuer: 'https://token.actions.githubusercontent.com',
        subject:
          'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
      },
    },
  ];
  writeFileSync(join(dir, 'builders.json'), JSON.stringify(builders));
  writeFileSync(join(dir, 'token'), 'serve-sigstore-token-0123456789', { mode: 0o600 });
  const common = ['--builder-keys', join(dir, 'builders.json')];
  const half = serve(['--data', join(dir, 'd1'), ...common]);
  await assert.rejects(half.url, /Sigstore identities need a Sigstore trusted root/);
  const { url, child } = serve([
    '--data',
    join(dir, 'data'),
    '--admin-token-file',
    join(dir, 'token'),
    ...common,
    '--sigstore-trusted-root',
    join(fixtures, 'trusted_root.json'),
  ]);
  try {
    const base = await url;
    const r = await fetch(`${base}/v1/admin/provenance`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer serve-sigstore-token-0123456789',
      },
      body: readFileSync(join(fixtures, 'bundle-provenance.json')),
    });
    const body = (await r.json()) as Record<string, unknown>;
    assert.equal(r.status, 201, JSON.stringify(body));
    assert.equal(body.source_commit, 'dae8bd8eb433a4147b4655c00fe73e0f22bc0fb1');
  } finally {
    child.kill('SIGKILL');
    half.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
