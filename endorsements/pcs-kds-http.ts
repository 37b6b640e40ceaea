/**
 * What the Intel PCS and AMD KDS clients share: one GET through the injected
 * {@link Fetcher} with the vendor status codes mapped to endorsement errors, the
 * `Retry-After` hint, the wrapping of verification failures, CRL body decoding, the check
 * of a root CRL against the pinned roots and the construction of an {@link Endorsement}.
 *
 * Status mapping (both vendors):
 * - 200: the body is verified by the caller;
 * - 429 and 5xx: {@link EndorsementUnavailableError} with `status` and, when the server
 *   sent `Retry-After`, `retryAfterMs` — transient, for the retry layer underneath;
 * - 404 (Intel: no TCB Info for this FMSPC; AMD: no VCEK for this chip/TCB) and every
 *   other status: {@link EndorsementUnavailableError} with `status` — the vendor has no
 *   such collateral, which is not a forgery, so never `EndorsementInvalidError`; a retry
 *   layer should not retry these (only 429, 5xx and network failures);
 * - a rejected fetch (network error, timeout): {@link EndorsementUnavailableError}
 *   without `status`, the fetcher's error as `cause`; an abort of the caller's own
 *   `signal` is rethrown unchanged.
 *
 * @internal
 * @module
 */
import { sha256Hex } from '../common/bytes.js';
import {
  EndorsementInvalidError,
  EndorsementUnavailableError,
  isTwiError,
} from '../common/errors.js';
import type { Certificate } from '../common/x509/certificate.js';
import { verifyCrlSignature } from '../common/x509/crl.js';
import type { Crl } from '../common/x509/crl.js';
import type { Fetcher, HttpResponse } from './provider/types.js';
import type {
  Endorsement,
  EndorsementRequest,
  GetOptions,
} from '../verifier/verify/endorsement-provider.js';

/** HTTP details the clients attach to an {@link EndorsementUnavailableError}. */
export interface HttpFailure {
  /** The URL that was fetched. */
  readonly url: string;
  /** HTTP status; absent when no response arrived (network error, timeout). */
  readonly status?: number;
  /** From `Retry-After` (delta-seconds or HTTP-date), when the server sent one. */
  readonly retryAfterMs?: number;
}

/** An {@link EndorsementUnavailableError} carrying {@link HttpFailure} details. */
export type EndorsementHttpError = EndorsementUnavailableError & HttpFailure;

/** Largest response body accepted (TCB Info for one FMSPC is ~10 KiB, CRLs far less). */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** Builds the unavailable error with its HTTP details. */
export function unavailable(
  message: string,
  failure: HttpFailure,
  cause?: unknown,
): EndorsementHttpError {
  const err = new EndorsementUnavailableError(message, cause === undefined ? undefined : { cause });
  const details: { -readonly [K in keyof HttpFailure]: HttpFailure[K] } = { url: failure.url };
  if (failure.status !== undefined) details.status = failure.status;
  if (failure.retryAfterMs !== undefined) details.retryAfterMs = failure.retryAfterMs;
  return Object.assign(err, details);
}

/**
 * Milliseconds from a `Retry-After` value (RFC 9110 §10.2.3): delta-seconds, or an
 * HTTP-date measured from the response's `Date` header (else from `now`).
 */
export function parseRetryAfter(
  value: string | undefined,
  now: Date,
  dateHeader?: string,
): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  const base = dateHeader === undefined ? NaN : Date.parse(dateHeader);
  return Math.max(0, at - (Number.isNaN(base) ? now.getTime() : base));
}

function statusError(label: string, url: string, res: HttpResponse, now: Date): Error {
  const retryAfterMs = parseRetryAfter(res.headers['retry-after'], now, res.headers['date']);
  const hint = retryAfterMs === undefined ? '' : ` (retry after ${retryAfterMs} ms)`;
  const what =
    res.status === 404
      ? 'not found'
      : res.status === 429
        ? 'rate limited'
        : res.status >= 500
          ? 'server error'
          : 'refused';
  return unavailable(`${label}: ${what}, HTTP ${res.status} from ${url}${hint}`, {
    url,
    status: res.status,
    ...(retryAfterMs !== undefined && { retryAfterMs }),
  });
}

