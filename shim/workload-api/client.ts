/**
 * A small SPIFFE Workload API client (exported by `twi/shim`): X.509-SVIDs and bundles, the
 * JWT-SVID (the shim's WIT) and JWT bundles, fetched once or watched, and JWT-SVID validation.
 * It speaks to any Workload API (the shim's `--workload-api-socket`, a SPIRE agent), at
 * `SPIFFE_ENDPOINT_SOCKET` unless told otherwise.
 *
 * @example
 * ```ts
 * import { createWorkloadApiClient } from 'twi/shim';
 * const spiffe = createWorkloadApiClient();        // endpoint from SPIFFE_ENDPOINT_SOCKET
 * const [svid] = await spiffe.fetchX509SVID();     // svid.certificatePem, svid.keyPem, svid.bundlePem
 * const stop = spiffe.watchX509SVID((svids) => reload(svids[0]!));
 * ```
 *
 * @module
 */
import { createPrivateKey } from 'node:crypto';
import { credentials, Metadata, status as Status } from '@grpc/grpc-js';
import type { Client, ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { TwiError } from '../../common/errors.js';
import { nextBackoff } from '../../common/backoff.js';
import type { Jwks } from '../../wimse/jwks.js';
import type { X509Bundle } from '../../wimse/x509-peer.js';
import { certificatePem } from '../x509.js';
import {
  ENV_SPIFFE_ENDPOINT_SOCKET,
  jsonOfStruct,
  SECURITY_HEADER,
  workloadApiService,
  type ProtoStruct,
} from './proto.js';

/**
 * The Workload API answered a gRPC status: `code` is `ERR_WORKLOAD_API_` and its name
 * (`ERR_WORKLOAD_API_INVALID_ARGUMENT`, `…_PERMISSION_DENIED`, `…_UNAVAILABLE`, …), or
 * `ERR_WORKLOAD_API_RESPONSE` for an answer without what it must carry.
 */
export class WorkloadApiError extends TwiError {
  override readonly code: string;
  /** The gRPC status code (`undefined` for `ERR_WORKLOAD_API_RESPONSE`). */
  readonly grpcStatus: number | undefined;
  constructor(code: string, message: string, grpcStatus?: number, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.grpcStatus = grpcStatus;
  }
}

/** One X.509-SVID with its key and its trust domain's CAs. */
export interface WorkloadX509Svid {
  readonly spiffeId: string;
  /** The certificate chain, DER, leaf first. */
  readonly chain: readonly Uint8Array[];
  /** The same chain as PEM, leaf first (a TLS `cert`). */
  readonly certificatePem: string;
  /** The private key, PKCS#8 PEM (a TLS `key`). */
  readonly keyPem: string;
  /** The trust domain's CA certificates as PEM (a TLS `ca`). */
  readonly bundlePem: string;
  /** The same CAs as a bundle for `createMtlsServer` / `mtlsAgent` (`x509-svid` keys). */
  readonly bundle: X509Bundle;
  readonly hint: string;
}

/** The JWT-SVID: with the shim, its WIT (docs/shim.md "WIT and JWT-SVID"). */
export interface WorkloadJwtSvid {
  readonly spiffeId: string;
  readonly token: string;
  readonly hint: string;
}

/** Options of {@link createWorkloadApiClient}. */
export interface WorkloadApiClientOptions {
  /**
   * The endpoint: `unix:///path`, or an absolute socket path (default `SPIFFE_ENDPOINT_SOCKET`).
   */
  readonly endpoint?: string;
  /** Timeout of a fetch or validation (default 5000 ms). */
  readonly timeoutMs?: number;
}

/** Stops a watch. */
export type StopWatching = () => void;

/** A Workload API client. */
export interface WorkloadApiClient {
  /** The first `FetchX509SVID` message. */
  fetchX509SVID(): Promise<WorkloadX509Svid[]>;
  /**
   * Every `FetchX509SVID` message (renewal, CA rotation, re-attestation); the stream is reopened
   * after a failure (with backoff) except an `INVALID_ARGUMENT` refusal, which ends the watch.
   */
  watchX509SVID(
    onUpdate: (svids: WorkloadX509Svid[]) => void,
    onError?: (err: WorkloadApiError) => void,
  ): StopWatching;
  /** The first `FetchX509Bundles` message: trust domain → PEM CA certificates. */
  fetchX509Bundles(): Promise<Record<string, string[]>>;
  /** The JWT-SVID for `audience` (the shim's WIT carries no audience). */
  fetchJWTSVID(audience: string | readonly string[], spiffeId?: string): Promise<WorkloadJwtSvid>;
  /** The first `FetchJWTBundles` message: trust domain → JWK Set. */
  fetchJWTBundles(): Promise<Record<string, Jwks>>;
  /** Every `FetchJWTBundles` message, as {@link WorkloadApiClient.watchX509SVID}. */
  watchJWTBundles(
    onUpdate: (bundles: Record<string, Jwks>) => void,
    onError?: (err: WorkloadApiError) => void,
  ): StopWatching;
  /** `ValidateJWTSVID`: the token's SPIFFE ID and claims. */
  validateJWTSVID(
    token: string,
    audience: string,
  ): Promise<{ spiffeId: string; claims: Record<string, unknown> }>;
  /** Closes the channel (and every watch). */
  close(): void;
}

type Json = Record<string, unknown>;
type Stub = Client & Record<string, (...args: unknown[]) => unknown>;

/** `unix:///path` from an option or `SPIFFE_ENDPOINT_SOCKET`. */
function targetOf(endpoint: string | undefined): string {
  const e = endpoint ?? process.env[ENV_SPIFFE_ENDPOINT_SOCKET];
  if (e === undefined || e === '') {
    throw new TypeError(`no Workload API endpoint: set ${ENV_SPIFFE_ENDPOINT_SOCKET}`);
  }
  if (e.startsWith('/')) return `unix://${e}`;
  if (!e.startsWith('unix:')) throw new TypeError(`${e}: only unix: endpoints are supported`);
  return e;
}

function errorOf(err: ServiceError): WorkloadApiError {
  const name = Status[err.code] ?? 'UNKNOWN';
  return new WorkloadApiError(`ERR_WORKLOAD_API_${name}`, `${name}: ${err.details}`, err.code, {
    cause: err,
  });
}

function malformed(what: string): never {
  throw new WorkloadApiError('ERR_WORKLOAD_API_RESPONSE', `Workload API answer: ${what}`);
}

/** Splits concatenated DER (each a SEQUENCE with a definite length). */
function splitDer(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes[at] !== 0x30 || at + 2 > bytes.length) malformed('DER is not a SEQUENCE');
    let len = bytes[at + 1]!;
    let head = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || at + 2 + n > bytes.length) malformed('bad DER length');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + bytes[at + 2 + i]!;
      head += n;
    }
    if (at + head + len > bytes.length) malformed('DER is truncated');
    out.push(bytes.subarray(at, at + head + len));
    at += head + len;
  }
  return out;
}

