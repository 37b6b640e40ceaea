/**
 * Worker thread of the verify-path property test: runs `runs` mutated inputs of the cases it
 * is given through `appraiseEvidence` with one warm verification cache, and reports the
 * counts, the error codes seen, and every input that broke a property (untyped error, or a
 * verified result although a signed byte changed), with the first few kept for replay.
 *
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { join } from 'node:path';
import { loadAnchorStore } from '../../../../endorsements/anchors.js';
import { isTwiError } from '../../../../common/errors.js';
import { appraiseEvidence } from '../../../../verifier/pipeline.js';
import { createVerificationCache } from '../../../../verifier/verify/cache.js';
import type { VerificationCache } from '../../../../verifier/verify/cache.js';
import type { AnchorStore, SuppliedEndorsements } from '../../../../verifier/verify/types.js';
import type { FuzzCase } from './cases.js';
import { mutateItem, Rng } from './mutate.js';
import type { FuzzItem } from './mutate.js';

/** What the main thread sends. */
export interface FuzzJob {
  readonly cases: readonly FuzzCase[];
  /** Folder of the simulated PKI (its `roots/` are configured anchors). */
  readonly simDir: string;
  readonly runs: number;
  readonly seed: number;
}

/** One input that broke a property, kept for replay. */
export interface FuzzFailure {
  readonly case: string;
  readonly item: string;
  readonly kind: string;
  readonly problem: string;
  /** Hex of the mutated item. */
  readonly hex: string;
}

/** What the worker answers. */
export interface FuzzResult {
  readonly runs: number;
  /** Base cases that did not verify unmutated (the test is void if any). */
  readonly baseFailures: readonly string[];
  /** Codes thrown (parse errors) and reported (verification and policy errors). */
  readonly thrown: Readonly<Record<string, number>>;
  readonly reported: Readonly<Record<string, number>>;
  /** Mutated inputs that still verified (no signed byte changed), and those of each kind. */
  readonly verified: number;
  readonly signedChanged: number;
  readonly kinds: Readonly<Record<string, number>>;
  readonly untyped: number;
  readonly verifiedAfterChange: number;
  readonly failures: readonly FuzzFailure[];
  readonly ms: number;
}

const CODE = /^ERR_[A-Z0-9_]+$/;
const KEEP = 20;

function endorsementsOf(items: readonly FuzzItem[], key: string, bytes: Uint8Array) {
  const out: Record<string, Uint8Array> = {};
  for (const item of items.slice(1)) out[item.key] = item.key === key ? bytes : item.bytes;
  return out as SuppliedEndorsements;
}

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

/** Runs the job; exported for a single-thread run (TWI_FUZZ_WORKERS=0). */
export function runFuzzJob(job: FuzzJob): FuzzResult {
  const started = performance.now();
  const anchorsOf: Record<string, AnchorStore> = {
    vendor: loadAnchorStore(),
    simulator: loadAnchorStore([join(job.simDir, 'roots')]),
  };
  const cache: VerificationCache = createVerificationCache();
  const appraise = (c: FuzzCase, key: string, bytes: Uint8Array) =>
    appraiseEvidence({
      evidence: key === 'evidence' ? bytes : c.items[0]!.bytes,
      platform: c.platform,
      endorsements: endorsementsOf(c.items, key, bytes),
      now: new Date(c.now),
      anchors: anchorsOf[c.anchors]!,
      cache,
    });
  const baseFailures = job.cases
    .filter((c) => !appraise(c, 'evidence', c.items[0]!.bytes).verified)
    .map((c) => c.name);
  const r = {
    thrown: {} as Record<string, number>,
    reported: {} as Record<string, number>,
    kinds: {} as Record<string, number>,
    verified: 0,
    signedChanged: 0,
    untyped: 0,
    verifiedAfterChange: 0,
    failures: [] as FuzzFailure[],
  };
  const rng = new Rng(job.seed);
  for (let i = 0; i < job.runs; i++) {
    const c = job.cases[i % job.cases.length]!;
    // Half the runs mutate the evidence, half one of the endorsements.
    const item =
      c.items.length === 1 || rng.int(2) === 0
        ? c.items[0]!
        : c.items[1 + rng.int(c.items.length - 1)]!;
    const m = mutateItem(rng, item);
    bump(r.kinds, m.kind);
    if (m.signedChanged) r.signedChanged++;
    const fail = (problem: string) => {
      if (r.failures.length < KEEP) {
        const hex = Buffer.from(m.bytes).toString('hex');
        r.failures.push({ case: c.name, item: item.key, kind: m.kind, problem, hex });
      }
    };
    try {
      const report = appraise(c, item.key, m.bytes);
      for (const e of report.errors) {
        bump(r.reported, e.code);
        if (!CODE.test(e.code)) fail(`reported a code that is not ERR_*: ${e.code}`);
      }
      if (report.verified) r.verified++;
      if (m.signedChanged && (report.verified || report.status === 'affirming')) {
        r.verifiedAfterChange++;
        fail(`verified (${report.status}) although a signed byte changed`);
      }
    } catch (err) {
      if (isTwiError(err) && CODE.test(err.code)) bump(r.thrown, err.code);
      else {
        r.untyped++;
        fail(`untyped ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
    }
  }
  return { runs: job.runs, baseFailures, ...r, ms: performance.now() - started };
}

if (parentPort !== null && workerData !== null && workerData !== undefined) {
  parentPort.postMessage(runFuzzJob(workerData as FuzzJob));
}
