/**
 * A tiny Prometheus text-format registry (exposition format 0.0.4): appraisal counters by
 * platform and status, the attest latency histogram and the stored nonce count.
 *
 * @module
 */

/** Upper bounds (seconds) of the attest latency histogram. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** The counters the service keeps. */
export interface ServiceMetrics {
  /** Counts one appraisal of `platform` ending in `status`. */
  recordAppraisal(platform: string, status: string): void;
  /** Records the duration of one `/v1/attest` request. */
  observeAttest(seconds: number): void;
  /** The exposition text, with the nonce gauge set to `nonces`. */
  render(nonces: number | undefined): string;
}

function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A fresh registry. */
export function createMetrics(): ServiceMetrics {
  const appraisals = new Map<string, number>();
  const buckets = LATENCY_BUCKETS.map(() => 0);
  let count = 0;
  let sum = 0;
  return {
    recordAppraisal(platform, status) {
      const key = `platform="${label(platform)}",status="${label(status)}"`;
      appraisals.set(key, (appraisals.get(key) ?? 0) + 1);
    },
    observeAttest(seconds) {
      count += 1;
      sum += seconds;
      LATENCY_BUCKETS.forEach((le, i) => {
        if (seconds <= le) buckets[i]! += 1;
      });
    },
    render(nonces) {
      const lines = [
        '# HELP twi_appraisals_total Appraisals by platform and AR4SI status.',
        '# TYPE twi_appraisals_total counter',
        ...[...appraisals].map(([k, v]) => `twi_appraisals_total{${k}} ${v}`),
        '# HELP twi_attest_duration_seconds Duration of POST /v1/attest.',
        '# TYPE twi_attest_duration_seconds histogram',
        ...LATENCY_BUCKETS.map(
          (le, i) => `twi_attest_duration_seconds_bucket{le="${le}"} ${buckets[i]}`,
        ),
        `twi_attest_duration_seconds_bucket{le="+Inf"} ${count}`,
        `twi_attest_duration_seconds_sum ${sum}`,
        `twi_attest_duration_seconds_count ${count}`,
      ];
      if (nonces !== undefined) {
        lines.push(
          '# HELP twi_nonces Nonces in the store (used or not, expired or not).',
          '# TYPE twi_nonces gauge',
          `twi_nonces ${nonces}`,
        );
      }
      return lines.join('\n') + '\n';
    },
  };
}
