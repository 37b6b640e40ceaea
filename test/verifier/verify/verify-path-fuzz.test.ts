/**
 * Property test of the whole verify path (issue 12 item 4): mutated evidence and mutated
 * endorsements of every platform — TDX quote + collateral, SEV-SNP report + VCEK/VLEK +
 * chain or certificate table + CRL, Nitro COSE document with its cabundle — go through
 * `appraiseEvidence` with a warm verification cache. Bases carry real signatures (the
 * simulators, and the real vectors when present). Properties: every error thrown or reported
 * is a twi error with an `ERR_*` code, and nothing verifies once a signed byte changed.
 *
 * Runs per platform: `TWI_FUZZ_VERIFY_RUNS` (default 100,000), spread over
 * `TWI_FUZZ_WORKERS` worker threads (default 2; 0 runs in this thread); `TWI_FUZZ_SEED`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { openSimulatedPki } from '../../../simulators/pki/store.js';
import { buildCases, SIM_PKI_NOW } from './fuzz/cases.js';
import type { FuzzCase, FuzzPlatform } from './fuzz/cases.js';
import { runFuzzJob } from './fuzz/worker.js';
import type { FuzzJob, FuzzResult } from './fuzz/worker.js';

const RUNS = Number(process.env.TWI_FUZZ_VERIFY_RUNS ?? 100_000);
const WORKERS = Number(process.env.TWI_FUZZ_WORKERS ?? 2);
const SEED = Number(process.env.TWI_FUZZ_SEED ?? 0x7531);
const PLATFORMS: readonly FuzzPlatform[] = ['tdx', 'sev-snp', 'nitro'];

let dir = '';
const cases = new Map<FuzzPlatform, FuzzCase[]>();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twi-verify-fuzz-'));
  const sim = await openSimulatedPki(dir, { seed: 'twi-verify-fuzz', now: SIM_PKI_NOW });
  for (const p of PLATFORMS) cases.set(p, buildCases(sim, p));
});
after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

function runInWorker(job: FuzzJob): Promise<FuzzResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./fuzz/worker.js', import.meta.url), { workerData: job });
    w.once('message', (m: FuzzResult) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code !== 0) reject(new Error(`fuzz worker exited with ${code}`));
    });
  });
}

async function runPlatform(platform: FuzzPlatform): Promise<FuzzResult[]> {
  const job = (i: number, n: number): FuzzJob => ({
    cases: cases.get(platform)!,
    simDir: dir,
    runs: Math.ceil(RUNS / n),
    seed: SEED + i * 7919 + PLATFORMS.indexOf(platform) * 104_729,
  });
  if (WORKERS < 1) return [runFuzzJob(job(0, 1))];
  return Promise.all(Array.from({ length: WORKERS }, (_, i) => runInWorker(job(i, WORKERS))));
}

function sum(results: readonly FuzzResult[], pick: (r: FuzzResult) => number): number {
  return results.reduce((n, r) => n + pick(r), 0);
}

function merge(maps: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of maps) for (const [k, v] of Object.entries(m)) out[k] = (out[k] ?? 0) + v;
  return out;
}

// Crypto-bound (one ECDSA verification for most inputs): scale the time-out with the count.
const TIMEOUT_MS = Math.max(120_000, RUNS * 15);

describe('verify path under mutation', { timeout: TIMEOUT_MS }, () => {
  for (const platform of PLATFORMS) {
    test(`${platform}: typed errors only, nothing verifies with a changed signed byte`, async (t) => {
      const started = performance.now();
      const results = await runPlatform(platform);
      const wall = (performance.now() - started) / 1000;
      const runs = sum(results, (r) => r.runs);
      const thrown = merge(results.map((r) => r.thrown));
      const reported = merge(results.map((r) => r.reported));
      const codes = new Set([...Object.keys(thrown), ...Object.keys(reported)]);
      const failures = results.flatMap((r) => r.failures);
      t.diagnostic(
        `${platform}: ${runs} inputs over ${cases.get(platform)!.length} bases in ${wall.toFixed(1)} s ` +
          `(${results.length} worker(s)); signed byte changed ${sum(results, (r) => r.signedChanged)}, ` +
          `still verified ${sum(results, (r) => r.verified)}; untyped ${sum(results, (r) => r.untyped)}; ` +
          `verified after a signed change ${sum(results, (r) => r.verifiedAfterChange)}; ${codes.size} codes`,
      );
      t.diagnostic(`${platform} kinds ${JSON.stringify(merge(results.map((r) => r.kinds)))}`);
      t.diagnostic(`${platform} thrown ${JSON.stringify(thrown)}`);
      t.diagnostic(`${platform} reported ${JSON.stringify(reported)}`);
      for (const f of failures.slice(0, 3)) {
        t.diagnostic(
          `${f.case} / ${f.item} / ${f.kind}: ${f.problem.split('\n').slice(0, 6).join(' | ')}`,
        );
      }
      assert.deepEqual(
        results.flatMap((r) => r.baseFailures),
        [],
        'every base verifies unmutated',
      );
      assert.ok(runs >= RUNS, `${runs} runs`);
      assert.equal(
        sum(results, (r) => r.untyped),
        0,
        'only typed errors',
      );
      assert.equal(
        sum(results, (r) => r.verifiedAfterChange),
        0,
        'no verified result after a signed change',
      );
      assert.deepEqual(failures, []);
      // The mutations must reach both sides: some inputs still verify, most are refused.
      assert.ok(sum(results, (r) => r.signedChanged) > runs / 4, 'signed bytes are mutated');
      assert.ok(codes.size >= 4, `distinct codes: ${[...codes].join(', ')}`);
    });
  }
});
