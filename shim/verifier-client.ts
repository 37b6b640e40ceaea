/**
 * The shim's client of the verifier service (ARCHITECTURE "Wire contracts (v1)"):
 * `POST /v1/challenge` and `POST /v1/attest`, with timeouts and typed failures.
 *
 * @internal
 * @module
 */
import { WireError } from '../wire/errors.js';
import { JSON_MEDIA_TYPE } from '../wire/media-types.js';
import { readAttestResponse, readChallengeResponse } from '../wire/messages.js';
import type { AttestAnswer, AttestRequest, Challenge } from '../wire/messages.js';
import { ShimError } from './errors.js';

/** Options of {@link createVerifierClient}. */
export interface VerifierClientOptions {
  /** Base URL of the verifier service, e.g. `https://verifier.example:8443`. */
  readonly url: string;
  /** Per-request timeout (default 10 000 ms). */
  readonly timeoutMs?: number;
  /** The fetch to use (default the global one). */
  readonly fetch?: typeof fetch;
}

/** What the shim asks the verifier. */
export interface VerifierClient {
  readonly url: string;
  challenge(): Promise<Challenge>;
  attest(body: AttestRequest): Promise<AttestAnswer>;
}

const MAX_ANSWER_BYTES = 256 * 1024;

async function readJson(res: Response): Promise<Record<string, unknown>> {
  const text = await res.text();
  if (text.length > MAX_ANSWER_BYTES) {
    throw new ShimError('ERR_SHIM_VERIFIER_RESPONSE', 'verifier answer too large');
  }
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new ShimError('ERR_SHIM_VERIFIER_RESPONSE', `verifier answered ${res.status}, not JSON`);
}

function refusal(status: number, body: Record<string, unknown>): ShimError {
  const code = typeof body.code === 'string' ? body.code : undefined;
  const detail = typeof body.detail === 'string' ? body.detail : 'no detail';
  const retry = status >= 500 || status === 429;
  return new ShimError(
    retry ? 'ERR_SHIM_VERIFIER_UNAVAILABLE' : 'ERR_SHIM_ATTEST_REFUSED',
    `verifier answered ${status}${code ? ` ${code}` : ''}: ${detail}`,
    { status, ...(code && { verifierCode: code }) },
  );
}

/** Reads an answer with `read`, a contract breach becoming `ERR_SHIM_VERIFIER_RESPONSE`. */
function answer<T>(read: (json: Record<string, unknown>) => T, json: Record<string, unknown>): T {
  try {
    return read(json);
  } catch (err) {
    if (!(err instanceof WireError)) throw err;
    throw new ShimError('ERR_SHIM_VERIFIER_RESPONSE', err.message, { cause: err });
  }
}

/**
 * A client of the verifier service.
 *
 * @example
 * ```ts
 * const verifier = createVerifierClient({ url: 'http://127.0.0.1:8443' });
 * const { nonce } = await verifier.challenge();
 * ```
 */
export function createVerifierClient(o: VerifierClientOptions): VerifierClient {
  const base = new URL(o.url);
  const doFetch = o.fetch ?? fetch;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const post = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    let res: Response;
    try {
      res = await doFetch(new URL(path, base), {
        method: 'POST',
        headers: { 'content-type': JSON_MEDIA_TYPE, accept: JSON_MEDIA_TYPE },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new ShimError('ERR_SHIM_VERIFIER_UNAVAILABLE', `verifier ${base.origin} unreachable`, {
        cause: err,
      });
    }
    const json = await readJson(res).catch((err: unknown) => {
      if (res.status >= 500) throw refusal(res.status, {});
      throw err;
    });
    if (!res.ok) throw refusal(res.status, json);
    return json;
  };
  return {
    url: base.href,
    async challenge() {
      return answer(readChallengeResponse, await post('v1/challenge', {}));
    },
    async attest(body) {
      return answer(readAttestResponse, await post('v1/attest', body));
    },
  };
}
