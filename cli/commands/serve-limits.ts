/**
 * The `twi serve` flags of the limits against hostile traffic (docs/service.md "Hostile
 * traffic"): rate limits, timeouts, connection and event-stream caps, and the cap on
 * endorsement fetches caused by evidence.
 */
import type { Command } from 'commander';
import type { FetchGuardOptions } from '../../endorsements/provider/fetch-guard.js';
import { DEFAULT_LIMITS, type ServiceLimits } from '../../service/limits.js';
import { intOption } from '../args.js';

/** The flags as commander hands them over. @internal */
export interface ServeLimitFlags {
  rateLimit?: string;
  rateBurst?: string;
  requestTimeout?: string;
  headersTimeout?: string;
  idleTimeout?: string;
  keepAliveTimeout?: string;
  maxConnections?: string;
  maxRequestsPerSocket?: string;
  maxSubscribers?: string;
  maxSubscribersPerClient?: string;
  maxEndorsementFetches?: string;
  maxConcurrentFetches?: string;
}

const MS = 3_600_000;

/** Adds the flags to the `serve` command. @internal */
export function addLimitOptions(cmd: Command): Command {
  return cmd
    .option('--rate-limit <n>', 'requests per second per client address (default 20; 0: off)')
    .option('--rate-burst <n>', 'requests a client may send at once (default 100)')
    .option('--request-timeout <ms>', 'whole request must arrive within (default 30000)')
    .option('--headers-timeout <ms>', 'request headers must arrive within (default 10000)')
    .option('--idle-timeout <ms>', 'close a socket idle this long (default 60000)')
    .option('--keep-alive-timeout <ms>', 'close an idle keep-alive connection (default 5000)')
    .option('--max-connections <n>', 'open connections at most (default 1024)')
    .option('--max-requests-per-socket <n>', 'requests per connection (default 1000)')
    .option('--max-subscribers <n>', 'open /v1/bundle/events streams (default 256)')
    .option('--max-subscribers-per-client <n>', 'event streams per client address (default 8)')
    .option(
      '--max-endorsement-fetches <n>',
      'VCEK/TCB Info fetches caused by evidence per minute (default 120)',
    )
    .option('--max-concurrent-fetches <n>', 'such fetches in flight at once (default 8)');
}

function rate(f: ServeLimitFlags): ServiceLimits['rateLimit'] {
  if (f.rateLimit === undefined && f.rateBurst === undefined) return undefined;
  const defaults = DEFAULT_LIMITS.rateLimit || { perSecond: 0, burst: 0 };
  const perSecond =
    f.rateLimit === undefined ? defaults.perSecond : intOption('--rate-limit', f.rateLimit, 0, 1e6);
  if (perSecond === 0) return false;
  const burst =
    f.rateBurst === undefined ? defaults.burst : intOption('--rate-burst', f.rateBurst, 1, 1e6);
  return { perSecond, burst };
}

/** The service limits the flags set. @internal */
export function limitsFromFlags(f: ServeLimitFlags): ServiceLimits {
  const int = (name: string, v: string | undefined, max: number): number | undefined =>
    v === undefined ? undefined : intOption(name, v, 1, max);
  const entries: [keyof ServiceLimits, unknown][] = [
    ['rateLimit', rate(f)],
    ['requestTimeoutMs', int('--request-timeout', f.requestTimeout, MS)],
    ['headersTimeoutMs', int('--headers-timeout', f.headersTimeout, MS)],
    ['idleTimeoutMs', int('--idle-timeout', f.idleTimeout, MS)],
    ['keepAliveTimeoutMs', int('--keep-alive-timeout', f.keepAliveTimeout, MS)],
    ['maxConnections', int('--max-connections', f.maxConnections, 1e6)],
    ['maxRequestsPerSocket', int('--max-requests-per-socket', f.maxRequestsPerSocket, 1e9)],
    ['maxSubscribers', int('--max-subscribers', f.maxSubscribers, 1e6)],
    [
      'maxSubscribersPerClient',
      int('--max-subscribers-per-client', f.maxSubscribersPerClient, 1e6),
    ],
  ];
  return Object.fromEntries(entries.filter(([, v]) => v !== undefined)) as ServiceLimits;
}

/** The fetch guard options the flags set. @internal */
export function fetchGuardFromFlags(f: ServeLimitFlags): FetchGuardOptions {
  return {
    ...(f.maxEndorsementFetches !== undefined && {
      maxPerWindow: intOption('--max-endorsement-fetches', f.maxEndorsementFetches, 1, 1e6),
    }),
    ...(f.maxConcurrentFetches !== undefined && {
      maxConcurrent: intOption('--max-concurrent-fetches', f.maxConcurrentFetches, 1, 1e4),
    }),
  };
}
