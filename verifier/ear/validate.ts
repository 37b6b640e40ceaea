/**
 * Structural rules of an EAR claims-set, per profile: draft-ietf-rats-ear-04 §3, §3.1 (also
 * reading -03, whose claim names are the same) and the veraison/ear profile
 * (`veraison-rules.ts`). What `signEar` refuses to sign and `verifyEar` refuses to accept.
 *
 * @module
 */
import { TIER_CBOR, VECTOR_KEYS, vectorStatus } from '../policy/ar4si.js';
import type { Tier, TrustVector } from '../policy/ar4si.js';
import { EAR_PROFILE } from '../../wire/media-types.js';
import { DRAFT_03_EAR_PROFILE, earProfileOfUri } from './profiles.js';
import { fromVeraisonEar, type VeraisonEarClaims } from './veraison.js';
import { veraisonEarProblems } from './veraison-rules.js';

const TIERS = Object.keys(TIER_CBOR) as Tier[];

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isTier = (v: unknown): v is Tier => typeof v === 'string' && TIERS.includes(v as Tier);

function nonceProblems(v: unknown, where: string): string[] {
  if (v === undefined) return [];
  const ok =
    typeof v === 'string' &&
    /^[A-Za-z0-9_-]+$/.test(v) &&
    Buffer.from(v, 'base64url').length >= 8 &&
    Buffer.from(v, 'base64url').length <= 64;
  return ok ? [] : [`${where}eat_nonce must be base64url of 8 to 64 bytes`];
}

function vectorProblems(v: unknown, where: string): string[] {
  if (v === undefined) return [];
  if (!isMap(v) || Object.keys(v).length === 0) {
    return [`${where}ear_trustworthiness_vector must be a non-empty map`];
  }
  return Object.entries(v).flatMap(([k, n]) => {
    if (!(VECTOR_KEYS as readonly string[]).includes(k)) return [`${where}unknown claim ${k}`];
    const ok = Number.isInteger(n) && (n as number) >= -128 && (n as number) <= 127;
    return ok ? [] : [`${where}${k} must be an integer in -128..127`];
  });
}

function appraisalProblems(label: string, a: unknown): string[] {
  const where = `submods.${label}: `;
  if (!isMap(a)) return [`${where}must be a map`];
  const out: string[] = [];
  if (!isTier(a.ear_status)) out.push(`${where}ear_status must be a trustworthiness tier`);
  out.push(...vectorProblems(a.ear_trustworthiness_vector, where));
  if (out.length === 0 && a.ear_trustworthiness_vector !== undefined) {
    const worst = vectorStatus(a.ear_trustworthiness_vector as TrustVector);
    if (TIER_CBOR[a.ear_status as Tier] < TIER_CBOR[worst]) {
      out.push(
        `${where}ear_status ${String(a.ear_status)} claims more trust than its vector (${worst})`,
      );
    }
  }
  const ids = a.ear_appraisal_policy_ids;
  if (
    ids !== undefined &&
    (!Array.isArray(ids) || ids.length === 0 || !ids.every((i) => typeof i === 'string'))
  ) {
    out.push(`${where}ear_appraisal_policy_ids must be a non-empty list of strings`);
  }
  return [...out, ...nonceProblems(a.eat_nonce, where)];
}

/** -04: a CMW record `[type, base64url value]` (optionally with an indicator); -03: base64url. */
function rawEvidenceProblems(c: Record<string, unknown>): string[] {
  const raw = c.ear_raw_evidence;
  if (raw === undefined) return [];
  const b64u = (v: unknown): boolean => typeof v === 'string' && /^[A-Za-z0-9_-]*$/.test(v);
  if (c.eat_profile === DRAFT_03_EAR_PROFILE) {
    return b64u(raw) ? [] : ['ear_raw_evidence must be base64url text'];
  }
  const record =
    Array.isArray(raw) &&
    (raw.length === 2 || (raw.length === 3 && Number.isInteger(raw[2]))) &&
    typeof raw[0] === 'string' &&
    raw[0].length > 0 &&
    b64u(raw[1]);
  return record ? [] : ['ear_raw_evidence must be a CMW record [media type, base64url value]'];
}

function topProblems(c: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (c.eat_profile !== EAR_PROFILE && c.eat_profile !== DRAFT_03_EAR_PROFILE) {
    out.push(`eat_profile must be ${EAR_PROFILE}`);
  }
  if (!Number.isSafeInteger(c.iat)) out.push('iat must be an integer');
  if (c.exp !== undefined && !Number.isSafeInteger(c.exp)) out.push('exp must be an integer');
  const vid = c.ear_verifier_id;
  if (!isMap(vid) || typeof vid.developer !== 'string' || typeof vid.build !== 'string') {
    out.push('ear_verifier_id needs developer and build strings');
  }
  return [...out, ...rawEvidenceProblems(c), ...nonceProblems(c.eat_nonce, '')];
}

/** Each submodule status no more trusting than its vector (AR4SI tiers; EAR §3.1). */
function consistencyProblems(claims: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [label, a] of Object.entries(claims.submods as Record<string, unknown>)) {
    const where = `submods.${label}: `;
    if (!isMap(a) || !isTier(a.ear_status) || a.ear_trustworthiness_vector === undefined) continue;
    if (vectorProblems(a.ear_trustworthiness_vector, where).length > 0) continue;
    const worst = vectorStatus(a.ear_trustworthiness_vector as TrustVector);
    if (TIER_CBOR[a.ear_status] < TIER_CBOR[worst]) {
      out.push(`${where}status ${a.ear_status} claims more trust than its vector (${worst})`);
    }
  }
  return out;
}

/**
 * Every way `claims` departs from the EAR claims-set rules of its profile (chosen by its
 * `eat_profile`: the draft's, or veraison/ear's for `tag:github.com,2023:veraison/ear` and
 * Trustee's alias); empty when it conforms. Unknown claims are allowed (EAR §4: receivers
 * ignore them). A veraison-profile claims-set must also keep each status no more trusting
 * than its vector, a rule twi applies as a relying party though veraison/ear does not.
 */
export function earProblems(claims: unknown): string[] {
  if (isMap(claims) && earProfileOfUri(claims.eat_profile) === 'veraison') {
    const problems = veraisonEarProblems(claims);
    if (problems.length > 0) return problems;
    return consistencyProblems(fromVeraisonEar(claims as VeraisonEarClaims));
  }
  return draftEarProblems(claims);
}

/** Every way `claims` departs from the draft-ietf-rats-ear-04 (or -03) rules. */
export function draftEarProblems(claims: unknown): string[] {
  if (!isMap(claims)) return ['the EAR claims-set must be a map'];
  const out = topProblems(claims);
  const submods = claims.submods;
  if (!isMap(submods) || Object.keys(submods).length === 0) {
    return [...out, 'submods must be a non-empty map'];
  }
  for (const [label, a] of Object.entries(submods)) out.push(...appraisalProblems(label, a));
  if (claims.ear_status !== undefined) {
    const statuses = Object.values(submods).map((a) => (isMap(a) ? a.ear_status : undefined));
    const worst = Math.max(...statuses.map((s) => (isTier(s) ? TIER_CBOR[s] : 0)));
    if (!isTier(claims.ear_status)) out.push('ear_status must be a trustworthiness tier');
    else if (TIER_CBOR[claims.ear_status] < worst) {
      out.push(`ear_status ${claims.ear_status} claims more trust than a submodule`);
    }
  }
  return out;
}
