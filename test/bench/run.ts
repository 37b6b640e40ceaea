/**
 * `npm run bench`: the verifier-core benchmark (issue 3 item 5). For every real sample twi
 * verifies and one simulated sample per platform it measures, single core, twi's warm-cache
 * verification (bytes → parse → verify, and verify alone), the crypto floor (one raw
 * `crypto.verify` of the same curve) and each peer verifier; then twi and the floor on all
 * cores with worker threads. Subjects of one sample alternate within every round, so load
 * shifts on a shared machine touch twi and its reference alike; medians are reported.
 *
 * Usage: `node dist/test/bench/run.js [--quick] [--json FILE] [--platform tdx,sev-snp,nitro]
 * [--workers N]`. The JSON goes to `bench-results.json` in the project root by default.
 *
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { projectRoot } from '../helpers/vectors.js';
import { startWorkerPool } from './all-cores.js';
import { floorHash, floorOperation } from './floor.js';
import { formatNativeSign, runNativeSignBench } from './native-sign.js';
import { loadPeers } from './peers.js';
import type { Peers } from './peers.js';
import {
  FLOOR_TARGET,
  PEER_TARGET,
  formatReport,
  judgeTargets,
  machineInfo,
  rowRatios,
} from './report.js';
import type { BenchResults, BenchRow, PeerResult } from './report.js';
import { BENCH_PLATFORMS, loadRealSamples, simulatedSamples, twiOperations } from './samples.js';
import type { BenchPlatform, SampleSpec } from './samples.js';
import { formatShimReport, runShimBench } from './shim-bench.js';
import type { ShimBenchResults } from './shim-bench.js';
import { localSubject, measureGroup } from './timing.js';
import type { Subject, TimingPlan } from './timing.js';
import { floorSubjectId, twiSubjectId } from './worker.js';

/** Parsed command line. */
export interface BenchOptions {
  readonly quick: boolean;
  readonly json: string;
  readonly platforms: readonly BenchPlatform[];
  readonly workers: number;
}

const FULL_PLAN: TimingPlan = { warmupMs: 150, rounds: 5, roundMs: 250 };
const QUICK_PLAN: TimingPlan = { warmupMs: 20, rounds: 2, roundMs: 40 };

/**
 * Reads the bench's flags.
 *
 * @throws TypeError on an unknown flag or platform.
 * @example
 * ```ts
 * parseBenchArgs(['--quick', '--platform', 'nitro']).platforms; // ['nitro']
 * ```
 */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'string', default: join(projectRoot, 'bench-results.json') },
      platform: { type: 'string', multiple: true },
      workers: { type: 'string' },
    },
    strict: true,
  });
  const named = (values.platform ?? []).flatMap((p) => p.split(',')).filter(Boolean);
  for (const p of named) {
    if (!BENCH_PLATFORMS.includes(p as BenchPlatform)) throw new TypeError(`unknown platform ${p}`);
  }
  const workers = values.workers === undefined ? availableParallelism() : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1) throw new TypeError('--workers must be ≥ 1');
  return {
    quick: values.quick,
    json: resolve(values.json),
    platforms: named.length ? BENCH_PLATFORMS.filter((p) => named.includes(p)) : BENCH_PLATFORMS,
    workers,
  };
}