function bundleOf(cas: readonly Uint8Array[]): X509Bundle {
  return {
    keys: cas.map((der) => ({ use: 'x509-svid', x5c: [Buffer.from(der).toString('base64')] })),
  };
}

function svidOf(m: Json): WorkloadX509Svid {
  const spiffeId = typeof m.spiffe_id === 'string' ? m.spiffe_id : malformed('no spiffe_id');
  const chain = splitDer(m.x509_svid as Buffer);
  if (chain.length === 0) malformed('an empty x509_svid');
  const cas = splitDer(m.bundle as Buffer);
  let keyPem: string;
  try {
    keyPem = createPrivateKey({ key: m.x509_svid_key as Buffer, format: 'der', type: 'pkcs8' })
      .export({ type: 'pkcs8', format: 'pem' })
      .toString();
  } catch {
    return malformed('x509_svid_key is not a PKCS#8 key');
  }
  return {
    spiffeId,
    chain,
    certificatePem: chain.map(certificatePem).join(''),
    keyPem,
    bundlePem: cas.map(certificatePem).join(''),
    bundle: bundleOf(cas),
    hint: typeof m.hint === 'string' ? m.hint : '',
  };
}

function x509SvidsOf(m: Json): WorkloadX509Svid[] {
  const svids = (m.svids as Json[] | undefined) ?? [];
  if (svids.length === 0) malformed('no svids');
  return svids.map(svidOf);
}

