/**
 * `/metrics` series of the defences against hostile traffic: refused requests, open event
 * streams and the endorsement fetch guard, registered on the service's prom-client registry and
 * read from their owners at scrape time.
 *
 * @internal
 * @module
 */
import type { Registry } from 'prom-client';
import type { FetchGuardCounters } from '../endorsements/provider/fetch-guard.js';
import { mirrorCounter, mirrorGauge } from './metrics.js';
import type { GuardCounters } from './request-guard.js';

/**
 * Registers the guard series on `registry` (once per service). The fetch guard's series are
 * registered only when `fetches` returns counters (a caching provider with a fetch guard).
 */
export function registerGuardMetrics(
  registry: Registry,
  c: GuardCounters,
  subscribers: () => number,
  fetches: () => FetchGuardCounters | undefined,
): void {
  const r = [registry];
  mirrorCounter(
    r,
    'twi_rate_limited_total',
    'Requests refused with 429 ERR_RATE_LIMITED.',
    () => c.rateLimited,
  );
  mirrorCounter(
    r,
    'twi_requests_invalid_total',
    'Requests refused for NUL bytes or invalid UTF-8 in the URL or JSON body.',
    () => c.invalidRequests,
  );
  mirrorCounter(
    r,
    'twi_tokens_in_query_total',
    'Requests refused for a credential in the query string.',
    () => c.tokensInQuery,
  );
  mirrorGauge(r, 'twi_event_subscribers', 'Open GET /v1/bundle/events streams.', subscribers);
  if (!fetches()) return;
  const f = (): FetchGuardCounters | undefined => fetches();
  mirrorCounter(
    r,
    'twi_endorsement_guard_fetches_total',
    'Evidence-driven endorsement fetches (VCEK, TCB Info) let through to the vendor.',
    () => f()?.allowed ?? 0,
  );
  mirrorCounter(
    r,
    'twi_endorsement_guard_limited_total',
    'Evidence-driven endorsement fetches refused by the concurrency or window cap.',
    () => f()?.limited ?? 0,
  );
  mirrorCounter(
    r,
    'twi_endorsement_negative_hits_total',
    'Endorsement requests answered from the negative (404) cache.',
    () => f()?.negativeHits ?? 0,
  );
  mirrorGauge(
    r,
    'twi_endorsement_negative_entries',
    'Keys in the negative (404) cache.',
    () => f()?.negativeEntries ?? 0,
  );
}
