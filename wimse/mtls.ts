/**
 * Mutual TLS between workloads with X.509 workload certificates, for Node `tls` and `https`:
 * servers that require a client certificate and clients (an `https.Agent` or a `tls` socket)
 * that check the server's, both trusting the X.509 authorities of a SPIFFE bundle and
 * verifying the peer with {@link verifyPeerCertificate} (allow-list, revocation, validity).
 * With a {@link BundleWatch} (`watchBundle`, `pollBundle`) the trusted authorities follow every
 * new bundle, and connections already open are checked again: a peer revoked in the bundle is
 * disconnected.
 *
 * SPIFFE authorisation replaces host name checks: the client accepts a server by its workload
 * identifier, never by DNS name.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import https from 'node:https';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import tls from 'node:tls';
import type { BundleWatch } from './bundle-watch.js';
import { MtlsError } from './errors.js';
import {
  checkAllowList,
  verifyPeerCertificate,
  x509AuthoritiesOf,
  type MtlsAllowList,
  type MtlsPeer,
  type PeerRole,
  type X509Bundle,
} from './x509-peer.js';

/** What both sides need: whom to trust, whom to accept, and this workload's own credential. */
export interface MtlsOptions {
  /**
   * The trust bundle, fixed or watched (its latest bundle is used; none yet trusts nobody). A
   * bundle object is taken as immutable: clients build their TLS context once per object.
   */
  readonly bundle: X509Bundle | BundleWatch;
  /** Which peers are accepted (identifiers and/or trust domains). */
  readonly allow: MtlsAllowList;
  /** This workload's certificate chain (PEM: leaf first), e.g. the shim's `svid.pem`. */
  readonly cert: string | Buffer;
  /** Its private key (PEM), e.g. `svid-key.pem`. */
  readonly key: string | Buffer;
  /** The clock for validity checks (default `() => new Date()`). */
  readonly now?: () => Date;
  /** Called with every refused peer (the connection is then destroyed). */
  readonly onReject?: (err: MtlsError, socket: tls.TLSSocket) => void;
}

/** Options of {@link createMtlsServer} and {@link createMtlsTlsServer}. */
export interface MtlsServerOptions extends MtlsOptions {
  /** Further `tls` server options (the ones set here win over them). */
  readonly tls?: tls.TlsOptions;
}

/** Options of {@link mtlsAgent} and {@link mtlsConnect}. */
export interface MtlsClientOptions extends MtlsOptions {
  /** Further agent options (`keepAlive`, `maxSockets`, …). */
  readonly agent?: https.AgentOptions;
}

const peers = new WeakMap<tls.TLSSocket, MtlsPeer>();

/**
 * The verified identity of the peer on a socket (or of the request's socket), or `undefined`
 * when the socket is not an mTLS connection made by these helpers.
 *
 * @example
 * ```ts
 * createMtlsServer(options, (req, res) => res.end(`hello ${mtlsPeer(req)!.workloadId}`));
 * ```
 */
export function mtlsPeer(
  target: tls.TLSSocket | IncomingMessage | { readonly socket: unknown },
): MtlsPeer | undefined {
  const socket = target instanceof tls.TLSSocket ? target : target.socket;
  return socket instanceof tls.TLSSocket ? peers.get(socket) : undefined;
}

function isWatch(bundle: X509Bundle | BundleWatch): bundle is BundleWatch {
  return typeof (bundle as BundleWatch).subscribe === 'function';
}

/** The peer's chain as Node hands it over: leaf first, then its issuers. */
function peerChain(socket: tls.TLSSocket): Uint8Array[] {
  return chainOf(socket.getPeerCertificate(true));
}

function chainOf(first: tls.DetailedPeerCertificate | undefined): Uint8Array[] {
  const out: Uint8Array[] = [];
  const seen = new Set<string>();
  let cert = first;
  while (cert?.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    out.push(new Uint8Array(cert.raw));
    cert = cert.issuerCertificate;
  }
  return out;
}

/** What a watch without a bundle yet stands for: no authority, so every peer is refused. */
const NO_BUNDLE: X509Bundle = Object.freeze({ keys: [] });

