/**
 * Workload Identity Tokens (draft-ietf-wimse-workload-creds, SPIFFE WIT-SVID): issued by the
 * verifier once an attestation is appraised, with the attested key in `cnf.jwk`; verified by
 * relying parties against the issuer's JWKS.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { joseTyp, WIT_MEDIA_TYPE } from '../wire/media-types.js';
import { WimseError } from './errors.js';
import { decodeCompact, importPublicJwk, isJwsAlg, signatureValid, signCompact } from './jws.js';
import type { JwsAlg } from './jws.js';
import type { JwksResolver } from './jwks.js';
import { parseWorkloadId, workloadIdProblem } from './identifier.js';

/** JOSE `typ` of a WIT: `wit+jwt`. */
export const WIT_TYP = joseTyp(WIT_MEDIA_TYPE);

/**
 * twi's private claim carrying base64url(SHA-256(ASCII(EAR JWT))): the appraisal the WIT was
 * issued on. Collision-resistant (RFC 4151 tag URI) as WIMSE asks of unregistered claims.
 */
export const WIT_EAR_DIGEST_CLAIM = 'tag:twi.dev,2026:wit#ear';

/**
 * The algorithms the SPIFFE WIT-SVID profile allows for the header `alg` (§2.3) and for
 * `cnf.jwk.alg` (§3.2): RSA PKCS#1 v1.5, ECDSA and RSA-PSS; not EdDSA. A WIT whose `sub` is a
 * `spiffe://` ID is a WIT-SVID and is held to them.
 */
export const WIT_SVID_ALGS: readonly string[] = [
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
];

/** True when a WIT for `sub` may carry a `cnf.jwk` with `alg` (WIT-SVID §3.2 for `spiffe://`). */
export function cnfAlgAllowedFor(sub: string, alg: string): boolean {
  return !sub.startsWith('spiffe:') || WIT_SVID_ALGS.includes(alg);
}

/** The issuer's signing key. */
export interface WitIssuerKey {
  readonly privateKey: KeyObject;
  readonly alg: 'ES256' | 'ES384';
  /** Key id, required (WIT-SVID): relying parties select the JWKS key by it. */
  readonly kid: string;
}

/** Options of {@link issueWit}. */
export interface IssueWitOptions {
  /** The workload identifier (`wimse://…` or `spiffe://…`). */
  readonly sub: string;
  /** Public JWK of the attested workload key, with its `alg` (e.g. ES256); EC or OKP. */
  readonly cnfJwk: Record<string, unknown>;
  /**
   * `cnfJwk` already imported (by a caller that checked it), so it is not imported again; it
   * must be the same key. Still checked against `cnfJwk.alg`.
   */
  readonly cnfKey?: KeyObject;
  readonly key: WitIssuerKey;
  /** The `iss` claim (the service puts its issuer URL); none when omitted. */
  readonly iss?: string;
  /** Validity in seconds; WIMSE suggests hours. */
  readonly lifetimeSeconds: number;
  readonly now: Date;
  /** Token id; 128 random bits, base64url, when omitted. */
  readonly jti?: string;
  /** base64url SHA-256 of the EAR JWT, put in {@link WIT_EAR_DIGEST_CLAIM}. */
  readonly earDigest?: string;
  /** Further claims; they cannot override the ones above, and `aud` is refused. */
  readonly extra?: Record<string, unknown>;
}

/** Claims of a WIT as twi reads them; unknown claims are kept. */
export interface WitClaims {
  readonly sub: string;
  readonly exp: number;
  readonly iat?: number;
  readonly nbf?: number;
  readonly jti?: string;
  readonly iss?: string;
  readonly cnf: { readonly jwk: Record<string, unknown> & { readonly alg: JwsAlg } };
  readonly [claim: string]: unknown;
}

/** A verified WIT. */
export interface VerifiedWit {
  /** The compact token as presented (the WPT's `wth` is computed over it). */
  readonly token: string;
  readonly header: Record<string, unknown> & { alg: JwsAlg; kid: string; typ: string };
  readonly claims: WitClaims;
  /** The workload key the WPT must be signed with. */
  readonly cnfKey: KeyObject;
  readonly trustDomain: string;
}

