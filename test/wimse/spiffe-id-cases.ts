/**
 * SPIFFE ID test table: facts re-typed as data from public sources, not their code.
 *
 * Sources: the SPIFFE standard `standards/SPIFFE-ID.md` §2 (spiffe/spiffe, commit 665a28f,
 * July 2026) and go-spiffe's public tests `spiffeid/id_test.go` (`TestFromString`, `TestFromURI`)
 * and `spiffeid/trustdomain_test.go` (spiffe/go-spiffe, commit e9973f6, June 2026). The
 * per-character rules (go-spiffe's loop over code points 0–255) are generated in the test
 * from {@link TRUST_DOMAIN_CHARS} and {@link PATH_CHARS}.
 */

/** Characters a trust domain name may use (SPIFFE-ID §2.1). */
export const TRUST_DOMAIN_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789.-_';

/** Characters a path segment may use (SPIFFE-ID §2.2). */
export const PATH_CHARS = TRUST_DOMAIN_CHARS + 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Valid SPIFFE IDs, with the trust domain and path they split into. */
export const VALID: readonly (readonly [id: string, trustDomain: string, path: string])[] = [
  // go-spiffe "path is optional"
  ['spiffe://trustdomain', 'trustdomain', ''],
  ['spiffe://trustdomain/path', 'trustdomain', '/path'],
  // go-spiffe "reject dot segments": segments that only contain dots are fine otherwise
  ['spiffe://trustdomain/.path', 'trustdomain', '/.path'],
  ['spiffe://trustdomain/..path', 'trustdomain', '/..path'],
  ['spiffe://trustdomain/...', 'trustdomain', '/...'],
  // SPIFFE-ID §2.1: IPv4 dotted quads are not excluded, and are processed like any name
  ['spiffe://192.168.1.1/path', '192.168.1.1', '/path'],
  ['spiffe://10.0.0.1', '10.0.0.1', ''],
  // SPIFFE-ID §2.2 examples
  ['spiffe://staging.example.com/payments/mysql', 'staging.example.com', '/payments/mysql'],
  [
    'spiffe://k8s-west.example.com/ns/staging/sa/default',
    'k8s-west.example.com',
    '/ns/staging/sa/default',
  ],
  [
    'spiffe://example.com/9eebccd2-12bf-40a6-b262-65fe0487d453',
    'example.com',
    '/9eebccd2-12bf-40a6-b262-65fe0487d453',
  ],
  ['spiffe://trust_domain_name.example.com/x', 'trust_domain_name.example.com', '/x'],
];

/** Invalid SPIFFE IDs, with the rule each breaks (go-spiffe's error or the spec section). */
export const INVALID: readonly (readonly [id: string, rule: string])[] = [
  ['', 'cannot be empty'],
  ['s', 'scheme is missing or invalid'],
  ['spiffe:/', 'scheme is missing or invalid'],
  ['Spiffe://', 'scheme is missing or invalid'],
  ['SPIFFE://trustdomain', 'scheme is missing or invalid'],
  ['spiffe:/trustdomain/path', 'scheme is missing or invalid'],
  ['https://trustdomain/path', 'scheme is missing or invalid'],
  ['spiffe://', 'trust domain is missing'],
  ['spiffe:///', 'trust domain is missing'],
  ['spiffe:///path', 'trust domain is missing'],
  ['spiffe://trustdomain/', 'path cannot have a trailing slash'],
  ['spiffe://trustdomain/path/', 'path cannot have a trailing slash'],
  ['spiffe://trustdomain//', 'path cannot contain empty segments'],
  ['spiffe://trustdomain//path', 'path cannot contain empty segments'],
  ['spiffe://trustdomain/.', 'path cannot contain dot segments'],
  ['spiffe://trustdomain/./path', 'path cannot contain dot segments'],
  ['spiffe://trustdomain/path/./other', 'path cannot contain dot segments'],
  ['spiffe://trustdomain/path/..', 'path cannot contain dot segments'],
  ['spiffe://trustdomain/..', 'path cannot contain dot segments'],
  ['spiffe://trustdomain/../path', 'path cannot contain dot segments'],
  ['spiffe://trustdomain/path/../other', 'path cannot contain dot segments'],
  ['spiffe://%F0%9F%A4%AF/path', 'trust domain characters (percent-encoded unicode)'],
  ['spiffe://trustdomain/%F0%9F%A4%AF', 'path segment characters (percent-encoded unicode)'],
  ['spiffe://%62%61%64/path', 'trust domain characters (percent-encoded ascii)'],
  ['spiffe://trustdomain/%62%61%64', 'path segment characters (percent-encoded ascii)'],
  ['spiffe://trust$domain', 'trust domain characters'],
  ['spiffe://trustdomain/path$', 'path segment characters'],
  // SPIFFE-ID §2.1: lowercase host, no userinfo or port; IPv6 is excluded
  ['spiffe://TrustDomain/path', 'host MUST be lowercase'],
  ['spiffe://user@trustdomain/path', 'userinfo MUST be empty'],
  ['spiffe://trustdomain:8443/path', 'port MUST be empty'],
  ['spiffe://[::1]/path', 'IPv6 addresses are excluded'],
  // SPIFFE-ID §2: no query or fragment
  ['spiffe://trustdomain/path?x=1', 'MUST NOT include a query'],
  ['spiffe://trustdomain/path#frag', 'MUST NOT include a fragment'],
  ['spiffe://trustdomain?x=1', 'MUST NOT include a query'],
];
