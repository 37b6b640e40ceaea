/**
 * veraison/ear's validation rules re-stated as facts (github.com/veraison/ear 961756e:
 * `ear.go` validate/populateFromMap, `ear_appraisal.go`, `verifier.go`, `trusttier.go`,
 * `trustclaim.go`, `util.go`), with a checker independent of twi's validator, for the EAR
 * tests and the service tests.
 */

/** veraison/ear's rules as facts, independent of twi's validator. */
export const VERAISON = {
  profiles: [
    'tag:github.com,2023:veraison/ear',
    'tag:github.com,2024:confidential-containers/Trustee',
  ],
  required: ['eat_profile', 'iat', 'ear.verifier-id', 'submods'],
  verifierIdKeys: ['build', 'developer'],
  statuses: ['none', 'affirming', 'warning', 'contraindicated'],
  vectorKeys: [
    'instance-identity',
    'configuration',
    'executables',
    'file-system',
    'hardware',
    'runtime-opaque',
    'storage-opaque',
    'sourced-data',
  ],
  claimRange: [-128, 127],
  nonceChars: [8, 88],
} as const;

export type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function veraisonFacts(c: Json): string[] {
  const out: string[] = [];
  for (const k of VERAISON.required) if (c[k] === undefined) out.push(`missing ${k}`);
  if (!(VERAISON.profiles as readonly unknown[]).includes(c.eat_profile)) out.push('eat_profile');
  if (!Number.isInteger(c.iat)) out.push('iat');
  const vid = c['ear.verifier-id'];
  if (
    !isMap(vid) ||
    Object.keys(vid).sort().join() !== VERAISON.verifierIdKeys.join() ||
    !Object.values(vid).every((v) => typeof v === 'string')
  ) {
    out.push('ear.verifier-id');
  }
  const nonce = c.eat_nonce;
  if (
    nonce !== undefined &&
    (typeof nonce !== 'string' ||
      nonce.length < VERAISON.nonceChars[0] ||
      nonce.length > VERAISON.nonceChars[1])
  ) {
    out.push('eat_nonce');
  }
  const raw = c['ear.raw-evidence'];
  if (raw !== undefined && !(typeof raw === 'string' && /^[A-Za-z0-9_-]*$/.test(raw))) {
    out.push('ear.raw-evidence');
  }
  const submods = c.submods;
  if (!isMap(submods) || Object.keys(submods).length === 0) return [...out, 'submods'];
  for (const [label, a] of Object.entries(submods)) {
    if (!isMap(a)) {
      out.push(`${label}: not a map`);
      continue;
    }
    if (!(VERAISON.statuses as readonly unknown[]).includes(a['ear.status'])) {
      out.push(`${label}: ear.status`);
    }
    const tv = a['ear.trustworthiness-vector'];
    if (tv !== undefined) {
      for (const [k, v] of Object.entries(tv as Json)) {
        if (!(VERAISON.vectorKeys as readonly string[]).includes(k)) out.push(`${label}: ${k}`);
        const [lo, hi] = VERAISON.claimRange;
        if (!Number.isInteger(v) || (v as number) < lo || (v as number) > hi) {
          out.push(`${label}: ${k} range`);
        }
      }
    }
    const policy = a['ear.appraisal-policy-id'];
    if (policy !== undefined && typeof policy !== 'string') out.push(`${label}: policy id`);
  }
  return out;
}
