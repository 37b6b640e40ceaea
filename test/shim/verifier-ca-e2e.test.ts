/**
 * `twi shim --verifier-ca`: against the verifier service over HTTPS with the `twi serve
 * --dev-tls` certificate, `twi shim --emulate nitro --verifier-ca ca.pem` obtains a WIT (the
 * challenge and attest calls, the bundle stream and the first bundle all go through the private
 * CA), and so does `verifierCa:` in a configuration file; without it (and without
 * NODE_EXTRA_CA_CERTS) every attempt fails with ERR_SHIM_VERIFIER_UNAVAILABLE and no
 * credential is served. A missing, non-PEM or unparsable CA file stops the shim at start with a
 * one-line ERR_SHIM_CONFIG naming the file.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ensureDevTls, type DevTlsFiles } from '../../service/dev-tls.js';
import { readServiceTls } from '../../service/tls.js';
import { loadShimConfig, loadVerifierCa } from '../../shim/config.js';
import { ShimError } from '../../shim/errors.js';
import { createShimClient } from '../../shim/client.js';
import { decodeCompact } from '../../wimse/jws.js';
import { startShimProcess, startVerifier, TWI_CLI, waitForCredential } from './setup.js';
import type { TestVerifier } from './setup.js';

/** The environment without NODE_EXTRA_CA_CERTS (so only --verifier-ca can make the CA trusted). */
function cleanEnv(): Record<string, string> {
  const env = { ...process.env } as Record<string, string>;
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

describe('twi shim --verifier-ca against an https verifier', { timeout: 240_000 }, () => {
  let verifier: TestVerifier;
  let dev: DevTlsFiles;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twi-shim-ca-'));
    dev = await ensureDevTls(join(dir, 'data'));
    verifier = await startVerifier({
      seed: 'shim-ca',
      tls: readServiceTls({ cert: dev.certFile, key: dev.keyFile }),
    });
  });
  after(async () => {
    await verifier.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('with --verifier-ca the shim obtains a WIT over https', async () => {
    assert.match(verifier.base, /^https:\/\/127\.0\.0\.1:\d+$/);
    const shim = startShimProcess({
      platform: 'nitro',
      verifier,
      dir,
      name: 'trusted',
      flags: ['--verifier-ca', dev.caFile],
      env: cleanEnv(),
    });
    try {
      await waitForCredential(shim);
      const { token, sub } = await createShimClient({ socketPath: shim.socket }).wit();
      assert.equal((decodeCompact(token).payload as { sub: string }).sub, sub);
      assert.match(sub, /^spiffe:\/\/shim\.example\/nitro\/m\/[0-9a-f]{32}$/);
      // The bundle came over the same TLS (watch or first fetch): the files hold it.
      const bundle = JSON.parse(readFileSync(join(shim.files, 'bundle.json'), 'utf8')) as {
        bundle: { keys: unknown[] };
      };
      assert.ok(bundle.bundle.keys.length >= 1);
      assert.doesNotMatch(shim.stderr(), /attestation failed/);
    } finally {
      assert.equal(await shim.stop(), 0, shim.stderr());
    }
  });

  it('verifierCa in shim.yaml does the same', async () => {
    const config = join(dir, 'shim.yaml');
    writeFileSync(config, `verifierCa: ${JSON.stringify(dev.caFile)}\n`);
    assert.deepEqual(loadShimConfig(config), { verifierCa: dev.caFile });
    const shim = startShimProcess({
      platform: 'nitro',
      verifier,
      dir,
      name: 'yaml',
      flags: ['--config', config],
      env: cleanEnv(),
    });
    try {
      await waitForCredential(shim);
    } finally {
      assert.equal(await shim.stop(), 0, shim.stderr());
    }
  });

  it('without it the certificate is not trusted: ERR_SHIM_VERIFIER_UNAVAILABLE, no WIT', async () => {
    const shim = startShimProcess({
      platform: 'nitro',
      verifier,
      dir,
      name: 'untrusted',
      retryMaxMs: 200,
      env: cleanEnv(),
    });
    try {
      const until = Date.now() + 60_000;
      while (Date.now() < until && !/attestation failed/.test(shim.stderr())) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(
        shim.stderr(),
        /attestation failed \(ERR_SHIM_VERIFIER_UNAVAILABLE: verifier https:\/\/127\.0\.0\.1:\d+ unreachable\)/,
      );
      await assert.rejects(createShimClient({ socketPath: shim.socket }).wit());
    } finally {
      await shim.stop();
    }
  });

  it('a missing, non-PEM or unparsable CA file: one-line ERR_SHIM_CONFIG naming it', async () => {
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    const broken = join(dir, 'broken.pem');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    const missing = join(dir, 'missing.pem');
    for (const [file, why] of [
      [missing, /ENOENT/],
      [junk, /no PEM CERTIFICATE/],
      [broken, /does not parse/],
    ] as const) {
      assert.throws(
        () => loadVerifierCa(file),
        (e: unknown) => e instanceof ShimError && e.code === 'ERR_SHIM_CONFIG',
      );
      for (const emulate of [[], ['--emulate', 'nitro', '--pki', verifier.pkiDir]]) {
        const r = await promisify(execFile)(
          process.execPath,
          [TWI_CLI, 'shim', '--verifier', verifier.base, '--verifier-ca', file, ...emulate],
          { encoding: 'utf8', env: cleanEnv() },
        ).then(
          (x) => ({ code: 0, stderr: x.stderr }),
          (e: { code: number; stderr: string }) => e,
        );
        assert.equal(r.code, 3, r.stderr);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.match(r.stderr, /ERR_SHIM_CONFIG/);
        assert.ok(r.stderr.includes(file), r.stderr);
        assert.match(r.stderr, why);
      }
    }
    assert.equal(loadVerifierCa(dev.caFile).length, 1);
  });
});
