/**
 * A bundle event when a signing key or CA leaves the bundle by time. Retirement is not a change
 * in the store, so neither an admin call nor the change-log follower announces it: a timer armed
 * for the next retirement instant (`admin-state.ts` `nextRetirement`) publishes the bundle then.
 * It is re-armed after every publication, whatever caused it, so a rotation made through any
 * instance moves it; every instance on a store computes the same instant and sequence.
 *
 * @internal
 * @module
 */

/** Longest delay `setTimeout` takes (about 24.8 days); a later instant is approached in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** Delay before trying again after the store failed to answer. */
export const RETIREMENT_RETRY_MS = 1000;

/** Options of {@link createRetirementTimer}. */
export interface RetirementTimerOptions {
  /** The next retirement instant after the clock's now, or `undefined` for none. */
  next(): Promise<Date | undefined>;
  /** The service's clock. */
  now(): Date;
  /** Publishes the current bundle; expected to call `arm` again once done. */
  publish(): Promise<unknown>;
  /** Told about a failure; the timer retries after {@link RETIREMENT_RETRY_MS}. */
  onError(err: unknown): void;
}

/** The timer of one service instance. */
export interface RetirementTimer {
  /** Reads the next retirement instant and (re)sets the timer for it. */
  arm(): void;
  /** Clears the timer; later `arm` calls do nothing. */
  close(): void;
}

/**
 * Creates the timer (disarmed: call `arm` once the service is up). The timer is unref'd, so it
 * never keeps the process alive. Of overlapping `arm` calls the last one wins.
 *
 * @example
 * ```ts
 * const timer = createRetirementTimer({ next: () => nextRetirement(source), now, onError,
 *   publish: async () => { await events.publish(); timer.arm(); } });
 * timer.arm();
 * ```
 */
export function createRetirementTimer(o: RetirementTimerOptions): RetirementTimer {
  let timer: NodeJS.Timeout | undefined;
  let generation = 0;
  let closed = false;

  const set = (delayMs: number, run: () => void): void => {
    clearTimeout(timer);
    timer = setTimeout(run, Math.min(Math.max(delayMs, 0), MAX_DELAY_MS));
    timer.unref();
  };

  /** After a failure: report it, then run `again` (the read or the publication that failed). */
  const retry = (again: () => void) => (err: unknown) => {
    if (closed) return;
    o.onError(err);
    set(RETIREMENT_RETRY_MS, again);
  };

  const fire = (due: number): void => {
    timer = undefined;
    if (closed) return;
    // Early (a capped delay, or the timer's clock ahead of the service's): wait on.
    if (o.now().getTime() < due) return arm();
    // A failed publication is retried as such: re-arming would skip the instant that has come.
    o.publish().catch(retry(() => fire(due)));
  };

  function arm(): void {
    if (closed) return;
    const mine = ++generation;
    o.next().then((at) => {
      if (closed || mine !== generation) return;
      clearTimeout(timer);
      timer = undefined;
      if (at) set(at.getTime() - o.now().getTime(), () => fire(at.getTime()));
    }, retry(arm));
  }

  return {
    arm,
    close() {
      closed = true;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