/** Options of {@link verifyWit}. */
export interface VerifyWitOptions {
  readonly jwks: JwksResolver;
  readonly now: Date;
  /**
   * The issuer expected in `iss` (compared exactly): a WIT without it or with another is
   * refused with `ERR_WIT_ISSUER`. Not checked when omitted.
   */
  readonly issuer?: string;
  /** Trust domains accepted (allowlist, compared exactly); any when omitted. */
  readonly trustDomains?: readonly string[];
  /** Allowed clock skew in seconds (default 0). */
  readonly clockToleranceSeconds?: number;
  /** Revocation check by token id and issuer key id. */
  readonly isRevoked?: (jti: string | undefined, kid: string) => boolean | Promise<boolean>;
}

const B64U_SHA256 = /^[A-Za-z0-9_-]{43}$/;
const CURVE_OF: Readonly<Record<JwsAlg, string>> = {
  ES256: 'prime256v1',
  ES384: 'secp384r1',
  ES512: 'secp521r1',
  EdDSA: 'ed25519',
};

/** True when `key` is on the curve `alg` needs. */
export function keyFitsAlg(key: KeyObject, alg: JwsAlg): boolean {
  if (alg === 'EdDSA') return key.asymmetricKeyType === 'ed25519';
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === CURVE_OF[alg];
}

/** The members `cnf.jwk` keeps for each key type, besides `alg` (RFC 7518 §6.2.1, RFC 8037 §2). */
export const CNF_JWK_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['kty', 'crv', 'x', 'y'],
  OKP: ['kty', 'crv', 'x'],
};

/** JWK members that hold private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4). */
export const PRIVATE_JWK_MEMBERS: readonly string[] = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * The `cnf.jwk` of a WIT: the public members of the key type and `alg`, nothing else (no
 * `kid`, `x5u`, `jku`, `use`, `key_ops` or other member the attester sent).
 *
 * @throws TypeError for a key type other than EC or OKP.
 */
export function cnfJwkOf(jwk: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const members = CNF_JWK_MEMBERS[String(jwk.kty)];
  if (!members) throw new TypeError('cnfJwk.kty must be EC or OKP');
  const out: Record<string, unknown> = {};
  for (const m of members) out[m] = jwk[m];
  return { ...out, alg: jwk.alg };
}

function seconds(d: Date): number {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new TypeError('now must be a Date');
  return Math.floor(d.getTime() / 1000);
}

function checkIssueOptions(o: IssueWitOptions): void {
  parseWorkloadId(o.sub);
  if (!isJwsAlg(o.cnfJwk?.alg))
    throw new TypeError('cnfJwk.alg must be ES256, ES384, ES512 or EdDSA');
  if (PRIVATE_JWK_MEMBERS.some((m) => m in o.cnfJwk)) {
    throw new TypeError('cnfJwk must be a public key');
  }
  if (!cnfAlgAllowedFor(o.sub, o.cnfJwk.alg)) {
    throw new TypeError(`a WIT-SVID (spiffe:// sub) cannot carry a ${o.cnfJwk.alg} cnf.jwk`);
  }
  if (o.iss !== undefined && (typeof o.iss !== 'string' || o.iss === '')) {
    throw new TypeError('iss must be a non-empty string');
  }
  if (!keyFitsAlg(o.cnfKey ?? importPublicJwk(o.cnfJwk), o.cnfJwk.alg)) {
    throw new TypeError(`cnfJwk is not a ${o.cnfJwk.alg} key`);
  }
  if (!keyFitsAlg(o.key.privateKey, o.key.alg))
    throw new TypeError(`key is not a ${o.key.alg} key`);
  if (typeof o.key.kid !== 'string' || o.key.kid === '') throw new TypeError('key.kid is required');
  if (!Number.isInteger(o.lifetimeSeconds) || o.lifetimeSeconds <= 0) {
    throw new RangeError('lifetimeSeconds must be a positive integer');
  }
  if (o.earDigest !== undefined && !B64U_SHA256.test(o.earDigest)) {
    throw new TypeError('earDigest must be a base64url SHA-256 digest');
  }
  if (o.extra && 'aud' in o.extra) throw new TypeError('a WIT must not carry aud');
}

