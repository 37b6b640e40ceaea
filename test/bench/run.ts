/**
 * `npm run bench`: the verifier-core benchmark (issue 3 item 5). For every real sample twi
 * verifies and one simulated sample per platform it measures, single core, twi's warm-cache
 * verification (bytes → parse → verify, and verify alone), the crypto floor (one raw
 * `crypto.verify` of the same curve) and each peer verifier; then twi and the floor on all
 * cores with worker threads. Subjects of one sample alternate within every round, so load
 * shifts on a shared machine touch twi and its reference alike; medians are reported. Last,
 * the attest flow (issue 5): challenge → attest over HTTP against one service instance, as a
 * ratio to the core's in-process appraisals of the same evidence (`attest-bench.ts`); then
 * certificate issuance (issue 14): attest with a CSR vs without, and mutual-TLS vs plain TLS
 * handshakes, each pair in the same run (`x509-bench.ts`, under the JSON's `x509` key). Suite
 * `shim` also runs agent mode (issue 15): first credentials per second for N callers of one
 * `twi shim --agent` (`agent-bench.ts`, under the JSON's `agent` key).
 *
 * `--suite provenance` (also part of the default `verify,provenance,native-sign,shim,abuse`) adds the transparency-log
 * benchmark of `provenance-bench.ts` under the JSON's `provenance` key.
 *
 * Usage: `node dist/test/bench/run.js [--quick] [--json FILE] [--platform tdx,sev-snp,nitro]
 * [--workers N] [--skip-attest | --attest-only] [--attest-seconds S]
 * [--suite verify,provenance,native-sign,shim,abuse]`. The JSON goes to `bench-results.json` in the project
 * root by default. `--attest-only` alone runs only the attest flow.
 *
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { projectRoot } from '../helpers/vectors.js';
import { formatAbuseReport, runAbuse } from './abuse.js';
import { runAttestBench } from './attest-bench.js';
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
import { formatAgentReport, runAgentBench } from './agent-bench.js';
import type { AgentBenchResults } from './agent-bench.js';
import { formatShimReport, runShimBench } from './shim-bench.js';
import type { ShimBenchResults } from './shim-bench.js';
import { localSubject, measureGroup } from './timing.js';
import type { Subject, TimingPlan } from './timing.js';
import { floorSubjectId, twiSubjectId } from './worker.js';
import { formatX509Bench, runX509Bench } from './x509-bench.js';
import type { X509BenchResults } from './x509-bench.js';
import {
  formatProvenanceReport,
  FULL_PROVENANCE_PLAN,
  QUICK_PROVENANCE_PLAN,
  runProvenanceBench,
} from './provenance-bench.js';

/** Benchmark suites `--suite` selects. */
export const BENCH_SUITES = ['verify', 'provenance', 'native-sign', 'shim', 'abuse'] as const;

/** Parsed command line. */
export interface BenchOptions {
  readonly quick: boolean;
  readonly json: string;
  readonly platforms: readonly BenchPlatform[];
  readonly workers: number;
  readonly suites: readonly (typeof BENCH_SUITES)[number][];
  /** Run the verifier-core part (default) and/or the attest-flow part. */
  readonly core: boolean;
  readonly attest: boolean;
  /**
   * Seconds per side of the attest-flow part, and per subject of the certificate-issuance
   * part (default 15; 1 with `--quick`).
   */
  readonly attestSeconds: number;
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
      suite: { type: 'string', multiple: true },
      'skip-attest': { type: 'boolean', default: false },
      'attest-only': { type: 'boolean', default: false },
      'attest-seconds': { type: 'string' },
    },
    strict: true,
  });
  if (values['skip-attest'] && values['attest-only']) {
    throw new TypeError('--skip-attest and --attest-only exclude each other');
  }
  const attestSeconds =
    values['attest-seconds'] === undefined
      ? values.quick
        ? 1
        : 15
      : Number(values['attest-seconds']);
  if (!(attestSeconds > 0)) throw new TypeError('--attest-seconds must be > 0');
  const named = (values.platform ?? []).flatMap((p) => p.split(',')).filter(Boolean);
  for (const p of named) {
    if (!BENCH_PLATFORMS.includes(p as BenchPlatform)) throw new TypeError(`unknown platform ${p}`);
  }
  const workers = values.workers === undefined ? availableParallelism() : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1) throw new TypeError('--workers must be ≥ 1');
  const suites = (values.suite ?? []).flatMap((x) => x.split(',')).filter(Boolean);
  for (const x of suites) {
    if (!(BENCH_SUITES as readonly string[]).includes(x)) throw new TypeError(`unknown suite ${x}`);
  }
  return {
    quick: values.quick,
    json: resolve(values.json),
    platforms: named.length ? BENCH_PLATFORMS.filter((p) => named.includes(p)) : BENCH_PLATFORMS,
    workers,
    suites: suites.length
      ? BENCH_SUITES.filter((x) => suites.includes(x))
      : values['attest-only']
        ? ['verify']
        : // `--quick` leaves the abuse run to its own smoke test (abuse-smoke.test.ts).
          BENCH_SUITES.filter((x) => !values.quick || x !== 'abuse'),
    core: !values['attest-only'],
    attest: !values['skip-attest'],
    attestSeconds,
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
    if (opts.core) await corePart(opts, plan, simDir, results);
  } finally {
    rmSync(simDir, { recursive: true, force: true });
  }
  if (opts.attest) {
    progress(
      `  attest flow: ${opts.attestSeconds} s in-process, then ${opts.attestSeconds} s over HTTP`,
    );
    results.attestFlow = await runAttestBench({
      seconds: opts.attestSeconds,
      concurrency: opts.quick ? 4 : 16,
    });
    // Certificate issuance (issue 14): attest with/without a CSR, mTLS vs plain TLS handshakes.
    progress(`  certificate issuance: ${opts.attestSeconds} s per subject, alternating`);
    (results as BenchResults & { x509?: X509BenchResults }).x509 = await runX509Bench({
      seconds: opts.attestSeconds,
      concurrency: opts.quick ? 4 : 16,
      quick: opts.quick,
    });
  }
  if (opts.core && opts.suites.includes('shim')) {
    // The shim (issue 7): start → first credential and WPT rate, beside the verifier's time.
    (results as BenchResults & { shim?: ShimBenchResults }).shim = await runShimBench(
      opts.platforms,
      opts.quick,
      progress,
    );
    // Agent mode (issue 15): first credentials per second for N callers, always under TDX.
    (results as BenchResults & { agent?: AgentBenchResults }).agent = await runAgentBench(
      opts.quick,
      progress,
    );
  }
  for (const row of results.rows) row.ratios = rowRatios(row);
  results.targets.perPlatform = judgeTargets(results.rows);
  results.machine.loadAverageAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  results.finishedAt = new Date().toISOString();
  results.durationMs = Date.now() - started;
  writeFileSync(opts.json, JSON.stringify(results, null, 2) + '\n');
  return results;
}

