/**
 * Workload Proof Tokens (draft-ietf-wimse-wpt): per-request proof of possession of the WIT's
 * `cnf` key, bound to the WIT (`wth`), the target (`aud`) and any other presented tokens.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { joseTyp, WPT_MEDIA_TYPE } from '../wire/media-types.js';
import { WimseError } from './errors.js';
import type { WptErrorCode } from './errors.js';
import { decodeCompact, isJwsAlg, signatureValid, signCompact, tokenHash } from './jws.js';
import type { JwsAlg, RawSigner } from './jws.js';
import type { ReplayCache } from './replay.js';
import type { VerifiedWit } from './wit.js';

/** JOSE `typ` of a WPT: `wpt+jwt`. */
export const WPT_TYP = joseTyp(WPT_MEDIA_TYPE);

/** Shortest `jti` accepted, in characters (16 random bytes in base64url are 22). */
export const MIN_JTI_CHARS = 16;

/** Options of {@link signWpt}. */
export interface SignWptOptions {
  /** The WIT (compact) this proof is for. */
  readonly wit: string;
  /** The workload key: a `KeyObject`, or a signer that keeps the key in native code. */
  readonly key: KeyObject | RawSigner;
  /** Must equal the WIT's `cnf.jwk.alg`. */
  readonly alg: JwsAlg;
  /** The target URI without query or fragment (or the deployment's alias for it). */
  readonly aud: string;
  readonly now: Date;
  /** Validity in seconds (default 60). */
  readonly lifetimeSeconds?: number;
  /** Token id; 128 random bits, base64url, when omitted. */
  readonly jti?: string;
  /** OAuth access token sent with the request: bound as `ath`. */
  readonly accessToken?: string;
  /** Transaction token sent with the request: bound as `tth`. */
  readonly txnToken?: string;
  /** Other token headers (lowercase name → value): bound in `oth`. */
  readonly otherTokens?: Readonly<Record<string, string>>;
}

/** Options of {@link verifyWpt}. */
export interface VerifyWptOptions {
  /** The verified WIT presented with the WPT. */
  readonly wit: VerifiedWit;
  /** This service's configured target URI(s); never derived from `Host` or forwarding headers. */
  readonly expectedAudience: string | readonly string[];
  readonly now: Date;
  /** Longest `exp` − now (and `exp` − `iat`) accepted, in seconds (default 300). */
  readonly maxLifetimeSeconds?: number;
  /** Allowed clock skew in seconds (default 0). */
  readonly clockToleranceSeconds?: number;
  readonly replayCache: ReplayCache;
  /** The access token presented with the request, if any (checked against `ath`). */
  readonly accessToken?: string;
  /** The `Txn-Token` presented with the request, if any (checked against `tth`). */
  readonly txnToken?: string;
  /** Other presented token headers (lowercase name → value), checked against `oth`. */
  readonly otherTokens?: Readonly<Record<string, string>>;
}

/** A verified WPT. */
export interface VerifiedWpt {
  readonly header: Record<string, unknown>;
  readonly claims: Record<string, unknown> & { aud: string | string[]; exp: number; jti: string };
}

function othOf(tokens: Readonly<Record<string, string>>): Record<string, string> {
  const oth: Record<string, string> = {};
  for (const [name, value] of Object.entries(tokens)) {
    if (name !== name.toLowerCase())
      throw new TypeError(`oth header name ${name} must be lowercase`);
    oth[name] = tokenHash(value.trim());
  }
  return oth;
}

/**
 * Signs a WPT: header `{ alg, typ: "wpt+jwt" }`, claims `aud`, `iat`, `exp`, `jti`, `wth`, and
 * `ath`/`tth`/`oth` for the tokens given.
 *
 * @throws TypeError or RangeError for bad options or a signer returning a wrong-size signature.
 *
 * @example
 * ```ts
 * const wpt = await signWpt({
 *   wit, alg: 'ES256', aud: 'https://payments.example.com/v1/charge', now: new Date(),
 *   key: { sign: (input) => nativeKeyStore.signP1363(handle, input) },
 * });
 * ```
 */
export async function signWpt(options: SignWptOptions): Promise<string> {
  const lifetime = options.lifetimeSeconds ?? 60;
  if (!Number.isInteger(lifetime) || lifetime <= 0) throw new RangeError('bad lifetimeSeconds');
  if (!isJwsAlg(options.alg)) throw new TypeError('alg must be ES256, ES384, ES512 or EdDSA');
  if (typeof options.aud !== 'string' || options.aud === '') throw new TypeError('aud is required');
  const iat = Math.floor(options.now.getTime() / 1000);
  if (!Number.isFinite(iat)) throw new TypeError('now must be a valid Date');
  const claims: Record<string, unknown> = {
    aud: options.aud,
    iat,
    exp: iat + lifetime,
    jti: options.jti ?? randomBytes(16).toString('base64url'),
    wth: tokenHash(options.wit),
  };
  if (options.accessToken !== undefined) claims.ath = tokenHash(options.accessToken);
  if (options.txnToken !== undefined) claims.tth = tokenHash(options.txnToken);
  if (options.otherTokens !== undefined) claims.oth = othOf(options.otherTokens);
  return signCompact({ typ: WPT_TYP }, claims, options.key, options.alg);
}

