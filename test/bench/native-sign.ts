/**
 * Native key store sign rate against node:crypto's for the same curve and hash, in the
 * same run and alternating within every round: P-256/SHA-256 and P-384/SHA-384, on the
 * calling thread (signSync vs crypto.sign) and through the libuv pool (sign vs
 * crypto.sign with a callback, one call at a time). Part of `npm run bench`; alone:
 * `node dist/test/bench/native-sign.js [--quick] [--json FILE]`.
 *
 * @module
 */
import { sign as nodeSign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { generateKey } from '../../native/keys.js';
import { projectRoot } from '../helpers/vectors.js';
import { localSubject, measureGroup } from './timing.js';
import type { Rate, TimingPlan } from './timing.js';
import { newKeyPair } from '../../common/key-pair.js';

/** One curve's rates and the native ÷ node:crypto ratios. */
export interface NativeSignRow {
  curve: 'P-256' | 'P-384';
  hash: 'sha256' | 'sha384';
  messageBytes: number;
  sync: { native: Rate; node: Rate; ratio: number };
  async: { native: Rate; node: Rate; ratio: number };
}

export interface NativeSignResults {
  schema: 'twi-bench-native-sign/1';
  mode: 'quick' | 'full';
  method: TimingPlan & { statistic: 'median' };
  rows: NativeSignRow[];
}

const FULL: TimingPlan = { warmupMs: 150, rounds: 5, roundMs: 250 };
const QUICK: TimingPlan = { warmupMs: 20, rounds: 2, roundMs: 40 };
// A JWS signing input of the size of a WIMSE proof token.
const MESSAGE = new Uint8Array(320).fill(0x61);

async function curveRow(curve: 'P-256' | 'P-384', plan: TimingPlan): Promise<NativeSignRow> {
  const hash = curve === 'P-256' ? 'sha256' : 'sha384';
  const native = generateKey(curve);
  const { privateKey } = newKeyPair('ec', { namedCurve: curve });
  const key = { key: privateKey, dsaEncoding: 'ieee-p1363' as const };
  const nodeAsync = (): Promise<Buffer> =>
    new Promise((res, rej) => nodeSign(hash, MESSAGE, key, (e, s) => (e ? rej(e) : res(s))));
  try {
    const r = await measureGroup(
      [
        localSubject('native-sync', () => native.signSync(MESSAGE)),
        localSubject('node-sync', () => nodeSign(hash, MESSAGE, key)),
        localSubject('native-async', () => native.sign(MESSAGE), true),
        localSubject('node-async', nodeAsync, true),
      ],
      plan,
    );
    const pair = (a: string, b: string) => ({
      native: r.get(a)!,
      node: r.get(b)!,
      ratio: r.get(a)!.opsPerSec / r.get(b)!.opsPerSec,
    });
    return {
      curve,
      hash,
      messageBytes: MESSAGE.length,
      sync: pair('native-sync', 'node-sync'),
      async: pair('native-async', 'node-async'),
    };
  } finally {
    native.dispose();
  }
}

/** Measures both curves. */
export async function runNativeSignBench(quick: boolean): Promise<NativeSignResults> {
  const plan = quick ? QUICK : FULL;
  const rows = [await curveRow('P-256', plan), await curveRow('P-384', plan)];
  return {
    schema: 'twi-bench-native-sign/1',
    mode: quick ? 'quick' : 'full',
    method: { ...plan, statistic: 'median' },
    rows,
  };
}

/** The Markdown table of docs/benchmarks.md. */
export function formatNativeSign(r: NativeSignResults): string {
  const n = (x: number): string => Math.round(x).toLocaleString('en-US');
  const lines = [
    '## Native key store: sign operations per second (single thread)',
    '',
    '| curve | path | native ops/s | node:crypto ops/s | native ÷ node |',
    '|---|---|---:|---:|---:|',
  ];
  for (const row of r.rows) {
    for (const [path, p] of [
      ['sync', row.sync],
      ['libuv pool', row.async],
    ] as const) {
      lines.push(
        `| ${row.curve}/${row.hash.toUpperCase()} | ${path} | ${n(p.native.opsPerSec)} | ${n(p.node.opsPerSec)} | ${p.ratio.toFixed(2)} |`,
      );
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'string', default: join(projectRoot, 'bench-results-native-sign.json') },
    },
    strict: true,
  });
  const results = await runNativeSignBench(values.quick);
  writeFileSync(resolve(values.json), JSON.stringify(results, null, 2) + '\n');
  process.stdout.write(formatNativeSign(results) + '\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${String((err as Error)?.stack ?? err)}\n`);
    process.exitCode = 1;
  });
}
