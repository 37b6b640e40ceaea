/**
 * Smoke test of `npm run bench`: the harness runs in `--quick` mode for one platform and
 * writes JSON of the documented shape with positive rates. Speed is not asserted (the
 * machine may be shared); that is what the full run and docs/benchmarks.md are for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BenchResults } from './report.js';
import type { AgentBenchResults } from './agent-bench.js';
import type { ShimBenchResults } from './shim-bench.js';

const run = join(dirname(fileURLToPath(import.meta.url)), 'run.js');

function assertRate(rate: { opsPerSec: number; rounds: readonly number[] }, what: string): void {
  assert.ok(Number.isFinite(rate.opsPerSec) && rate.opsPerSec > 0, `${what}: ${rate.opsPerSec}`);
  assert.ok(rate.rounds.length > 0 && rate.rounds.every((r) => r > 0), `${what} rounds`);
}

test(
  'bench --quick --platform nitro writes results of the expected shape',
  { timeout: 180_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twi-bench-smoke-'));
    try {
      const json = join(dir, 'out.json');
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [run, '--quick', '--platform', 'nitro', '--workers', '1', '--json', json],
        { timeout: 170_000 },
      );
      assert.match(stdout, /Single core/);
      assert.match(stdout, /Targets/);
      const res = JSON.parse(readFileSync(json, 'utf8')) as BenchResults;
      assert.equal(res.schema, 'twi-bench/1');
      assert.equal(res.mode, 'quick');
      assert.ok(res.machine.cores > 0);
      assert.match(res.machine.node, /^v\d+/);
      assert.equal(res.machine.loadAverageAtStart.length, 3);
      assert.equal(res.method.statistic, 'median');
      assert.equal(res.method.workers, 1);
      assert.ok(res.rows.length >= 1, 'at least the simulated sample');
      assert.ok(res.rows.some((r) => r.source === 'simulated'));
      for (const row of res.rows) {
        assert.equal(row.platform, 'nitro');
        assert.equal(row.curve, 'P-384');
        assert.ok(row.signedBytes > 0);
        assertRate(row.singleCore.twi, `${row.sample} twi`);
        assertRate(row.singleCore.twiVerifyOnly, `${row.sample} verify-only`);
        assertRate(row.singleCore.floor, `${row.sample} floor`);
        assert.ok(row.allCores, `${row.sample} all cores`);
        assert.equal(row.allCores.workers, 1);
        assertRate(row.allCores.twi, `${row.sample} all-cores twi`);
        assertRate(row.allCores.floor, `${row.sample} all-cores floor`);
        assert.ok(row.ratios && row.ratios.twiToFloor > 0, `${row.sample} ratios`);
        for (const p of row.peers) {
          assert.ok(['ok', 'rejected', 'unsupported', 'unavailable'].includes(p.status), p.status);
          if (p.status === 'ok') assertRate(p.rate!, `${row.sample} ${p.peer}`);
          else assert.ok(p.note.length > 0, `${p.peer} says why`);
        }
      }
      const t = res.targets.perPlatform.nitro;
      assert.ok(t, 'nitro targets judged');
      assert.ok(t.minFloorRatio > 0);
      assert.equal(typeof t.floorTargetMet, 'boolean');
      assert.ok(res.peers.every((p) => p.platform === 'nitro'));
      const flow = res.attestFlow;
      assert.ok(flow, 'the attest flow is part of the bench');
      assert.match(stdout, /Attest flow/);
      assert.ok(flow.core.perSecond > 0 && flow.core.operations > 0);
      assert.ok(flow.service.successes > 0, 'some attestations succeeded');
      assert.equal(flow.service.ok, true, 'no error, no double accept, ledger = successes');
      assert.ok(
        flow.service.attestMs.p50 > 0 && flow.service.attestMs.p99 >= flow.service.attestMs.p50,
      );
      assert.ok(flow.ratio > 0);
      assert.equal(
        flow.ratio,
        Math.round((flow.service.requestsPerSecond / flow.core.perSecond) * 1000) / 1000,
      );
      // The shim part: one start under emulation, WPTs through the socket, both references.
      const shim = (res as BenchResults & { shim?: ShimBenchResults }).shim;
      assert.ok(shim, 'shim figures');
      assert.deepEqual(
        shim.rows.map((r) => r.platform),
        ['nitro'],
      );
      for (const r of shim.rows) {
        assert.ok(r.medianStartMs > 0 && r.medianAttestMs > 0 && r.startToAttestRatio > 0);
        assert.ok(r.wptSocketPerSec > 0 && r.wptInProcessPerSec > 0 && r.wptRatio > 0);
        assert.ok(r.jwtSvidPerSec > 0 && r.httpWitPerSec > 0 && r.jwtSvidRatio > 0);
        assert.equal(r.jwtSvidRounds.length, shim.wptRounds);
      }
      assert.match(stdout, /start → credential/);
      // Agent mode: N = 2 callers under distinct uids (TDX), or the reason it was skipped.
      const agent = (res as BenchResults & { agent?: AgentBenchResults }).agent;
      assert.ok(agent, 'agent figures');
      assert.match(stdout, /Agent mode \(tdx/);
      if (process.getuid?.() !== 0) {
        assert.match(agent.skipped ?? '', /root/);
        assert.equal(agent.rows.length, 0);
      } else {
        assert.equal(agent.skipped, undefined);
        assert.equal(agent.verifierSerialMs.length, 1);
        assert.ok(agent.verifierSerialPerSec > 0, 'the reference');
        assert.deepEqual(
          agent.rows.map((r) => r.workloads),
          [2],
        );
        for (const r of agent.rows) {
          assert.ok(r.firstRoundMs > 0 && r.cachedRoundMs > 0, 'both rounds timed');
          // null when the cached round was not faster (a loaded machine); positive otherwise.
          assert.ok(
            r.credentialsPerSec === null || (r.credentialsPerSec > 0 && (r.ratio ?? 0) > 0),
          );
          assert.ok(r.verifierAttestMs > 0);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
