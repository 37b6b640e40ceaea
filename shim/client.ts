/**
 * Client library for workloads (`import … from 'twi/shim'`): the WIT, WPTs for requests, and a
 * `fetch` that adds `Workload-Identity-Token` and `Workload-Proof-Token` to each call, all
 * through the shim's local API on its Unix socket; in X.509 mode also the workload certificate
 * for mutual TLS. The workload never holds the WIT's private key.
 *
 * @example
 * ```ts
 * import { createShimClient } from 'twi/shim';
 * const shim = createShimClient();               // socket from TWI_SHIM_SOCKET
 * const res = await shim.fetch('https://payments.internal/v1/charge', { method: 'POST', body });
 * ```
 *
 * @module
 */
import { Agent, request } from 'node:http';
import { JSON_MEDIA_TYPE } from '../wire/media-types.js';
import { TwiError } from '../common/errors.js';
import { tokenHash } from '../wimse/jws.js';

/** The local API answered a problem (its `code`, e.g. `ERR_SHIM_NO_CREDENTIAL`), or is unreachable. */
export class ShimApiError extends TwiError {
  override readonly code: string;
  readonly status: number | undefined;
  constructor(code: string, message: string, status?: number, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.status = status;
  }
}

/** A token with its expiry, as the local API answers. */
export interface ExpiringToken {
  readonly token: string;
  readonly expiresAt: Date;
}

/** The WIT and the workload identifier it carries. */
export interface ShimWit extends ExpiringToken {
  readonly sub: string;
  readonly jti: string | undefined;
}

/**
 * The X.509 workload certificate (the shim runs in X.509 mode), as `GET /v1/x509` answers:
 * what a workload needs for mutual TLS (`cert`, `key`, `ca` of a TLS context, or the options of
 * `createMtlsServer` / `mtlsAgent` with the bundle).
 */
export interface ShimX509 {
  /** The certificate chain as PEM, leaf first (the content of `svid.pem`). */
  readonly certificatePem: string;
  /** The same chain, one PEM certificate per entry, leaf first. */
  readonly chain: readonly string[];
  /**
   * The certificate's private key (PKCS#8 PEM), only when the workload holds it (the shim runs
   * with `--x509-workload-key`); otherwise the key stays in the TEE.
   */
  readonly keyPem?: string;
  /** The trust bundle's X.509 authorities as PEM (the content of `bundle.pem`). */
  readonly bundlePem: string;
  /** The workload identifier: the certificate's only URI SAN, the WIT's `sub`. */
  readonly spiffeId: string;
  /**
   * The `jti` the certificate carries (its twi extension): what a peer reads with `mtlsPeer`,
   * and the key of its provenance record (`GET /v1/provenance/{jti}` on the verifier).
   */
  readonly jti: string | undefined;
  /** The WIT's `jti`: the same as `jti`, except with a held key (attested in its own exchange). */
  readonly witJti: string | undefined;
  /** The credential's expiry (never after the certificate's `notAfter`). */
  readonly expiresAt: Date;
  /** When the bundle should be asked for again (receipt + `spiffe_refresh_hint`). */
  readonly bundleExpiresAt: Date;
}

/** What a WPT binds, besides the audience. */
export interface WptFor {
  /** Target URI without query or fragment (computed from the URL by {@link ShimClient.fetch}). */
  readonly aud: string;
  /** Access token sent with the request (`Authorization: Bearer …`): bound as `ath`. */
  readonly accessToken?: string;
  /** `Txn-Token` sent with the request: bound as `tth`. */
  readonly txnToken?: string;
  /** Other token headers (lowercase name → value): bound in `oth`. */
  readonly otherTokens?: Readonly<Record<string, string>>;
  /** Lifetime in seconds (the shim caps it at 60). */
  readonly lifetime?: number;
}

/** Options of {@link createShimClient}. */
export interface ShimClientOptions {
  /** The shim's socket (default `TWI_SHIM_SOCKET`, else `/run/twi/shim.sock`). */
  readonly socketPath?: string;
  /** The fetch the wrapper calls (default the global one). */
  readonly fetch?: typeof fetch;
  /** Per-call timeout of the local API (default 5000 ms). */
  readonly timeoutMs?: number;
  /** Token header names whose values the WPT binds in `oth` (lowercase). */
  readonly otherTokenHeaders?: readonly string[];
}

