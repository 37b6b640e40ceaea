/**
 * Polling for tests that wait on another process or an event stream: one helper instead of a
 * loop per file. Failures name what was awaited.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Options of {@link waitFor}. */
export interface PollOptions {
  /** Give up after this long (default 60 s). */
  readonly ms?: number;
  /** Pause between probes (default 100 ms). */
  readonly stepMs?: number;
  /** Treat a probe that throws as "not yet" (default true). */
  readonly ignoreErrors?: boolean;
}

/**
 * Probes until `probe` returns something other than `undefined`, and returns it.
 *
 * @throws Error `timed out waiting for <what>` after `ms`.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  o: PollOptions = {},
): Promise<T> {
  const end = Date.now() + (o.ms ?? 60_000);
  for (;;) {
    let v: T | undefined;
    try {
      v = await probe();
    } catch (err) {
      if (o.ignoreErrors === false) throw err;
    }
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(o.stepMs ?? 100);
  }
}

/** Probes until `cond` holds. */
export async function waitUntil(
  what: string,
  cond: () => boolean | Promise<boolean>,
  o: PollOptions = {},
): Promise<void> {
  await waitFor(what, async () => ((await cond()) ? true : undefined), o);
}
