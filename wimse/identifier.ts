/**
 * Workload identifiers (draft-ietf-wimse-identifier, SPIFFE-ID): `wimse://<trust-domain>/<path>`
 * or `spiffe://<trust-domain>/<path>`.
 *
 * SPIFFE IDs follow SPIFFE-ID.md §2 exactly ({@link spiffeIdProblem}): the prefix `spiffe://`
 * (lowercase), a non-empty trust domain of `[a-z0-9._-]` only (so no userinfo, port, IPv6
 * literal or percent-encoding; an IPv4 dotted quad is a valid name and is treated like any
 * other, §2.1), at most 255 bytes, an optional path whose segments are non-empty, not `.` or
 * `..`, of `[a-zA-Z0-9._-]` only, no trailing `/`, no query or fragment, at most 2048 bytes.
 *
 * WIMSE identifiers (D7.1): absolute URI, lowercase scheme, a non-empty lowercase
 * `[a-z0-9._-]` trust domain of at most 255 bytes that is not an IP address, no userinfo,
 * port, query or fragment, path segments of RFC 3986 `pchar` with well-formed percent-encoding
 * (no empty, `.` or `..` segment, no trailing `/`), at most 2048 bytes.
 *
 * A workload identifier ({@link workloadIdProblem}) additionally needs a non-empty path: a
 * trust domain's own ID (`spiffe://example.org`) names no workload.
 *
 * @module
 */

/** Largest identifier accepted, in UTF-8 bytes (draft-ietf-wimse-identifier §3, SPIFFE-ID §2.3). */
export const MAX_WORKLOAD_ID_BYTES = 2048;

/** Largest trust domain accepted, in bytes (SPIFFE-ID §2.3). */
export const MAX_TRUST_DOMAIN_BYTES = 255;

/** The schemes a workload identifier may use. */
export type WorkloadIdScheme = 'wimse' | 'spiffe';

/** A workload identifier taken apart. */
export interface WorkloadId {
  readonly scheme: WorkloadIdScheme;
  /** The authority: the trust domain the identifier belongs to. */
  readonly trustDomain: string;
  /** The path, starting with `/`. */
  readonly path: string;
  /** The complete identifier: compare and authorise on this, never on a prefix. */
  readonly uri: string;
}

