/**
 * The SPIFFE Workload API served by the shim (docs/shim.md "SPIFFE Workload API"): gRPC over a
 * Unix socket (mode 0600, or 0660 with a group, as the local API), every call refused without
 * the `workload.spiffe.io: true` metadata. The streams push a new message whenever what they
 * carry changes: renewal, CA rotation, a credential replaced after revocation.
 *
 * @internal
 * @module
 */
import { createHash, createPrivateKey } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer as createNetServer, type Socket } from 'node:net';
import { bindShimSocket } from '../socket.js';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import type {
  sendUnaryData,
  ServerUnaryCall,
  ServerWritableStream,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { WatchedBundle } from '../../wimse/bundle-watch.js';
import { WimseError } from '../../wimse/errors.js';
import { parseWorkloadId, workloadIdProblem } from '../../wimse/identifier.js';
import { staticJwks, type JwksResolver } from '../../wimse/jwks.js';
import { verifyWit } from '../../wimse/wit.js';
import { x509AuthoritiesOf } from '../../wimse/x509-peer.js';
import type { Credential } from '../credential.js';
import { SECURITY_HEADER, structOf, workloadApiService } from './proto.js';

/** What the Workload API serves from. */
export interface WorkloadApiState {
  credential(): Credential | undefined;
  /** The latest trust bundle the shim follows. */
  bundle(): WatchedBundle | undefined;
  /** While there is no credential because the last one was revoked: why. */
  revoked?(): string | undefined;
  /**
   * The workload may hold the X.509-SVID's key (`--x509-workload-key`): only then is
   * `FetchX509SVID` served.
   */
  readonly x509WorkloadKey: boolean;
  /** Calls `listener` after every change of the credential or the bundle; returns its remover. */
  subscribe(listener: () => void): () => void;
  now(): Date;
}

/** Options of {@link startWorkloadApi}. */
export interface WorkloadApiOptions {
  readonly socketPath: string;
  /** Numeric group id allowed to connect (socket mode 0660); owner only (0600) when unset. */
  readonly gid?: number;
  /** Anyone may connect (mode 0666): agent mode, where callers are told apart by peer. */
  readonly world?: boolean;
  /**
   * What to serve; in agent mode a function giving the state of the caller on a connection
   * (a rejection refuses the call with PERMISSION_DENIED and its message).
   */
  readonly state: WorkloadApiState | ((socket: Socket) => Promise<WorkloadApiState>);
}

/** A listening Workload API. */
export interface WorkloadApi {
  readonly socketPath: string;
  /** The endpoint as `SPIFFE_ENDPOINT_SOCKET` names it (`unix:///…`). */
  readonly endpoint: string;
  /** Ends every open stream (status OK) and stops listening. */
  close(): Promise<void>;
}

interface Refusal {
  readonly code: status;
  readonly details: string;
}

const refuse = (code: status, details: string): Refusal => ({ code, details });
const NO_IDENTITY = refuse(status.PERMISSION_DENIED, 'no identity issued');
const MISSING_HEADER = refuse(status.INVALID_ARGUMENT, 'security header missing from request');

/** SPIRE's check: exactly one `workload.spiffe.io` value, `true`. */
function headerMissing(call: { metadata: { get(k: string): unknown[] } }): boolean {
  const v = call.metadata.get(SECURITY_HEADER);
  return v.length !== 1 || v[0] !== 'true';
}

function derOfPem(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

/** The bundle's X.509 authorities, DER, concatenated (empty when it has none). */
function authoritiesDer(bundle: WatchedBundle | undefined): Buffer {
  return bundle ? Buffer.concat(x509AuthoritiesOf(bundle).map(derOfPem)) : Buffer.alloc(0);
}

/** Public members of each key type (RFC 7518 §6.2.1, §6.3.1; RFC 8037 §2). */
const KEY_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['kty', 'crv', 'x', 'y'],
  RSA: ['kty', 'n', 'e'],
  OKP: ['kty', 'crv', 'x'],
};

/**
 * A signing key as a JWT bundle entry (JWT-SVID §6.1, Trust Domain and Bundle §4.2): the key's
 * public members, `kid`, `use: "jwt-svid"`; no `alg` or other member a JWKS source may carry.
 */
function jwtSvidEntry(k: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const m of KEY_MEMBERS[String(k.kty)] ?? Object.keys(k)) out[m] = k[m];
  return { ...out, kid: k.kid, use: 'jwt-svid' };
}

