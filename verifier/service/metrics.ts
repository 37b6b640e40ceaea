/**
 * A tiny Prometheus text-format registry (exposition format 0.0.4): appraisal counters by
 * platform and status, the attest latency histogram, the stored nonce count and purges, and
 * the hit and miss counters of the verification cache and the endorsement (collateral) cache.
 *
 * @module
 */

/** Upper bounds (seconds) of the attest latency histogram. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Cache counters read when `/metrics` is scraped (kept by the caches themselves). */
export interface CacheSnapshot {
  /** The verification cache (chains, collateral checks): `verifier/verify/cache.ts`. */
  readonly verification: { readonly hits: number; readonly misses: number; readonly size: number };
  /** The endorsement provider's cache, when the service has a caching provider. */
  readonly endorsements?: {
    readonly hits: number;
    readonly misses: number;
    readonly fetches: number;
    readonly coalesced: number;
    readonly refreshes: number;
    readonly staleServed: number;
    readonly errors: number;
  };
}

/** The counters the service keeps. */
export interface ServiceMetrics {
  /** Counts one appraisal of `platform` ending in `status`. */
  recordAppraisal(platform: string, status: string): void;
  /** Records the duration of one `/v1/attest` request. */
  observeAttest(seconds: number): void;
  /** Counts `n` nonces deleted by one purge. */
  recordPurge(n: number): void;
  /** The exposition text, with the nonce gauge set to `nonces` and the cache counters. */
  render(nonces: number | undefined, caches?: CacheSnapshot): string;
}

function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function counter(name: string, help: string, value: number): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${value}`];
}

function cacheLines(c: CacheSnapshot): string[] {
  const v = c.verification;
  const lines = [
    ...counter('twi_verification_cache_hits_total', 'Verification cache hits.', v.hits),
    ...counter('twi_verification_cache_misses_total', 'Verification cache misses.', v.misses),
    '# HELP twi_verification_cache_entries Entries in the verification cache.',
    '# TYPE twi_verification_cache_entries gauge',
    `twi_verification_cache_entries ${v.size}`,
  ];
  const e = c.endorsements;
  if (e) {
    const rows: [string, string, number][] = [
      ['hits', 'Endorsement (collateral) requests answered from the cache.', e.hits],
      ['misses', 'Endorsement requests that found no valid cached copy.', e.misses],
      ['fetches', 'Endorsement fetches from upstream (foreground and background).', e.fetches],
      ['coalesced', 'Endorsement requests that joined a fetch in flight.', e.coalesced],
      ['refreshes', 'Background refreshes of endorsements.', e.refreshes],
      ['stale_served', 'Cached endorsements served while upstream was failing.', e.staleServed],
      ['errors', 'Failed endorsement fetches.', e.errors],
    ];
    for (const [k, help, value] of rows) {
      lines.push(...counter(`twi_endorsement_cache_${k}_total`, help, value));
    }
  }
  return lines;
}

/** A fresh registry. */
export function createMetrics(): ServiceMetrics {
  const appraisals = new Map<string, number>();
  const buckets = LATENCY_BUCKETS.map(() => 0);
  let count = 0;
  let sum = 0;
  let purged = 0;
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
    recordPurge(n) {
      purged += n;
    },
    render(nonces, caches) {
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
      lines.push(...counter('twi_nonces_purged_total', 'Expired nonces deleted.', purged));
      if (caches) lines.push(...cacheLines(caches));
      return lines.join('\n') + '\n';
    },
  };
}
