/**
 * The relying party's entry point: takes the `Workload-Identity-Token` and
 * `Workload-Proof-Token` headers of an HTTP request, verifies both, and yields the workload's
 * identity; plus a node:http-style middleware answering RFC 9457 problems.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PROBLEM_MEDIA_TYPE } from '../wire/media-types.js';
import { isTwiError } from '../common/errors.js';
import { WimseError } from './errors.js';
import type { WimseErrorCode } from './errors.js';
import { verifyWit } from './wit.js';
import type { VerifiedWit, VerifyWitOptions } from './wit.js';
import { verifyWpt } from './wpt.js';
import type { VerifiedWpt, VerifyWptOptions } from './wpt.js';

/** Request headers as Node gives them (names in any case are accepted). */
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** Options of {@link verifyWorkloadRequest}: those of `verifyWit` and `verifyWpt` together. */
export interface WorkloadRequestOptions
  extends
    VerifyWitOptions,
    Omit<VerifyWptOptions, 'wit' | 'accessToken' | 'txnToken' | 'otherTokens'> {
  /** Other token headers the WPT must bind in `oth` when present (lowercase names). */
  readonly otherTokenHeaders?: readonly string[];
}

/** The authenticated caller. */
export interface WorkloadIdentity {
  /** The workload identifier (WIT `sub`): authorise on this complete URI. */
  readonly workloadId: string;
  readonly trustDomain: string;
  /** WIT `jti`: the provenance hook (`GET /v1/provenance/{jti}`). */
  readonly witJti: string | undefined;
  readonly wit: VerifiedWit;
  readonly wpt: VerifiedWpt;
}

function header(headers: RequestHeaders, name: string): string[] {
  const values: string[] = [];
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== name || v === undefined) continue;
    values.push(...(Array.isArray(v) ? v : [v]));
  }
  return values;
}

/** The single value of a token header; duplicates (also comma-joined ones) are refused. */
function single(headers: RequestHeaders, name: string, code: WimseErrorCode): string | undefined {
  const values = header(headers, name).map((v) => v.trim());
  if (values.length === 0) return undefined;
  if (values.length > 1 || values[0]!.includes(',')) {
    throw new WimseError(code, `exactly one ${name} header is allowed`);
  }
  return values[0];
}

function accessTokenOf(headers: RequestHeaders): string | undefined {
  const auth = single(headers, 'authorization', 'ERR_WPT_ATH');
  const m = auth === undefined ? null : /^(?:Bearer|DPoP)\s+(\S+)$/i.exec(auth);
  return m ? m[1] : undefined;
}

function otherTokensOf(headers: RequestHeaders, names: readonly string[] = []) {
  const tokens: Record<string, string> = {};
  for (const name of names) {
    const value = single(headers, name.toLowerCase(), 'ERR_WPT_OTH');
    if (value !== undefined) tokens[name.toLowerCase()] = value;
  }
  return tokens;
}

/**
 * Verifies the WIT, then the WPT, of a request. An access token in `Authorization`
 * (`Bearer`/`DPoP`) must be bound by `ath`, a `Txn-Token` by `tth`, and each header named in
 * `otherTokenHeaders` by `oth`.
 *
 * @throws WimseError `ERR_WIT_MISSING`, `ERR_WPT_MISSING`, or any `verifyWit`/`verifyWpt` code.
 *
 * @example
 * ```ts
 * const who = await verifyWorkloadRequest(req.headers, {
 *   jwks, now: new Date(), trustDomains: ['example.com'],
 *   expectedAudience: 'https://payments.example.com/v1/charge', replayCache,
 * });
 * authorize(who.workloadId);
 * ```
 */
export async function verifyWorkloadRequest(
  headers: RequestHeaders,
  options: WorkloadRequestOptions,
): Promise<WorkloadIdentity> {
  const witToken = single(headers, 'workload-identity-token', 'ERR_WIT_INVALID');
  const wptToken = single(headers, 'workload-proof-token', 'ERR_WPT_INVALID');
  if (witToken === undefined) throw new WimseError('ERR_WIT_MISSING', 'no Workload-Identity-Token');
  if (wptToken === undefined) {
    throw new WimseError('ERR_WPT_MISSING', 'a WIT was presented without a Workload-Proof-Token');
  }
  const wit = await verifyWit(witToken, options);
  const wpt = await verifyWpt(wptToken, {
    ...options,
    wit,
    accessToken: accessTokenOf(headers),
    txnToken: single(headers, 'txn-token', 'ERR_WPT_TTH'),
    otherTokens: otherTokensOf(headers, options.otherTokenHeaders),
  });
  return {
    workloadId: wit.claims.sub,
    trustDomain: wit.trustDomain,
    witJti: wit.claims.jti,
    wit,
    wpt,
  };
}

/** RFC 9457 problem details of a rejected request. */
export interface WimseProblem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
}

/** The problem `type` URI of a code. */
export function problemType(code: string): string {
  return `tag:twi.dev,2026:problem#${code}`;
}

/** The problem document for an error from {@link verifyWorkloadRequest}. */
export function wimseProblem(err: unknown): WimseProblem {
  if (err instanceof WimseError && err.code === 'ERR_JWKS_UNAVAILABLE') {
    return {
      type: problemType(err.code),
      title: 'Issuer keys unavailable',
      status: 503,
      detail: err.message,
      code: err.code,
    };
  }
  if (isTwiError(err)) {
    return {
      type: problemType(err.code),
      title: 'Workload credentials rejected',
      status: 400,
      detail: err.message,
      code: err.code,
    };
  }
  return {
    type: 'about:blank',
    title: 'Internal Server Error',
    status: 500,
    detail: 'internal error',
    code: 'ERR_INTERNAL',
  };
}

/** Options of {@link wimseMiddleware}: `now` is read per request. */
export interface WimseMiddlewareOptions extends Omit<WorkloadRequestOptions, 'now'> {
  readonly now?: () => Date;
}

/** A request that passed: `workload` holds the caller's identity. */
export type WorkloadRequest = IncomingMessage & { workload?: WorkloadIdentity };

/**
 * A `(req, res, next)` middleware (node:http, Express, Connect): on success sets
 * `req.workload` and calls `next()`; on failure answers `application/problem+json` (400, or
 * 503 when the issuer keys cannot be had) with the stable `code`.
 *
 * @example
 * ```ts
 * const guard = wimseMiddleware({ jwks, expectedAudience: 'https://api.example.com/', replayCache });
 * http.createServer((req, res) => guard(req, res, () => res.end(req.workload!.workloadId)));
 * ```
 */
export function wimseMiddleware(options: WimseMiddlewareOptions) {
  return (req: WorkloadRequest, res: ServerResponse, next: (err?: unknown) => void): void => {
    const now = options.now ? options.now() : new Date();
    verifyWorkloadRequest(req.headers, { ...options, now }).then(
      (identity) => {
        req.workload = identity;
        next();
      },
      (err: unknown) => {
        const problem = wimseProblem(err);
        res.statusCode = problem.status;
        res.setHeader('content-type', PROBLEM_MEDIA_TYPE);
        res.setHeader('cache-control', 'no-store');
        res.end(JSON.stringify(problem));
      },
    );
  };
}
