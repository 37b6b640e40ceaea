/**
 * Limits that keep the service up under hostile traffic: per-client rate limits, HTTP
 * timeouts, connection and event-stream caps. Every limit has a default; tests and benches
 * that send many requests from one address pass generous values instead of weakening them.
 *
 * @internal
 * @module
 */
import type { FastifyServerOptions } from 'fastify';

/** Token-bucket rate limit per client address (see `rate-limit.ts`). */
export interface RateLimitOptions {
  /** Tokens added per second (sustained requests per second). */
  readonly perSecond: number;
  /** Bucket size: requests a client may send at once. */
  readonly burst: number;
  /** Client buckets kept in memory; the least recently seen are forgotten first. */
  readonly maxClients?: number;
}

/** What `ServiceOptions.limits` may set; every unset field takes its default. */
export interface ServiceLimits {
  /** Per-client rate limit of every route but `/healthz`; `false` turns it off. */
  readonly rateLimit?: RateLimitOptions | false;
  /** Whole request (headers and body) must arrive within this, ms. */
  readonly requestTimeoutMs?: number;
  /** Request headers must arrive within this, ms (≤ `requestTimeoutMs`). */
  readonly headersTimeoutMs?: number;
  /** A socket with no traffic either way for this long is closed, ms. */
  readonly idleTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this, ms. */
  readonly keepAliveTimeoutMs?: number;
  /** Requests served on one connection before it is closed. */
  readonly maxRequestsPerSocket?: number;
  /** Open connections; further ones are dropped on accept. */
  readonly maxConnections?: number;
  /** Open `GET /v1/bundle/events` streams in all. */
  readonly maxSubscribers?: number;
  /** Open event streams per client address. */
  readonly maxSubscribersPerClient?: number;
  /** How often request and header timeouts are checked, ms. */
  readonly timeoutCheckIntervalMs?: number;
}

/** {@link ServiceLimits} with every default applied. */
export interface ResolvedLimits {
  readonly rateLimit: Required<RateLimitOptions> | false;
  readonly requestTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxRequestsPerSocket: number;
  readonly maxConnections: number;
  readonly maxSubscribers: number;
  readonly maxSubscribersPerClient: number;
  readonly timeoutCheckIntervalMs: number;
}

/** The defaults (docs/service.md "Hostile traffic"). */
export const DEFAULT_LIMITS: ResolvedLimits = {
  rateLimit: { perSecond: 20, burst: 100, maxClients: 10_000 },
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  maxRequestsPerSocket: 1_000,
  maxConnections: 1_024,
  maxSubscribers: 256,
  maxSubscribersPerClient: 8,
  timeoutCheckIntervalMs: 1_000,
};

/** The limits that are plain positive integers with a fixed default. */
const NUMERIC_LIMITS = [
  'requestTimeoutMs',
  'idleTimeoutMs',
  'keepAliveTimeoutMs',
  'maxRequestsPerSocket',
  'maxConnections',
  'maxSubscribers',
  'maxSubscribersPerClient',
  'timeoutCheckIntervalMs',
] as const;
type NumericLimit = (typeof NUMERIC_LIMITS)[number];

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0)
    throw new RangeError(`limits.${name} must be a positive integer`);
  return v;
}

function resolveRate(r: RateLimitOptions | false | undefined): ResolvedLimits['rateLimit'] {
  if (r === false) return false;
  if (r === undefined) return DEFAULT_LIMITS.rateLimit;
  if (!(r.perSecond > 0) || !Number.isFinite(r.perSecond)) {
    throw new RangeError('limits.rateLimit.perSecond must be a positive number');
  }
  const fallback = (DEFAULT_LIMITS.rateLimit as Required<RateLimitOptions>).maxClients;
  return {
    perSecond: r.perSecond,
    burst: positiveInt('rateLimit.burst', r.burst),
    maxClients: positiveInt('rateLimit.maxClients', r.maxClients ?? fallback),
  };
}

/**
 * Applies the defaults and checks every value.
 *
 * @throws RangeError for a non-positive value, or a headers timeout above the request timeout.
 */
export function resolveLimits(l: ServiceLimits = {}): ResolvedLimits {
  const counts = Object.fromEntries(
    NUMERIC_LIMITS.map((name) => [name, positiveInt(name, l[name] ?? DEFAULT_LIMITS[name])]),
  ) as Pick<ResolvedLimits, NumericLimit>;
  const out: ResolvedLimits = {
    ...counts,
    rateLimit: resolveRate(l.rateLimit),
    // Unset, the headers timeout never exceeds a request timeout the caller lowered.
    headersTimeoutMs: positiveInt(
      'headersTimeoutMs',
      l.headersTimeoutMs ??
        Math.min(DEFAULT_LIMITS.headersTimeoutMs, l.requestTimeoutMs ?? Infinity),
    ),
  };
  if (out.headersTimeoutMs > out.requestTimeoutMs) {
    throw new RangeError('limits.headersTimeoutMs must not exceed limits.requestTimeoutMs');
  }
  return out;
}

/** The Fastify (and Node `http.Server`) options that carry the timeouts. */
export function serverTimeoutOptions(l: ResolvedLimits): Partial<FastifyServerOptions> {
  return {
    requestTimeout: l.requestTimeoutMs,
    connectionTimeout: l.idleTimeoutMs,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    maxRequestsPerSocket: l.maxRequestsPerSocket,
    http: {
      headersTimeout: l.headersTimeoutMs,
      requestTimeout: l.requestTimeoutMs,
      connectionsCheckingInterval: l.timeoutCheckIntervalMs,
    },
  } as Partial<FastifyServerOptions>;
}
