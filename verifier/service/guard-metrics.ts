/**
 * `/metrics` lines of the defences against hostile traffic: refused requests, open event
 * streams and the endorsement fetch guard.
 *
 * @module
 */
import type { FetchGuardCounters } from '../../endorsements/provider/fetch-guard.js';
import type { GuardCounters } from './request-guard.js';

function line(name: string, type: 'counter' | 'gauge', help: string, value: number): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`];
}

/** The exposition lines (ending in a newline). */
export function renderGuardMetrics(
  c: GuardCounters,
  subscribers: number,
  fetches: FetchGuardCounters | undefined,
): string {
  const lines = [
    ...line(
      'twi_rate_limited_total',
      'counter',
      'Requests refused with 429 ERR_RATE_LIMITED.',
      c.rateLimited,
    ),
    ...line(
      'twi_requests_invalid_total',
      'counter',
      'Requests refused for NUL bytes or invalid UTF-8 in the URL or JSON body.',
      c.invalidRequests,
    ),
    ...line(
      'twi_tokens_in_query_total',
      'counter',
      'Requests refused for a credential in the query string.',
      c.tokensInQuery,
    ),
    ...line('twi_event_subscribers', 'gauge', 'Open GET /v1/bundle/events streams.', subscribers),
  ];
  if (fetches) {
    lines.push(
      ...line(
        'twi_endorsement_guard_fetches_total',
        'counter',
        'Evidence-driven endorsement fetches (VCEK, TCB Info) let through to the vendor.',
        fetches.allowed,
      ),
      ...line(
        'twi_endorsement_guard_limited_total',
        'counter',
        'Evidence-driven endorsement fetches refused by the concurrency or window cap.',
        fetches.limited,
      ),
      ...line(
        'twi_endorsement_negative_hits_total',
        'counter',
        'Endorsement requests answered from the negative (404) cache.',
        fetches.negativeHits,
      ),
      ...line(
        'twi_endorsement_negative_entries',
        'gauge',
        'Keys in the negative (404) cache.',
        fetches.negativeEntries,
      ),
    );
  }
  return lines.join('\n') + '\n';
}
