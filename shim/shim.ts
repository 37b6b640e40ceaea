/**
 * The shim: measure itself, create the workload key in the TEE, attest, keep the credential
 * current, follow the trust bundle, and hand the credential to the workload (local API,
 * files, environment), optionally running the workload as a child.
 *
 * @internal
 * @module
 */
import type { AttesterDevice, WorkloadKey } from './attester.js';
import { startWorkload, type WorkloadChild } from './child.js';
import { obtainCredential, type Credential } from './credential.js';
import {
  prepareFilesDir,
  removeCredentialFiles,
  writeBundleFile,
  writeBundlePemFile,
  writeCredentialFiles,
} from './files.js';
import { startLocalApi, type HeldBundle, type LocalApi } from './local-api.js';
import {
  SHIM_RTMR_INDEX,
  eventLogOf,
  measureFiles,
  shimCodeFiles,
  type SelfMeasurement,
} from './measure.js';
import { createHeldKey } from './held-key.js';
import { createRenewal, type Renewal } from './renewal.js';
import { createRevocationGuard, describeRevocation, type RevocationReason } from './revocation.js';
import { createVerifierClient } from './verifier-client.js';
import { createWitCheck, firstBundleOf } from './wit-check.js';
import { startWorkloadApi, type WorkloadApi } from './workload-api/server.js';
import { ENV_SPIFFE_ENDPOINT_SOCKET } from './workload-api/proto.js';
import { fetchBundle } from '../wimse/bundle-poll.js';
import { watchBundle, type BundleWatch, type WatchedBundle } from '../wimse/bundle-watch.js';

/** Environment variable with the WIT given to the child (the first credential's). */
export const ENV_WIT = 'WIMSE_WIT';
/** Environment variable with the local API's socket path. */
export const ENV_SOCKET = 'TWI_SHIM_SOCKET';
/** Environment variable with the files directory, when there is one. */
export const ENV_FILES = 'TWI_SHIM_FILES';

/** Options of {@link startShim}. */
export interface ShimOptions {
  readonly attester: AttesterDevice;
  /** Verifier service base URL. */
  readonly verifier: string;
  /**
   * The fetch for every request to the verifier (default the global one), e.g.
   * `fetchTrusting(ca)` for a verifier with a private CA (docs/shim.md "Trusting the verifier").
   */
  readonly fetch?: typeof fetch;
  readonly socketPath: string;
  /** Group id allowed on the socket (mode 0660). */
  readonly socketGid?: number;
  readonly filesDir?: string;
  readonly alg?: 'ES256' | 'ES384';
  readonly renewFraction?: number;
  readonly jitter?: number;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Workload name appended to the identifier by the verifier. */
  readonly workload?: string;
  /**
   * Trust domain every WIT's `sub` must be in; without it, the first WIT that passes the check
   * pins it (docs/shim.md "Checking the WIT").
   */
  readonly trustDomain?: string;
  /** How long the first WIT waits for a trust bundle (default 10 000 ms). */
  readonly bundleTimeoutMs?: number;
  /**
   * X.509 mode: each round also asks for a workload certificate for the TEE key (a CSR it
   * signs); the files directory gains `svid.pem` and `bundle.pem`, the local API `GET /v1/x509`
   * (docs/shim.md "X.509 mode").
   */
  readonly x509?: boolean;
  /**
   * X.509 mode with a key the workload holds (`svid-key.pem`): a second key generated in the
   * TEE, attested in its own exchange; implies `x509`.
   */
  readonly x509WorkloadKey?: boolean;
  /**
   * Also serve the SPIFFE Workload API (gRPC) on this socket, same mode and group as the local
   * API; the child gets `SPIFFE_ENDPOINT_SOCKET` (docs/shim.md "SPIFFE Workload API").
   */
  readonly workloadApiSocket?: string;
  /** Workload command to start once the first credential is ready. */
  readonly command?: readonly string[];
  /** Files to measure (default {@link shimCodeFiles}). */
  readonly measuredFiles?: readonly string[];
  /** Progress lines (never secrets). */
  readonly log?: (line: string) => void;
}