/**
 * Issues a WIT: header `{ alg, kid, typ: "wit+jwt" }`, claims `sub`, `cnf.jwk` (only the
 * public members and `alg`, see {@link cnfJwkOf}), `iat`, `exp`, `jti`, optional `iss` and
 * EAR digest; never `aud`. A `spiffe://` subject makes it a WIT-SVID: `cnfJwk.alg` must then
 * be one of {@link WIT_SVID_ALGS} (so no Ed25519 key).
 *
 * @throws TypeError or RangeError for a bad identifier, key (or one a WIT-SVID may not
 *   carry), `iss`, lifetime or digest.
 *
 * @example
 * ```ts
 * const { wit, jti } = await issueWit({
 *   sub: 'wimse://example.com/payments/api', cnfJwk: { ...workloadJwk, alg: 'ES256' },
 *   key: { privateKey, alg: 'ES256', kid }, lifetimeSeconds: 3600, now: new Date(),
 * });
 * ```
 */
export async function issueWit(
  options: IssueWitOptions,
): Promise<{ wit: string; jti: string; exp: number }> {
  checkIssueOptions(options);
  const iat = seconds(options.now);
  const exp = iat + options.lifetimeSeconds;
  const jti = options.jti ?? randomBytes(16).toString('base64url');
  const claims: Record<string, unknown> = {
    ...options.extra,
    ...(options.iss !== undefined ? { iss: options.iss } : {}),
    sub: options.sub,
    cnf: { jwk: cnfJwkOf(options.cnfJwk) },
    iat,
    exp,
    jti,
    ...(options.earDigest !== undefined ? { [WIT_EAR_DIGEST_CLAIM]: options.earDigest } : {}),
  };
  const header = { kid: options.key.kid, typ: WIT_TYP };
  const wit = await signCompact(header, claims, options.key.privateKey, options.key.alg);
  return { wit, jti, exp };
}

function invalid(message: string, cause?: unknown): WimseError {
  return new WimseError('ERR_WIT_INVALID', `WIT: ${message}`, cause ? { cause } : undefined);
}

function optionalNumber(v: unknown): boolean {
  return v === undefined || (typeof v === 'number' && Number.isFinite(v));
}

/** Header and claim shape checks; returns the parsed parts. */
function decodeWit(token: string): { header: VerifiedWit['header']; claims: WitClaims } {
  let decoded;
  try {
    decoded = decodeCompact(token);
  } catch (err) {
    throw invalid((err as Error).message, err);
  }
  const { header, payload } = decoded;
  if (header.typ !== WIT_TYP) throw invalid(`typ must be ${WIT_TYP}`);
  if (!isJwsAlg(header.alg)) throw invalid(`alg ${String(header.alg)} is not accepted`);
  if (typeof header.kid !== 'string' || header.kid === '') throw invalid('kid is required');
  const problem = workloadIdProblem(payload.sub);
  if (problem) throw invalid(`sub: ${problem}`);
  if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp))
    throw invalid('exp is required');
  if (!optionalNumber(payload.iat) || !optionalNumber(payload.nbf))
    throw invalid('iat/nbf not numbers');
  if (payload.jti !== undefined && typeof payload.jti !== 'string')
    throw invalid('jti not a string');
  if ('aud' in payload) throw invalid('a WIT must not carry aud');
  const cnf = payload.cnf as { jwk?: Record<string, unknown> } | undefined;
  if (!cnf?.jwk || typeof cnf.jwk !== 'object') throw invalid('cnf.jwk is required');
  if (!isJwsAlg(cnf.jwk.alg)) throw invalid('cnf.jwk.alg is missing or not accepted');
  if (payload.iss !== undefined && typeof payload.iss !== 'string')
    throw invalid('iss not a string');
  checkWitSvidAlgs(payload.sub as string, header.alg, cnf.jwk.alg);
  return { header: header as VerifiedWit['header'], claims: payload as unknown as WitClaims };
}

