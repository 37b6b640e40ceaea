/**
 * A bound on the endorsement fetches evidence can cause. A VCEK is asked for by CHIP_ID and
 * TCB, TCB Info by FMSPC — values the attester chooses — so an unauthenticated client could
 * otherwise make the verifier call AMD KDS or Intel PCS once per request. The guard sits
 * between the cache and the network: it caps concurrent and per-window fetches of those kinds
 * and remembers for a while every key the vendor answered 404 for (a negative cache).
 *
 * @internal
 * @module
 */
import { EndorsementUnavailableError, TwiError } from '../../common/errors.js';
import {
  requestKey,
  type Endorsement,
  type EndorsementProvider,
  type EndorsementRequest,
  type GetOptions,
} from '../../verifier/verify/endorsement-provider.js';

/** Too many evidence-driven fetches right now: the request may be retried later (429). */
export class EndorsementFetchLimitedError extends TwiError {
  override readonly code = 'ERR_ENDORSEMENT_FETCH_LIMITED';
  /** True: asking again later may succeed. */
  readonly retryable = true;

  constructor(
    message: string,
    /** Seconds after which a fetch may be allowed again. */
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** Options of {@link createFetchGuard}; every field says its default. */
export interface FetchGuardOptions {
  /** Guarded fetches in flight at once. Default 8. */
  readonly maxConcurrent?: number;
  /** Guarded fetches per window. Default 120. */
  readonly maxPerWindow?: number;
  /** The window, ms. Default 60 000. */
  readonly windowMs?: number;
  /** How long a 404 answer is remembered, ms. Default 15 min. */
  readonly negativeTtlMs?: number;
  /** Keys remembered as 404 at most (oldest forgotten first). Default 4096. */
  readonly maxNegative?: number;
  /** Which requests are guarded. Default: VCEKs and TDX TCB Info (chosen by evidence). */
  readonly guarded?: (r: EndorsementRequest) => boolean;
  /** Monotonic-enough clock for windows and TTLs, ms. Default `Date.now`. */
  readonly clock?: () => number;
}

/** What the guard counts (exposed on `/metrics`). */
export interface FetchGuardCounters {
  /** Guarded fetches passed to the network. */
  allowed: number;
  /** Guarded fetches refused by the concurrency or window cap. */
  limited: number;
  /** Requests answered from the negative cache without a fetch. */
  negativeHits: number;
  /** Keys in the negative cache now. */
  negativeEntries: number;
}

/** A provider wrapped by {@link createFetchGuard}. */
export interface GuardedProvider extends EndorsementProvider {
  readonly guardCounters: Readonly<FetchGuardCounters>;
}

/** The default guarded kinds: the ones the evidence selects by attacker-chosen values. */
export function isEvidenceChosen(r: EndorsementRequest): boolean {
  return r.kind === 'amd-vcek' || r.kind === 'tdx-tcb-info';
}

function isNotFound(err: unknown): boolean {
  return err instanceof EndorsementUnavailableError && (err as { status?: number }).status === 404;
}

/**
 * Wraps `inner` with the caps and the negative cache. Unguarded requests pass through.
 *
 * @example
 * ```ts
 * const upstream = createFetchGuard(composeProviders([pcs, kds]), { maxPerWindow: 60 });
 * const provider = createCachingProvider(upstream);
 * ```
 */
export function createFetchGuard(
  inner: EndorsementProvider,
  o: FetchGuardOptions = {},
): GuardedProvider {
  const maxConcurrent = o.maxConcurrent ?? 8;
  const maxPerWindow = o.maxPerWindow ?? 120;
  const windowMs = o.windowMs ?? 60_000;
  const ttl = o.negativeTtlMs ?? 15 * 60_000;
  const maxNegative = o.maxNegative ?? 4096;
  const guarded = o.guarded ?? isEvidenceChosen;
  const clock = o.clock ?? Date.now;
  const negative = new Map<string, number>();
  const c: FetchGuardCounters = { allowed: 0, limited: 0, negativeHits: 0, negativeEntries: 0 };
  let inFlight = 0;
  let windowStart = clock();
  let inWindow = 0;

  const admit = (key: string, t: number): void => {
    if (t - windowStart >= windowMs) {
      windowStart = t;
      inWindow = 0;
    }
    if (inFlight >= maxConcurrent || inWindow >= maxPerWindow) {
      c.limited++;
      const wait = inWindow >= maxPerWindow ? windowStart + windowMs - t : 1000;
      throw new EndorsementFetchLimitedError(
        `${key}: too many endorsement fetches caused by evidence; retry later`,
        Math.max(1, Math.ceil(wait / 1000)),
      );
    }
    inFlight++;
    inWindow++;
    c.allowed++;
  };

  const remember404 = (key: string, t: number): void => {
    negative.delete(key);
    negative.set(key, t + ttl);
    while (negative.size > maxNegative) negative.delete(negative.keys().next().value as string);
    c.negativeEntries = negative.size;
  };

  const checkNegative = (key: string, t: number): void => {
    const until = negative.get(key);
    if (until === undefined) return;
    if (t >= until) {
      negative.delete(key);
      c.negativeEntries = negative.size;
      return;
    }
    c.negativeHits++;
    throw Object.assign(
      new EndorsementUnavailableError(`${key}: the vendor has none (404, remembered)`),
      { status: 404 },
    );
  };

  return {
    ...(inner.crlPolicy !== undefined && { crlPolicy: inner.crlPolicy }),
    guardCounters: c,
    async get(request: EndorsementRequest, options: GetOptions): Promise<Endorsement> {
      if (!guarded(request)) return inner.get(request, options);
      const key = requestKey(request);
      const t = clock();
      checkNegative(key, t);
      admit(key, t);
      try {
        return await inner.get(request, options);
      } catch (err) {
        if (isNotFound(err)) remember404(key, clock());
        throw err;
      } finally {
        inFlight--;
      }
    },
  };
}