/** Shared state of one server or client: the current bundle and the live verified sockets. */
class MtlsTrust {
  private readonly live = new Map<tls.TLSSocket, readonly Uint8Array[]>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly options: MtlsOptions,
    private readonly role: PeerRole,
    onChange: () => void,
  ) {
    checkAllowList(options.allow);
    const { bundle } = options;
    this.unsubscribe = isWatch(bundle)
      ? bundle.subscribe(() => {
          onChange();
          this.recheck();
        })
      : () => undefined;
  }

  bundle(): X509Bundle {
    const { bundle } = this.options;
    return (isWatch(bundle) ? bundle.latest() : bundle) ?? NO_BUNDLE;
  }

  authorities(): string[] {
    return x509AuthoritiesOf(this.bundle());
  }

  verify(chain: readonly Uint8Array[]): MtlsPeer {
    return verifyPeerCertificate(chain, {
      bundle: this.bundle(),
      allow: this.options.allow,
      now: this.options.now?.() ?? new Date(),
      role: this.role,
    });
  }

  /** Keeps `socket` if `chain` passes (recording its peer), otherwise refuses and destroys it. */
  admit(socket: tls.TLSSocket, chain: readonly Uint8Array[], peer?: MtlsPeer): boolean {
    try {
      peers.set(socket, peer ?? this.verify(chain));
    } catch (err) {
      this.refuse(socket, err);
      return false;
    }
    this.live.set(socket, chain);
    socket.once('close', () => this.live.delete(socket));
    return true;
  }

  refuse(socket: tls.TLSSocket, err: unknown): void {
    if (!(err instanceof MtlsError)) throw err;
    this.live.delete(socket);
    this.options.onReject?.(err, socket);
    socket.destroy();
  }

  /** After a new bundle: checks every open connection again (revocation, removed authority). */
  private recheck(): void {
    for (const [socket, chain] of [...this.live]) {
      try {
        this.verify(chain);
      } catch (err) {
        this.refuse(socket, err);
      }
    }
  }

  close(): void {
    this.unsubscribe();
  }
}

function contextOptions(options: MtlsOptions, trust: MtlsTrust): tls.SecureContextOptions {
  return { cert: options.cert, key: options.key, ca: trust.authorities() };
}

function guardServer<S extends tls.Server>(
  make: (opts: tls.TlsOptions) => S,
  options: MtlsServerOptions,
): { server: S; trust: MtlsTrust } {
  const ref: { server?: S } = {};
  const trust = new MtlsTrust(options, 'client', () => {
    ref.server?.setSecureContext({ ...options.tls, ...contextOptions(options, trust) });
  });
  const server = (ref.server = make({
    ...options.tls,
    ...contextOptions(options, trust),
    // The peer is checked by verifyPeerCertificate right after the handshake, so that a refusal
    // has its code and the clock can be injected; a socket is used only once admitted.
    requestCert: true,
    rejectUnauthorized: false,
  }));
  server.once('close', () => trust.close());
  return { server, trust };
}

/**
 * An `https.Server` for mutual TLS: it asks every client for a certificate, verifies it against
 * the bundle's X.509 authorities and the allow-list before any request is read, and destroys
 * the connection of a refused client (reporting it to `onReject`). `mtlsPeer(req)` gives the
 * verified client to the handler. Call `listen` as usual; `close` stops following the bundle.
 *
 * @example
 * ```ts
 * const server = createMtlsServer(
 *   { bundle: watchBundle(eventsUrl), allow: { trustDomains: ['prod.example'] }, cert, key },
 *   (req, res) => res.end(JSON.stringify({ hello: mtlsPeer(req)?.workloadId })),
 * );
 * server.listen(8443);
 * ```
 * @throws TypeError when `allow` names nothing.
 */
export function createMtlsServer(
  options: MtlsServerOptions,
  listener?: RequestListener<typeof IncomingMessage, typeof ServerResponse>,
): https.Server {
  const { server, trust } = guardServer((opts) => https.createServer(opts), options);
  // Before the HTTP layer's own listener: a refused socket is destroyed before it is read.
  server.prependListener('secureConnection', (socket: tls.TLSSocket) => {
    trust.admit(socket, peerChain(socket));
  });
  if (listener) server.on('request', listener);
  return server;
}

/**
 * A `tls.Server` for mutual TLS: like {@link createMtlsServer}, for protocols other than HTTP.
 * `listener` sees only admitted sockets, with `mtlsPeer(socket)` set.
 *
 * @throws TypeError when `allow` names nothing.
 */
export function createMtlsTlsServer(
  options: MtlsServerOptions,
  listener?: (socket: tls.TLSSocket, peer: MtlsPeer) => void,
): tls.Server {
  const { server, trust } = guardServer((opts) => tls.createServer(opts), options);
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    if (trust.admit(socket, peerChain(socket))) listener?.(socket, peers.get(socket)!);
  });
  return server;
}

