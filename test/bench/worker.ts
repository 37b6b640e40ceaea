/**
 * Worker thread of the all-cores measurement: builds the operation a subject id names
 * (a floor or a twi full verification of one sample, each with its own warm cache) and
 * runs it in a time box whenever the main thread asks.
 *
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { floorOperation } from './floor.js';
import { twiOperations } from './samples.js';
import type { FloorCurve, SampleSpec } from './samples.js';
import { timeBoxSync } from './timing.js';
import type { Operation } from './timing.js';

/** A request from the main thread: run subject `id` for `ms`. */
export interface WorkerRequest {
  readonly seq: number;
  readonly id: string;
  readonly ms: number;
}

/** The answer: operations done and time taken, or why the subject could not run. */
export type WorkerReply =
  | { readonly seq: number; readonly ops: number; readonly ms: number }
  | { readonly seq: number; readonly error: string };

/** Subject id of a floor measured in workers. */
export function floorSubjectId(curve: FloorCurve, messageLength: number): string {
  return `floor:${curve}:${messageLength}`;
}

/** Subject id of twi's full verification of a sample measured in workers. */
export function twiSubjectId(sampleName: string): string {
  return `twi:${sampleName}`;
}

function build(id: string, specs: readonly SampleSpec[]): Operation {
  const [kind, a, b] = id.split(':');
  if (kind === 'floor') return floorOperation(a as FloorCurve, Number(b));
  const spec = specs.find((s) => s.name === a);
  if (kind !== 'twi' || spec === undefined) throw new Error(`unknown subject ${id}`);
  const ops = twiOperations(spec);
  ops.verifyOnce();
  return ops.full;
}

if (parentPort !== null) {
  const port = parentPort;
  const specs = (workerData as { specs: SampleSpec[] }).specs;
  const built = new Map<string, Operation>();
  port.on('message', (req: WorkerRequest) => {
    let reply: WorkerReply;
    try {
      let op = built.get(req.id);
      if (op === undefined) {
        op = build(req.id, specs);
        built.set(req.id, op);
      }
      reply = { seq: req.seq, ...timeBoxSync(op, req.ms) };
    } catch (err) {
      reply = { seq: req.seq, error: String((err as Error)?.message ?? err) };
    }
    port.postMessage(reply);
  });
}
