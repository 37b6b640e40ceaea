/**
 * The workload's local API: HTTP/1.1 over a Unix domain socket (mode 0600, or 0660 with a
 * configured group). Every answer carries `expires_at` (and `Expires`); errors are RFC 9457
 * problem+json with a stable `code`. The private key never leaves the TEE: `POST /v1/wpt`
 * returns a signature made by it. In X.509 mode `GET /v1/x509` serves the workload certificate
 * chain and the bundle's X.509 authorities as PEM.
 *
 * @internal
 * @module
 */
import { rmSync } from 'node:fs';
import { bindShimSocket } from './socket.js';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { JSON_MEDIA_TYPE, mediaTypeEssence, PROBLEM_MEDIA_TYPE } from '../wire/media-types.js';
import type { WorkloadKey } from './attester.js';
import type { Credential } from './credential.js';
import { ShimError } from './errors.js';
import { parseWptRequest, signShimWpt } from './wpt.js';
import { bundlePem } from './x509.js';

/** The trust bundle the shim follows, with its expiry (receipt + `spiffe_refresh_hint`). */
export interface HeldBundle {
  readonly bundle: Record<string, unknown>;
  readonly expiresAt: Date;
}

/** What the API serves from. */
export interface LocalApiState {
  credential(): Credential | undefined;
  bundle(): HeldBundle | undefined;
  /** While there is no credential because the last one was revoked: why (no token). */
  revoked?(): string | undefined;
  readonly key: WorkloadKey;
  /** X.509 mode: `GET /v1/x509` is served (else it is 404). */
  readonly x509?: boolean;
  now(): Date;
}

/** Options of {@link startLocalApi}. */
export interface LocalApiOptions {
  readonly socketPath: string;
  /** Numeric group id allowed to connect (socket mode 0660); owner only (0600) when unset. */
  readonly gid?: number;
  /** Anyone may connect (mode 0666): agent mode, where callers are told apart by peer. */
  readonly world?: boolean;
  /**
   * What to serve; in agent mode a function giving the state of the caller on a connection
   * (a rejection with a {@link ShimError} is answered as its problem).
   */
  readonly state: LocalApiState | ((socket: Socket) => Promise<LocalApiState>);
}

/** A listening API. */
export interface LocalApi {
  readonly socketPath: string;
  /** WPTs signed so far. */
  signed(): number;
  close(): Promise<void>;
}

/** Largest request body accepted. */
export const MAX_API_BODY = 16 * 1024;

function send(res: ServerResponse, status: number, body: unknown, expiresAt?: Date): void {
  res.statusCode = status;
  res.setHeader('cache-control', 'no-store');
  if (expiresAt) res.setHeader('expires', expiresAt.toUTCString());
  res.setHeader('content-type', JSON_MEDIA_TYPE);
  res.end(JSON.stringify(body));
}

function problem(res: ServerResponse, status: number, code: string, detail: string): void {
  res.statusCode = status;
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-type', PROBLEM_MEDIA_TYPE);
  res.end(
    JSON.stringify({
      type: `https://twi.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`,
      title: code,
      status,
      detail,
      code,
    }),
  );
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  if (mediaTypeEssence(String(req.headers['content-type'] ?? '')) !== JSON_MEDIA_TYPE) {
    throw Object.assign(
      new ShimError('ERR_SHIM_BAD_REQUEST', `content-type must be ${JSON_MEDIA_TYPE}`),
      {
        httpStatus: 415,
      },
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_API_BODY) {
      throw Object.assign(new ShimError('ERR_SHIM_BAD_REQUEST', 'body over 16 KiB'), {
        httpStatus: 413,
      });
    }
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ShimError('ERR_SHIM_BAD_REQUEST', 'body is not JSON');
  }
}

function noCredential(res: ServerResponse, s: LocalApiState): void {
  const revoked = s.revoked?.();
  if (revoked !== undefined) {
    return problem(res, 503, 'ERR_SHIM_CREDENTIAL_REVOKED', `${revoked}; re-attesting`);
  }
  problem(res, 503, 'ERR_SHIM_NO_CREDENTIAL', 'no valid credential yet (attestation pending)');
}

