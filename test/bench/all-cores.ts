/**
 * All-cores measurement: one worker thread per core, each running the same subject at the
 * same time; a round's rate is the sum of the workers' rates.
 *
 * @module
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SampleSpec } from './samples.js';
import type { RoundResult, Subject } from './timing.js';
import type { WorkerReply, WorkerRequest } from './worker.js';

/** A set of workers that run subjects together. */
export interface WorkerPool {
  readonly size: number;
  /** A subject whose round runs `id` on every worker at once. */
  subject(id: string): Subject;
  close(): Promise<void>;
}

interface Pending {
  resolve(r: RoundResult): void;
  reject(e: Error): void;
}

/**
 * Starts `size` workers (default: `os.availableParallelism()`) that know `specs`.
 *
 * @example
 * ```ts
 * const pool = startWorkerPool(specs);
 * const rates = await measureGroup([pool.subject('floor:P-384:672')], plan);
 * await pool.close();
 * ```
 */
export function startWorkerPool(
  specs: readonly SampleSpec[],
  size = availableParallelism(),
): WorkerPool {
  const url = new URL('./worker.js', import.meta.url);
  const pending = new Map<number, Pending>();
  const workers = Array.from({ length: size }, () => {
    const w = new Worker(url, { workerData: { specs } });
    w.on('message', (reply: WorkerReply) => {
      const p = pending.get(reply.seq);
      pending.delete(reply.seq);
      if (p === undefined) return;
      if ('error' in reply) p.reject(new Error(reply.error));
      else p.resolve({ ops: reply.ops, ms: reply.ms });
    });
    w.on('error', (err) => {
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
    return w;
  });
  let seq = 0;
  const runOn = (w: Worker, id: string, ms: number): Promise<RoundResult> =>
    new Promise((resolve, reject) => {
      const req: WorkerRequest = { seq: ++seq, id, ms };
      pending.set(req.seq, { resolve, reject });
      w.postMessage(req);
    });
  return {
    size,
    subject: (id) => ({
      id,
      async run(ms: number): Promise<RoundResult> {
        const results = await Promise.all(workers.map((w) => runOn(w, id, ms)));
        // Sum of per-worker rates, expressed over the mean round length.
        const rate = results.reduce((sum, r) => sum + r.ops / r.ms, 0);
        const meanMs = results.reduce((sum, r) => sum + r.ms, 0) / results.length;
        return { ops: rate * meanMs, ms: meanMs };
      },
    }),
    async close(): Promise<void> {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