/** A client of the local API. */
export interface ShimClient {
  /** The current WIT (cached until 30 s before it expires). */
  wit(): Promise<ShimWit>;
  /** A fresh WPT signed inside the TEE for one request. */
  wpt(forRequest: WptFor): Promise<ExpiringToken>;
  /** The verifier's current trust bundle (JWKS with SPIFFE members). */
  bundle(): Promise<{ bundle: Record<string, unknown>; expiresAt: Date }>;
  /** The EAR of the current credential. */
  ear(): Promise<ExpiringToken>;
  /**
   * The X.509 workload certificate, its key when the workload holds it, and the bundle's X.509
   * authorities (asked of the shim each time). `ERR_SHIM_NOT_FOUND` without X.509 mode.
   */
  x509(): Promise<ShimX509>;
  /** `fetch` with the two WIMSE headers added (a fresh WPT per call). */
  fetch(input: string | URL, init?: RequestInit): Promise<Response>;
}

type Json = Record<string, unknown>;

function call(
  agent: Agent,
  socketPath: string,
  method: string,
  path: string,
  body: unknown,
  timeoutMs: number,
): Promise<Json> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<Json>((resolve, reject) => {
    const req = request(
      {
        socketPath,
        agent,
        method,
        path,
        headers: payload === undefined ? {} : { 'content-type': JSON_MEDIA_TYPE },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let json: Json;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json;
          } catch {
            return reject(
              new ShimApiError(
                'ERR_SHIM_API',
                `shim answered ${res.statusCode} without JSON`,
                res.statusCode,
              ),
            );
          }
          if (res.statusCode === 200) return resolve(json);
          const code = typeof json.code === 'string' ? json.code : 'ERR_SHIM_API';
          reject(
            new ShimApiError(
              code,
              String(json.detail ?? `shim answered ${res.statusCode}`),
              res.statusCode,
            ),
          );
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) =>
      reject(
        new ShimApiError(
          'ERR_SHIM_UNREACHABLE',
          `shim socket ${socketPath} unreachable`,
          undefined,
          { cause: err },
        ),
      ),
    );
    req.end(payload);
  });
}

