/**
 * Keeps a credential current: the first one as soon as possible, then a renewal at a fraction
 * of each credential's lifetime (with jitter, so a fleet started together spreads out), and
 * exponential backoff with full jitter while the verifier is unavailable. The still-valid
 * credential is served meanwhile; an expired one never is. A revoked credential is dropped at
 * once and a new round starts without waiting ({@link Renewal.revoke}).
 *
 * @internal
 * @module
 */
import { nextBackoff } from '../common/backoff.js';
import type { Credential } from './credential.js';

/** Options of {@link createRenewal}. */
export interface RenewalOptions {
  /** One attestation round (fresh nonce and evidence each call). */
  readonly obtain: () => Promise<Credential>;
  /** Renew after this fraction of the lifetime (default 0.5; 0 < f < 1). */
  readonly renewFraction?: number;
  /** Relative jitter of the renewal instant (default 0.1: ±10 % of the delay). */
  readonly jitter?: number;
  /** First retry delay (default 500 ms); doubles up to `maxBackoffMs`. */
  readonly minBackoffMs?: number;
  /** Longest retry delay (default 30 000 ms). */
  readonly maxBackoffMs?: number;
  readonly now?: () => number;
  /** Every new credential, the first included. */
  readonly onCredential?: (c: Credential) => void;
  /** Every failed round, with the delay until the next one. */
  readonly onError?: (err: unknown, retryInMs: number) => void;
  /** Randomness for jitter (default Math.random). */
  readonly random?: () => number;
}

/** A running renewal loop. */
export interface Renewal {
  /** Resolves with the first credential (retrying until there is one, or rejects on stop). */
  readonly ready: Promise<Credential>;
  /** The latest credential while it is valid. */
  current(): Credential | undefined;
  /** Rounds done so far: successes and failures. */
  stats(): { renewals: number; failures: number };
  /**
   * Stops serving the current credential and starts a round at once (unless one is running:
   * its credential is the replacement). When that replacement is revoked too within
   * `minBackoffMs` of its arrival, the next round waits a backoff first (doubling while that
   * repeats), so credentials revoked as soon as they are issued cannot make the loop spin.
   * Nothing happens without a current credential.
   */
  revoke(): void;
  stop(): void;
}

/** The delay until renewing `c`, received at `at` (ms since epoch). */
export function renewalDelay(
  c: Credential,
  at: number,
  fraction: number,
  jitter: number,
  random: () => number,
): number {
  const lifetime = c.expiresAt.getTime() - c.issuedAt.getTime();
  const target = c.issuedAt.getTime() + lifetime * fraction;
  const base = Math.max(0, target - at);
  const spread = base * jitter * (2 * random() - 1);
  // Never later than 90 % of the remaining validity: room for retries before expiry.
  return Math.max(0, Math.min(base + spread, (c.expiresAt.getTime() - at) * 0.9));
}

function checkFraction(f: number, name: string, lo: number, hi: number): void {
  if (!Number.isFinite(f) || f <= lo || f >= hi) {
    throw new RangeError(`${name} must be between ${lo} and ${hi} (exclusive)`);
  }
}

/** Starts the loop at once. */
export function createRenewal(o: RenewalOptions): Renewal {
  const fraction = o.renewFraction ?? 0.5;
  const jitter = o.jitter ?? 0.1;
  checkFraction(fraction, 'renewFraction', 0, 1);
  checkFraction(jitter, 'jitter', -Number.MIN_VALUE, 1);
  const minMs = o.minBackoffMs ?? 500;
  const maxMs = o.maxBackoffMs ?? 30_000;
  if (!(maxMs > 0)) throw new RangeError('maxBackoffMs must be positive');
  const now = o.now ?? Date.now;
  const random = o.random ?? Math.random;
  let latest: Credential | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  // Backoff ceilings: half-jittered, doubling from minMs up to maxMs.
  const backoff = { baseMs: Math.min(minMs, maxMs), maxMs, jitter: 'half' as const, random };
  let failStreak = 0;
  let renewals = 0;
  let failures = 0;
  let running = false;
  let latestAt = -Infinity;
  // Whether the pending round, and the latest credential, came from a revocation.
  let revokeRound = false;
  let latestByRevoke = false;
  let revokeStreak = 0;
  let resolveReady!: (c: Credential) => void;
  let rejectReady!: (err: unknown) => void;
  const ready = new Promise<Credential>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  ready.catch(() => undefined);

  const schedule = (ms: number): void => {
    if (stopped) return;
    timer = setTimeout(() => void round(), ms);
  };
  const round = async (): Promise<void> => {
    timer = undefined;
    running = true;
    try {
      const c = await o.obtain();
      running = false;
      if (stopped) return;
      latest = c;
      latestAt = now();
      latestByRevoke = revokeRound;
      revokeRound = false;
      renewals++;
      failStreak = 0;
      o.onCredential?.(c);
      resolveReady(c);
      // onCredential may have revoked it already (and scheduled the next round).
      if (latest === c) schedule(renewalDelay(c, now(), fraction, jitter, random));
    } catch (err) {
      running = false;
      if (stopped) return;
      failures++;
      const delay = nextBackoff(failStreak++, backoff);
      o.onError?.(err, delay);
      schedule(delay);
    }
  };
  void round();
  return {
    ready,
    current: () => (latest && latest.expiresAt.getTime() > now() ? latest : undefined),
    stats: () => ({ renewals, failures }),
    revoke() {
      if (!latest) return;
      latest = undefined;
      if (stopped || running) return;
      if (timer) clearTimeout(timer);
      const again = latestByRevoke && now() - latestAt < minMs;
      revokeRound = true;
      const delay = again ? nextBackoff(revokeStreak++, backoff) : 0;
      if (!again) revokeStreak = 0;
      schedule(delay);
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      rejectReady(new Error('the shim stopped before a credential was obtained'));
    },
  };
}
