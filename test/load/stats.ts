/**
 * Latency summaries of the load runner and the attest bench.
 *
 * @module
 */

/** Percentiles of a latency sample, in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

const round = (x: number): number => Math.round(x * 100) / 100;

/**
 * Nearest-rank percentiles of `ms` (which it sorts in place).
 *
 * @example
 * ```ts
 * summariseLatency([3, 1, 2]).p50; // 2
 * ```
 */
export function summariseLatency(ms: number[]): LatencySummary {
  if (ms.length === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
  ms.sort((a, b) => a - b);
  const at = (q: number): number => ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)]!;
  const sum = ms.reduce((a, b) => a + b, 0);
  return {
    count: ms.length,
    p50: round(at(0.5)),
    p90: round(at(0.9)),
    p99: round(at(0.99)),
    max: round(ms[ms.length - 1]!),
    mean: round(sum / ms.length),
  };
}