/** The keys of the bundle that sign WITs (the JWT-SVIDs the shim serves), as a JWT bundle. */
function jwtBundleJson(bundle: WatchedBundle): Buffer {
  const keys = bundle.keys
    .filter((k) => k.use === undefined || ['sig', 'wit-svid', 'jwt-svid'].includes(String(k.use)))
    .map(jwtSvidEntry);
  return Buffer.from(JSON.stringify({ keys }));
}

function digestOf(parts: readonly Uint8Array[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(createHash('sha256').update(p).digest());
  return h.digest('hex');
}

/** A stream message and the digest that tells whether it changed. */
interface Snapshot {
  readonly message: unknown;
  readonly digest: string;
}

/** What a stream sends now: a message, nothing yet (wait), or a refusal that ends it. */
type StreamStep = Snapshot | undefined | Refusal;

function isRefusal(s: StreamStep): s is Refusal {
  return s !== undefined && 'code' in s;
}

const STREAMING = ['FetchX509SVID', 'FetchX509Bundles', 'FetchJWTBundles'];

/** The service's handlers serving from one state. */
function handlersFor(
  s: WorkloadApiState,
  streams: Set<ServerWritableStream<unknown, unknown>>,
): UntypedServiceImplementation {
  // The trust domain of the latest credential: bundles keep their key while one is renewed.
  let trustDomain: string | undefined;
  const domainOf = (): string | undefined => {
    const c = s.credential();
    if (c && workloadIdProblem(c.sub) === undefined)
      trustDomain = parseWorkloadId(c.sub).trustDomain;
    return trustDomain;
  };
  let jwks: { bundle: WatchedBundle; resolver: JwksResolver } | undefined;
  const jwksOf = (bundle: WatchedBundle): JwksResolver => {
    if (jwks?.bundle !== bundle) jwks = { bundle, resolver: staticJwks(bundle) };
    return jwks.resolver;
  };

  const x509Svid = (): StreamStep => {
    if (!s.x509WorkloadKey) return NO_IDENTITY;
    const c = s.credential();
    const bundle = authoritiesDer(s.bundle());
    if (!c?.x509?.keyPem || bundle.length === 0) return undefined;
    const chain = Buffer.concat(c.x509.chain);
    const key = createPrivateKey(c.x509.keyPem).export({ type: 'pkcs8', format: 'der' });
    const svid = { spiffe_id: c.sub, x509_svid: chain, x509_svid_key: key, bundle, hint: '' };
    return {
      message: { svids: [svid], crl: [], federated_bundles: {} },
      digest: digestOf([Buffer.from(c.sub), chain, key, bundle]),
    };
  };
  const x509Bundles = (): StreamStep => {
    const td = domainOf();
    const bundle = authoritiesDer(s.bundle());
    if (td === undefined || bundle.length === 0) return undefined;
    return {
      message: { crl: [], bundles: { [`spiffe://${td}`]: bundle } },
      digest: digestOf([Buffer.from(td), bundle]),
    };
  };
  const jwtBundles = (): StreamStep => {
    const td = domainOf();
    const b = s.bundle();
    if (td === undefined || !b) return undefined;
    const json = jwtBundleJson(b);
    return {
      message: { bundles: { [`spiffe://${td}`]: json } },
      digest: digestOf([Buffer.from(td), json]),
    };
  };

  /** A server stream: the first message once there is one, then one per change. */
  const streaming =
    (step: () => StreamStep) =>
    (call: ServerWritableStream<unknown, unknown>): void => {
      if (headerMissing(call)) return void call.emit('error', MISSING_HEADER);
      let sent: string | undefined;
      let unsubscribe = (): void => undefined;
      const done = (): void => {
        unsubscribe();
        streams.delete(call);
      };
      const push = (): void => {
        if (call.cancelled || !streams.has(call)) return;
        let next: StreamStep;
        try {
          next = step();
        } catch {
          next = refuse(status.INTERNAL, 'internal error');
        }
        if (isRefusal(next)) {
          done();
          return void call.emit('error', next);
        }
        if (next === undefined || next.digest === sent) return;
        sent = next.digest;
        call.write(next.message);
      };
      streams.add(call);
      unsubscribe = s.subscribe(push);
      call.on('cancelled', done);
      call.on('error', done);
      push();
    };

  const unary =
    <Q, A>(handle: (request: Q) => Promise<A | Refusal>) =>
    (call: ServerUnaryCall<Q, A>, callback: sendUnaryData<A>): void => {
      if (headerMissing(call)) return callback(MISSING_HEADER);
      handle(call.request).then(
        (answer) =>
          answer !== null && typeof answer === 'object' && 'code' in answer
            ? callback(answer as Refusal)
            : callback(null, answer as A),
        () => callback(refuse(status.INTERNAL, 'internal error')),
      );
    };

  const fetchJwtSvid = async (r: { audience: string[]; spiffe_id: string }) => {
    if (r.audience.length === 0 || r.audience.some((a) => a === '')) {
      return refuse(status.INVALID_ARGUMENT, 'audience must be specified');
    }
    if (r.spiffe_id !== '' && workloadIdProblem(r.spiffe_id) !== undefined) {
      const why = workloadIdProblem(r.spiffe_id)!;
      return refuse(status.INVALID_ARGUMENT, `invalid requested SPIFFE ID: ${why}`);
    }
    const c = s.credential();
    if (!c) {
      const revoked = s.revoked?.();
      return refuse(
        status.UNAVAILABLE,
        revoked !== undefined
          ? `${revoked}; re-attesting`
          : 'no credential yet (attestation pending)',
      );
    }
    if (r.spiffe_id !== '' && r.spiffe_id !== c.sub) return NO_IDENTITY;
    // The WIT as it is: it carries no audience (docs/shim.md "WIT and JWT-SVID").
    return { svids: [{ spiffe_id: c.sub, svid: c.wit, hint: '' }] };
  };

  const validateJwtSvid = async (r: { audience: string; svid: string }) => {
    if (r.audience === '') return refuse(status.INVALID_ARGUMENT, 'audience must be specified');
    if (r.svid === '') return refuse(status.INVALID_ARGUMENT, 'svid must be specified');
    const bundle = s.bundle();
    if (!bundle) return refuse(status.UNAVAILABLE, 'no trust bundle received yet');
    const revoked = new Set(bundle.revoked_jtis ?? []);
    const td = domainOf();
    try {
      const wit = await verifyWit(r.svid, {
        jwks: jwksOf(bundle),
        now: s.now(),
        ...(td !== undefined && { trustDomains: [td] }),
        isRevoked: (jti) => jti !== undefined && revoked.has(jti),
      });
      const aud = wit.claims.aud;
      if (aud !== undefined && !(Array.isArray(aud) ? aud : [aud]).includes(r.audience)) {
        return refuse(status.INVALID_ARGUMENT, `the token's aud does not name ${r.audience}`);
      }
      return { spiffe_id: wit.claims.sub, claims: structOf(wit.claims) };
    } catch (err) {
      if (err instanceof WimseError)
        return refuse(status.INVALID_ARGUMENT, `${err.code}: ${err.message}`);
      if (err instanceof TypeError) return refuse(status.INVALID_ARGUMENT, err.message);
      throw err;
    }
  };

  return {
    FetchX509SVID: streaming(x509Svid),
    FetchX509Bundles: streaming(x509Bundles),
    FetchJWTBundles: streaming(jwtBundles),
    FetchJWTSVID: unary(fetchJwtSvid),
    ValidateJWTSVID: unary(validateJwtSvid),
  };
}

/**
 * Agent mode: each call is served from its caller's state. grpc-js does not hand a call its
 * socket, so the agent accepts the connections itself, names each (its `remoteAddress`, which
 * `call.getPeer()` reports) and injects it into the gRPC server.
 */
function perCaller(
  stateFor: (socket: Socket) => Promise<WorkloadApiState>,
  streams: Set<ServerWritableStream<unknown, unknown>>,
  sockets: Map<string, Socket>,
): UntypedServiceImplementation {
  const built = new WeakMap<WorkloadApiState, UntypedServiceImplementation>();
  const dispatch =
    (name: string) =>
    (
      call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>,
      callback?: sendUnaryData<unknown>,
    ): void => {
      const fail = (r: Refusal): void =>
        STREAMING.includes(name) ? void call.emit('error', r) : callback!(r);
      if (headerMissing(call)) return fail(MISSING_HEADER);
      const socket = sockets.get(call.getPeer());
      if (!socket) return fail(refuse(status.PERMISSION_DENIED, 'caller not identified'));
      stateFor(socket).then(
        (s) => {
          let h = built.get(s);
          if (!h) built.set(s, (h = handlersFor(s, streams)));
          (h[name] as (c: unknown, cb?: unknown) => void)(call, callback);
        },
        (err: unknown) =>
          fail(refuse(status.PERMISSION_DENIED, String((err as Error).message ?? err))),
      );
    };
  return Object.fromEntries(
    ['FetchX509SVID', 'FetchX509Bundles', 'FetchJWTBundles', 'FetchJWTSVID', 'ValidateJWTSVID'].map(
      (n) => [n, dispatch(n)],
    ),
  );
}

/** Serves the Workload API on `socketPath` (a stale socket file there is replaced). */
export async function startWorkloadApi(o: WorkloadApiOptions): Promise<WorkloadApi> {
  const streams = new Set<ServerWritableStream<unknown, unknown>>();
  const sockets = new Map<string, Socket>();
  const state = o.state;
  const implementation =
    typeof state === 'function' ? perCaller(state, streams, sockets) : handlersFor(state, streams);
  const server = new Server();
  server.addService(workloadApiService().service, implementation);
  const endpoint = `unix://${o.socketPath}`;
  let listener: ReturnType<typeof createNetServer> | undefined;
  // Created owner-only, as the local API's socket; a group or everyone, if asked, after.
  await bindShimSocket(o.socketPath, { gid: o.gid, world: o.world }, async () => {
    if (typeof state === 'function') {
      // Agent mode: the connections are accepted here and handed to grpc-js, so that each call
      // can be traced back to its socket and so to its caller.
      const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
      let n = 0;
      listener = createNetServer((socket) => {
        const name = `twi-caller-${++n}`;
        Object.defineProperty(socket, 'remoteAddress', { value: name });
        sockets.set(name, socket);
        socket.once('close', () => sockets.delete(name));
        injector.injectConnection(socket);
      });
      const l = listener;
      await new Promise<void>((resolve, reject) => {
        l.once('error', reject);
        l.listen(o.socketPath, () => resolve());
      });
    } else {
      await new Promise<void>((resolve, reject) =>
        server.bindAsync(endpoint, ServerCredentials.createInsecure(), (err) =>
          err ? reject(err) : resolve(),
        ),
      );
    }
  });
  return {
    socketPath: o.socketPath,
    endpoint,
    close: () =>
      new Promise<void>((resolve) => {
        for (const call of streams) call.end();
        streams.clear();
        listener?.close();
        let finished = false;
        const finish = (): void => {
          if (finished) return;
          finished = true;
          clearTimeout(force);
          for (const socket of sockets.values()) socket.destroy();
          rmSync(o.socketPath, { force: true });
          resolve();
        };
        // A client that keeps its connection open does not hold the shim up past a second.
        const force = setTimeout(() => {
          server.forceShutdown();
          finish();
        }, 1000);
        server.tryShutdown(finish);
      }),
  };
}