const domainOf = (key: string): string => key.replace(/^spiffe:\/\//, '');

function x509BundlesOf(m: Json): Record<string, string[]> {
  const bundles = (m.bundles ?? {}) as Record<string, Buffer>;
  return Object.fromEntries(
    Object.entries(bundles).map(([td, der]) => [domainOf(td), splitDer(der).map(certificatePem)]),
  );
}

function jwtBundlesOf(m: Json): Record<string, Jwks> {
  const out: Record<string, Jwks> = {};
  for (const [td, json] of Object.entries((m.bundles ?? {}) as Record<string, Buffer>)) {
    try {
      out[domainOf(td)] = JSON.parse(Buffer.from(json).toString('utf8')) as Jwks;
    } catch {
      malformed(`the JWT bundle of ${td} is not JSON`);
    }
  }
  return out;
}

/**
 * A client of a SPIFFE Workload API (every call carries `workload.spiffe.io: true`).
 *
 * @throws TypeError without an endpoint (no option, no `SPIFFE_ENDPOINT_SOCKET`).
 */
export function createWorkloadApiClient(o: WorkloadApiClientOptions = {}): WorkloadApiClient {
  const Service = workloadApiService();
  const stub = new Service(targetOf(o.endpoint), credentials.createInsecure()) as Stub;
  const timeoutMs = o.timeoutMs ?? 5000;
  const watches = new Set<StopWatching>();
  const metadata = (): Metadata => {
    const md = new Metadata();
    md.set(SECURITY_HEADER, 'true');
    return md;
  };
  const deadline = (): { deadline: Date } => ({ deadline: new Date(Date.now() + timeoutMs) });

  const unary = (method: string, request: Json): Promise<Json> =>
    new Promise((resolve, reject) => {
      stub[method]!(request, metadata(), deadline(), (err: ServiceError | null, res: Json) =>
        err ? reject(errorOf(err)) : resolve(res),
      );
    });

  const first = <T>(method: string, decode: (m: Json) => T): Promise<T> =>
    new Promise((resolve, reject) => {
      const stream = stub[method]!({}, metadata(), deadline()) as ClientReadableStream<Json>;
      let settled = false;
      stream.on('data', (m: Json) => {
        if (settled) return;
        settled = true;
        stream.cancel();
        try {
          resolve(decode(m));
        } catch (err) {
          reject(err as Error);
        }
      });
      stream.on('error', (err: ServiceError) => {
        if (!settled) reject(errorOf(err));
        settled = true;
      });
      stream.on('end', () => {
        if (!settled) reject(new WorkloadApiError('ERR_WORKLOAD_API_RESPONSE', 'stream ended'));
        settled = true;
      });
    });

  const watch = <T>(
    method: string,
    decode: (m: Json) => T,
    onUpdate: (v: T) => void,
    onError?: (err: WorkloadApiError) => void,
  ): StopWatching => {
    let stream: ClientReadableStream<Json> | undefined;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    let attempt = 0;
    const retry = (err?: WorkloadApiError): void => {
      if (stopped) return;
      if (err) onError?.(err);
      if (err?.grpcStatus === Status.INVALID_ARGUMENT) return stop();
      const wait = nextBackoff(attempt++, { baseMs: 250, maxMs: 30_000, jitter: 'half' });
      timer = setTimeout(open, wait);
    };
    const open = (): void => {
      const s = stub[method]!({}, metadata()) as ClientReadableStream<Json>;
      stream = s;
      s.on('data', (m: Json) => {
        attempt = 0;
        let v: T;
        try {
          v = decode(m);
        } catch (err) {
          return onError?.(err as WorkloadApiError);
        }
        onUpdate(v);
      });
      s.on('error', (err: ServiceError) => {
        if (stream === s) retry(errorOf(err));
      });
      s.on('end', () => {
        if (stream === s) retry();
      });
    };
    const stop = (): void => {
      stopped = true;
      watches.delete(stop);
      if (timer) clearTimeout(timer);
      const s = stream;
      stream = undefined;
      s?.cancel();
    };
    watches.add(stop);
    open();
    return stop;
  };

  return {
    fetchX509SVID: () => first('FetchX509SVID', x509SvidsOf),
    watchX509SVID: (onUpdate, onError) => watch('FetchX509SVID', x509SvidsOf, onUpdate, onError),
    fetchX509Bundles: () => first('FetchX509Bundles', x509BundlesOf),
    async fetchJWTSVID(audience, spiffeId) {
      const res = await unary('FetchJWTSVID', {
        audience: typeof audience === 'string' ? [audience] : [...audience],
        spiffe_id: spiffeId ?? '',
      });
      const svid = ((res.svids as Json[] | undefined) ?? [])[0] ?? malformed('no svids');
      if (typeof svid.svid !== 'string' || typeof svid.spiffe_id !== 'string') malformed('no svid');
      return {
        spiffeId: svid.spiffe_id,
        token: svid.svid,
        hint: typeof svid.hint === 'string' ? svid.hint : '',
      };
    },
    fetchJWTBundles: () => first('FetchJWTBundles', jwtBundlesOf),
    watchJWTBundles: (onUpdate, onError) =>
      watch('FetchJWTBundles', jwtBundlesOf, onUpdate, onError),
    async validateJWTSVID(token, audience) {
      const res = await unary('ValidateJWTSVID', { svid: token, audience });
      if (typeof res.spiffe_id !== 'string') malformed('no spiffe_id');
      return { spiffeId: res.spiffe_id, claims: jsonOfStruct(res.claims as ProtoStruct) };
    },
    close() {
      for (const stop of [...watches]) stop();
      stub.close();
    },
  };
}
