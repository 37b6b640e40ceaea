/**
 * Agent mode (`twi shim --agent`, docs/shim.md "Agent mode"): one shim serving several
 * workloads. It measures itself as the shim does (on TDX into RTMR3, replayed by the verifier),
 * identifies each caller of the local API (and the Workload API) by the socket's peer credentials
 * (`caller.ts` selectors), and obtains a distinct credential per caller: its own TEE key, fresh
 * evidence and the caller's selectors in the attest request. Credentials are cached per
 * selector set and renewed like the shim's; a caller the verifier refuses (no registration
 * matches its selectors, or the agent is not trusted) gets the verifier's problem.
 *
 * @internal
 * @module
 */
import type { Socket } from 'node:net';
import type { AttesterDevice, WorkloadKey } from '../attester.js';
import { obtainCredential, type Credential } from '../credential.js';
import { startLocalApi, type HeldBundle, type LocalApi, type LocalApiState } from '../local-api.js';
import { eventLogOf, type SelfMeasurement } from '../measure.js';
import { createRenewal, type Renewal } from '../renewal.js';
import { createRevocationGuard } from '../revocation.js';
import { heldBundle, measureSelf } from '../shim.js';
import { createVerifierClient } from '../verifier-client.js';
import { createWitCheck, firstBundleOf } from '../wit-check.js';
import { fetchBundle } from '../../wimse/bundle-poll.js';
import { watchBundle, type BundleWatch } from '../../wimse/bundle-watch.js';
import {
  startWorkloadApi,
  type WorkloadApi,
  type WorkloadApiState,
} from '../workload-api/server.js';
import { identifyCaller, peerCredentials, type Caller } from './caller.js';

/** Options of {@link startAgent}. */
export interface AgentOptions {
  readonly attester: AttesterDevice;
  /** Verifier service base URL. */
  readonly verifier: string;
  /**
   * The fetch for every request to the verifier (default the global one), e.g.
   * `fetchTrusting(ca)` for a verifier with a private CA (docs/shim.md "Trusting the verifier").
   */
  readonly fetch?: typeof fetch;
  readonly socketPath: string;
  /** Group id allowed on the socket (mode 0660); without it only the owner can connect. */
  readonly socketGid?: number;
  /**
   * Anyone may connect (mode 0666): callers are told apart by their peer credentials, so an
   * agent serving workloads under several uids needs it (or a group they share).
   */
  readonly socketWorld?: boolean;
  readonly alg?: 'ES256' | 'ES384';
  readonly renewFraction?: number;
  readonly jitter?: number;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly trustDomain?: string;
  /** How long the first WIT waits for a trust bundle (default 10 000 ms). */
  readonly bundleTimeoutMs?: number;
  /** Also serve the SPIFFE Workload API here, per caller as the local API. */
  readonly workloadApiSocket?: string;
  /** Also obtain an X.509 workload certificate for each caller's TEE key. */
  readonly x509?: boolean;
  /** Most callers (selector sets) held at once; the least recently used goes (default 64). */
  readonly maxCallers?: number;
  readonly measuredFiles?: readonly string[];
  readonly log?: (line: string) => void;
}

/** A running agent. */
export interface Agent {
  readonly platform: string;
  readonly measurement: SelfMeasurement;
  readonly socketPath: string;
  readonly workloadApiSocket: string | undefined;
  /** Selector sets with a credential now. */
  callers(): number;
  stats(): { callers: number; refused: number; wptsSigned: number };
  close(): Promise<void>;
}

/** One caller's key, renewal and what the local API serves it from. */
interface Entry {
  readonly selectors: readonly string[];
  readonly key: WorkloadKey;
  readonly renewal: Renewal;
  readonly state: LocalApiState;
  readonly workloadApiState: WorkloadApiState;
  /** Workload API streams following this caller's credential and the bundle. */
  readonly listeners: Set<() => void>;
  lastUsed: number;
}

const notify = (e: Entry): void => {
  for (const listener of e.listeners) listener();
};

function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  return `${typeof e.code === 'string' ? e.code + ': ' : ''}${String(e.message ?? err)}`;
}

