/**
 * WPT signing for the local API: the workload names the audience and hands over hashes of the
 * tokens it sends with the request (`ath`, `tth`, `oth`), never the tokens themselves, and the
 * shim signs inside the TEE (draft-ietf-wimse-workload-creds, WPT claims).
 *
 * @internal
 * @module
 */
import { randomBytes } from 'node:crypto';
import { signCompact, tokenHash } from '../wimse/jws.js';
import { WPT_TYP } from '../wimse/wpt.js';
import type { WorkloadKey } from './attester.js';
import { ShimError } from './errors.js';

/** A WPT request to the local API (`POST /v1/wpt`). */
export interface WptRequest {
  /** The target URI (no query or fragment). */
  readonly aud: string;
  /** base64url(SHA-256(access token)). */
  readonly ath?: string;
  /** base64url(SHA-256(Txn-Token)). */
  readonly tth?: string;
  /** Lowercase header name → base64url(SHA-256(value)). */
  readonly oth?: Readonly<Record<string, string>>;
  /** Lifetime in seconds (default and maximum {@link MAX_WPT_LIFETIME}). */
  readonly lifetime?: number;
}

/** Longest WPT lifetime the shim signs (the relying-party default accepts up to 300 s). */
export const MAX_WPT_LIFETIME = 60;

const HASH = /^[A-Za-z0-9_-]{43}$/;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
const MAX_AUD_CHARS = 2048;
const MAX_OTH = 16;

function bad(detail: string): ShimError {
  return new ShimError('ERR_SHIM_BAD_REQUEST', detail);
}

/**
 * Checks a WPT request body.
 *
 * @throws {ShimError} `ERR_SHIM_BAD_REQUEST` naming the bad member.
 */
export function parseWptRequest(body: unknown): WptRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('body must be an object');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (!['aud', 'ath', 'tth', 'oth', 'lifetime'].includes(k)) throw bad(`unknown member ${k}`);
  }
  if (typeof b.aud !== 'string' || b.aud === '' || b.aud.length > MAX_AUD_CHARS) {
    throw bad('aud must be a non-empty string of at most 2048 characters');
  }
  let url: URL;
  try {
    url = new URL(b.aud);
  } catch {
    throw bad('aud must be an absolute URI');
  }
  if (url.search !== '' || url.hash !== '') throw bad('aud must have no query or fragment');
  for (const k of ['ath', 'tth'] as const) {
    if (b[k] !== undefined && (typeof b[k] !== 'string' || !HASH.test(b[k]))) {
      throw bad(`${k} must be base64url(SHA-256(token)), 43 characters`);
    }
  }
  if (b.oth !== undefined) {
    if (!b.oth || typeof b.oth !== 'object' || Array.isArray(b.oth))
      throw bad('oth must be an object');
    const entries = Object.entries(b.oth as Record<string, unknown>);
    if (entries.length > MAX_OTH) throw bad(`oth has more than ${MAX_OTH} entries`);
    for (const [name, v] of entries) {
      if (!HEADER_NAME.test(name))
        throw bad(`oth name ${name.slice(0, 64)} is not a lowercase header name`);
      if (typeof v !== 'string' || !HASH.test(v)) throw bad(`oth ${name} must be a token hash`);
    }
  }
  if (
    b.lifetime !== undefined &&
    (typeof b.lifetime !== 'number' ||
      !Number.isInteger(b.lifetime) ||
      b.lifetime < 1 ||
      b.lifetime > MAX_WPT_LIFETIME)
  ) {
    throw bad(`lifetime must be an integer from 1 to ${MAX_WPT_LIFETIME}`);
  }
  return b as unknown as WptRequest;
}

/** A signed WPT and its expiry. */
export interface SignedWpt {
  readonly wpt: string;
  readonly expiresAt: Date;
}

/** Signs a WPT for `wit` with the TEE-held key (never past the WIT's own expiry). */
export async function signShimWpt(
  key: WorkloadKey,
  wit: string,
  witExpiresAt: Date,
  r: WptRequest,
  now: Date,
): Promise<SignedWpt> {
  const iat = Math.floor(now.getTime() / 1000);
  const exp = Math.min(
    iat + (r.lifetime ?? MAX_WPT_LIFETIME),
    Math.floor(witExpiresAt.getTime() / 1000),
  );
  const claims: Record<string, unknown> = {
    aud: r.aud,
    iat,
    exp,
    jti: randomBytes(16).toString('base64url'),
    wth: tokenHash(wit),
    ...(r.ath !== undefined && { ath: r.ath }),
    ...(r.tth !== undefined && { tth: r.tth }),
    ...(r.oth !== undefined && { oth: { ...r.oth } }),
  };
  const wpt = await signCompact({ typ: WPT_TYP }, claims, key, key.alg);
  return { wpt, expiresAt: new Date(exp * 1000) };
}
