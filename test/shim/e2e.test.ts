/**
 * End to end: the verifier service on loopback, then `twi shim --emulate P` (real native addon
 * under the device emulator) with a small workload child that calls a relying party through
 * the client library. The relying party accepts the call and refuses a replayed WPT, a WPT
 * for another audience and a WIT without a WPT.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeCompact } from '../../wimse/jws.js';
import { startRp, startShimProcess, startVerifier, WORKLOAD } from './setup.js';
import type { TestRp, TestVerifier } from './setup.js';

const PLATFORMS = ['tdx', 'sev-snp', 'nitro'] as const;

describe('twi shim end to end under device emulation', () => {
  let verifier: TestVerifier;
  let rp: TestRp;
  let dir: string;
  before(async () => {
    verifier = await startVerifier({ seed: 'shim-e2e' });
    rp = await startRp(verifier.base);
    dir = mkdtempSync(join(tmpdir(), 'twi-shim-e2e-'));
  });
  after(async () => {
    await rp.close();
    await verifier.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const platform of PLATFORMS) {
    it(`${platform}: the workload child's calls are accepted, forgeries refused`, async () => {
      const shim = startShimProcess({
        platform,
        verifier,
        dir,
        command: [process.execPath, WORKLOAD],
        env: { RP_URL: rp.audience },
      });
      const status = await shim.exited;
      const out = shim.stderr();
      assert.equal(status, 0, out);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      assert.ok(line, out);
      const r = JSON.parse(line) as Record<string, unknown>;
      assert.match(
        String(r.accepted),
        new RegExp(`^spiffe://shim\\.example/${platform}/m/[0-9a-f]{32}$`),
      );
      assert.equal(r.replayed, '400 ERR_WPT_REPLAY');
      assert.equal(r.otherAudience, '400 ERR_WPT_AUDIENCE');
      assert.equal(r.witOnly, '400 ERR_WPT_MISSING');
      // The child got WIMSE_WIT and the socket, and no emulator preload.
      assert.equal(r.envWit, true);
      assert.equal(r.socket, shim.socket);
      assert.equal(r.preload, null);
      // Files: the WIT names the workload, its cnf key is a public JWK only.
      const wit = readFileSync(join(shim.files, 'wit.jwt'), 'utf8').trim();
      const claims = decodeCompact(wit).payload as {
        sub: string;
        cnf: { jwk: Record<string, unknown> };
      };
      assert.equal(claims.sub, r.accepted);
      assert.deepEqual(Object.keys(claims.cnf.jwk).sort(), ['alg', 'crv', 'kty', 'x', 'y']);
      assert.equal(statSync(join(shim.files, 'wit.jwt')).mode & 0o777, 0o600);
      assert.equal(statSync(join(shim.files, 'ear.jwt')).mode & 0o777, 0o600);
      assert.equal(statSync(shim.files).mode & 0o777, 0o700);
      const bundle = JSON.parse(readFileSync(join(shim.files, 'bundle.json'), 'utf8')) as {
        bundle: { keys: unknown[] };
        expires_at: string;
      };
      assert.ok(bundle.bundle.keys.length >= 1);
      assert.ok(!Number.isNaN(Date.parse(bundle.expires_at)));
      const measured = /measured (\d+) files: sha384 ([0-9a-f]{96})( → rtmr3)?/.exec(out);
      assert.ok(measured, out);
      assert.equal(measured[3] !== undefined, platform === 'tdx');
    });
  }
});