function progress(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** Quick mode keeps the first real sample and the simulated one of each platform. */
function quickSelection(specs: readonly SampleSpec[]): SampleSpec[] {
  return BENCH_PLATFORMS.flatMap((p) => {
    const mine = specs.filter((s) => s.platform === p);
    return [
      ...mine.filter((s) => s.source === 'real').slice(0, 1),
      ...mine.filter((s) => s.source === 'simulated'),
    ];
  });
}

/** Single core: the floor, twi (full and verify-only) and every peer, alternating. */
async function singleCore(spec: SampleSpec, peers: Peers, plan: TimingPlan): Promise<BenchRow> {
  const twi = twiOperations(spec);
  twi.verifyOnce();
  const trials = await peers.trials(spec);
  const subjects: Subject[] = [
    localSubject('floor', floorOperation(spec.curve, spec.signedLength)),
    localSubject('twi', twi.full),
    localSubject('twi-verify', twi.verifyOnly),
    ...trials.flatMap((t) => (t.op ? [localSubject(`peer:${t.peer}`, t.op, t.isAsync)] : [])),
  ];
  const rates = await measureGroup(subjects, plan);
  const peerResults: PeerResult[] = trials.map((t) => ({
    peer: t.peer,
    status: t.status,
    note: t.note,
    rate: rates.get(`peer:${t.peer}`) ?? null,
  }));
  return {
    platform: spec.platform,
    sample: spec.name,
    source: spec.source,
    curve: spec.curve,
    hash: floorHash(spec.curve),
    signedBytes: spec.signedLength,
    singleCore: {
      twi: rates.get('twi')!,
      twiVerifyOnly: rates.get('twi-verify')!,
      floor: rates.get('floor')!,
    },
    allCores: null,
    peers: peerResults,
  };
}

/** All cores: the floor and twi's full path on every worker at once, alternating. */
async function allCores(
  specs: readonly SampleSpec[],
  rows: readonly BenchRow[],
  workers: number,
  plan: TimingPlan,
): Promise<void> {
  const pool = startWorkerPool(specs, workers);
  try {
    for (const [i, spec] of specs.entries()) {
      const floorId = floorSubjectId(spec.curve, spec.signedLength);
      const twiId = twiSubjectId(spec.name);
      const rates = await measureGroup([pool.subject(floorId), pool.subject(twiId)], plan);
      rows[i]!.allCores = { workers, twi: rates.get(twiId)!, floor: rates.get(floorId)! };
      progress(`  all cores: ${spec.name}`);
    }
  } finally {
    await pool.close();
  }
}

/**
 * Runs the benchmark, prints the tables and writes the JSON.
 *
 * @returns the results written.
 * @example
 * ```ts
 * await runBench(parseBenchArgs(['--quick']));
 * ```
 */
export async function runBench(opts: BenchOptions): Promise<BenchResults> {
  const started = Date.now();
  const plan = opts.quick ? QUICK_PLAN : FULL_PLAN;
  const results: BenchResults = {
    schema: 'twi-bench/1',
    mode: opts.quick ? 'quick' : 'full',
    startedAt: new Date(started).toISOString(),
    machine: machineInfo(),
    method: { ...plan, statistic: 'median', workers: opts.workers },
    targets: { floorRatio: FLOOR_TARGET, peerRatio: PEER_TARGET, perPlatform: {} },
    rows: [],
    skipped: [],
    peers: [],
  };
  const simDir = mkdtempSync(join(tmpdir(), 'twi-bench-'));
  try {
    const real = loadRealSamples(opts.platforms);
    const simulated = await simulatedSamples(simDir, opts.platforms);
    const all = [...real.specs, ...simulated];
    const specs = BENCH_PLATFORMS.flatMap((p) =>
      (opts.quick ? quickSelection(all) : all).filter((s) => s.platform === p),
    );
    const peers = await loadPeers(opts.platforms);
    Object.assign(results, { skipped: real.skipped, peers: peers.info });
    progress(
      `bench: ${specs.length} samples, ${peers.info.length} peers, plan ${JSON.stringify(plan)}`,
    );
    for (const spec of specs) {
      results.rows.push(await singleCore(spec, peers, plan));
      progress(`  single core: ${spec.name}`);
    }
    await allCores(specs, results.rows, opts.workers, plan);
    // The shim (issue 7): start → first credential and WPT rate, beside the verifier's time.
    (results as BenchResults & { shim?: ShimBenchResults }).shim = await runShimBench(
      opts.platforms,
      opts.quick,
      progress,
    );
  } finally {
    rmSync(simDir, { recursive: true, force: true });
  }
  for (const row of results.rows) row.ratios = rowRatios(row);
  results.targets.perPlatform = judgeTargets(results.rows);
  results.machine.loadAverageAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  results.finishedAt = new Date().toISOString();
  results.durationMs = Date.now() - started;
  writeFileSync(opts.json, JSON.stringify(results, null, 2) + '\n');
  return results;
}

const USAGE =
  'usage: node dist/test/bench/run.js [--quick] [--json FILE] [--platform tdx,sev-snp,nitro] [--workers N]';

async function main(): Promise<void> {
  let opts: BenchOptions;
  try {
    opts = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const results = await runBench(opts);
  process.stdout.write(formatReport(results) + '\n');
  const shim = (results as BenchResults & { shim?: ShimBenchResults }).shim;
  if (shim) process.stdout.write('\n' + formatShimReport(shim) + '\n');
  progress(`results written to ${opts.json} (${Math.round(results.durationMs! / 1000)} s)`);
  const native = await runNativeSignBench(opts.quick);
  const nativeJson = join(dirname(opts.json), 'bench-results-native-sign.json');
  writeFileSync(nativeJson, JSON.stringify(native, null, 2) + '\n');
  process.stdout.write('\n' + formatNativeSign(native) + '\n');
  progress(`native sign results written to ${nativeJson}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${String((err as Error)?.stack ?? err)}\n`);
    process.exitCode = 1;
  });
}
