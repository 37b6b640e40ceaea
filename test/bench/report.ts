/**
 * The bench's results: their JSON shape, the targets judged from them, and the text tables
 * printed at the end of a run.
 *
 * @module
 */
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { formatAttestBench, type AttestBenchResults } from './attest-bench.js';
import type { PeerInfo, PeerTrial } from './peers.js';
import type { BenchPlatform, FloorCurve, SkippedSample } from './samples.js';
import type { Rate, TimingPlan } from './timing.js';

/** twi's full path must reach this share of the floor (issue 3 item 5). */
export const FLOOR_TARGET = 0.8;
/** twi must be this many times faster than the fastest peer of the platform. */
export const PEER_TARGET = 5;

/** The machine the run happened on. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly availableParallelism: number;
  readonly totalMemGiB: number;
  readonly node: string;
  readonly openssl: string;
  readonly platform: string;
  readonly loadAverageAtStart: readonly number[];
  loadAverageAtEnd?: readonly number[];
}

/** A peer's outcome on one sample; `opsPerSec` only when it was timed. */
export interface PeerResult {
  readonly peer: string;
  readonly status: PeerTrial['status'];
  readonly note: string;
  readonly rate: Rate | null;
}

/** Everything measured for one sample. */
export interface BenchRow {
  readonly platform: BenchPlatform;
  readonly sample: string;
  readonly source: 'real' | 'simulated';
  readonly curve: FloorCurve;
  readonly hash: string;
  readonly signedBytes: number;
  readonly singleCore: { readonly twi: Rate; readonly twiVerifyOnly: Rate; readonly floor: Rate };
  allCores: { readonly workers: number; readonly twi: Rate; readonly floor: Rate } | null;
  readonly peers: readonly PeerResult[];
  /** The table's ratios, filled in once everything is measured. */
  ratios?: RowRatios;
}

/** The ratios a row of the table shows (twi's full path over each reference). */
export interface RowRatios {
  readonly twiToFloor: number;
  readonly verifyOnlyToFloor: number;
  readonly allCoresTwiToFloor: number | null;
  readonly fastestPeer: string | null;
  readonly twiToFastestPeer: number | null;
}

/** Per-platform verdicts on the two targets. */
export interface PlatformTargets {
  /** Lowest twi/floor over the platform's samples (full path, single core). */
  readonly minFloorRatio: number;
  readonly minVerifyOnlyFloorRatio: number;
  readonly floorTargetMet: boolean;
  /** Lowest twi/floor on all cores, when measured. */
  readonly minAllCoresFloorRatio: number | null;
  /** Lowest twi/fastest-peer over the samples some peer verified; null when none did. */
  readonly minPeerRatio: number | null;
  readonly fastestPeer: string | null;
  readonly peerTargetMet: boolean | null;
}

/** The JSON written by `npm run bench`. */
export interface BenchResults {
  readonly schema: 'twi-bench/1';
  readonly mode: 'full' | 'quick';
  readonly startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  readonly machine: MachineInfo;
  readonly method: TimingPlan & { readonly statistic: 'median'; readonly workers: number };
  readonly targets: {
    readonly floorRatio: number;
    readonly peerRatio: number;
    perPlatform: Partial<Record<BenchPlatform, PlatformTargets>>;
  };
  readonly rows: BenchRow[];
  readonly skipped: readonly SkippedSample[];
  readonly peers: readonly PeerInfo[];
  /** The attest flow over HTTP against the core in-process (absent with `--skip-attest`). */
  attestFlow?: AttestBenchResults;
}

/**
 * Facts about this machine, with the load average now.
 *
 * @example
 * ```ts
 * const m = machineInfo(); m.cores;
 * ```
 */