/** WIT-SVID §2.3 and §3.2: a `spiffe://` subject limits both algorithms to {@link WIT_SVID_ALGS}. */
function checkWitSvidAlgs(sub: string, alg: string, cnfAlg: string): void {
  if (!sub.startsWith('spiffe:')) return;
  if (!WIT_SVID_ALGS.includes(alg)) throw invalid(`WIT-SVID alg ${alg} is not allowed`);
  if (!WIT_SVID_ALGS.includes(cnfAlg))
    throw invalid(`WIT-SVID cnf.jwk.alg ${cnfAlg} is not allowed`);
}

function cnfKeyOf(claims: WitClaims): KeyObject {
  let key: KeyObject;
  try {
    key = importPublicJwk(claims.cnf.jwk);
  } catch (err) {
    throw invalid(`cnf.jwk: ${(err as Error).message}`, err);
  }
  if ('d' in claims.cnf.jwk) throw invalid('cnf.jwk carries a private key');
  if (!keyFitsAlg(key, claims.cnf.jwk.alg))
    throw invalid(`cnf.jwk is not a ${claims.cnf.jwk.alg} key`);
  return key;
}

function checkTimes(claims: WitClaims, now: number, tolerance: number): void {
  if (now > claims.exp + tolerance) throw new WimseError('ERR_WIT_EXPIRED', 'WIT: expired');
  const start = Math.max(claims.nbf ?? -Infinity, claims.iat ?? -Infinity);
  if (start > now + tolerance) throw new WimseError('ERR_WIT_EXPIRED', 'WIT: not yet valid');
}

/**
 * Verifies a WIT: shape (`typ` `wit+jwt`, accepted `alg`, `kid`, `sub`, `exp`, `cnf.jwk.alg`,
 * no `aud`; for a `spiffe://` subject both algorithms in {@link WIT_SVID_ALGS}), `iss` when
 * an `issuer` is expected, trust domain allowlist, issuer key from the JWKS by `kid`, signature, validity
 * window, revocation. Returns the claims and the workload's `cnf` key.
 *
 * @throws WimseError `ERR_WIT_INVALID`, `ERR_WIT_ISSUER`, `ERR_WIT_TRUST_DOMAIN`, `ERR_WIT_UNKNOWN_KEY`,
 *   `ERR_WIT_SIGNATURE`, `ERR_WIT_EXPIRED`, `ERR_WIT_REVOKED` or `ERR_JWKS_UNAVAILABLE`.
 *
 * @example
 * ```ts
 * const wit = await verifyWit(token, { jwks, now: new Date(), trustDomains: ['example.com'] });
 * wit.claims.sub; // 'wimse://example.com/payments/api'
 * ```
 */
export async function verifyWit(token: string, options: VerifyWitOptions): Promise<VerifiedWit> {
  const now = seconds(options.now);
  const { header, claims } = decodeWit(token);
  const cnfKey = cnfKeyOf(claims);
  if (options.issuer !== undefined && claims.iss !== options.issuer) {
    const got = claims.iss === undefined ? 'no iss' : `iss ${JSON.stringify(claims.iss)}`;
    throw new WimseError('ERR_WIT_ISSUER', `WIT: ${got}, expected ${options.issuer}`);
  }
  const { trustDomain } = parseWorkloadId(claims.sub);
  if (options.trustDomains && !options.trustDomains.includes(trustDomain)) {
    throw new WimseError(
      'ERR_WIT_TRUST_DOMAIN',
      `WIT: trust domain ${trustDomain} is not accepted`,
    );
  }
  const issuerKey = await options.jwks.getKey(header.kid, header.alg);
  if (!(await signatureValid(token, issuerKey, header.alg))) {
    throw new WimseError('ERR_WIT_SIGNATURE', 'WIT: the issuer signature does not verify');
  }
  checkTimes(claims, now, options.clockToleranceSeconds ?? 0);
  if (options.isRevoked && (await options.isRevoked(claims.jti, header.kid))) {
    throw new WimseError('ERR_WIT_REVOKED', `WIT: ${claims.jti ?? 'token'} is revoked`);
  }
  return { token, header, claims, cnfKey, trustDomain };
}
