/**
 * The shim's client of the verifier service (ARCHITECTURE "Wire contracts (v1)"):
 * `POST /v1/challenge` and `POST /v1/attest`, with timeouts and typed failures.
 *
 * @module
 */
import { ShimError } from './errors.js';

/** `POST /v1/challenge` answer. */
export interface Challenge {
  readonly nonce: string;
  readonly expiresAt: Date;
}

/** `POST /v1/attest` body. */
export interface AttestBody {
  readonly nonce: string;
  readonly evidence: Record<string, unknown>;
  readonly key: Record<string, unknown>;
  readonly event_log?: unknown;
  readonly workload?: string;
}

/** `POST /v1/attest` answer. */
export interface AttestAnswer {
  readonly ear: string;
  readonly wit: string;
  readonly expiresAt: Date;
}

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
  attest(body: AttestBody): Promise<AttestAnswer>;
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

function dateOf(v: unknown, what: string): Date {
  const d = typeof v === 'string' ? new Date(v) : new Date(NaN);
  if (Number.isNaN(d.getTime())) {
    throw new ShimError('ERR_SHIM_VERIFIER_RESPONSE', `verifier answer has no valid ${what}`);
  }
  return d;
}

function stringOf(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') {
    throw new ShimError('ERR_SHIM_VERIFIER_RESPONSE', `verifier answer has no ${what}`);
  }
  return v;
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
        headers: { 'content-type': 'application/json', accept: 'application/json' },
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
      const j = await post('v1/challenge', {});
      return { nonce: stringOf(j.nonce, 'nonce'), expiresAt: dateOf(j.expires_at, 'expires_at') };
    },
    async attest(body) {
      const j = await post('v1/attest', body);
      return {
        ear: stringOf(j.ear, 'ear'),
        wit: stringOf(j.wit, 'wit'),
        expiresAt: dateOf(j.expires_at, 'expires_at'),
      };
    },
  };
}