function fail(code: WptErrorCode, message: string): never {
  throw new WimseError(code, `WPT: ${message}`);
}

function audienceMatches(aud: unknown, expected: string | readonly string[]): boolean {
  const accepted = typeof expected === 'string' ? [expected] : expected;
  const presented = Array.isArray(aud) ? aud : [aud];
  return presented.some((a) => typeof a === 'string' && accepted.includes(a));
}

function checkTimes(claims: Record<string, unknown>, now: number, o: VerifyWptOptions): number {
  const tolerance = o.clockToleranceSeconds ?? 0;
  const max = o.maxLifetimeSeconds ?? 300;
  const { exp, iat } = claims;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) fail('ERR_WPT_INVALID', 'exp is required');
  if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat))) {
    fail('ERR_WPT_INVALID', 'iat is not a number');
  }
  if (now > exp + tolerance) fail('ERR_WPT_EXPIRED', 'expired');
  if (exp - now > max + tolerance) fail('ERR_WPT_EXPIRED', `lifetime over ${max} s`);
  if (typeof iat === 'number' && (iat > now + tolerance || exp - iat > max)) {
    fail('ERR_WPT_EXPIRED', 'issued in the future or lifetime too long');
  }
  return exp + tolerance;
}

function checkBound(
  claim: unknown,
  token: string | undefined,
  code: 'ERR_WPT_ATH' | 'ERR_WPT_TTH',
): void {
  if (token === undefined && claim === undefined) return;
  if (token === undefined) fail(code, 'binds a token the request does not carry');
  if (claim !== tokenHash(token)) fail(code, 'does not match the presented token');
}

function checkOth(oth: unknown, tokens: Readonly<Record<string, string>> = {}): void {
  if (oth === undefined && Object.keys(tokens).length === 0) return;
  if (oth === undefined || oth === null || typeof oth !== 'object' || Array.isArray(oth)) {
    fail('ERR_WPT_OTH', 'oth is missing or not an object');
  }
  const entries = oth as Record<string, unknown>;
  for (const name of Object.keys(entries)) {
    if (!Object.hasOwn(tokens, name)) fail('ERR_WPT_OTH', `unknown oth entry ${name}`);
  }
  for (const [name, value] of Object.entries(tokens)) {
    if (entries[name] !== tokenHash(value.trim()))
      fail('ERR_WPT_OTH', `oth ${name} does not match`);
  }
}

/**
 * Verifies a WPT in the order of the WIMSE checklist: one well-formed JWT, `typ` `wpt+jwt`,
 * `alg` equal to the WIT's `cnf.jwk.alg`, signature by the `cnf` key, `aud`, `exp` (and
 * lifetime), `wth`, `jti` replay, then `ath`, `tth` and `oth`.
 *
 * @throws WimseError with an `ERR_WPT_*` code naming the first failed check.
 *
 * @example
 * ```ts
 * await verifyWpt(wptHeader, {
 *   wit, expectedAudience: 'https://payments.example.com/v1/charge', now: new Date(), replayCache,
 * });
 * ```
 */
export async function verifyWpt(token: string, options: VerifyWptOptions): Promise<VerifiedWpt> {
  const now = Math.floor(options.now?.getTime() / 1000);
  if (!Number.isFinite(now)) throw new TypeError('verifyWpt needs options.now (a valid Date)');
  let decoded;
  try {
    decoded = decodeCompact(token);
  } catch (err) {
    fail('ERR_WPT_INVALID', (err as Error).message);
  }
  const { header, payload } = decoded;
  if (header.typ !== WPT_TYP) fail('ERR_WPT_INVALID', `typ must be ${WPT_TYP}`);
  const alg = options.wit.claims.cnf.jwk.alg;
  if (header.alg !== alg) fail('ERR_WPT_ALG_MISMATCH', `alg must be ${alg}`);
  if (!(await signatureValid(token, options.wit.cnfKey, alg))) {
    fail('ERR_WPT_SIGNATURE', 'not signed by the WIT cnf key');
  }
  if (!audienceMatches(payload.aud, options.expectedAudience)) {
    fail('ERR_WPT_AUDIENCE', 'aud is not this service');
  }
  const keepUntil = checkTimes(payload, now, options);
  if (payload.wth !== tokenHash(options.wit.token)) fail('ERR_WPT_WTH', 'wth is not of this WIT');
  const { jti } = payload;
  if (typeof jti !== 'string' || jti.length < MIN_JTI_CHARS || jti.length > 256) {
    fail('ERR_WPT_INVALID', 'jti is missing or too short');
  }
  if (!(await options.replayCache.checkAndStore(jti, keepUntil, now))) {
    fail('ERR_WPT_REPLAY', 'jti was already used');
  }
  checkBound(payload.ath, options.accessToken, 'ERR_WPT_ATH');
  checkBound(payload.tth, options.txnToken, 'ERR_WPT_TTH');
  checkOth(payload.oth, options.otherTokens);
  return { header, claims: payload as VerifiedWpt['claims'] };
}
