/**
 * The metadata validation rules of authlib (a widely used Python OAuth/OIDC library), restated
 * as facts to check a discovery document against: `AuthorizationServerMetadata.validate()`
 * (RFC 8414, authlib/oauth2/rfc8414/models.py) and `OpenIDProviderMetadata.validate()`
 * (OpenID Connect Discovery 1.0, authlib/oidc/discovery/models.py), which adds to the former.
 * Each rule answers the problem it finds, or `undefined`. Written from the rules, not copied.
 */

type Doc = Readonly<Record<string, unknown>>;
type Rule = (d: Doc) => string | undefined;

/** authlib's `is_secure_transport`, without its insecure-transport switch. */
const secure = (url: string): boolean =>
  /^https:\/\//i.test(url) || /^http:\/\/localhost:/i.test(url);

const optionalArray =
  (key: string): Rule =>
  (d) =>
    d[key] !== undefined && !Array.isArray(d[key]) ? `${key} must be a JSON array` : undefined;

const optionalSecureUrl =
  (key: string): Rule =>
  (d) => {
    const v = d[key];
    return typeof v === 'string' && v !== '' && !secure(v) ? `${key} must be https` : undefined;
  };

/** `grant_types_supported`, defaulting to authorization_code and implicit (RFC 8414 §2). */
const grantTypes = (d: Doc): unknown[] =>
  Array.isArray(d.grant_types_supported)
    ? d.grant_types_supported
    : ['authorization_code', 'implicit'];

/** The RFC 8414 rules, by member. */
export const RFC8414_RULES: Readonly<Record<string, Rule>> = {
  issuer: (d) => {
    const v = d.issuer;
    if (typeof v !== 'string' || v === '') return 'issuer is required';
    if (!secure(v)) return 'issuer must use https';
    const u = new URL(v);
    return u.search || u.hash ? 'issuer has no query or fragment' : undefined;
  },
  authorization_endpoint: (d) => {
    const v = d.authorization_endpoint;
    if (typeof v === 'string' && v !== '') {
      return secure(v) ? undefined : 'authorization_endpoint must be https';
    }
    return grantTypes(d).some((g) => g === 'authorization_code' || g === 'implicit')
      ? 'authorization_endpoint is required'
      : undefined;
  },
  token_endpoint: (d) => {
    const g = d.grant_types_supported;
    if (Array.isArray(g) && g.length === 1 && g[0] === 'implicit') return undefined;
    const v = d.token_endpoint;
    if (typeof v !== 'string' || v === '') return 'token_endpoint is required';
    return secure(v) ? undefined : 'token_endpoint must be https';
  },
  jwks_uri: optionalSecureUrl('jwks_uri'),
  registration_endpoint: optionalSecureUrl('registration_endpoint'),
  scopes_supported: optionalArray('scopes_supported'),
  response_types_supported: (d) => {
    const v = d.response_types_supported;
    if (v === undefined || v === null || (Array.isArray(v) && v.length === 0) || v === '') {
      return 'response_types_supported is required';
    }
    return Array.isArray(v) ? undefined : 'response_types_supported must be a JSON array';
  },
  response_modes_supported: optionalArray('response_modes_supported'),
  grant_types_supported: optionalArray('grant_types_supported'),
  token_endpoint_auth_methods_supported: optionalArray('token_endpoint_auth_methods_supported'),
  revocation_endpoint: optionalSecureUrl('revocation_endpoint'),
  introspection_endpoint: optionalSecureUrl('introspection_endpoint'),
  code_challenge_methods_supported: optionalArray('code_challenge_methods_supported'),
};

/** The OpenID Connect Discovery rules, which replace or add to the RFC 8414 ones. */
export const OIDC_RULES: Readonly<Record<string, Rule>> = {
  ...RFC8414_RULES,
  jwks_uri: (d) => (d.jwks_uri === undefined ? 'jwks_uri is required' : RFC8414_RULES.jwks_uri!(d)),
  subject_types_supported: (d) => {
    const v = d.subject_types_supported;
    if (v === undefined) return 'subject_types_supported is required';
    if (!Array.isArray(v)) return 'subject_types_supported must be a JSON array';
    return v.every((t) => t === 'public' || t === 'pairwise')
      ? undefined
      : 'subject_types_supported contains invalid values';
  },
  id_token_signing_alg_values_supported: (d) => {
    const v = d.id_token_signing_alg_values_supported;
    if (v === undefined) return 'id_token_signing_alg_values_supported is required';
    if (!Array.isArray(v)) return 'id_token_signing_alg_values_supported must be a JSON array';
    return v.includes('RS256')
      ? undefined
      : 'RS256 must be included in id_token_signing_alg_values_supported';
  },
  acr_values_supported: optionalArray('acr_values_supported'),
  claims_supported: optionalArray('claims_supported'),
  display_values_supported: (d) => {
    const v = d.display_values_supported;
    if (!v) return undefined;
    if (!Array.isArray(v)) return 'display_values_supported must be a JSON array';
    return v.every((x) => ['page', 'popup', 'touch', 'wap'].includes(x as string))
      ? undefined
      : 'display_values_supported contains invalid values';
  },
  claim_types_supported: (d) => {
    const v = d.claim_types_supported;
    if (!v) return undefined;
    if (!Array.isArray(v)) return 'claim_types_supported must be a JSON array';
    return v.every((x) => ['normal', 'aggregated', 'distributed'].includes(x as string))
      ? undefined
      : 'claim_types_supported contains invalid values';
  },
};

/** Every problem `rules` find in `doc`, by member. */
export function validateMetadata(
  doc: Doc,
  rules: Readonly<Record<string, Rule>>,
): Record<string, string> {
  const problems: Record<string, string> = {};
  for (const [member, rule] of Object.entries(rules)) {
    const p = rule(doc);
    if (p !== undefined) problems[member] = p;
  }
  return problems;
}

/** The one deviation from the OIDC rules docs/service.md "Discovery" documents. */
export const DOCUMENTED_OIDC_DEVIATION = {
  id_token_signing_alg_values_supported:
    'RS256 must be included in id_token_signing_alg_values_supported',
};