/** `tls` options that shape a secure context, other than `cert`, `key` and `ca` (set here). */
const CONTEXT_OPTIONS = [
  'allowPartialTrustChain',
  'ciphers',
  'clientCertEngine',
  'crl',
  'dhparam',
  'ecdhCurve',
  'honorCipherOrder',
  'maxVersion',
  'minVersion',
  'passphrase',
  'pfx',
  'privateKeyEngine',
  'privateKeyIdentifier',
  'secureOptions',
  'secureProtocol',
  'sessionIdContext',
  'sessionTimeout',
  'sigalgs',
  'ticketKeys',
] as const;

/** Most client contexts kept per bundle (one per credential and set of context options). */
const MAX_CONTEXTS_PER_BUNDLE = 16;

/** Client secure contexts by bundle object, then by {@link contextKey}. */
const clientContexts = new WeakMap<X509Bundle, Map<string, tls.SecureContext>>();

/** A digest of the credential and the extra options, or `undefined` when not cacheable. */
function contextKey(options: MtlsOptions, extra: Record<string, unknown>): string | undefined {
  // Buffers and arrays (a CRL, a PFX) are not keyed by content: such contexts are not cached.
  if (Object.values(extra).some((v) => typeof v === 'object' && v !== null)) return undefined;
  const hash = createHash('sha256');
  for (const part of [options.cert, options.key, JSON.stringify(extra)]) {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    hash.update(`${bytes.length}:`).update(bytes);
  }
  return hash.digest('base64url');
}

/**
 * The secure context of a client connection: this workload's certificate and key, the bundle's
 * authorities and any context options of `base`. Parsing the key and the certificates is most
 * of what building one costs, so it is built once per bundle object and shared by every
 * connection made while that bundle is current; a new bundle (a watch's next event) is a new
 * object and gets its own. A bundle object is taken as immutable.
 */
function clientContext(
  options: MtlsOptions,
  bundle: X509Bundle,
  base: tls.ConnectionOptions,
): tls.SecureContext {
  const extra: Record<string, unknown> = {};
  for (const name of CONTEXT_OPTIONS) if (base[name] !== undefined) extra[name] = base[name];
  const build = (): tls.SecureContext =>
    tls.createSecureContext({
      ...extra,
      cert: options.cert,
      key: options.key,
      ca: x509AuthoritiesOf(bundle),
    });
  const key = contextKey(options, extra);
  if (key === undefined) return build();
  let contexts = clientContexts.get(bundle);
  if (!contexts) clientContexts.set(bundle, (contexts = new Map()));
  let context = contexts.get(key);
  if (!context) {
    context = build();
    if (contexts.size >= MAX_CONTEXTS_PER_BUNDLE) contexts.delete(contexts.keys().next().value!);
    contexts.set(key, context);
  }
  return context;
}

/**
 * The `tls.connect` options of one client connection: the secure context of this workload's
 * certificate and the bundle's authorities ({@link clientContext}), and a `checkServerIdentity`
 * running {@link verifyPeerCertificate} (which replaces the host name check). Node's own chain
 * check (`rejectUnauthorized`) stays on and runs first, on the system clock: a server that fails
 * it is refused with Node's error (see {@link asMtlsError}).
 */
function connectOptions(
  options: MtlsOptions,
  trust: MtlsTrust,
  base: tls.ConnectionOptions,
  verified: (peer: MtlsPeer) => void,
): tls.ConnectionOptions {
  return {
    secureContext: clientContext(options, trust.bundle(), base),
    rejectUnauthorized: true,
    checkServerIdentity: (_host, cert) => {
      try {
        verified(trust.verify(chainOf(cert as tls.DetailedPeerCertificate)));
        return undefined;
      } catch (err) {
        if (err instanceof MtlsError) return err;
        throw err;
      }
    },
  };
}

function connectVerified(
  options: MtlsOptions,
  trust: MtlsTrust,
  base: tls.ConnectionOptions,
): tls.TLSSocket {
  let peer: MtlsPeer | undefined;
  const socket = tls.connect({
    ...base,
    ...connectOptions(options, trust, base, (p) => (peer = p)),
  });
  socket.once('secureConnect', () => trust.admit(socket, peerChain(socket), peer));
  socket.on('error', (err) => {
    if (err instanceof MtlsError) options.onReject?.(err, socket);
  });
  return socket;
}

