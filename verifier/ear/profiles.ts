/**
 * The EAR profiles twi can emit and read: the IETF draft's (the default) and the one
 * veraison/ear and Trustee validate. Names, URIs, media types, and the choice a caller makes
 * by name, URI or `Accept` media type.
 *
 * @module
 */
import { EAR_PROFILE, EAT_JWT_MEDIA_TYPE } from '../../wire/media-types.js';

/**
 * An EAR profile by name: `draft` (draft-ietf-rats-ear-04, `ear_*` claim names) or `veraison`
 * (`tag:github.com,2023:veraison/ear`, `ear.*` claim names, as github.com/veraison/ear
 * validates them).
 */
export type EarProfile = 'draft' | 'veraison';

/** The profile names, default first. */
export const EAR_PROFILE_NAMES: readonly EarProfile[] = ['draft', 'veraison'];

/** The profile twi emits unless told otherwise. */
export const DEFAULT_EAR_PROFILE: EarProfile = 'draft';

/** `eat_profile` of the veraison/ear profile (veraison/ear `EatProfile`). */
export const VERAISON_EAR_PROFILE = 'tag:github.com,2023:veraison/ear';

/** Trustee's alias of {@link VERAISON_EAR_PROFILE}, which veraison/ear accepts as the same profile. */
export const TRUSTEE_EAR_PROFILE = 'tag:github.com,2024:confidential-containers/Trustee';

/** `eat_profile` of draft-ietf-rats-ear-03: read (same claim names), never emitted. */
export const DRAFT_03_EAR_PROFILE = 'tag:ietf.org,2026:rats/ear#03';

/** The `eat_profile` twi writes for each profile. */
export const EAR_PROFILE_URIS: Readonly<Record<EarProfile, string>> = {
  draft: EAR_PROFILE,
  veraison: VERAISON_EAR_PROFILE,
};

const URI_TO_PROFILE: ReadonlyMap<string, EarProfile> = new Map([
  [EAR_PROFILE, 'draft'],
  [DRAFT_03_EAR_PROFILE, 'draft'],
  [VERAISON_EAR_PROFILE, 'veraison'],
  [TRUSTEE_EAR_PROFILE, 'veraison'],
]);

/**
 * The profile an `eat_profile` value belongs to, or `undefined` for one twi does not read.
 *
 * @example
 * ```ts
 * earProfileOfUri('tag:github.com,2023:veraison/ear'); // 'veraison'
 * ```
 */
export function earProfileOfUri(uri: unknown): EarProfile | undefined {
  return typeof uri === 'string' ? URI_TO_PROFILE.get(uri) : undefined;
}

/**
 * The profile a caller names: a profile name (`draft`, `veraison`) or an `eat_profile` URI
 * twi reads; `undefined` for anything else.
 */
export function parseEarProfile(value: unknown): EarProfile | undefined {
  if (typeof value !== 'string') return undefined;
  if ((EAR_PROFILE_NAMES as readonly string[]).includes(value)) return value as EarProfile;
  return earProfileOfUri(value);
}

/** Media type of a signed EAR of `profile`: `application/eat+jwt; eat_profile="…"` (RFC 9782). */
export function earMediaType(profile: EarProfile): string {
  return `${EAT_JWT_MEDIA_TYPE}; eat_profile="${EAR_PROFILE_URIS[profile]}"`;
}

/** `text` split at each `sep` outside a quoted string (RFC 9110 §5.6.4). */
function splitOutsideQuotes(text: string, sep: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '\\' && i + 1 < text.length) {
      current += c + text[++i]!;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === sep && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  return [...parts, current];
}

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"')
    ? v.slice(1, -1).replace(/\\(.)/g, '$1')
    : v;
}

/** The `eat_profile` parameter of one media range, unquoted, if it has one. */
function eatProfileParameter(range: string): string | undefined {
  const [type, ...params] = splitOutsideQuotes(range, ';');
  if (type?.trim().toLowerCase() !== EAT_JWT_MEDIA_TYPE) return undefined;
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq < 0 || p.slice(0, eq).trim().toLowerCase() !== 'eat_profile') continue;
    return unquote(p.slice(eq + 1).trim());
  }
  return undefined;
}

/**
 * What an `Accept` header asks of the EAR: the `eat_profile` of its first
 * `application/eat+jwt` range that has one (as written, possibly unknown), or `undefined`
 * when no range names a profile. Profile URIs hold commas, so they are quoted.
 *
 * @example
 * ```ts
 * acceptedEatProfile('application/eat+jwt; eat_profile="tag:github.com,2023:veraison/ear"');
 * // 'tag:github.com,2023:veraison/ear'
 * ```
 */
export function acceptedEatProfile(accept: string | undefined): string | undefined {
  if (accept === undefined) return undefined;
  for (const range of splitOutsideQuotes(accept, ',')) {
    const profile = eatProfileParameter(range);
    if (profile !== undefined) return profile;
  }
  return undefined;
}

/**
 * The profile named by `value` (a profile name, or the `eat_profile` URI twi writes for it),
 * for options such as `twi serve --ear-profile`.
 *
 * @throws TypeError for anything else, naming `what`.
 */
export function earProfileOption(value: unknown, what = 'EAR profile'): EarProfile {
  const profile = parseEarProfile(value);
  if (profile && (value === profile || value === EAR_PROFILE_URIS[profile])) return profile;
  throw new TypeError(
    `${what}: unknown EAR profile ${JSON.stringify(value)} (${EAR_PROFILE_NAMES.join(' or ')})`,
  );
}
