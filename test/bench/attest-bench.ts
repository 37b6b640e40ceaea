/**
 * The attest-flow part of `npm run bench` (and of `npm run bench:attest`, which runs only it):
 * throughput and latency of the whole attest flow over HTTP (one
 * verifier instance in a child process, SQLite, challenge → simulated Nitro evidence →
 * attest, fixed concurrency), next to the verifier core's in-process throughput on the same
 * kind of evidence (`appraiseEvidence` with the nonce/key binding, warm cache) measured for
 * the same duration in the same run. The ratio says what the service layer (HTTP, JSON,
 * nonce store, EAR and WIT signing, the ledger write) costs on top of appraisal.
 *
 * `test/bench/run.ts` calls {@link runAttestBench} after the verifier-core tables (15 s per
 * side, concurrency 16; `--quick`: 1 s, concurrency 4). Standalone: `node
 * dist/test/bench/attest-bench.js [--seconds 15] [--concurrency 16] [--json FILE]`, the JSON
 * going to `bench-results-attest.json` in the project root by default.
 *
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadAnchorStore } from '../../endorsements/anchors.js';
import { appraiseEvidence } from '../../verifier/pipeline.js';
import { createVerificationCache } from '../../verifier/verify/cache.js';
import { projectRoot } from '../helpers/vectors.js';
import { formatLoadReport, runAttestLoad, type LoadReport } from '../load/attest-load.js';
import { createLoadPki, nitroDocument, randomNonce, workloadKey } from '../load/nitro-evidence.js';
import { summariseLatency, type LatencySummary } from '../load/stats.js';

/** The in-process core measurement. */
export interface CoreResult {
  readonly seconds: number;
  readonly operations: number;
  readonly perSecond: number;
  readonly latencyMs: LatencySummary;
}

/** What `bench:attest` writes. */
export interface AttestBenchResults {
  readonly machine: { readonly cpu: string; readonly cores: number; readonly node: string };
  readonly core: CoreResult;
  readonly service: LoadReport;
  /** Service attestations per second ÷ core appraisals per second. */
  readonly ratio: number;
}

const POOL = 256;

/**
 * `appraiseEvidence` on Nitro documents bound to distinct nonces, for `seconds`, in this
 * process; every report must be `affirming`.
 *
 * @throws Error when an appraisal is not affirming (a broken simulator or verifier).
 */
export async function measureCore(seconds: number): Promise<CoreResult> {
  const dir = mkdtempSync(join(tmpdir(), 'twi-bench-attest-'));
  try {
    const pki = createLoadPki(dir);
    const key = workloadKey();
    const pool = Array.from({ length: POOL }, () => {
      const nonce = randomNonce();
      return {
        evidence: nitroDocument(pki, nonce, key),
        nonce: new Uint8Array(Buffer.from(nonce, 'base64url')),
      };
    });
    const anchors = loadAnchorStore([pki.rootsDir]);
    const cache = createVerificationCache();
    const appraise = (i: number): string => {
      const s = pool[i % POOL]!;
      return appraiseEvidence({
        evidence: s.evidence,
        platform: 'nitro',
        now: new Date(),
        anchors,
        cache,
        expectations: { nonce: s.nonce, jkt: key.jkt },
      }).status;
    };
    for (let i = 0; i < 50; i++) {
      const status = appraise(i);
      if (status !== 'affirming') throw new Error(`core appraisal is ${status}`);
    }
    const latencies: number[] = [];
    const started = performance.now();
    const deadline = started + seconds * 1000;
    let n = 0;
    for (let t = started; t < deadline; n++) {
      appraise(n);
      const t2 = performance.now();
      latencies.push(t2 - t);
      t = t2;
    }
    const elapsed = (performance.now() - started) / 1000;
    return {
      seconds: Math.round(elapsed * 100) / 100,
      operations: n,
      perSecond: Math.round((n / elapsed) * 10) / 10,
      latencyMs: summariseLatency(latencies),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The comparison table of `r`. */
export function formatAttestBench(r: AttestBenchResults): string {
  const s = r.service;
  const rows = [
    ['', 'ops/s', 'p50 ms', 'p99 ms'],
    [
      'core: appraiseEvidence (in-process, 1 thread)',
      String(r.core.perSecond),
      String(r.core.latencyMs.p50),
      String(r.core.latencyMs.p99),
    ],
    [
      `service: POST /v1/attest (HTTP, SQLite, c=${s.options.concurrency})`,
      String(s.requestsPerSecond),
      String(s.attestMs.p50),
      String(s.attestMs.p99),
    ],
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]): string =>
    row
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ');
  return [
    `machine: ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}`,
    ...rows.map(line),
    `service / core throughput: ${r.ratio}`,
    '',
    formatLoadReport(s),
  ].join('\n');
}

/** Options of {@link runAttestBench}. */
export interface AttestBenchOptions {
  readonly seconds: number;
  readonly concurrency: number;
}

/**
 * Measures the core in-process for `seconds`, then the service over HTTP for `seconds`, and
 * returns both with their ratio.
 *
 * @example
 * ```ts
 * const r = await runAttestBench({ seconds: 1, concurrency: 4 });
 * r.ratio; // service attest/s ÷ core appraisals/s
 * ```
 */
export async function runAttestBench(o: AttestBenchOptions): Promise<AttestBenchResults> {
  const core = await measureCore(o.seconds);
  const service = await runAttestLoad({
    seconds: o.seconds,
    store: 'sqlite',
    instances: 1,
    concurrency: o.concurrency,
  });
  return {
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: availableParallelism(),
      node: process.version,
    },
    core,
    service,
    ratio: Math.round((service.requestsPerSecond / core.perSecond) * 1000) / 1000,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '15' },
      concurrency: { type: 'string', default: '16' },
      json: { type: 'string', default: join(projectRoot, 'bench-results-attest.json') },
    },
    strict: true,
  });
  const results = await runAttestBench({
    seconds: Number(values.seconds),
    concurrency: Number(values.concurrency),
  });
  console.log(formatAttestBench(results));
  writeFileSync(resolve(values.json), JSON.stringify(results, null, 2) + '\n');
  process.exitCode = results.service.ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
