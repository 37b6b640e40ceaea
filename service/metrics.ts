/**
 * The service's Prometheus metrics on a prom-client `Registry` of its own (never the global
 * default registry: several services may run in one process): appraisal counters by platform
 * and status, the attest latency histogram, an HTTP request duration histogram, the stored nonce
 * count and purges, the hit and miss counters of the verification cache and the endorsement
 * (collateral) cache, and prom-client's default process metrics.
 *
 * @internal
 * @module
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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

/** What the metrics read from their owners when `/metrics` is scraped. */
export interface ScrapeSources {
  /** Nonces in the store; a rejection keeps the last value. */
  nonces(): Promise<number>;
  /** The cache counters. */
  caches(): CacheSnapshot;
}

/** The counters the service keeps. */
export interface ServiceMetrics {
  /** This service's registry (also holds the guard metrics and the process metrics). */
  readonly registry: Registry;
  /** Counts one appraisal of `platform` ending in `status`. */
  recordAppraisal(platform: string, status: string): void;
  /** Records the duration of one `/v1/attest` request. */
  observeAttest(seconds: number): void;
  /** Records one HTTP request: `route` is the route pattern, never the raw URL. */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /** Counts `n` nonces deleted by one purge. */
  recordPurge(n: number): void;
  /** Registers the metrics read from `sources` at scrape time (call once). */
  watch(sources: ScrapeSources): void;
  /** The exposition text (Prometheus text format 0.0.4). */
  render(): Promise<string>;
}

/**
 * Registers a counter whose total is kept elsewhere and read at scrape time.
 *
 * @internal
 */
export function mirrorCounter(
  registers: Registry[],
  name: string,
  help: string,
  read: () => number,
): void {
  new Counter({
    name,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/**
 * Registers a gauge whose value is read at scrape time.
 *
 * @internal
 */
export function mirrorGauge(
  registers: Registry[],
  name: string,
  help: string,
  read: () => number,
): void {
  new Gauge({
    name,
    help,
    registers,
    collect() {
      this.set(read());
    },
  });
}

const ENDORSEMENT_ROWS: [string, string, keyof NonNullable<CacheSnapshot['endorsements']>][] = [
  ['hits', 'Endorsement (collateral) requests answered from the cache.', 'hits'],
  ['misses', 'Endorsement requests that found no valid cached copy.', 'misses'],
  ['fetches', 'Endorsement fetches from upstream (foreground and background).', 'fetches'],
  ['coalesced', 'Endorsement requests that joined a fetch in flight.', 'coalesced'],
  ['refreshes', 'Background refreshes of endorsements.', 'refreshes'],
  ['stale_served', 'Cached endorsements served while upstream was failing.', 'staleServed'],
  ['errors', 'Failed endorsement fetches.', 'errors'],
];

function watchCaches(registers: Registry[], caches: () => CacheSnapshot): void {
  const v = (): CacheSnapshot['verification'] => caches().verification;
  mirrorCounter(
    registers,
    'twi_verification_cache_hits_total',
    'Verification cache hits.',
    () => v().hits,
  );
  mirrorCounter(
    registers,
    'twi_verification_cache_misses_total',
    'Verification cache misses.',
    () => v().misses,
  );
  mirrorGauge(
    registers,
    'twi_verification_cache_entries',
    'Entries in the verification cache.',
    () => v().size,
  );
  if (!caches().endorsements) return;
  for (const [suffix, help, field] of ENDORSEMENT_ROWS) {
    const read = (): number => caches().endorsements?.[field] ?? 0;
    mirrorCounter(registers, `twi_endorsement_cache_${suffix}_total`, help, read);
  }
}

/** A fresh registry with the process metrics and the service's own. */
export function createMetrics(): ServiceMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  const appraisals = new Counter({
    name: 'twi_appraisals_total',
    help: 'Appraisals by platform and AR4SI status.',
    labelNames: ['platform', 'status'] as const,
    registers,
  });
  const attest = new Histogram({
    name: 'twi_attest_duration_seconds',
    help: 'Duration of POST /v1/attest.',
    buckets: [...LATENCY_BUCKETS],
    registers,
  });
  const requests = new Histogram({
    name: 'twi_http_request_duration_seconds',
    help: 'Duration of HTTP requests by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [...LATENCY_BUCKETS],
    registers,
  });
  const purged = new Counter({
    name: 'twi_nonces_purged_total',
    help: 'Expired nonces deleted.',
    registers,
  });
  return {
    registry,
    recordAppraisal: (platform, status) => appraisals.inc({ platform, status }),
    observeAttest: (seconds) => attest.observe(seconds),
    observeRequest: (method, route, status, seconds) =>
      requests.observe({ method, route, status: String(status) }, seconds),
    recordPurge: (n) => purged.inc(n),
    watch(sources) {
      new Gauge({
        name: 'twi_nonces',
        help: 'Nonces in the store (used or not, expired or not).',
        registers,
        async collect() {
          const n = await sources.nonces().catch(() => undefined);
          if (n !== undefined) this.set(n);
        },
      });
      watchCaches(registers, sources.caches);
    },
    render: () => registry.metrics(),
  };
}
