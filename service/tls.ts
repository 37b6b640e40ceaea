/**
 * TLS for the verifier service: the server certificate (chain) and key, and the optional CA of
 * client certificates the admin API then demands. Files are read and checked before the server
 * starts, so a bad one is a one-line {@link TlsConfigError} rather than a stack trace from
 * OpenSSL at listen time.
 *
 * @internal
 * @module
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createSecureContext, type TLSSocket } from 'node:tls';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TwiError } from '../common/errors.js';
import { problem, sendProblem } from './problem.js';

/** Codes of {@link TlsConfigError}. */
export type TlsCode = 'ERR_TLS_FILE' | 'ERR_TLS_INVALID' | 'ERR_TLS_KEY_MISMATCH';

/**
 * A TLS file that cannot be read (`ERR_TLS_FILE`), PEM that is not a certificate or private key
 * (`ERR_TLS_INVALID`), or a key that is not the certificate's (`ERR_TLS_KEY_MISMATCH`).
 */
export class TlsConfigError extends TwiError {
  override readonly code: TlsCode;

  constructor(code: TlsCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** The TLS material of the service, PEM. */
export interface ServiceTls {
  /** The server certificate, then its intermediates (the chain a client needs). */
  readonly cert: string;
  /** The server certificate's private key (PKCS#8, SEC 1 or PKCS#1). */
  readonly key: string;
  /**
   * CA certificates of client certificates. When set the server asks every client for a
   * certificate, and the admin API refuses a call without one that verifies against them.
   */
  readonly clientCa?: string;
}

/** Largest TLS file read (a certificate bundle of a few dozen certificates). */
const MAX_TLS_FILE_BYTES = 256 * 1024;

const PEM_CERT = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]*-----END CERTIFICATE-----/g;

/** The certificates of a PEM text, parsed; `what` names it in errors. */
function pemCertificates(text: string, what: string): X509Certificate[] {
  const blocks = text.match(PEM_CERT) ?? [];
  if (blocks.length === 0)
    throw new TlsConfigError('ERR_TLS_INVALID', `${what}: no PEM certificate`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new TlsConfigError('ERR_TLS_INVALID', `${what}: certificate ${i + 1} does not parse`, {
        cause: err,
      });
    }
  });
}

function privateKeyOf(text: string, what: string): KeyObject {
  try {
    return createPrivateKey(text);
  } catch (err) {
    throw new TlsConfigError('ERR_TLS_INVALID', `${what}: not a PEM private key`, { cause: err });
  }
}

/**
 * Checks TLS material: the certificate file holds at least one certificate, the key is a
 * private key and is the first certificate's, the client CA file (when given) holds
 * certificates, and OpenSSL accepts them together.
 *
 * @throws TlsConfigError `ERR_TLS_INVALID` or `ERR_TLS_KEY_MISMATCH`.
 */
export function checkServiceTls(
  tls: ServiceTls,
  names = { cert: 'cert', key: 'key', ca: 'ca' },
): void {
  const [leaf] = pemCertificates(tls.cert, names.cert);
  const key = privateKeyOf(tls.key, names.key);
  if (!leaf!.checkPrivateKey(key)) {
    throw new TlsConfigError(
      'ERR_TLS_KEY_MISMATCH',
      `${names.key} is not the private key of the certificate in ${names.cert}`,
    );
  }
  if (tls.clientCa !== undefined) pemCertificates(tls.clientCa, names.ca);
  try {
    createSecureContext({
      cert: tls.cert,
      key: tls.key,
      ...(tls.clientCa !== undefined && { ca: tls.clientCa }),
    });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new TlsConfigError('ERR_TLS_INVALID', `${names.cert}: refused by OpenSSL: ${reason}`, {
      cause: err,
    });
  }
}

/** A TLS file's text; a missing, unreadable or oversized file is `ERR_TLS_FILE`. */
function readTlsFile(path: string, flag: string): string {
  try {
    const st = statSync(path);
    if (!st.isFile())
      throw new TlsConfigError('ERR_TLS_FILE', `${flag} ${path}: not a regular file`);
    if (st.size > MAX_TLS_FILE_BYTES) {
      throw new TlsConfigError('ERR_TLS_FILE', `${flag} ${path}: over ${MAX_TLS_FILE_BYTES} bytes`);
    }
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof TlsConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new TlsConfigError('ERR_TLS_FILE', `${flag} ${path}: ${code}`, { cause: err });
  }
}

/** Paths of the TLS files, as given on the command line. */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly clientCa?: string;
}

/**
 * Reads and checks the TLS files (`--tls-cert`, `--tls-key`, `--tls-client-ca`).
 *
 * @throws TlsConfigError with the flag and path in its one-line message.
 */
export function readServiceTls(files: TlsFiles): ServiceTls {
  const tls: ServiceTls = {
    cert: readTlsFile(files.cert, '--tls-cert'),
    key: readTlsFile(files.key, '--tls-key'),
    ...(files.clientCa !== undefined && {
      clientCa: readTlsFile(files.clientCa, '--tls-client-ca'),
    }),
  };
  checkServiceTls(tls, {
    cert: `--tls-cert ${files.cert}`,
    key: `--tls-key ${files.key}`,
    ca: `--tls-client-ca ${files.clientCa ?? ''}`,
  });
  return tls;
}

/**
 * The `https` option of Fastify for `tls`. With a client CA the server requests a certificate
 * but does not end the handshake without one (`rejectUnauthorized: false`): the public routes
 * stay open to every client, and the admin guard checks `socket.authorized`.
 */
export function httpsOptions(tls: ServiceTls): Record<string, unknown> {
  return {
    cert: tls.cert,
    key: tls.key,
    minVersion: 'TLSv1.2',
    ...(tls.clientCa !== undefined && {
      ca: tls.clientCa,
      requestCert: true,
      rejectUnauthorized: false,
    }),
  };
}

/** True for the routes of the admin API: `/v1/admin/*` and `POST /v1/revoke`. */
export function isAdminRoute(route: string): boolean {
  return route.startsWith('/v1/admin/') || route === '/v1/revoke';
}

/**
 * The `onRequest` hook that, with a client CA configured, refuses an admin call whose TLS
 * client certificate is missing or does not verify against it: 403 `ERR_ADMIN_CLIENT_CERT`.
 * It runs before the admin routes' own bearer-token check, so both are needed. Routes are
 * matched by their pattern, so no spelling of the path gets around it.
 */
export function clientCertGuard() {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const route = request.routeOptions.url;
    if (route === undefined || !isAdminRoute(route)) return undefined;
    const socket = request.raw.socket as Partial<TLSSocket>;
    if (socket.authorized === true) return undefined;
    request.log.info({ code: 'ERR_ADMIN_CLIENT_CERT' }, 'admin call refused');
    return sendProblem(
      reply,
      problem(
        403,
        'ERR_ADMIN_CLIENT_CERT',
        'the admin API needs a verified TLS client certificate',
      ),
    );
  };
}
