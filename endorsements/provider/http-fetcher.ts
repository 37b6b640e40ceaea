/**
 * The production {@link Fetcher}: one GET over Node's `fetch`, with a per-request timeout, a
 * body size cap enforced while reading, and lowercase header names.
 *
 * @internal
 * @module
 */
import { TwiError } from '../../common/errors.js';
import type { Fetcher, HttpResponse } from './types.js';

/** Stable codes of {@link FetchError}. */
export type FetchErrorCode = 'ERR_FETCH_TIMEOUT' | 'ERR_FETCH_NETWORK' | 'ERR_FETCH_BODY_TOO_LARGE';

/** A GET that produced no usable response. `retryable` says whether asking again may help. */
export class FetchError extends TwiError {
  override readonly code: FetchErrorCode;
  readonly url: string;
  readonly retryable: boolean;

  constructor(code: FetchErrorCode, url: string, message: string, options?: ErrorOptions) {
    super(`${url}: ${message}`, options);
    this.code = code;
    this.url = url;
    this.retryable = code !== 'ERR_FETCH_BODY_TOO_LARGE';
  }
}

/** Options of {@link createHttpFetcher}. */
export interface HttpFetcherOptions {
  /** Whole-request budget (connect, headers and body). Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Largest body accepted; a longer one is cut off and rejected. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** `User-Agent` header. Default `twi/0.1.0`. */
  readonly userAgent?: string;
}

/**
 * Creates a {@link Fetcher} over Node's `fetch`. It never buffers more than `maxBodyBytes`,
 * rejects with a {@link FetchError} (`ERR_FETCH_TIMEOUT`, `ERR_FETCH_NETWORK`,
 * `ERR_FETCH_BODY_TOO_LARGE`) and, when the caller's signal aborts, with its reason. Any HTTP
 * status is a response: mapping statuses is the client's job.
 *
 * @example
 * ```ts
 * const fetcher = withRetry(createHttpFetcher({ timeoutMs: 5_000 }));
 * const res = await fetcher('https://kdsintf.amd.com/vcek/v1/Milan/cert_chain', {
 *   signal: AbortSignal.timeout(60_000),
 * });
 * if (res.status === 200) console.log(res.headers['content-type'], res.body.length);
 * ```
 */
export function createHttpFetcher(options: HttpFetcherOptions = {}): Fetcher {
  const timeoutMs = positive('timeoutMs', options.timeoutMs ?? 10_000);
  const maxBodyBytes = positive('maxBodyBytes', options.maxBodyBytes ?? 1 << 20);
  const userAgent = options.userAgent ?? 'twi/0.1.0';
  return async (url, init) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([init.signal, timeout]);
    const fail = (err: unknown): never => {
      if (init.signal.aborted) throw init.signal.reason;
      if (timeout.aborted) {
        throw new FetchError('ERR_FETCH_TIMEOUT', url, `no response within ${timeoutMs} ms`, {
          cause: err,
        });
      }
      if (err instanceof FetchError) throw err;
      const detail = (err as { cause?: { code?: string } }).cause?.code ?? String(err);
      throw new FetchError('ERR_FETCH_NETWORK', url, detail, { cause: err });
    };
    try {
      const res = await fetch(url, {
        headers: { 'user-agent': userAgent, ...init.headers },
        signal,
        redirect: 'follow',
      });
      const headers = lowercaseHeaders(res.headers);
      const body = await readCapped(res, url, maxBodyBytes);
      return { status: res.status, headers, body } satisfies HttpResponse;
    } catch (err) {
      return fail(err);
    }
  };
}

function lowercaseHeaders(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((value, name) => {
    out[name.toLowerCase()] = value;
  });
  return out;
}

async function readCapped(res: Response, url: string, max: number): Promise<Uint8Array> {
  const tooLarge = (n: string): FetchError =>
    new FetchError('ERR_FETCH_BODY_TOO_LARGE', url, `body of ${n} bytes is over ${max}`);
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge(String(declared));
  }
  if (res.body === null) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(`more than ${max}`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function positive(name: string, n: number): number {
  if (!Number.isFinite(n) || n <= 0) throw new TypeError(`${name} must be a positive number`);
  return n;
}
