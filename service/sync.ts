/**
 * Keeps one instance's in-memory state (signing key, policy) and its bundle-event subscribers
 * in step with the store, which is the source of truth for every instance sharing it. The
 * instance follows the store's change log from the `seq` it last applied: on a push hint
 * (PostgreSQL LISTEN/NOTIFY), on a timer (the bounded fallback, and the only way for SQLite
 * files shared by processes), and synchronously after its own admin calls. A pass that sees
 * new entries reloads what they touch and publishes one bundle event.
 *
 * @internal
 * @module
 */
import { StoreError } from './store/errors.js';
import type { Store } from './store/types.js';
import type { ServiceState } from './admin-state.js';
import type { BundleEventData } from './events.js';
import { loadOrCreateSigningKey } from './keys.js';
import type { ServiceCa } from './ca-keys.js';
import { loadSharedPolicy, type SharedPolicyOptions } from './shared-settings.js';

/** Default interval of the polling fallback. */
export const SYNC_INTERVAL_MS = 2000;

/** Options of {@link createStateSync}. */
export interface StateSyncOptions {
  readonly store: Store;
  readonly state: ServiceState;
  /** The change `seq` the state was loaded at (read before loading it). */
  readonly fromSeq: number;
  readonly policy: SharedPolicyOptions;
  now(): Date;
  /** Sends the current bundle to the subscribers; resolves with it. */
  publish(): Promise<BundleEventData>;
  /** Polling interval (default {@link SYNC_INTERVAL_MS}); `0` turns polling off. */
  readonly intervalMs?: number;
  /** Told about failures that are retried or survived (a store outage, a bad stored policy). */
  onError(err: unknown, what: string): void;
  /** Loads the CA to issue with after keys or CAs changed (`ca-keys.ts` `loadOrCreateCa`). */
  reloadCa?(): Promise<ServiceCa>;
}

/** A running follower of the change log. */
export interface StateSync {
  /** Subscribes to push hints and starts the polling timer. */
  start(): Promise<void>;
  /**
   * Applies every change committed before the call; resolves with the bundle published, or
   * `undefined` when nothing had changed. Passes are serialised; concurrent callers share a
   * pass that has not started yet.
   */
  refresh(): Promise<BundleEventData | undefined>;
  /** The last change `seq` applied. */
  readonly seq: number;
  /** Stops the timer and the push subscription. */
  close(): void;
}

/**
 * Follows the store's change log for one instance (see the module notes).
 *
 * @example
 * ```ts
 * const sync = createStateSync({ store, state, fromSeq, policy: {}, now, onError,
 *   publish: () => events.publish() });
 * await sync.start();
 * ```
 */
export function createStateSync(o: StateSyncOptions): StateSync {
  let seq = o.fromSeq;
  let tail: Promise<unknown> = Promise.resolve();
  let queued: Promise<BundleEventData | undefined> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let unwatch: (() => void) | undefined;
  let closed = false;

  const reloadPolicy = async (): Promise<void> => {
    try {
      o.state.policy = await loadSharedPolicy(o.store, o.now(), o.policy);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      // A stored value this build cannot use: keep appraising with the policy in force.
      o.onError(err, 'stored policy or reference values rejected; the previous policy stays');
    }
  };

  const reloadCa = async (load: () => Promise<ServiceCa>): Promise<void> => {
    try {
      const ca = await load();
      if (ca.kid !== o.state.ca.kid) o.state.ca = ca;
    } catch (err) {
      if (err instanceof StoreError) throw err;
      // A CA that cannot issue (an operator intermediate past its end): keep the one in force.
      o.onError(err, 'issuing CA could not be reloaded; the previous CA stays');
    }
  };

  const pass = async (): Promise<BundleEventData | undefined> => {
    let last = seq;
    let keys = false;
    let settings = false;
    for (;;) {
      const page = await o.store.changes.since(last);
      for (const change of page) {
        if (change.kind === 'setting') settings = true;
        else if (change.kind !== 'credential-revoked') keys = true;
      }
      if (page.length === 0) break;
      last = page.at(-1)!.seq;
    }
    if (last === seq) return undefined;
    if (keys) {
      // The newest usable key signs; a revoked signing key is replaced at once.
      const next = await loadOrCreateSigningKey(o.store, o.now());
      if (next.kid !== o.state.key.kid) o.state.key = next;
      if (o.reloadCa) await reloadCa(o.reloadCa);
    }
    if (settings) await reloadPolicy();
    seq = last;
    return o.publish();
  };

  const refresh = (): Promise<BundleEventData | undefined> => {
    if (queued) return queued;
    const next = tail.then(() => {
      queued = undefined;
      return pass();
    });
    queued = next;
    tail = next.catch(() => undefined);
    return next;
  };

  const background = (what: string) => (): void => {
    if (!closed) refresh().catch((err: unknown) => o.onError(err, what));
  };

  return {
    async start() {
      const interval = o.intervalMs ?? SYNC_INTERVAL_MS;
      if (interval > 0) {
        timer = setInterval(background('change-log poll failed'), interval);
        timer.unref();
      }
      try {
        unwatch = await o.store.changes.watch(background('change-log catch-up failed'));
      } catch (err) {
        o.onError(err, 'change hints unavailable; polling only');
      }
      if (closed) unwatch?.();
    },
    refresh,
    get seq() {
      return seq;
    },
    close() {
      closed = true;
      clearInterval(timer);
      unwatch?.();
    },
  };
}