async function route(
  req: IncomingMessage,
  res: ServerResponse,
  state: LocalApiOptions['state'],
  count: () => void,
): Promise<void> {
  const s = typeof state === 'function' ? await callerState(state, req.socket) : state;
  const path = (req.url ?? '/').split('?')[0];
  const method = req.method ?? 'GET';
  const allowed: Record<string, string> = {
    '/v1/wit': 'GET',
    '/v1/ear': 'GET',
    '/v1/bundle': 'GET',
    '/v1/wpt': 'POST',
    '/v1/x509': 'GET',
  };
  const want = path === undefined ? undefined : allowed[path];
  if (want === undefined) return problem(res, 404, 'ERR_SHIM_NOT_FOUND', `no route ${path}`);
  if (method !== want) {
    res.setHeader('allow', want);
    return problem(res, 405, 'ERR_SHIM_METHOD', `${path} takes ${want}`);
  }
  if (path === '/v1/bundle') {
    const b = s.bundle();
    if (!b) return problem(res, 503, 'ERR_SHIM_NO_BUNDLE', 'no trust bundle received yet');
    return send(res, 200, { bundle: b.bundle, expires_at: b.expiresAt.toISOString() }, b.expiresAt);
  }
  if (path === '/v1/x509') return x509(res, s);
  const c = s.credential();
  if (path === '/v1/wpt') {
    const body = parseWptRequest(await readBody(req));
    if (!c) return noCredential(res, s);
    const signed = await signShimWpt(s.key, c.wit, c.expiresAt, body, s.now());
    count();
    return send(
      res,
      200,
      { wpt: signed.wpt, expires_at: signed.expiresAt.toISOString() },
      signed.expiresAt,
    );
  }
  if (!c) return noCredential(res, s);
  const expires_at = c.expiresAt.toISOString();
  if (path === '/v1/wit') {
    return send(res, 200, { wit: c.wit, sub: c.sub, jti: c.jti, expires_at }, c.expiresAt);
  }
  return send(res, 200, { ear: c.ear, expires_at }, c.expiresAt);
}

/**
 * The caller's state; a verifier's refusal of the caller keeps its status and problem code (e.g.
 * 403 `ERR_NO_REGISTRATION`), an unidentifiable caller is 403 `ERR_SHIM_CALLER`.
 */
async function callerState(
  state: (socket: Socket) => Promise<LocalApiState>,
  socket: Socket,
): Promise<LocalApiState> {
  try {
    return await state(socket);
  } catch (err) {
    if (!(err instanceof ShimError)) throw err;
    const refused = err.code === 'ERR_SHIM_ATTEST_REFUSED' && err.status !== undefined;
    const status = refused ? err.status! : err.code === 'ERR_SHIM_CALLER' ? 403 : 503;
    throw Object.assign(
      new ShimError(
        'ERR_SHIM_ATTEST_REFUSED',
        err.message,
        err.verifierCode === undefined ? {} : { verifierCode: err.verifierCode },
      ),
      { httpStatus: status, problemCode: refused ? err.verifierCode : err.code },
    );
  }
}

/**
 * `GET /v1/x509`: `svid_pem` (leaf first), `svid_key_pem` (a held key only), `bundle_pem`,
 * `sub`, `jti` (the WIT's), `svid_jti` (the certificate's: the WIT's, or with a held key that of
 * its own exchange), `expires_at` (the credential's) and `bundle_expires_at`.
 */
function x509(res: ServerResponse, s: LocalApiState): void {
  if (!s.x509) return problem(res, 404, 'ERR_SHIM_NOT_FOUND', 'the shim runs without X.509 mode');
  const c = s.credential();
  if (!c?.x509) return noCredential(res, s);
  const b = s.bundle();
  const authorities = b ? bundlePem(b.bundle) : '';
  if (authorities === '') {
    return problem(res, 503, 'ERR_SHIM_NO_BUNDLE', 'no bundle with X.509 authorities received yet');
  }
  send(
    res,
    200,
    {
      svid_pem: c.x509.pem,
      ...(c.x509.keyPem !== undefined && { svid_key_pem: c.x509.keyPem }),
      bundle_pem: authorities,
      sub: c.sub,
      jti: c.jti,
      svid_jti: c.x509.jti ?? c.jti,
      expires_at: c.expiresAt.toISOString(),
      bundle_expires_at: b!.expiresAt.toISOString(),
    },
    c.expiresAt,
  );
}

/**
 * Listens on `socketPath` (a stale socket file there is replaced).
 *
 * @example
 * ```ts
 * const api = await startLocalApi({ socketPath: '/run/twi/shim.sock', state });
 * ```
 */
export async function startLocalApi(o: LocalApiOptions): Promise<LocalApi> {
  let signed = 0;
  const server: Server = createServer((req, res) => {
    route(req, res, o.state, () => signed++).catch((err: unknown) => {
      if (res.headersSent) return res.destroy();
      if (err instanceof ShimError) {
        const e = err as ShimError & { httpStatus?: number; problemCode?: string };
        return problem(res, e.httpStatus ?? 400, e.problemCode ?? err.code, err.message);
      }
      problem(res, 500, 'ERR_SHIM_INTERNAL', 'internal error');
    });
  });
  // Longer than the client library's idle timeout (10 s), so the client closes first.
  server.keepAliveTimeout = 30_000;
  await bindShimSocket(
    o.socketPath,
    { gid: o.gid, world: o.world },
    () =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(o.socketPath, () => resolve());
      }),
  );
  return {
    socketPath: o.socketPath,
    signed: () => signed,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        rmSync(o.socketPath, { force: true });
      }),
  };
}
