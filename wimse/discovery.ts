/**
 * A relying party configured with the issuer URL only: OpenID Connect Discovery 1.0 §4 gives
 * the metadata at `<issuer>/.well-known/openid-configuration`, whose `issuer` must equal the
 * configured one exactly (§4.3) and whose `jwks_uri` gives the key set that verifies WITs.
 *
 * URLs must be https; plain http is accepted only for an issuer on a loopback address
 * (development), and then `jwks_uri` must be on loopback too. Redirects are not followed.
 * `ca` replaces the system trust store for these fetches (e.g. the `ca.pem` of
 * `twi serve --dev-tls`).
 *
 * @module
 */
import { isIP } from 'node:net';
import { fetchTrusting } from '../common/https-fetch.js';
import { JSON_MEDIA_TYPE } from '../wire/media-types.js';
import { DiscoveryError } from './errors.js';
import { createJwksCache, type Jwks, type JwksResolver } from './jwks.js';

/** Options of {@link discoverIssuer} and {@link issuerJwks}. */
export interface IssuerDiscoveryOptions {
  /** CA certificates (PEM) trusted for the issuer's TLS instead of the system store. */
  readonly ca?: string | readonly string[];
  /** Timeout of each fetch (default 10 000 ms). */
  readonly timeoutMs?: number;
}

/** The members of the issuer metadata a relying party uses. */
export interface IssuerMetadata {
  readonly issuer: string;
  readonly jwks_uri: string;
  readonly [member: string]: unknown;
}

/** Largest metadata document read. */
const MAX_METADATA_BYTES = 64 * 1024;
/** Largest key set read. */
const MAX_JWKS_BYTES = 256 * 1024;

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1';
}

function parseUrl(value: unknown, what: string): URL {
  if (typeof value !== 'string')
    throw new DiscoveryError('ERR_DISCOVERY_URL', `${what} is not a string`);
  try {
    return new URL(value);
  } catch (err) {
    throw new DiscoveryError('ERR_DISCOVERY_URL', `${what} is not a URL: ${value}`, { cause: err });
  }
}

/** The issuer as a URL, checked: https (or http on loopback), no query, fragment or user info. */
function checkIssuer(issuer: string): URL {
  const url = parseUrl(issuer, 'the issuer');
  const loopbackHttp = url.protocol === 'http:' && isLoopback(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp) {
    throw new DiscoveryError('ERR_DISCOVERY_URL', `the issuer must be https: ${issuer}`);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new DiscoveryError(
      'ERR_DISCOVERY_URL',
      `the issuer must have no query, fragment or user info: ${issuer}`,
    );
  }
  return url;
}

/** The message of a fetch failure: the network cause's, not fetch's generic "fetch failed". */
function reason(err: unknown): string {
  const cause = (err as { cause?: { message?: unknown } }).cause;
  if (err instanceof TypeError && typeof cause?.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}

async function get(url: URL, o: IssuerDiscoveryOptions, max: number): Promise<string> {
  const fail = (message: string, cause?: unknown): DiscoveryError =>
    new DiscoveryError('ERR_DISCOVERY_FETCH', `${url.href}: ${message}`, { cause });
  const doFetch = o.ca === undefined ? fetch : fetchTrusting(o.ca);
  let res: Response;
  try {
    res = await doFetch(url, {
      headers: { accept: JSON_MEDIA_TYPE },
      redirect: 'manual',
      signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
    });
  } catch (err) {
    throw fail(reason(err), err);
  }
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel().catch(() => undefined);
    throw fail(`HTTP ${res.status}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.length;
      // Leaving the loop cancels the stream.
      if (size > max) throw fail(`over ${max} bytes`);
      chunks.push(chunk);
    }
  } catch (err) {
    throw err instanceof DiscoveryError ? err : fail(reason(err), err);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function getJsonObject(
  url: URL,
  o: IssuerDiscoveryOptions,
  max: number,
): Promise<Record<string, unknown>> {
  const text = await get(url, o, max);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DiscoveryError('ERR_DISCOVERY_INVALID', `${url.href}: not JSON`, { cause: err });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DiscoveryError('ERR_DISCOVERY_INVALID', `${url.href}: not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Fetches and checks the issuer's metadata: `issuer` equal to `issuer` character for
 * character, `jwks_uri` an https URL (http only on loopback for a loopback http issuer).
 *
 * @throws DiscoveryError
 *
 * @example
 * ```ts
 * const { jwks_uri } = await discoverIssuer('https://verifier.example');
 * ```
 */
export async function discoverIssuer(
  issuer: string,
  o: IssuerDiscoveryOptions = {},
): Promise<IssuerMetadata> {
  const url = checkIssuer(issuer);
  const where = new URL(`${url.href.replace(/\/+$/, '')}/.well-known/openid-configuration`);
  const metadata = await getJsonObject(where, o, MAX_METADATA_BYTES);
  if (metadata.issuer !== issuer) {
    throw new DiscoveryError(
      'ERR_DISCOVERY_ISSUER',
      `the metadata names issuer ${JSON.stringify(metadata.issuer)}, not ${JSON.stringify(issuer)}`,
    );
  }
  if (metadata.jwks_uri === undefined) {
    throw new DiscoveryError('ERR_DISCOVERY_INVALID', `${where.href}: no jwks_uri`);
  }
  const jwksUrl = parseUrl(metadata.jwks_uri, 'jwks_uri');
  const httpOk =
    url.protocol === 'http:' && jwksUrl.protocol === 'http:' && isLoopback(jwksUrl.hostname);
  if (jwksUrl.protocol !== 'https:' && !httpOk) {
    throw new DiscoveryError('ERR_DISCOVERY_URL', `jwks_uri must be https: ${jwksUrl.href}`);
  }
  return metadata as IssuerMetadata;
}

/**
 * The issuer's key set: discovery, then `jwks_uri`.
 *
 * @throws DiscoveryError
 */
export async function fetchIssuerJwks(
  issuer: string,
  o: IssuerDiscoveryOptions = {},
): Promise<Jwks> {
  const metadata = await discoverIssuer(issuer, o);
  const jwks = await getJsonObject(new URL(metadata.jwks_uri), o, MAX_JWKS_BYTES);
  if (!Array.isArray(jwks.keys)) {
    throw new DiscoveryError('ERR_DISCOVERY_INVALID', `${metadata.jwks_uri}: no keys array`);
  }
  return jwks as unknown as Jwks;
}

/**
 * A caching {@link JwksResolver} for an issuer known by its URL only: every refresh repeats
 * the discovery, so a moved `jwks_uri` is followed. Failures surface as
 * `ERR_JWKS_UNAVAILABLE` with the {@link DiscoveryError} as `cause`.
 *
 * @example
 * ```ts
 * const jwks = issuerJwks('https://127.0.0.1:8443', { ca: readFileSync('.twi/dev-tls/ca.pem', 'utf8') });
 * await verifyWorkloadRequest(req.headers, { jwks, expectedAudience, replayCache });
 * ```
 */
export function issuerJwks(
  issuer: string,
  o: IssuerDiscoveryOptions & { readonly minRefreshMs?: number } = {},
): JwksResolver {
  checkIssuer(issuer);
  return createJwksCache({
    fetchJwks: () => fetchIssuerJwks(issuer, o),
    ...(o.minRefreshMs !== undefined && { minRefreshMs: o.minRefreshMs }),
  });
}