/** A running shim. */
export interface Shim {
  readonly platform: string;
  readonly measurement: SelfMeasurement;
  readonly socketPath: string;
  /** The Workload API's socket, when it is served. */
  readonly workloadApiSocket: string | undefined;
  /** The first credential. */
  readonly ready: Promise<Credential>;
  current(): Credential | undefined;
  stats(): { renewals: number; failures: number; wptsSigned: number };
  /** With a command: the child's exit status. */
  readonly child: Promise<WorkloadChild | undefined>;
  close(): Promise<void>;
}

/** The bundle as served, expiring at receipt + `spiffe_refresh_hint` (default 300 s). */
export function heldBundle(b: WatchedBundle, receivedAt: number): HeldBundle {
  const hint = (b as { spiffe_refresh_hint?: unknown }).spiffe_refresh_hint;
  const seconds = typeof hint === 'number' && hint > 0 ? hint : 300;
  return {
    bundle: b as unknown as Record<string, unknown>,
    expiresAt: new Date(receivedAt + seconds * 1000),
  };
}

/** Measures the shim's code and, where the platform has one, extends it into a register. */
export async function measureSelf(
  o: Pick<ShimOptions, 'attester' | 'measuredFiles'>,
): Promise<{ m: SelfMeasurement; register?: string; ccel?: Uint8Array }> {
  const m = measureFiles(o.measuredFiles ?? shimCodeFiles());
  if (!o.attester.extendMeasurement) return { m };
  await o.attester.extendMeasurement(SHIM_RTMR_INDEX, m.digest);
  const ccel = o.attester.readEventLog?.();
  return { m, register: `rtmr${SHIM_RTMR_INDEX}`, ...(ccel && { ccel }) };
}

function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  return `${typeof e.code === 'string' ? e.code + ': ' : ''}${String(e.message ?? err)}`;
}

/**
 * Starts the shim. Resolves once the key exists and the API listens; `ready` resolves with
 * the first credential (the child, if any, starts right after).
 */