/** Starts the agent: measures itself, follows the bundle, serves the local API per caller. */
export async function startAgent(o: AgentOptions): Promise<Agent> {
  const log = o.log ?? (() => undefined);
  const maxCallers = o.maxCallers ?? 64;
  if (!Number.isInteger(maxCallers) || maxCallers < 1) {
    throw new RangeError('maxCallers must be a positive integer');
  }
  const { m, register, ccel } = await measureSelf(o);
  log(
    `agent: measured ${m.files.length} files: sha384 ${Buffer.from(m.digest).toString('hex')}${register ? ` → ${register}` : ''}`,
  );
  const doFetch = o.fetch ?? fetch;
  const verifier = createVerifierClient({ url: o.verifier, fetch: doFetch });
  const guard = createRevocationGuard();
  let bundle: HeldBundle | undefined;
  const pending = new Map<string, Promise<Entry>>();
  const entries = new Map<string, Entry>();
  let refused = 0;
  let closed = false;
  const watch: BundleWatch = watchBundle(new URL('v1/bundle/events', verifier.url), {
    fetch: doFetch,
    onBundle: (b) => {
      bundle = heldBundle(b, Date.now());
      guard.observe(b);
      for (const e of entries.values()) {
        const c = e.renewal.current();
        if (c && guard.check(c)) e.renewal.revoke();
        notify(e);
      }
    },
  });
  const bundleTimeoutMs = o.bundleTimeoutMs ?? 10_000;
  const firstBundle = () =>
    firstBundleOf(
      watch.ready,
      () =>
        fetchBundle(
          new URL('v1/bundle', verifier.url),
          doFetch,
          AbortSignal.timeout(bundleTimeoutMs),
        ),
      bundleTimeoutMs,
    );

  const drop = (id: string, e: Entry): void => {
    entries.delete(id);
    e.renewal.stop();
    e.key.dispose();
  };

  async function createEntry(selectors: readonly string[]): Promise<Entry> {
    const key = await o.attester.createKey(o.alg ?? 'ES256');
    const witCheck = createWitCheck({
      latestBundle: () => watch.latest(),
      firstBundle,
      publicJwk: key.publicJwk,
      ...(o.trustDomain !== undefined && { trustDomain: o.trustDomain }),
    });
    const obtain = async (): Promise<Credential> => {
      const c = await obtainCredential({
        attester: o.attester,
        key,
        verifier,
        eventLog: eventLogOf(m, register, ccel),
        selectors,
        ...(o.x509 && { x509: true }),
      });
      await witCheck.check(c.wit);
      return c;
    };
    // The first round is the caller's answer: a refusal reaches it instead of being retried.
    let first: Credential | undefined;
    try {
      first = await obtain();
    } catch (err) {
      key.dispose();
      throw err;
    }
    const listeners = new Set<() => void>();
    const renewal = createRenewal({
      obtain: () => {
        const c = first;
        first = undefined;
        return c ? Promise.resolve(c) : obtain();
      },
      ...(o.renewFraction !== undefined && { renewFraction: o.renewFraction }),
      ...(o.jitter !== undefined && { jitter: o.jitter }),
      ...(o.minBackoffMs !== undefined && { minBackoffMs: o.minBackoffMs }),
      ...(o.maxBackoffMs !== undefined && { maxBackoffMs: o.maxBackoffMs }),
      onCredential: (c) => {
        log(`agent: credential ${c.jti ?? ''} for ${c.sub}, expires ${c.expiresAt.toISOString()}`);
        for (const listener of listeners) listener();
      },
      onError: (err, ms) =>
        log(
          `agent: renewal for ${selectors.join(' ')} failed (${describe(err)}); retrying in ${ms} ms`,
        ),
    });
    await renewal.ready;
    return {
      selectors,
      key,
      renewal,
      lastUsed: Date.now(),
      state: {
        credential: () => renewal.current(),
        bundle: () => bundle,
        key,
        ...(o.x509 && { x509: true }),
        now: () => new Date(),
      },
      workloadApiState: {
        credential: () => renewal.current(),
        bundle: () => watch.latest(),
        x509WorkloadKey: false,
        subscribe(listener) {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
        now: () => new Date(),
      },
      listeners,
    };
  }

  /** The entry of a selector set: cached, or created with a first credential. */
  function entryFor(selectors: readonly string[]): Promise<Entry> {
    const id = selectors.join('\n');
    const held = entries.get(id);
    if (held) {
      held.lastUsed = Date.now();
      return Promise.resolve(held);
    }
    let p = pending.get(id);
    if (p) return p;
    p = createEntry(selectors).then(
      (e) => {
        pending.delete(id);
        if (closed) {
          e.renewal.stop();
          e.key.dispose();
          throw new Error('agent closed');
        }
        while (entries.size >= maxCallers) {
          const [oldId, old] = [...entries].reduce((a, b) =>
            b[1].lastUsed < a[1].lastUsed ? b : a,
          );
          log(`agent: dropping the least recently used caller ${old.selectors.join(' ')}`);
          drop(oldId, old);
        }
        entries.set(id, e);
        return e;
      },
      (err: unknown) => {
        // Not cached: the next call asks the verifier again (registrations may have changed).
        pending.delete(id);
        refused++;
        log(`agent: no credential for ${selectors.join(' ')} (${describe(err)})`);
        throw err;
      },
    );
    pending.set(id, p);
    return p;
  }

  // A connection's caller is identified once, on its first request.
  const callers = new WeakMap<Socket, Promise<Caller>>();
  const callerOf = (socket: Socket): Promise<Caller> => {
    let c = callers.get(socket);
    if (!c) {
      c = (async () => identifyCaller(peerCredentials(socket)))();
      callers.set(socket, c);
    }
    return c;
  };

  const entryOf = async (socket: Socket): Promise<Entry> =>
    entryFor((await callerOf(socket)).selectors);
  const socketMode = {
    ...(o.socketGid !== undefined && { gid: o.socketGid }),
    ...(o.socketWorld && { world: true }),
  };
  let api: LocalApi;
  let workloadApi: WorkloadApi | undefined;
  try {
    api = await startLocalApi({
      socketPath: o.socketPath,
      ...socketMode,
      state: async (socket) => (await entryOf(socket)).state,
    });
    if (o.workloadApiSocket !== undefined) {
      workloadApi = await startWorkloadApi({
        socketPath: o.workloadApiSocket,
        ...socketMode,
        state: async (socket) => (await entryOf(socket)).workloadApiState,
      }).catch(async (err: unknown) => {
        await api.close();
        throw err;
      });
    }
  } catch (err) {
    watch.close();
    throw err;
  }
  return {
    platform: o.attester.platform,
    measurement: m,
    socketPath: o.socketPath,
    workloadApiSocket: workloadApi?.socketPath,
    callers: () => entries.size,
    stats: () => ({ callers: entries.size, refused, wptsSigned: api.signed() }),
    async close() {
      closed = true;
      watch.close();
      await Promise.all([api.close(), workloadApi?.close()]);
      for (const [id, e] of [...entries]) drop(id, e);
    },
  };
}