/** An {@link mtlsAgent}: an `https.Agent` that also stops following the bundle on `destroy`. */
class MtlsAgent extends https.Agent {
  constructor(
    private readonly mtls: MtlsClientOptions,
    private readonly trust: MtlsTrust,
  ) {
    // No TLS session cache: a resumed session would skip the peer check.
    super({ ...mtls.agent, maxCachedSessions: 0 });
  }

  override createConnection(options: tls.ConnectionOptions): tls.TLSSocket {
    return connectVerified(this.mtls, this.trust, options);
  }

  override destroy(): void {
    this.trust.close();
    super.destroy();
  }
}

/**
 * An `https.Agent` for mutual TLS: every connection presents this workload's certificate and
 * accepts the server only if its certificate chains to the bundle's X.509 authorities and
 * passes {@link verifyPeerCertificate} for the allow-list. Sessions are never resumed.
 * `mtlsPeer(res)` (or `mtlsPeer(req.socket)`) gives the verified server.
 *
 * @example
 * ```ts
 * const agent = mtlsAgent({ bundle, allow: { ids: ['spiffe://prod.example/db'] }, cert, key });
 * https.get('https://db.internal:8443/', { agent }, (res) => console.log(mtlsPeer(res)?.jti));
 * ```
 * @throws TypeError when `allow` names nothing.
 */
export function mtlsAgent(options: MtlsClientOptions): https.Agent {
  return new MtlsAgent(options, new MtlsTrust(options, 'server', () => undefined));
}

/**
 * A mutual-TLS client socket (`tls.connect` with the checks of {@link mtlsAgent}). Its
 * `secureConnect` event fires only for an accepted server; `mtlsPeer(socket)` is then set.
 * Connections on the same bundle share one TLS secure context (a `secureContext` option is
 * ignored: the trust comes from the bundle).
 *
 * @example
 * ```ts
 * const socket = mtlsConnect({ ...options, host: 'db.internal', port: 7000 });
 * socket.once('secureConnect', () => socket.write('hello'));
 * ```
 * @throws TypeError when `allow` names nothing.
 */
export function mtlsConnect(
  options: MtlsOptions & Omit<tls.ConnectionOptions, 'cert' | 'key' | 'ca'>,
): tls.TLSSocket {
  const trust = new MtlsTrust(options, 'server', () => undefined);
  const socket = connectVerified(options, trust, options);
  socket.once('close', () => trust.close());
  return socket;
}

/** Node's certificate verification codes (OpenSSL X509_V_ERR_*) and what they mean here. */
const NODE_CODES: Record<string, MtlsError['code']> = {
  CERT_HAS_EXPIRED: 'ERR_PEER_EXPIRED',
  CERT_NOT_YET_VALID: 'ERR_PEER_NOT_YET_VALID',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'ERR_PEER_UNTRUSTED',
  UNABLE_TO_GET_ISSUER_CERT: 'ERR_PEER_UNTRUSTED',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'ERR_PEER_UNTRUSTED',
  SELF_SIGNED_CERT_IN_CHAIN: 'ERR_PEER_UNTRUSTED',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'ERR_PEER_UNTRUSTED',
  CERT_SIGNATURE_FAILURE: 'ERR_PEER_UNTRUSTED',
  CERT_UNTRUSTED: 'ERR_PEER_UNTRUSTED',
  CERT_REJECTED: 'ERR_PEER_UNTRUSTED',
  INVALID_CA: 'ERR_PEER_UNTRUSTED',
  INVALID_PURPOSE: 'ERR_PEER_INVALID',
};

/**
 * An error of an mTLS client connection as an {@link MtlsError}: our own refusals as they are,
 * and Node's certificate verification errors (which run before ours on the client side, e.g.
 * `UNABLE_TO_VERIFY_LEAF_SIGNATURE` for a server of another CA, `CERT_HAS_EXPIRED`) mapped to
 * their codes; `undefined` for any other error (network, protocol).
 *
 * @example
 * ```ts
 * req.on('error', (err) => log.warn({ code: asMtlsError(err)?.code ?? 'network' }, err.message));
 * ```
 */
export function asMtlsError(err: unknown): MtlsError | undefined {
  if (err instanceof MtlsError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const mapped = typeof code === 'string' ? NODE_CODES[code] : undefined;
  return mapped ? new MtlsError(mapped, (err as Error).message, { cause: err }) : undefined;
}
