/**
 * A `fetch` that trusts given CA certificates for https (e.g. the `ca.pem` of
 * `twi serve --dev-tls`) instead of the system store, for the clients that take a `fetch`
 * option. Built on `node:https` because the global fetch has no per-call trust setting.
 *
 * It covers what twi's clients use: `method`, `headers`, a string or byte `body`, `signal`.
 * The body of the `Response` streams as it arrives (server-sent events work). Redirects are
 * not followed: a 3xx is returned as it is. `http:` URLs go to the global fetch.
 *
 * @internal
 * @module
 */
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { Readable } from 'node:stream';

/** The signal's reason, or an `AbortError` like the one fetch rejects with. */
function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

function bodyBytes(body: RequestInit['body']): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw new TypeError('fetchTrusting: the body must be a string, Uint8Array or ArrayBuffer');
}

function responseHeaders(res: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  return headers;
}

/** Status codes whose response has no body (the `Response` constructor refuses one). */
const NULL_BODY = new Set([101, 204, 205, 304]);

function toResponse(res: IncomingMessage, method: string): Response {
  const status = res.statusCode ?? 0;
  const init = { status, statusText: res.statusMessage ?? '', headers: responseHeaders(res) };
  if (NULL_BODY.has(status) || method === 'HEAD') {
    res.resume();
    return new Response(null, init);
  }
  return new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, init);
}

function httpsFetch(ca: string[], input: string | URL | Request, init: RequestInit = {}) {
  if (input instanceof Request) {
    throw new TypeError('fetchTrusting: pass a URL and an init object, not a Request');
  }
  const url = new URL(input);
  const method = (init.method ?? 'GET').toUpperCase();
  const body = bodyBytes(init.body);
  const signal = init.signal ?? undefined;
  const headers = Object.fromEntries(new Headers(init.headers).entries());
  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    let answer: IncomingMessage | undefined;
    const req = request(url, { method, headers, ca }, (res) => {
      answer = res;
      res.once('close', () => signal?.removeEventListener('abort', onAbort));
      resolve(toResponse(res, method));
    });
    // Before the answer the promise rejects; after it, the body stream errors.
    const onAbort = (): void => {
      const reason = abortReason(signal!);
      const err = reason instanceof Error ? reason : new Error(String(reason));
      reject(reason);
      answer?.destroy(err);
      req.destroy(err);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    req.once('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      // As the global fetch does: a network failure is a TypeError with the cause.
      reject(signal?.aborted ? abortReason(signal) : new TypeError('fetch failed', { cause: err }));
    });
    req.end(body);
  });
}

/**
 * A fetch-compatible function whose https requests trust only `ca` (one or more PEM
 * certificates); `http:` URLs use the global fetch.
 *
 * @example
 * ```ts
 * const doFetch = fetchTrusting(readFileSync('.twi/dev-tls/ca.pem', 'utf8'));
 * const res = await doFetch('https://127.0.0.1:8443/v1/bundle');
 * ```
 */
export function fetchTrusting(ca: string | readonly string[]): typeof fetch {
  const trusted = typeof ca === 'string' ? [ca] : [...ca];
  if (trusted.length === 0) throw new TypeError('fetchTrusting needs at least one certificate');
  const f = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const href = input instanceof Request ? input.url : String(input);
    if (new URL(href).protocol === 'http:') return fetch(input, init);
    return httpsFetch(trusted, input, init);
  };
  return f as typeof fetch;
}
