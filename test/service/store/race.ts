/**
 * Two-process nonce race: the parent issues nonces, two `race-worker.js` children consume
 * all of them at once through their own store connections.
 *
 * @module
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Store } from '../../../service/store/types.js';

/** What one worker reports. */
export interface WorkerResult {
  ok: number[];
  refused: number;
}

const WORKER = fileURLToPath(new URL('./race-worker.js', import.meta.url));

interface Worker {
  child: ChildProcess;
  ready: Promise<void>;
  done: Promise<WorkerResult>;
}

function startWorker(args: string[]): Worker {
  const child = spawn(process.execPath, [WORKER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const done = new Promise<WorkerResult>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line === 'ready') onReady();
      else resolve(JSON.parse(line) as WorkerResult);
    });
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`race worker exited with ${code}: ${stderr}`));
    });
  });
  return { child, ready: Promise.race([ready, done.then(() => undefined)]), done };
}

/**
 * Issue `count` fresh nonces in `store`, then let two child processes race to consume
 * them through `url` (and `schema`, `-` for none). Resolves with both workers' results.
 */
export async function twoProcessRace(
  store: Store,
  url: string,
  schema: string,
  count: number,
): Promise<[WorkerResult, WorkerResult]> {
  const prefix = `race-${process.pid}-${Date.now()}`;
  const expiresAt = new Date(Date.now() + 600_000);
  for (let i = 0; i < count; i++) await store.nonces.issue(`${prefix}-${i}`, expiresAt);
  const workers = [0, 1].map(() => startWorker([url, schema, prefix, String(count)]));
  try {
    await Promise.all(workers.map((w) => w.ready));
    for (const w of workers) w.child.stdin!.end('go\n');
    const [a, b] = await Promise.all(workers.map((w) => w.done));
    return [a!, b!];
  } finally {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill();
  }
}

/** Indices accepted by neither or by both workers (both must be empty). */
export function raceAnomalies(
  results: WorkerResult[],
  count: number,
): { missing: number[]; twice: number[] } {
  const seen = new Array<number>(count).fill(0);
  for (const r of results) for (const i of r.ok) seen[i]!++;
  return {
    missing: seen.flatMap((n, i) => (n === 0 ? [i] : [])),
    twice: seen.flatMap((n, i) => (n > 1 ? [i] : [])),
  };
}
