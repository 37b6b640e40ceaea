import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliPath } from '../helpers/cli.js';
import { openSimulatedPki } from '../../simulators/index.js';
import { startCollateralServer } from '../../simulators/servers/collateral-server.js';

const run = promisify(execFile);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [cliPath, ...args], { timeout: 180_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('twi verify --pcs-url/--kds-url/--cache fetches collateral, then --offline works from the cache', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-verify-provider-'));
  const at = '2026-06-01T12:00:00Z';
  try {
    const pkiDir = join(dir, 'pki');
    const pki = await openSimulatedPki(pkiDir, { seed: 'cli-provider', now: new Date(at) });
    const server = await startCollateralServer({ pki, now: () => new Date(at) });
    const cache = join(dir, 'cache');
    const roots = ['--trust-anchors', join(pkiDir, 'roots'), '--at', at, '--json'];
    try {
      for (const platform of ['tdx', 'sev-snp']) {
        const out = join(dir, `${platform}.bin`);
        const sim = await cli(['simulate', platform, '--out', out, '--pki', pkiDir, '--at', at]);
        assert.equal(sim.code, 0, sim.stderr);
        const r = await cli([
          'verify',
          out,
          ...roots,
          '--pcs-url',
          server.url,
          '--kds-url',
          server.url,
          '--cache',
          cache,
        ]);
        assert.equal(r.code, 0, r.stderr + r.stdout);
        const json = JSON.parse(r.stdout) as {
          status: string;
          endorsements: object;
          endorsements_used: { source: string; sha256: string }[];
        };
        assert.equal(json.status, 'affirming');
        assert.deepEqual(
          json.endorsements,
          {},
          'files beside the evidence are not used with a provider',
        );
        assert.ok(json.endorsements_used.length >= 2);
        assert.ok(json.endorsements_used.every((e) => /^[0-9a-f]{64}$/.test(e.sha256)));
      }
    } finally {
      await server.close();
    }
    const offline = await cli([
      'verify',
      join(dir, 'tdx.bin'),
      ...roots,
      '--offline',
      '--cache',
      cache,
    ]);
    assert.equal(offline.code, 0, offline.stderr + offline.stdout);
    const used = (JSON.parse(offline.stdout) as { endorsements_used: { source: string }[] })
      .endorsements_used;
    assert.ok(used.every((e) => e.source === 'cache'));

    const empty = await cli([
      'verify',
      join(dir, 'tdx.bin'),
      ...roots,
      '--offline',
      '--cache',
      join(dir, 'none'),
    ]);
    assert.equal(empty.code, 3);
    assert.match(empty.stderr, /ERR_ENDORSEMENT_UNAVAILABLE/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
