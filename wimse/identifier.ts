/**
 * Workload identifiers (draft-ietf-wimse-identifier, SPIFFE-ID): `wimse://<trust-domain>/<path>`
 * or `spiffe://<trust-domain>/<path>`.
 *
 * Rules enforced for both schemes: absolute URI, lowercase scheme, a non-empty authority that is
 * the trust domain (lowercase `[a-z0-9._-]`, at most 255 bytes, not an IP address), no userinfo,
 * port, query or fragment, a non-empty path without empty, `.` or `..` segments and without a
 * trailing `/`, and at most 2048 bytes in all. SPIFFE paths are further limited to
 * `[a-zA-Z0-9._-]`; WIMSE paths may use any RFC 3986 `pchar` with well-formed percent-encoding.
 *
 * @module
 */

/** Largest identifier accepted, in UTF-8 bytes (draft-ietf-wimse-identifier §3, SPIFFE-ID §2). */
export const MAX_WORKLOAD_ID_BYTES = 2048;

/** Largest trust domain accepted, in bytes (SPIFFE-ID §2.1). */
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
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const SPIFFE_SEGMENT = /^[a-zA-Z0-9._-]+$/;
const WIMSE_SEGMENT = /^([A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})+$/;

function pathProblem(scheme: WorkloadIdScheme, path: string): string | undefined {
  if (path === '' || path === '/') return 'the path is empty (a trust domain is not a workload)';
  if (path.endsWith('/')) return 'the path ends with /';
  const segment = scheme === 'spiffe' ? SPIFFE_SEGMENT : WIMSE_SEGMENT;
  for (const s of path.slice(1).split('/')) {
    if (s === '') return 'the path has an empty segment';
    if (s === '.' || s === '..') return `the path has a ${s} segment`;
    if (!segment.test(s)) return `the path segment ${JSON.stringify(s)} has forbidden characters`;
  }
  return undefined;
}

function trustDomainProblem(authority: string): string | undefined {
  if (authority === '') return 'the trust domain (authority) is empty';
  if (authority.includes('@')) return 'userinfo is not allowed';
  if (authority.includes(':') || authority.startsWith('[')) return 'a port is not allowed';
  if (!TRUST_DOMAIN.test(authority)) return 'the trust domain must be lowercase [a-z0-9._-]';
  if (authority.length > MAX_TRUST_DOMAIN_BYTES) return 'the trust domain is over 255 bytes';
  if (IPV4.test(authority)) return 'the trust domain must not be an IP address';
  return undefined;
}

/**
 * Why `uri` is not an acceptable workload identifier, or `undefined` when it is.
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
  return trustDomainProblem(authority) ?? pathProblem(scheme, path);
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