/**
 * GETs `url` and returns the 200 response.
 *
 * @throws {EndorsementUnavailableError} (as {@link EndorsementHttpError}) for any other
 *   status or a failed fetch; `EndorsementInvalidError` for an oversized body.
 */
export async function httpGet(
  fetcher: Fetcher,
  url: string,
  options: GetOptions,
  label: string,
): Promise<HttpResponse> {
  const signal = options.signal ?? new AbortController().signal;
  let res: HttpResponse;
  try {
    res = await fetcher(url, { signal });
  } catch (err) {
    if (options.signal?.aborted) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw unavailable(`${label}: fetching ${url} failed: ${reason}`, { url }, err);
  }
  if (res.status !== 200) throw statusError(label, url, res, options.now);
  if (res.body.length > MAX_RESPONSE_BYTES) {
    throw new EndorsementInvalidError(`${label}: ${res.body.length}-byte response from ${url}`);
  }
  return res;
}

/**
 * Runs a verification step, turning twi errors (a bad signature, chain, CRL or JSON) into
 * {@link EndorsementInvalidError} with the original as `cause`; other errors pass through.
 */
export function asInvalid<T>(label: string, step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof EndorsementInvalidError || !isTwiError(err)) throw err;
    throw new EndorsementInvalidError(`${label}: ${err.code}: ${err.message}`, { cause: err });
  }
}

/** Throws {@link EndorsementInvalidError} with `label: message`. */
export function invalidEndorsement(label: string, message: string): never {
  throw new EndorsementInvalidError(`${label}: ${message}`);
}

const PEM_CRL = /^\s*-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]+)-----END X509 CRL-----\s*$/;

/**
 * DER of a CRL response: DER as is, one PEM `X509 CRL` block, or hex text of the DER
 * (Intel PCCS serves `rootcacrl` that way).
 */
export function crlDerOf(body: Uint8Array, label: string): Uint8Array {
  if (body[0] === 0x30) return body.slice();
  const text = Buffer.from(body).toString('latin1');
  const pem = PEM_CRL.exec(text);
  if (pem !== null) return new Uint8Array(Buffer.from(pem[1]!.replace(/\s+/g, ''), 'base64'));
  const hex = text.trim();
  if (hex.length > 0 && hex.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(hex)) {
    return new Uint8Array(Buffer.from(hex, 'hex'));
  }
  return invalidEndorsement(label, 'response is neither DER, PEM nor hex of a CRL');
}

/**
 * True when one of `issuers` (the pinned Intel roots, the pinned ARKs of a product) signed
 * `crl`: its issuer name, keyUsage and signature check out (see `verifyCrlSignature`).
 *
 * @example
 * if (!crlSignedByOneOf(crl, anchors.intel.certificates)) invalidEndorsement(label, '…');
 */
export function crlSignedByOneOf(crl: Crl, issuers: readonly Certificate[]): boolean {
  return issuers.some((issuer) => {
    try {
      verifyCrlSignature(crl, issuer);
      return true;
    } catch {
      return false;
    }
  });
}

/** Assembles the returned value (`source: 'network'`). */
export function networkEndorsement(
  request: EndorsementRequest,
  body: Uint8Array,
  fetchedAt: Date,
  nextUpdate: Date,
  issuerChain?: string,
): Endorsement {
  return Object.freeze({
    request,
    body,
    ...(issuerChain !== undefined && { issuerChain }),
    sha256: sha256Hex(body),
    fetchedAt,
    nextUpdate,
    source: 'network',
  });
}

/**
 * The checks common to every re-verification of a stored endorsement: `sha256` matches
 * the body, and `nextUpdate` claims no more freshness than the content allows.
 */
export function checkStoredEndorsement(e: Endorsement, label: string, contentLimit: Date): void {
  if (sha256Hex(e.body) !== e.sha256) invalidEndorsement(label, 'sha256 does not match the body');
  if (e.nextUpdate.getTime() > contentLimit.getTime()) {
    invalidEndorsement(
      label,
      `nextUpdate ${e.nextUpdate.toISOString()} is later than its content allows ` +
        `(${contentLimit.toISOString()})`,
    );
  }
}

/** Joins a base URL and an absolute path (`/…`), keeping a path prefix of the base. */
export function joinUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, '') + path;
}