function expiring(j: Json, member: string): ExpiringToken {
  const token = j[member];
  const expiresAt = new Date(String(j.expires_at));
  if (typeof token !== 'string' || Number.isNaN(expiresAt.getTime())) {
    throw new ShimApiError('ERR_SHIM_API', `shim answer has no ${member} or expires_at`);
  }
  return { token, expiresAt };
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----\r?\n[\s\S]*?-----END CERTIFICATE-----\r?\n?/g;

function optionalString(j: Json, member: string): string | undefined {
  return typeof j[member] === 'string' ? j[member] : undefined;
}

function x509Of(j: Json): ShimX509 {
  const bad = (what: string): never => {
    throw new ShimApiError('ERR_SHIM_API', `shim x509 answer: ${what}`);
  };
  const certificatePem = optionalString(j, 'svid_pem') ?? bad('no svid_pem');
  const chain = certificatePem.match(PEM_CERTIFICATE) ?? bad('svid_pem holds no certificate');
  const bundlePem = optionalString(j, 'bundle_pem') ?? bad('no bundle_pem');
  const spiffeId = optionalString(j, 'sub') ?? bad('no sub');
  const expiresAt = new Date(String(j.expires_at));
  const bundleExpiresAt = new Date(String(j.bundle_expires_at));
  if (Number.isNaN(expiresAt.getTime())) bad('no expires_at');
  if (Number.isNaN(bundleExpiresAt.getTime())) bad('no bundle_expires_at');
  const keyPem = optionalString(j, 'svid_key_pem');
  const witJti = optionalString(j, 'jti');
  return {
    certificatePem,
    chain,
    ...(keyPem !== undefined && { keyPem }),
    bundlePem,
    spiffeId,
    jti: optionalString(j, 'svid_jti') ?? witJti,
    witJti,
    expiresAt,
    bundleExpiresAt,
  };
}

/** The WPT audience of a URL: the URL without query and fragment. */
export function audienceOf(url: string | URL): string {
  const u = new URL(url);
  u.search = '';
  u.hash = '';
  return u.href;
}

function bearerOf(headers: Headers): string | undefined {
  const m = /^(?:Bearer|DPoP)\s+(\S+)$/i.exec(headers.get('authorization') ?? '');
  return m?.[1];
}

/** A client of the shim's local API. */
export function createShimClient(o: ShimClientOptions = {}): ShimClient {
  const socketPath = o.socketPath ?? process.env.TWI_SHIM_SOCKET ?? '/run/twi/shim.sock';
  const timeoutMs = o.timeoutMs ?? 5000;
  const doFetch = o.fetch ?? fetch;
  // Keep-alive: one connection reused (idle sockets do not hold the process open).
  const agent = new Agent({ keepAlive: true, maxSockets: 8, timeout: 10_000 });
  const client: ShimClient = {
    // Asked of the shim every time (one local round trip): a WIT the shim stopped serving
    // because it was revoked is never handed out from a cache here.
    async wit() {
      const j = await call(agent, socketPath, 'GET', '/v1/wit', undefined, timeoutMs);
      const t = expiring(j, 'wit');
      return { ...t, sub: String(j.sub), jti: typeof j.jti === 'string' ? j.jti : undefined };
    },
    async wpt(r) {
      const oth = r.otherTokens
        ? Object.fromEntries(
            Object.entries(r.otherTokens).map(([k, v]) => [k.toLowerCase(), tokenHash(v.trim())]),
          )
        : undefined;
      const body = {
        aud: r.aud,
        ...(r.accessToken !== undefined && { ath: tokenHash(r.accessToken) }),
        ...(r.txnToken !== undefined && { tth: tokenHash(r.txnToken) }),
        ...(oth && Object.keys(oth).length > 0 && { oth }),
        ...(r.lifetime !== undefined && { lifetime: r.lifetime }),
      };
      return expiring(await call(agent, socketPath, 'POST', '/v1/wpt', body, timeoutMs), 'wpt');
    },
    async bundle() {
      const j = await call(agent, socketPath, 'GET', '/v1/bundle', undefined, timeoutMs);
      return {
        bundle: j.bundle as Record<string, unknown>,
        expiresAt: new Date(String(j.expires_at)),
      };
    },
    async ear() {
      return expiring(await call(agent, socketPath, 'GET', '/v1/ear', undefined, timeoutMs), 'ear');
    },
    async x509() {
      return x509Of(await call(agent, socketPath, 'GET', '/v1/x509', undefined, timeoutMs));
    },
    async fetch(input, init = {}) {
      const headers = new Headers(init.headers);
      const others: Record<string, string> = {};
      for (const name of o.otherTokenHeaders ?? []) {
        const v = headers.get(name);
        if (v !== null) others[name.toLowerCase()] = v;
      }
      const accessToken = bearerOf(headers);
      const txnToken = headers.get('txn-token') ?? undefined;
      // The WIT first: a WPT's wth must name the WIT sent beside it.
      let wit = await client.wit();
      let wpt = await client.wpt({
        aud: audienceOf(input),
        ...(accessToken !== undefined && { accessToken }),
        ...(txnToken !== undefined && { txnToken }),
        otherTokens: others,
      });
      const decoded = JSON.parse(
        Buffer.from(wpt.token.split('.')[1]!, 'base64url').toString(),
      ) as Json;
      if (decoded.wth !== tokenHash(wit.token)) {
        // The shim renewed between the two calls: take its new WIT.
        wit = await client.wit();
        wpt = await client.wpt({
          aud: audienceOf(input),
          ...(accessToken !== undefined && { accessToken }),
          ...(txnToken !== undefined && { txnToken }),
          otherTokens: others,
        });
      }
      headers.set('workload-identity-token', wit.token);
      headers.set('workload-proof-token', wpt.token);
      return doFetch(input, { ...init, headers });
    },
  };
  return client;
}

export { createWorkloadApiClient, WorkloadApiError } from './workload-api/client.js';
export type {
  StopWatching,
  WorkloadApiClient,
  WorkloadApiClientOptions,
  WorkloadJwtSvid,
  WorkloadX509Svid,
} from './workload-api/client.js';
