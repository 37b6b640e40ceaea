/**
 * RFC 9457 problem details for every error the verifier service answers with, each with a
 * stable `code` callers can branch on.
 *
 * @internal
 * @module
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_MEDIA_TYPE } from '../wire/media-types.js';
import { isTwiError } from '../common/errors.js';
import { PROVENANCE_STATUS } from '../provenance/errors.js';

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  422: 'Unprocessable Content',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The body of a problem response. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly [extension: string]: unknown;
}

/** An error the service turns into a problem response as it is. */
export class ProblemError extends Error {
  /**
   * @param status - HTTP status.
   * @param code - stable code, e.g. `ERR_NONCE_REUSED`.
   * @param detail - human-readable explanation; never contains evidence or keys.
   * @param extensions - further members of the problem object (e.g. the EAR).
   */
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    readonly extensions: Readonly<Record<string, unknown>> = {},
  ) {
    super(detail);
    this.name = 'ProblemError';
  }
}

/** The problem object for a status, code and detail. */
export function problem(
  status: number,
  code: string,
  detail: string,
  extensions: Readonly<Record<string, unknown>> = {},
): Problem {
  const slug = code.replace(/^ERR_/, '').toLowerCase().replace(/_/g, '-');
  return {
    ...extensions,
    type: `https://twi.dev/problems/${slug}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
  };
}

/** Fastify's own errors (parser, limits, validation) mapped to stable codes. */
const FASTIFY_CODES: Readonly<Record<string, readonly [number, string]>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'ERR_BODY_TOO_LARGE'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'ERR_BODY_INVALID'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'ERR_BODY_INVALID'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'ERR_BODY_INVALID'],
};

/** Status and code for a Twi error escaping a handler (bad evidence vs. unavailable service). */
function twiStatus(code: string): number {
  if (code === 'ERR_ENDORSEMENT_UNAVAILABLE' || code.startsWith('ERR_STORE')) return 503;
  const provenance = (PROVENANCE_STATUS as Readonly<Record<string, number>>)[code];
  if (provenance !== undefined) return provenance;
  return 400;
}

/** Translates any error into a problem object; unknown errors become an opaque 500. */
export function problemFor(err: unknown): Problem {
  if (err instanceof ProblemError)
    return problem(err.status, err.code, err.message, err.extensions);
  const fe = err as Partial<FastifyError>;
  if (fe.validation) {
    return problem(400, 'ERR_REQUEST_INVALID', `request ${fe.message ?? 'is invalid'}`);
  }
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped) return problem(mapped[0], mapped[1], fe.message ?? mapped[1]);
  if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) {
    return problem(400, 'ERR_BODY_INVALID', 'the body is not valid JSON');
  }
  if (isTwiError(err)) {
    // A store failure's message may quote SQL or connection details: the log has it, not the client.
    if (err.code.startsWith('ERR_STORE')) {
      return problem(503, err.code, 'the store is unavailable; try again later');
    }
    const limited = err.code === 'ERR_ENDORSEMENT_FETCH_LIMITED';
    return problem(limited ? 429 : twiStatus(err.code), err.code, err.message);
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return problem(fe.statusCode, 'ERR_REQUEST_INVALID', fe.message ?? 'bad request');
  }
  return problem(500, 'ERR_INTERNAL', 'internal error');
}

/** Sends `p` as `application/problem+json`. */
export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).type(PROBLEM_MEDIA_TYPE).send(p);
}

/** Fastify error handler: every failure leaves as a problem; 5xx are logged (without bodies). */
export function problemErrorHandler(
  err: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const p = problemFor(err);
  const retry = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  if (p.status === 429 && typeof retry === 'number') reply.header('retry-after', String(retry));
  if (p.status >= 500) request.log.error({ err }, 'request failed');
  else request.log.info({ code: p.code, status: p.status }, 'request rejected');
  return sendProblem(reply, p);
}

/** Fastify not-found handler. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(
    reply,
    problem(404, 'ERR_NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]}`),
  );
}