const URI_SHAPE = /^([^:/?#]+):\/\/([^/?#]*)([^?#]*)$/;
const SPIFFE_PREFIX = 'spiffe://';
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const SPIFFE_SEGMENT = /^[a-zA-Z0-9._-]+$/;
const WIMSE_SEGMENT = /^([A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})+$/;

/** Problems of a path that is not empty (`''` is checked by the caller). */
function pathProblem(segmentRule: RegExp, path: string): string | undefined {
  if (!path.startsWith('/')) return 'the path must start with /';
  if (path.endsWith('/')) return 'the path ends with /';
  for (const s of path.slice(1).split('/')) {
    if (s === '') return 'the path has an empty segment';
    if (s === '.' || s === '..') return `the path has a ${s} segment`;
    if (!segmentRule.test(s))
      return `the path segment ${JSON.stringify(s)} has forbidden characters`;
  }
  return undefined;
}

/**
 * Why `name` is not a SPIFFE trust domain name (SPIFFE-ID §2.1), or `undefined`: non-empty,
 * lowercase `[a-z0-9._-]` only, at most 255 bytes. IPv4 dotted quads are valid names.
 *
 * @example
 * ```ts
 * trustDomainProblem('192.168.1.1'); // undefined
 * trustDomainProblem('Example.org'); // 'the trust domain must be lowercase [a-z0-9._-]'
 * ```
 */
export function trustDomainProblem(name: string): string | undefined {
  if (name === '') return 'the trust domain (authority) is empty';
  if (name.includes('@')) return 'userinfo is not allowed';
  if (name.includes(':') || name.startsWith('[')) return 'a port is not allowed';
  if (!TRUST_DOMAIN.test(name)) return 'the trust domain must be lowercase [a-z0-9._-]';
  if (name.length > MAX_TRUST_DOMAIN_BYTES) return 'the trust domain is over 255 bytes';
  return undefined;
}

/**
 * Why `uri` is not a SPIFFE ID (SPIFFE-ID.md §2), or `undefined` when it is. The path is
 * optional here: `spiffe://example.org` is the trust domain's own ID.
 *
 * @example
 * ```ts
 * spiffeIdProblem('spiffe://192.168.1.1/db'); // undefined
 * spiffeIdProblem('spiffe://example.org/a/'); // 'the path ends with /'
 * ```
 */
export function spiffeIdProblem(uri: unknown): string | undefined {
  if (typeof uri !== 'string') return 'the identifier is not a string';
  if (Buffer.byteLength(uri, 'utf8') > MAX_WORKLOAD_ID_BYTES) return 'over 2048 bytes';
  if (!uri.startsWith(SPIFFE_PREFIX)) return 'the scheme must be spiffe (lowercase) with //';
  const rest = uri.slice(SPIFFE_PREFIX.length);
  const slash = rest.indexOf('/');
  const name = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash);
  if (name.includes('?') || path.includes('?')) return 'a query is not allowed';
  if (name.includes('#') || path.includes('#')) return 'a fragment is not allowed';
  return trustDomainProblem(name) ?? (path === '' ? undefined : pathProblem(SPIFFE_SEGMENT, path));
}

function wimseIdProblem(authority: string, path: string): string | undefined {
  // D7.1: a WIMSE trust domain must not be an IP address (SPIFFE names have no such rule).
  const domain = trustDomainProblem(authority);
  if (domain) return domain;
  if (IPV4.test(authority)) return 'the trust domain must not be an IP address';
  if (path === '' || path === '/') return 'the path is empty (a trust domain is not a workload)';
  return pathProblem(WIMSE_SEGMENT, path);
}

/**
 * Why `uri` is not an acceptable workload identifier, or `undefined` when it is: a SPIFFE ID
 * ({@link spiffeIdProblem}) or a WIMSE identifier, with a non-empty path.
 *
 * @example
 * ```ts
 * workloadIdProblem('wimse://example.com/ns/app'); // undefined
 * workloadIdProblem('spiffe://example.com:8443/x'); // 'a port is not allowed'
 * ```
 */
export function workloadIdProblem(uri: unknown): string | undefined {
  if (typeof uri !== 'string') return 'the identifier is not a string';
  if (Buffer.byteLength(uri, 'utf8') > MAX_WORKLOAD_ID_BYTES) return 'over 2048 bytes';
  if (uri.includes('?')) return 'a query is not allowed';
  if (uri.includes('#')) return 'a fragment is not allowed';
  const m = URI_SHAPE.exec(uri);
  if (!m) return 'not an absolute URI with an authority (scheme://trust-domain/path)';
  const [, scheme = '', authority = '', path = ''] = m;
  if (scheme !== 'wimse' && scheme !== 'spiffe') return `scheme ${scheme} is not wimse or spiffe`;
  const problem = scheme === 'spiffe' ? spiffeIdProblem(uri) : wimseIdProblem(authority, path);
  if (problem) return problem;
  return path === '' ? 'the path is empty (a trust domain is not a workload)' : undefined;
}

/**
 * Parses and validates a workload identifier.
 *
 * @throws TypeError naming the broken rule.
 *
 * @example
 * ```ts
 * parseWorkloadId('spiffe://prod.example/ns/payments/sa/api').trustDomain; // 'prod.example'
 * ```
 */
export function parseWorkloadId(uri: string): WorkloadId {
  const problem = workloadIdProblem(uri);
  if (problem) throw new TypeError(`not a workload identifier: ${problem}`);
  const [, scheme = '', trustDomain = '', path = ''] = URI_SHAPE.exec(uri) ?? [];
  return { scheme: scheme as WorkloadIdScheme, trustDomain, path, uri };
}