/** The verifier-core tables: single core per sample, then all cores. */
async function corePart(
  opts: BenchOptions,
  plan: TimingPlan,
  simDir: string,
  results: BenchResults,
): Promise<void> {
  {
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
  }
}

const USAGE =
  'usage: node dist/test/bench/run.js [--quick] [--json FILE] [--platform tdx,sev-snp,nitro] [--workers N] [--skip-attest | --attest-only] [--attest-seconds S] [--suite verify,provenance,native-sign,shim,abuse]';

async function main(): Promise<void> {
  let opts: BenchOptions;
  try {
    opts = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const started = Date.now();
  const results = opts.suites.includes('verify') ? await runBench(opts) : undefined;
  if (results) process.stdout.write(formatReport(results) + '\n');
  if (opts.suites.includes('provenance')) {
    const plan = opts.quick ? QUICK_PROVENANCE_PLAN : FULL_PROVENANCE_PLAN;
    progress(`bench: transparency log, plan ${JSON.stringify(plan)}`);
    const provenance = await runProvenanceBench(plan, progress);
    const base = results ?? { schema: 'twi-bench/1', mode: opts.quick ? 'quick' : 'full' };
    writeFileSync(opts.json, JSON.stringify({ ...base, provenance }, null, 2) + '\n');
    process.stdout.write(formatProvenanceReport(provenance) + '\n');
  }
  const x509 = (results as (BenchResults & { x509?: X509BenchResults }) | undefined)?.x509;
  if (x509) {
    process.stdout.write(
      '\nCertificate issuance (attest with/without csr; mTLS vs plain TLS handshakes)\n' +
        formatX509Bench(x509) +
        '\n',
    );
  }
  const shim = (results as (BenchResults & { shim?: ShimBenchResults }) | undefined)?.shim;
  if (shim) process.stdout.write('\n' + formatShimReport(shim) + '\n');
  const agent = (results as (BenchResults & { agent?: AgentBenchResults }) | undefined)?.agent;
  if (agent) process.stdout.write('\n' + formatAgentReport(agent) + '\n');
  if (opts.suites.includes('native-sign')) {
    const native = await runNativeSignBench(opts.quick);
    const nativeJson = join(dirname(opts.json), 'bench-results-native-sign.json');
    writeFileSync(nativeJson, JSON.stringify(native, null, 2) + '\n');
    process.stdout.write('\n' + formatNativeSign(native) + '\n');
    progress(`native sign results written to ${nativeJson}`);
  }
  if (opts.suites.includes('abuse')) {
    // The bounded abuse run (issue 12): hostile traffic against `twi serve` on loopback.
    const abuse = await runAbuse({ seconds: opts.quick ? 4 : 20, quick: opts.quick });
    const abuseJson = join(dirname(opts.json), 'bench-results-abuse.json');
    writeFileSync(abuseJson, JSON.stringify(abuse, null, 2) + '\n');
    process.stdout.write('\n' + formatAbuseReport(abuse) + '\n');
    progress(`abuse results written to ${abuseJson}`);
  }
  progress(`results written to ${opts.json} (${Math.round((Date.now() - started) / 1000)} s)`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${String((err as Error)?.stack ?? err)}\n`);
    process.exitCode = 1;
  });
}
