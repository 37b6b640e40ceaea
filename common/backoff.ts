/**
 * Exponential backoff, one definition for every retry loop of twi (the endorsement fetch
 * retries, the shim's attestation rounds, the bundle watch and the bundle poll).
 *
 * @internal
 * @module
 */

/** How much of the backoff is randomised. */
export type BackoffJitter =
  /** A uniform share of the whole ceiling, floored: `[0, ceiling)` (AWS "full jitter"). */
  | 'full'
  /** At least half the ceiling: `[ceiling / 2, ceiling)`, rounded (AWS "equal jitter"). */
  | 'half'
  /** The ceiling itself. */
  | 'none';

/** Options of {@link nextBackoff}. */
export interface BackoffOptions {
  /** The ceiling of attempt 0; it doubles with each attempt. */
  readonly baseMs: number;
  /** The largest ceiling. */
  readonly maxMs: number;
  readonly jitter: BackoffJitter;
  /** Uniform in [0, 1) (default `Math.random`). */
  readonly random?: () => number;
}

/**
 * The wait before retry `attempt` (0 for the first): the ceiling `min(maxMs, baseMs · 2^attempt)`
 * with the jitter asked for.
 *
 * @example
 * ```ts
 * nextBackoff(3, { baseMs: 250, maxMs: 30_000, jitter: 'none' }); // 2000
 * nextBackoff(3, { baseMs: 250, maxMs: 30_000, jitter: 'full' }); // 0 … 1999
 * ```
 */
export function nextBackoff(attempt: number, o: BackoffOptions): number {
  const ceiling = Math.min(o.maxMs, o.baseMs * 2 ** attempt);
  if (o.jitter === 'none') return ceiling;
  const r = (o.random ?? Math.random)();
  return o.jitter === 'full' ? Math.floor(r * ceiling) : Math.round(ceiling * (0.5 + r / 2));
}
