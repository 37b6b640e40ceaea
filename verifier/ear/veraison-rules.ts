/**
 * The validation rules of the veraison/ear profile, as github.com/veraison/ear applies them
 * when it decodes a result (`UnmarshalJSON`: `populateFromMap` then `validate`; read at commit
 * 961756e, 2025-11-25): `ear.go` (profile, `iat`, verifier id, nonce, submods, raw evidence,
 * tee-info), `ear_appraisal.go` (`ear.status`, vector, policy id, `ear.veraison.*` maps),
 * `verifier.go` (exactly `build` and `developer`), `trusttier.go` (status values),
 * `trustclaim.go` / `trustvector.go` (claim names, -128..127), `util.go` (mandatory fields,
 * unexpected keys). Where veraison/ear is lenient twi is stricter, and says so below.
 *
 * @module
 */
import { VECTOR_KEYS } from '../policy/ar4si.js';
import { TRUSTEE_EAR_PROFILE, VERAISON_EAR_PROFILE } from './profiles.js';
import { veraisonTier } from './veraison.js';

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Base64url without padding, as Go's `base64.RawURLEncoding` decodes it. */
function isRawB64u(v: unknown): boolean {
  return typeof v === 'string' && /^[A-Za-z0-9_-]*$/.test(v) && v.length % 4 !== 1;
}

/** Standard base64 with padding (`base64.StdEncoding`), for tee-info `evidence`. */
function isStdB64(v: unknown): boolean {
  return typeof v === 'string' && v.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(v);
}

/**
 * A trust claim: an integer in -128..127, or its decimal text. veraison/ear also takes its
 * named tags (e.g. `approved_fs`) and silently reads other JSON types as 0; twi refuses both.
 */
function isTrustClaim(v: unknown): boolean {
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= -128 && n <= 127;
}

function verifierIdProblems(vid: unknown): string[] {
  if (vid === undefined) return ["missing mandatory 'ear.verifier-id'"];
  if (!isMap(vid)) return ['ear.verifier-id must be a JSON object'];
  const out: string[] = [];
  for (const k of ['build', 'developer']) {
    if (vid[k] === undefined) out.push(`ear.verifier-id: missing mandatory '${k}'`);
    else if (typeof vid[k] !== 'string') out.push(`ear.verifier-id: ${k} must be a string`);
  }
  const extra = Object.keys(vid).filter((k) => k !== 'build' && k !== 'developer');
  if (extra.length > 0) out.push(`ear.verifier-id: unexpected ${extra.join(', ')}`);
  return out;
}

function vectorProblems(v: unknown, where: string): string[] {
  if (v === undefined) return [];
  if (!isMap(v)) return [`${where}ear.trustworthiness-vector must be a JSON object`];
  return Object.entries(v).flatMap(([k, c]) => {
    if (!(VECTOR_KEYS as readonly string[]).includes(k)) {
      return [`${where}ear.trustworthiness-vector: unexpected ${k}`];
    }
    return isTrustClaim(c) ? [] : [`${where}ear.trustworthiness-vector: ${k} out of range`];
  });
}

const APPRAISAL_MAPS = [
  'ear.veraison.annotated-evidence',
  'ear.veraison.policy-claims',
  'ear.veraison.key-attestation',
];

function appraisalProblems(label: string, a: unknown): string[] {
  const where = `submods[${label}]: `;
  if (!isMap(a)) return [`${where}not a JSON object`];
  const out: string[] = [];
  if (a['ear.status'] === undefined) out.push(`${where}missing mandatory 'ear.status'`);
  else if (veraisonTier(a['ear.status']) === undefined) {
    out.push(`${where}ear.status is not a trust tier`);
  }
  out.push(...vectorProblems(a['ear.trustworthiness-vector'], where));
  const policy = a['ear.appraisal-policy-id'];
  if (policy !== undefined && typeof policy !== 'string') {
    out.push(`${where}ear.appraisal-policy-id must be a string`);
  }
  for (const k of APPRAISAL_MAPS) {
    if (a[k] !== undefined && !isMap(a[k])) out.push(`${where}${k} must be a JSON object`);
  }
  return out;
}

function teeInfoProblems(t: unknown): string[] {
  if (t === undefined) return [];
  if (!isMap(t)) return ['ear.veraison.tee-info must be a JSON object'];
  const out = Object.keys(t)
    .filter((k) => !['tee-name', 'evidence-id', 'evidence'].includes(k))
    .map((k) => `ear.veraison.tee-info: unknown key ${k}`);
  for (const k of ['tee-name', 'evidence-id']) {
    if (typeof t[k] !== 'string' || t[k] === '') out.push(`ear.veraison.tee-info: empty ${k}`);
  }
  if (t.evidence !== undefined && !isStdB64(t.evidence)) {
    out.push('ear.veraison.tee-info: evidence must be base64');
  }
  return out;
}

function topProblems(c: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (c.eat_profile === undefined) out.push("missing mandatory 'eat_profile'");
  else if (c.eat_profile !== VERAISON_EAR_PROFILE && c.eat_profile !== TRUSTEE_EAR_PROFILE) {
    out.push(`eat_profile must be ${VERAISON_EAR_PROFILE}`);
  }
  // veraison/ear truncates a fractional iat; twi wants the integer JWT NumericDate it writes.
  if (c.iat === undefined) out.push("missing mandatory 'iat'");
  else if (!Number.isSafeInteger(c.iat)) out.push('iat must be an integer');
  out.push(...verifierIdProblems(c['ear.verifier-id']));
  const nonce = c.eat_nonce;
  if (nonce !== undefined && (typeof nonce !== 'string' || nonce.length < 8 || nonce.length > 88)) {
    out.push('eat_nonce must be a string of 8 to 88 characters');
  }
  if (c['ear.raw-evidence'] !== undefined && !isRawB64u(c['ear.raw-evidence'])) {
    out.push('ear.raw-evidence must be unpadded base64url');
  }
  return [...out, ...teeInfoProblems(c['ear.veraison.tee-info'])];
}

/**
 * Every way `claims` departs from the veraison/ear profile's rules; empty when veraison/ear
 * would accept it. Claims it does not know are ignored, as veraison/ear ignores them.
 */
export function veraisonEarProblems(claims: unknown): string[] {
  if (!isMap(claims)) return ['the EAR claims-set must be a JSON object'];
  const out = topProblems(claims);
  const submods = claims.submods;
  if (!isMap(submods) || Object.keys(submods).length === 0) {
    return [...out, "missing mandatory 'submods' (at least one appraisal must be present)"];
  }
  for (const [label, a] of Object.entries(submods)) out.push(...appraisalProblems(label, a));
  return out;
}