export function machineInfo(): MachineInfo {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    availableParallelism: availableParallelism(),
    totalMemGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    openssl: process.versions.openssl ?? 'unknown',
    platform: `${process.platform}-${process.arch}`,
    loadAverageAtStart: loadavg().map(round2),
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** The fastest peer that verified the row's sample, if any. */
export function fastestPeer(row: BenchRow): { peer: string; opsPerSec: number } | null {
  let best: { peer: string; opsPerSec: number } | null = null;
  for (const p of row.peers) {
    if (p.status !== 'ok' || p.rate === null) continue;
    if (best === null || p.rate.opsPerSec > best.opsPerSec) {
      best = { peer: p.peer, opsPerSec: p.rate.opsPerSec };
    }
  }
  return best;
}

const ratio = (a: Rate, b: Rate): number => a.opsPerSec / b.opsPerSec;

/**
 * The ratios of one row, rounded to 0.01.
 *
 * @example
 * ```ts
 * row.ratios = rowRatios(row);
 * ```
 */
export function rowRatios(row: BenchRow): RowRatios {
  const best = fastestPeer(row);
  const c = row.singleCore;
  return {
    twiToFloor: round2(ratio(c.twi, c.floor)),
    verifyOnlyToFloor: round2(ratio(c.twiVerifyOnly, c.floor)),
    allCoresTwiToFloor: row.allCores ? round2(ratio(row.allCores.twi, row.allCores.floor)) : null,
    fastestPeer: best?.peer ?? null,
    twiToFastestPeer: best ? round2(c.twi.opsPerSec / best.opsPerSec) : null,
  };
}

/**
 * The per-platform verdicts: the lowest ratios over each platform's rows.
 *
 * @example
 * ```ts
 * results.targets.perPlatform = judgeTargets(results.rows);
 * ```
 */
export function judgeTargets(
  rows: readonly BenchRow[],
): Partial<Record<BenchPlatform, PlatformTargets>> {
  const out: Partial<Record<BenchPlatform, PlatformTargets>> = {};
  for (const platform of new Set(rows.map((r) => r.platform))) {
    const mine = rows.filter((r) => r.platform === platform);
    const min = (xs: number[]): number | null => (xs.length ? Math.min(...xs) : null);
    const floor = min(mine.map((r) => ratio(r.singleCore.twi, r.singleCore.floor)))!;
    const allCores = min(
      mine.flatMap((r) => (r.allCores ? [ratio(r.allCores.twi, r.allCores.floor)] : [])),
    );
    const peerRatios: { r: number; peer: string; rate: number }[] = [];
    for (const r of mine) {
      const best = fastestPeer(r);
      if (best) {
        peerRatios.push({
          r: r.singleCore.twi.opsPerSec / best.opsPerSec,
          peer: best.peer,
          rate: best.opsPerSec,
        });
      }
    }
    const peerMin = min(peerRatios.map((p) => p.r));
    const fastest = peerRatios.reduce<(typeof peerRatios)[number] | null>(
      (a, b) => (a === null || b.rate > a.rate ? b : a),
      null,
    );
    out[platform] = {
      minFloorRatio: round2(floor),
      minVerifyOnlyFloorRatio: round2(
        min(mine.map((r) => ratio(r.singleCore.twiVerifyOnly, r.singleCore.floor)))!,
      ),
      floorTargetMet: floor >= FLOOR_TARGET,
      minAllCoresFloorRatio: allCores === null ? null : round2(allCores),
      minPeerRatio: peerMin === null ? null : round2(peerMin),
      fastestPeer: fastest?.peer ?? null,
      peerTargetMet: peerMin === null ? null : peerMin >= PEER_TARGET,
    };
  }
  return out;
}

function ops(x: number): string {
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1);
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

function times(x: number): string {
  return `${x >= 10 ? Math.round(x) : x.toFixed(1)}×`;
}

/** An aligned text table; columns whose header starts with a space are right-aligned. */
function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const width = headers.map((h, i) => Math.max(h.trim().length, ...rows.map((r) => r[i]!.length)));
  const right = headers.map((h) => h.startsWith(' '));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (right[i] ? c.padStart(width[i]!) : c.padEnd(width[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers.map((h) => h.trim())), width.map((w) => '-'.repeat(w)).join('  ')]
    .concat(rows.map(line))
    .join('\n');
}

function peerCell(row: BenchRow): [string, string] {
  const best = fastestPeer(row);
  if (best) {
    return [
      `${ops(best.opsPerSec)} (${best.peer})`,
      times(row.singleCore.twi.opsPerSec / best.opsPerSec),
    ];
  }
  const refused = row.peers.find((p) => p.status === 'rejected' && p.rate);
  if (refused?.rate) {
    return [`(${ops(refused.rate.opsPerSec)} to refusal, ${refused.peer})`, '—'];
  }
  return ['none verifies', '—'];
}

/**
 * The human-readable report: machine, single-core table with peers, all-cores table,
 * every peer trial, skipped samples and the target verdicts.
 *
 * @example
 * ```ts
 * console.log(formatReport(results));
 * ```
 */
export function formatReport(res: BenchResults): string {
  if (res.rows.length === 0 && res.attestFlow) {
    // --attest-only: no verifier-core tables to show.
    return [
      `twi attest-flow benchmark (${res.mode}) — ${res.startedAt}`,
      formatAttestBench(res.attestFlow),
    ].join('\n');
  }
  const m = res.machine;
  const out: string[] = [
    `twi verifier-core benchmark (${res.mode}) — ${res.startedAt}`,
    `${m.cpuModel}, ${m.cores} cores (${m.availableParallelism} available), node ${m.node}, ` +
      `OpenSSL ${m.openssl}; load average at start ${m.loadAverageAtStart.join(' ')}` +
      (m.loadAverageAtEnd ? `, at end ${m.loadAverageAtEnd.join(' ')}` : ''),
    `method: ${res.method.rounds} rounds × ${res.method.roundMs} ms after ${res.method.warmupMs} ms ` +
      `warm-up, subjects alternating per sample, median; ops/s`,
    '',
    'Single core (twi: bytes → parse → verify, warm cache; floor: crypto.verify, same curve)',
    table(
      [
        'platform',
        'sample',
        ' twi',
        ' verify-only',
        ' floor',
        ' twi/floor',
        ' fastest peer',
        ' twi/peer',
      ],
      res.rows.map((r) => [
        r.platform,
        r.sample,
        ops(r.singleCore.twi.opsPerSec),
        ops(r.singleCore.twiVerifyOnly.opsPerSec),
        `${ops(r.singleCore.floor.opsPerSec)} ${r.curve}`,
        pct(ratio(r.singleCore.twi, r.singleCore.floor)),
        ...peerCell(r),
      ]),
    ),
  ];
  const multi = res.rows.filter((r) => r.allCores);
  if (multi.length) {
    out.push(
      '',
      `All cores (${multi[0]!.allCores!.workers} worker threads, aggregate)`,
      table(
        ['platform', 'sample', ' twi', ' floor', ' twi/floor'],
        multi.map((r) => [
          r.platform,
          r.sample,
          ops(r.allCores!.twi.opsPerSec),
          `${ops(r.allCores!.floor.opsPerSec)} ${r.curve}`,
          pct(ratio(r.allCores!.twi, r.allCores!.floor)),
        ]),
      ),
    );
  }
  const trials = res.rows.flatMap((r) =>
    r.peers.map((p) => [
      r.platform,
      r.sample,
      p.peer,
      p.status,
      p.rate ? ops(p.rate.opsPerSec) : '—',
      p.note,
    ]),
  );
  if (trials.length) {
    out.push(
      '',
      'Peers',
      table(['platform', 'sample', 'peer', 'status', ' ops/s', 'note'], trials),
    );
  }
  if (res.skipped.length) {
    out.push('', 'Samples left out', ...res.skipped.map((s) => `  ${s.sample}: ${s.reason}`));
  }
  out.push('', `Targets (twi/floor ≥ ${pct(FLOOR_TARGET)}, twi/fastest peer ≥ ${PEER_TARGET}×)`);
  for (const [platform, t] of Object.entries(res.targets.perPlatform)) {
    const peer =
      t.minPeerRatio === null
        ? 'no peer verifies these samples'
        : `min ${times(t.minPeerRatio)} vs ${t.fastestPeer} — ${t.peerTargetMet ? 'met' : 'NOT met'}`;
    out.push(
      `  ${platform}: floor min ${pct(t.minFloorRatio)} (verify-only ${pct(t.minVerifyOnlyFloorRatio)})` +
        ` — ${t.floorTargetMet ? 'met' : 'NOT met'}` +
        (t.minAllCoresFloorRatio === null
          ? ''
          : `; all cores min ${pct(t.minAllCoresFloorRatio)}`) +
        `; peers: ${peer}`,
    );
  }
  if (res.attestFlow) {
    out.push('', 'Attest flow (challenge → attest over HTTP vs appraiseEvidence in-process)');
    out.push(formatAttestBench(res.attestFlow));
  }
  return out.join('\n');
}
