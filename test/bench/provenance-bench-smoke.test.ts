/**
 * Smoke test of the transparency-log part of `npm run bench`: `--quick --suite provenance`
 * runs in seconds and writes results of the documented shape with positive rates (speed is
 * not asserted; the full run is what docs/provenance.md reports).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { PairRate, ProvenanceBenchResults } from './provenance-bench.js';

const run = join(dirname(fileURLToPath(import.meta.url)), 'run.js');

function assertPair(p: PairRate, what: string): void {
  assert.ok(p.opsPerSec > 0 && Number.isFinite(p.opsPerSec), `${what} rate`);
  assert.ok(p.referencePerSec > 0, `${what} reference`);
  assert.ok(Math.abs(p.ratio - p.opsPerSec / p.referencePerSec) < 1e-9, `${what} ratio`);
}

test(
  'bench --quick --suite provenance writes log throughput of the expected shape',
  { timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twi-prov-bench-smoke-'));
    try {
      const json = join(dir, 'out.json');
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [run, '--quick', '--suite', 'provenance', '--json', json],
        { timeout: 110_000 },
      );
      assert.match(stdout, /Transparency log/);
      const res = JSON.parse(readFileSync(json, 'utf8')) as {
        mode: string;
        provenance: ProvenanceBenchResults;
      };
      assert.equal(res.mode, 'quick');
      const p = res.provenance;
      assert.ok(p.stores.some((s) => s.store === 'sqlite'));
      assert.equal(p.stores.length + p.skipped.length, 2, 'postgres run or skipped with a reason');
      for (const s of p.stores) {
        assert.ok(s.records >= p.plan.records, `${s.store} records`);
        assert.ok(s.proofLength > 0);
        for (const k of [
          'batchedAppends',
          'singleAppends',
          'inclusionProofs',
          'consistencyProofs',
        ] as const)
          assertPair(s[k], `${s.store} ${k}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
