/**
 * The service's first line against hostile requests, run before routing work is done:
 * per-client rate limits, URLs and JSON bodies with NUL bytes or invalid UTF-8, tokens in the
 * query string, and a request log view without query strings or credentials.
 *
 * @internal
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { JSON_MEDIA_TYPE } from '../wire/media-types.js';
import type { ResolvedLimits } from './limits.js';
import { problem, ProblemError, sendProblem } from './problem.js';
import { clientKey, TokenBuckets } from './rate-limit.js';

/** Paths never rate limited (liveness probes must answer while a client is throttled). */
export const RATE_LIMIT_EXEMPT: readonly string[] = ['/healthz'];

/** Query parameters that look like credentials; a request carrying one is refused. */
export const TOKEN_QUERY_NAMES: readonly string[] = [
  'token',
  'access_token',
  'admin_token',
  'id_token',
  'bearer',
  'authorization',
  'api_key',
  'apikey',
];

/** What the guard counts, exposed on `/metrics`. */
export interface GuardCounters {
  rateLimited: number;
  invalidRequests: number;
  tokensInQuery: number;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes of a raw request target with its percent-escapes decoded, or undefined when malformed. */
function targetBytes(target: string): Uint8Array | undefined {
  const out: number[] = [];
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 0x25) {
      const hex = target.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
      out.push(parseInt(hex, 16));
      i += 2;
    } else {
      out.push(c & 0xff);
    }
  }
  return Uint8Array.from(out);
}

/** Why a raw request target (path and query) is refused, or undefined when it is acceptable. */
export function targetProblem(target: string): string | undefined {
  const bytes = targetBytes(target.replace(/\+/g, ' '));
  if (!bytes) return 'the URL has a malformed percent-escape';
  if (bytes.includes(0)) return 'the URL contains a NUL byte';
  try {
    strictUtf8.decode(bytes);
  } catch {
    return 'the URL is not valid UTF-8';
  }
  return undefined;
}

/** True when a parsed JSON value holds a NUL character in any string or member name. */
export function containsNul(value: unknown, depth = 0): boolean {
  if (depth > 64) return true;
  if (typeof value === 'string') return value.includes('\0');
  if (Array.isArray(value)) return value.some((v) => containsNul(v, depth + 1));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => k.includes('\0') || containsNul(v, depth + 1));
  }
  return false;
}

/** The path of a request target without its query. */
export function pathOf(target: string): string {
  const q = target.indexOf('?');
  return q < 0 ? target : target.slice(0, q);
}

/** The request as the log shows it: method and path only — no query, no headers. */
export function requestLogView(req: {
  method?: string;
  url?: string;
  ip?: string;
  socket?: { remoteAddress?: string };
}): Record<string, unknown> {
  return {
    method: req.method,
    url: pathOf(req.url ?? ''),
    remoteAddress: req.ip ?? req.socket?.remoteAddress,
  };
}

function refuse(reply: FastifyReply, code: string, detail: string): FastifyReply {
  return sendProblem(reply, problem(400, code, detail));
}

function tokenInQuery(target: string): boolean {
  const q = target.indexOf('?');
  if (q < 0) return false;
  for (const name of new URLSearchParams(target.slice(q + 1)).keys()) {
    if (TOKEN_QUERY_NAMES.includes(name.toLowerCase())) return true;
  }
  return false;
}

function addRateLimit(app: FastifyInstance, limits: ResolvedLimits, c: GuardCounters): void {
  if (limits.rateLimit === false) return;
  const buckets = new TokenBuckets(limits.rateLimit);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (RATE_LIMIT_EXEMPT.includes(pathOf(request.url))) return;
    const r = buckets.take(clientKey(request.ip), Date.now());
    if (r.allowed) return;
    c.rateLimited++;
    reply.header('retry-after', String(r.retryAfterSeconds));
    return sendProblem(
      reply,
      problem(429, 'ERR_RATE_LIMITED', `too many requests; retry after ${r.retryAfterSeconds} s`),
    );
  });
}

function addTargetChecks(app: FastifyInstance, c: GuardCounters): void {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const target = request.raw.url ?? '';
    const why = targetProblem(target);
    if (why) {
      c.invalidRequests++;
      return refuse(reply, 'ERR_REQUEST_INVALID', why);
    }
    if (tokenInQuery(target)) {
      c.tokensInQuery++;
      return refuse(
        reply,
        'ERR_TOKEN_IN_QUERY',
        'credentials are accepted only in the Authorization header, never in the URL',
      );
    }
  });
}

/** Replaces the JSON parser: the body must be valid UTF-8 and hold no NUL character. */
function addStrictJson(app: FastifyInstance, c: GuardCounters): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(JSON_MEDIA_TYPE);
  app.addContentTypeParser(JSON_MEDIA_TYPE, { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = strictUtf8.decode(body as Buffer);
    } catch {
      c.invalidRequests++;
      done(new ProblemError(400, 'ERR_REQUEST_INVALID', 'the body is not valid UTF-8'), undefined);
      return;
    }
    parseJson(request, text, (err, value) => {
      if (err) return done(err, undefined);
      if (containsNul(value)) {
        c.invalidRequests++;
        return done(
          new ProblemError(400, 'ERR_REQUEST_INVALID', 'the body contains a NUL character'),
          undefined,
        );
      }
      done(null, value);
    });
  });
}

/**
 * Registers the guard on the root instance (before any route or plugin). Returns its counters.
 *
 * @example
 * ```ts
 * const counters = registerRequestGuard(app, resolveLimits(options.limits));
 * ```
 */
export function registerRequestGuard(app: FastifyInstance, limits: ResolvedLimits): GuardCounters {
  const counters: GuardCounters = { rateLimited: 0, invalidRequests: 0, tokensInQuery: 0 };
  addRateLimit(app, limits, counters);
  addTargetChecks(app, counters);
  addStrictJson(app, counters);
  return counters;
}
