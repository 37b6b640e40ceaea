/**
 * `twi shim --x509` under device emulation, for TDX, SEV-SNP and Nitro: the native device code
 * produces the evidence, the service issues a workload certificate for the key bound in it,
 * and the shim writes `svid.pem` and `bundle.pem`, which `openssl verify` accepts; the
 * leaf's URI SAN is the WIT's `sub`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startShimProcess, startVerifier, waitForCredential } from './setup.js';
import type { TestVerifier } from './setup.js';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

async function waitForFile(path: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > until) throw new Error(`${path} did not appear`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function witSub(files: string): string {
  const [, payload] = readFileSync(join(files, 'wit.jwt'), 'utf8').trim().split('.');
  return (JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as { sub: string }).sub;
}

describe('twi shim --x509 under device emulation', { timeout: 300_000 }, () => {
  let verifier: TestVerifier;
  let dir: string;
  before(async () => {
    verifier = await startVerifier({ seed: 'shim-x509-cli' });
    dir = mkdtempSync(join(tmpdir(), 'twi-shim-x509-cli-'));
  });
  after(async () => {
    await verifier?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const platform of ['tdx', 'sev-snp', 'nitro'] as const) {
    it(`${platform}: svid.pem and bundle.pem, accepted by openssl verify`, async (t) => {
      const shim = startShimProcess({ platform, verifier, dir, flags: ['--x509'] });
      try {
        await waitForCredential(shim);
        const svid = join(shim.files, 'svid.pem');
        const bundle = join(shim.files, 'bundle.pem');
        await waitForFile(svid);
        await waitForFile(bundle);
        assert.equal(existsSync(join(shim.files, 'svid-key.pem')), false, 'the TEE key stays');
        assert.equal(statSync(svid).mode & 0o777, 0o600, 'svid.pem is owner-only');
        assert.equal(statSync(shim.files).mode & 0o777, 0o700, 'in an owner-only directory');
        const leaf = new X509Certificate(readFileSync(svid));
        assert.equal(leaf.subjectAltName, `URI:${witSub(shim.files)}`);
        assert.equal(leaf.ca, false);
        if (!hasOpenssl()) return t.skip('openssl is not installed');
        const out = execFileSync('openssl', ['verify', '-CAfile', bundle, svid], {
          stdio: 'pipe',
        }).toString();
        assert.match(out, /: OK/);
      } finally {
        assert.equal(await shim.stop(), 0, shim.stderr());
      }
    });
  }
});