export async function startShim(o: ShimOptions): Promise<Shim> {
  const log = o.log ?? (() => undefined);
  // Before anything else: a files directory that cannot be made private stops the shim.
  const fixed = o.filesDir ? prepareFilesDir(o.filesDir) : undefined;
  if (fixed) {
    log(`${o.filesDir}: mode ${fixed.was.toString(8)} tightened to ${fixed.now.toString(8)}`);
  }
  const { m, register, ccel } = await measureSelf(o);
  log(
    `measured ${m.files.length} files: sha384 ${Buffer.from(m.digest).toString('hex')}${register ? ` → ${register}` : ''}`,
  );
  const key: WorkloadKey = await o.attester.createKey(o.alg ?? 'ES256');
  const x509 = o.x509 === true || o.x509WorkloadKey === true;
  const heldKey = o.x509WorkloadKey ? createHeldKey(o.alg ?? 'ES256') : undefined;
  const doFetch = o.fetch ?? fetch;
  const verifier = createVerifierClient({ url: o.verifier, fetch: doFetch });
  let bundle: HeldBundle | undefined;
  const guard = createRevocationGuard();
  let revoked: RevocationReason | undefined;
  // Workload API streams follow every change of the credential and the bundle.
  const changeListeners = new Set<() => void>();
  const changed = (): void => {
    for (const listener of changeListeners) listener();
  };
  // Stops serving a revoked credential at once and re-attests (docs/shim.md "Revocation").
  const enforce = (c: Credential | undefined): void => {
    const why = c && guard.check(c);
    if (!why) return;
    revoked = why;
    renewal.revoke();
    if (o.filesDir) removeCredentialFiles(o.filesDir);
    log(describeRevocation(why));
    changed();
  };
  const watch: BundleWatch = watchBundle(new URL('v1/bundle/events', verifier.url), {
    fetch: doFetch,
    onBundle: (b) => {
      bundle = heldBundle(b, Date.now());
      if (o.filesDir) {
        writeBundleFile(o.filesDir, bundle);
        if (x509) writeBundlePemFile(o.filesDir, bundle);
      }
      guard.observe(b);
      enforce(renewal.current());
      changed();
    },
  });
  const bundleTimeoutMs = o.bundleTimeoutMs ?? 10_000;
  // Every WIT is checked against the watched bundle before it is served (docs/shim.md).
  const witCheck = createWitCheck({
    latestBundle: () => watch.latest(),
    firstBundle: () =>
      firstBundleOf(
        watch.ready,
        () =>
          fetchBundle(
            new URL('v1/bundle', verifier.url),
            doFetch,
            AbortSignal.timeout(bundleTimeoutMs),
          ),
        bundleTimeoutMs,
      ),
    publicJwk: key.publicJwk,
    ...(o.trustDomain !== undefined && { trustDomain: o.trustDomain }),
  });
  const renewal: Renewal = createRenewal({
    obtain: async () => {
      const c = await obtainCredential({
        attester: o.attester,
        key,
        verifier,
        eventLog: eventLogOf(m, register, ccel),
        ...(o.workload !== undefined && { workload: o.workload }),
        ...(x509 && { x509: true }),
        ...(heldKey && { heldKey }),
      });
      await witCheck.check(c.wit);
      return c;
    },
    ...(o.renewFraction !== undefined && { renewFraction: o.renewFraction }),
    ...(o.jitter !== undefined && { jitter: o.jitter }),
    ...(o.minBackoffMs !== undefined && { minBackoffMs: o.minBackoffMs }),
    ...(o.maxBackoffMs !== undefined && { maxBackoffMs: o.maxBackoffMs }),
    onCredential: (c) => {
      revoked = undefined;
      if (o.filesDir) writeCredentialFiles(o.filesDir, c);
      log(`credential ${c.jti ?? ''} for ${c.sub}, expires ${c.expiresAt.toISOString()}`);
      // Revoked while it was being issued (the bundle arrived first)?
      enforce(c);
      changed();
    },
    onError: (err, ms) => log(`attestation failed (${describe(err)}); retrying in ${ms} ms`),
  });
  const revokedText = (): string | undefined =>
    revoked &&
    (revoked.kind === 'jti'
      ? `the credential ${revoked.jti} was revoked`
      : `the signing key ${revoked.kid} of the credential was revoked`);
  let api: LocalApi;
  let workloadApi: WorkloadApi | undefined;
  try {
    api = await startLocalApi({
      socketPath: o.socketPath,
      ...(o.socketGid !== undefined && { gid: o.socketGid }),
      state: {
        credential: () => renewal.current(),
        bundle: () => bundle,
        revoked: revokedText,
        key,
        ...(x509 && { x509: true }),
        now: () => new Date(),
      },
    });
    if (o.workloadApiSocket !== undefined) {
      workloadApi = await startWorkloadApi({
        socketPath: o.workloadApiSocket,
        ...(o.socketGid !== undefined && { gid: o.socketGid }),
        state: {
          credential: () => renewal.current(),
          bundle: () => watch.latest(),
          revoked: revokedText,
          x509WorkloadKey: heldKey !== undefined,
          subscribe(listener) {
            changeListeners.add(listener);
            return () => changeListeners.delete(listener);
          },
          now: () => new Date(),
        },
      }).catch(async (err: unknown) => {
        await api.close();
        throw err;
      });
    }
  } catch (err) {
    renewal.stop();
    watch.close();
    key.dispose();
    heldKey?.dispose();
    throw err;
  }
  const child = renewal.ready.then(
    (c) => {
      if (!o.command || o.command.length === 0) return undefined;
      const env: Record<string, string> = { [ENV_WIT]: c.wit, [ENV_SOCKET]: o.socketPath };
      if (o.filesDir) env[ENV_FILES] = o.filesDir;
      if (workloadApi) env[ENV_SPIFFE_ENDPOINT_SOCKET] = workloadApi.endpoint;
      return startWorkload(o.command[0]!, o.command.slice(1), env);
    },
    () => undefined,
  );
  return {
    platform: o.attester.platform,
    measurement: m,
    socketPath: o.socketPath,
    workloadApiSocket: workloadApi?.socketPath,
    ready: renewal.ready,
    current: () => renewal.current(),
    stats: () => ({ ...renewal.stats(), wptsSigned: api.signed() }),
    child,
    async close() {
      renewal.stop();
      watch.close();
      await Promise.all([api.close(), workloadApi?.close()]);
      key.dispose();
      heldKey?.dispose();
    },
  };
}
