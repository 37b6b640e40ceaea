/**
 * `npm run bench:compare -- --baseline DIR`: this checkout against another one (DIR, e.g. the
 * previous main, built with `npm install`), in the same process and the same run. For every
 * real sample the rounds alternate three subjects — the signature floor, this tree's warm
 * bytes → parse → verify, the baseline's — so a load shift touches all three, and the report
 * gives each tree's twi/floor ratio and their difference. Then the attest flow (HTTP attest/s ÷
 * in-process appraisals/s) of each tree, alternating trees per repetition, median ratio.
 *
 * Usage: `node dist/test/bench/compare.js --baseline DIR [--rounds N] [--round-ms MS]
 * [--attest-seconds S] [--attest-reps N] [--json FILE]`.
 *
 * @module
 */
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { runAttestBench } from './attest-bench.js';
import { floorOperation } from './floor.js';
import { loadRealSamples, twiOperations } from './samples.js';
import type { SampleSpec, TwiOperations } from './samples.js';
import { localSubject, measureGroup, median } from './timing.js';

interface Tree {
  readonly twiOperations: (spec: SampleSpec) => TwiOperations;
  readonly runAttestBench: typeof runAttestBench;
}

/** One sample's rates and ratios. */
export interface CompareRow {
  readonly sample: string;
  readonly platform: string;
  readonly floor: number;
  readonly current: number;
  readonly baseline: number;
  readonly currentRatio: number;
  readonly baselineRatio: number;
  /** (current ratio − baseline ratio) ÷ baseline ratio, in percent. */
  readonly changePct: number;
}

async function loadTree(dir: string): Promise<Tree> {
  const bench = resolve(dir, 'dist', 'test', 'bench');
  if (!existsSync(resolve(bench, 'samples.js'))) {
    throw new Error(`no built benchmark under ${dir} (run npm install there first)`);
  }
  const samples = (await import(pathToFileURL(resolve(bench, 'samples.js')).href)) as Tree;
  const attest = (await import(pathToFileURL(resolve(bench, 'attest-bench.js')).href)) as Tree;
  return { twiOperations: samples.twiOperations, runAttestBench: attest.runAttestBench };
}

const pct = (a: number, b: number): number => Math.round(((a - b) / b) * 1000) / 10;
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

async function compareSample(
  spec: SampleSpec,
  base: Tree,
  plan: { warmupMs: number; rounds: number; roundMs: number },
): Promise<CompareRow> {
  const rates = await measureGroup(
    [
      localSubject('floor', floorOperation(spec.curve, spec.signedLength)),
      localSubject('current', twiOperations(spec).full),
      localSubject('baseline', base.twiOperations(spec).full),
    ],
    plan,
  );
  const floor = rates.get('floor')!.opsPerSec;
  const current = rates.get('current')!.opsPerSec;
  const baseline = rates.get('baseline')!.opsPerSec;
  return {
    sample: spec.name,
    platform: spec.platform,
    floor,
    current,
    baseline,
    currentRatio: r3(current / floor),
    baselineRatio: r3(baseline / floor),
    changePct: pct(current / floor, baseline / floor),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      baseline: { type: 'string' },
      rounds: { type: 'string', default: '9' },
      'round-ms': { type: 'string', default: '300' },
      'attest-seconds': { type: 'string', default: '8' },
      'attest-reps': { type: 'string', default: '3' },
      json: { type: 'string', default: 'bench-compare.json' },
    },
    strict: true,
  });
  if (!values.baseline) throw new Error('--baseline DIR is required (a built checkout)');
  const base = await loadTree(resolve(values.baseline));
  const plan = {
    warmupMs: 300,
    rounds: Number(values.rounds),
    roundMs: Number(values['round-ms']),
  };
  const rows: CompareRow[] = [];
  for (const spec of loadRealSamples(['tdx', 'sev-snp', 'nitro']).specs) {
    const row = await compareSample(spec, base, plan);
    rows.push(row);
    console.log(
      `${row.platform.padEnd(8)} ${row.sample.padEnd(34)} floor ${row.floor}/s  current ${row.current}/s (${row.currentRatio})  baseline ${row.baseline}/s (${row.baselineRatio})  change ${row.changePct}%`,
    );
  }
  const seconds = Number(values['attest-seconds']);
  const ratios = { current: [] as number[], baseline: [] as number[] };
  for (let i = 0; i < Number(values['attest-reps']); i++) {
    for (const [name, run] of [
      ['current', runAttestBench],
      ['baseline', base.runAttestBench],
    ] as const) {
      const r = await run({ seconds, concurrency: 16 });
      ratios[name].push(r.ratio);
      console.log(
        `attest ${name.padEnd(8)} ${r.service.requestsPerSecond.toFixed(1)}/s ÷ core ${r.core.perSecond.toFixed(1)}/s = ${r.ratio}`,
      );
    }
  }
  const attest = {
    current: median(ratios.current),
    baseline: median(ratios.baseline),
    changePct: pct(median(ratios.current), median(ratios.baseline)),
  };
  console.log(
    `attest-flow ratio median: current ${attest.current}, baseline ${attest.baseline}, change ${attest.changePct}%`,
  );
  writeFileSync(resolve(values.json), JSON.stringify({ rows, attest, ratios }, null, 2) + '\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
