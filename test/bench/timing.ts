/**
 * Time-boxed rate measurement: warm-up, then rounds of about `roundMs` each, with the
 * subjects of a group taking turns within every round (so that a load shift on a shared
 * machine touches all of them), and the median over rounds as the result.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';

/** One operation; asynchronous ones are awaited one after the other. */
export type Operation = () => unknown;

/** Something whose rate is measured: runs its operation for about `ms`. */
export interface Subject {
  readonly id: string;
  /** Runs for about `ms` milliseconds and returns the operations done and the time taken. */
  run(ms: number): Promise<RoundResult> | RoundResult;
}

/** Operations done in one time box. */
export interface RoundResult {
  readonly ops: number;
  readonly ms: number;
}

/** The median rate and every round's rate, in operations per second. */
export interface Rate {
  readonly opsPerSec: number;
  readonly rounds: readonly number[];
}

/** How long to warm up and how many rounds of what length to time. */
export interface TimingPlan {
  readonly warmupMs: number;
  readonly rounds: number;
  readonly roundMs: number;
}

/** Keeps results alive so that no call can be optimised away. */
let sink: unknown;

/** Returns the last result seen (only so that `sink` is read). */
export function lastResult(): unknown {
  return sink;
}

/**
 * Calls a synchronous `op` repeatedly for at least `ms` milliseconds (at least once).
 *
 * @example
 * ```ts
 * const { ops, ms } = timeBoxSync(() => crypto.verify(...), 300);
 * ```
 */
export function timeBoxSync(op: Operation, ms: number): RoundResult {
  const start = performance.now();
  const end = start + ms;
  let ops = 0;
  let now = start;
  do {
    sink = op();
    ops++;
    now = performance.now();
  } while (now < end);
  return { ops, ms: now - start };
}

/**
 * Awaits an asynchronous `op` repeatedly, one call at a time, for at least `ms` milliseconds.
 *
 * @example
 * ```ts
 * const { ops } = await timeBoxAsync(() => crypto.subtle.verify(...), 300);
 * ```
 */
export async function timeBoxAsync(op: Operation, ms: number): Promise<RoundResult> {
  const start = performance.now();
  const end = start + ms;
  let ops = 0;
  let now = start;
  do {
    sink = await op();
    ops++;
    now = performance.now();
  } while (now < end);
  return { ops, ms: now - start };
}

/**
 * A subject that runs `op` in this thread (awaiting it when `isAsync`).
 *
 * @example
 * ```ts
 * const s = localSubject('floor', () => verify('sha256', msg, key, sig));
 * ```
 */
export function localSubject(id: string, op: Operation, isAsync = false): Subject {
  return {
    id,
    run: (ms) => (isAsync ? timeBoxAsync(op, ms) : timeBoxSync(op, ms)),
  };
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of nothing');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Measures every subject of a group: each is warmed up once, then every round runs each
 * subject for `roundMs` in turn, the order rotating by one each round so that no subject
 * always follows the same neighbour. Returns the median rate per subject id.
 *
 * @example
 * ```ts
 * const rates = await measureGroup([floor, twi], { warmupMs: 150, rounds: 5, roundMs: 250 });
 * rates.get('floor')!.opsPerSec;
 * ```
 */
export async function measureGroup(
  subjects: readonly Subject[],
  plan: TimingPlan,
): Promise<Map<string, Rate>> {
  const perRound = new Map<string, number[]>(subjects.map((s) => [s.id, []]));
  for (const s of subjects) await s.run(plan.warmupMs);
  for (let r = 0; r < plan.rounds; r++) {
    for (let i = 0; i < subjects.length; i++) {
      const s = subjects[(i + r) % subjects.length]!;
      const { ops, ms } = await s.run(plan.roundMs);
      perRound.get(s.id)!.push((ops * 1000) / ms);
    }
  }
  const out = new Map<string, Rate>();
  for (const [id, rounds] of perRound) {
    out.set(id, { opsPerSec: round1(median(rounds)), rounds: rounds.map(round1) });
  }
  return out;
}

/** Rounds to one decimal, for the report. */
export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
