/**
 * Signed EARs as JWTs (EAR §3, RFC 9782): `typ: "eat+jwt"`, ES256 or ES384, with `jose`.
 *
 * @module
 */
import { createPublicKey, KeyObject } from 'node:crypto';
import type { JsonWebKey, webcrypto } from 'node:crypto';
import { createLocalJWKSet, errors, jwtVerify, SignJWT } from 'jose';
import type { JSONWebKeySet, JWK, JWTVerifyGetKey } from 'jose';
import { jwkThumbprint } from '../../wire/binding.js';
import { EAR_JWT_TYP } from './claims.js';
import type { EarClaims } from './claims.js';
import { EarError } from './errors.js';
import { earProblems } from './validate.js';
import { earProfileOfUri, EAR_PROFILE_NAMES, type EarProfile } from './profiles.js';
import { fromVeraisonEar, type VeraisonEarClaims } from './veraison.js';
import { newKeyPair } from '../../common/key-pair.js';

type CryptoKey = webcrypto.CryptoKey;

/** The JWS algorithms an EAR may be signed with. */
export type EarAlg = 'ES256' | 'ES384';

const CURVES: Readonly<Record<EarAlg, { node: string; jwk: string }>> = {
  ES256: { node: 'prime256v1', jwk: 'P-256' },
  ES384: { node: 'secp384r1', jwk: 'P-384' },
};

/** Options of {@link signEar}. */
export interface SignEarOptions {
  /** The verifier's private key (Node `KeyObject` or WebCrypto `CryptoKey`) on the alg's curve. */
  readonly key: KeyObject | CryptoKey;
  readonly alg: EarAlg;
  /** Key id put in the protected header, so relying parties can pick the key from a JWKS. */
  readonly kid?: string;
}

/** A key pair for EAR signing, from {@link generateEarKey}. */
export interface EarKeyPair {
  readonly alg: EarAlg;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** RFC 7638 thumbprint of the public key, base64url. */
  readonly kid: string;
  /** Public JWK with `alg`, `use: "sig"` and `kid`, ready for a JWKS. */
  readonly publicJwk: JWK;
}

/** Options of {@link verifyEar}. */
export interface VerifyEarOptions {
  /** The instant `exp` and `nbf` are checked at. */
  readonly now: Date;
  /** Allowed clock skew in seconds (default 0). */
  readonly clockTolerance?: number;
  /** The EAR profiles accepted (default both, `draft` and `veraison`). */
  readonly profiles?: readonly EarProfile[];
}

function curveOf(key: KeyObject | CryptoKey): string | undefined {
  if (key instanceof KeyObject) return key.asymmetricKeyDetails?.namedCurve;
  return (key.algorithm as { namedCurve?: string }).namedCurve;
}

/**
 * Generates a fresh EC key pair for signing EARs.
 *
 * @example
 * ```ts
 * const { privateKey, publicJwk, kid } = generateEarKey('ES256');
 * ```
 */
export function generateEarKey(alg: EarAlg): EarKeyPair {
  const curve = CURVES[alg];
  if (!curve) throw new TypeError(`unsupported EAR algorithm ${String(alg)}`);
  const { privateKey, publicKey } = newKeyPair('ec', { namedCurve: curve.node });
  const jwk = publicKey.export({ format: 'jwk' }) as JsonWebKey;
  const kid = Buffer.from(jwkThumbprint(jwk)).toString('base64url');
  const publicJwk: JWK = { ...(jwk as JWK), alg, use: 'sig', kid };
  return { alg, privateKey, publicKey, kid, publicJwk };
}

/**
 * Signs an EAR claims-set as a compact JWT with protected header
 * `{ alg, typ: "eat+jwt", kid? }`.
 *
 * @throws TypeError when the claims-set does not follow the EAR rules, or the key is not on
 *   the curve of `alg` (P-256 for ES256, P-384 for ES384).
 *
 * @example
 * ```ts
 * const jwt = await signEar(buildEar({ ... }), { key: privateKey, alg: 'ES256', kid });
 * ```
 */
export async function signEar(
  claims: EarClaims | VeraisonEarClaims,
  options: SignEarOptions,
): Promise<string> {
  const problems = earProblems(claims);
  if (problems.length > 0) throw new TypeError(`not an EAR claims-set: ${problems.join('; ')}`);
  const curve = CURVES[options.alg];
  if (!curve) throw new TypeError(`unsupported EAR algorithm ${String(options.alg)}`);
  const actual = curveOf(options.key);
  if (actual !== curve.node && actual !== curve.jwk) {
    throw new TypeError(`${options.alg} needs a ${curve.jwk} key, got ${String(actual)}`);
  }
  return new SignJWT({ ...claims })
    .setProtectedHeader({
      alg: options.alg,
      typ: EAR_JWT_TYP,
      ...(options.kid ? { kid: options.kid } : {}),
    })
    .sign(options.key);
}

/** What {@link verifyEar} accepts as the verifier's key: a key, a public JWK, a JWKS or a resolver. */
export type EarVerificationKey = KeyObject | CryptoKey | JWK | JSONWebKeySet | JWTVerifyGetKey;

function resolveKey(key: EarVerificationKey): KeyObject | CryptoKey | JWTVerifyGetKey {
  if (typeof key === 'function' || key instanceof KeyObject) return key;
  if ('keys' in key && Array.isArray(key.keys)) return createLocalJWKSet(key);
  if ('kty' in key) {
    const pub: JWK = { ...(key as JWK) };
    delete pub.d; // only the public part is needed; never keep a private scalar around
    try {
      return createPublicKey({ key: pub as JsonWebKey, format: 'jwk' });
    } catch (err) {
      throw new TypeError('the verification key is not a usable public JWK', { cause: err });
    }
  }
  return key as CryptoKey;
}

function earErrorOf(err: unknown): EarError {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new EarError('ERR_EAR_SIGNATURE_INVALID', `EAR signature: ${message}`, { cause: err });
  }
  if (err instanceof errors.JWTExpired) {
    return new EarError('ERR_EAR_EXPIRED', `EAR expired: ${message}`, { cause: err });
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return new EarError('ERR_EAR_KEY_NOT_FOUND', `EAR key: ${message}`, { cause: err });
  }
  return new EarError('ERR_EAR_INVALID', `EAR rejected: ${message}`, { cause: err });
}

/**
 * Verifies a signed EAR: signature (ES256 or ES384 only), `typ` `eat+jwt`, `exp`/`nbf` at
 * `now`, and the EAR claims-set rules of its profile (profile, verifier id, non-empty submods,
 * statuses no more trusting than their vectors). Returns the claims-set in the draft shape
 * (`ear_*` names) whatever the profile, a veraison/ear one read by `fromVeraisonEar`; its
 * `eat_profile` says which profile was received.
 *
 * @throws EarError `ERR_EAR_SIGNATURE_INVALID`, `ERR_EAR_EXPIRED`, `ERR_EAR_KEY_NOT_FOUND` or
 *   `ERR_EAR_INVALID`; TypeError for an unusable key or a missing `now`.
 *
 * @example
 * ```ts
 * const ear = await verifyEar(jwt, jwks, { now: new Date() });
 * if (ear.ear_status === 'affirming') grant();
 * ```
 */
export async function verifyEar(
  jwt: string,
  key: EarVerificationKey,
  options: VerifyEarOptions,
): Promise<EarClaims> {
  if (!(options?.now instanceof Date) || Number.isNaN(options.now.getTime())) {
    throw new TypeError('verifyEar needs options.now (a valid Date)');
  }
  if (typeof jwt !== 'string') throw new TypeError('verifyEar expects a compact JWT string');
  const resolved = resolveKey(key);
  const verifyOptions = {
    algorithms: Object.keys(CURVES),
    typ: EAR_JWT_TYP,
    currentDate: options.now,
    clockTolerance: options.clockTolerance ?? 0,
  };
  let payload: unknown;
  try {
    const result =
      typeof resolved === 'function'
        ? await jwtVerify(jwt, resolved, verifyOptions)
        : await jwtVerify(jwt, resolved, verifyOptions);
    payload = result.payload;
  } catch (err) {
    throw earErrorOf(err);
  }
  const problems = earProblems(payload);
  if (problems.length > 0) {
    throw new EarError('ERR_EAR_INVALID', `not an EAR claims-set: ${problems.join('; ')}`);
  }
  const claims = payload as Record<string, unknown>;
  const profile = earProfileOfUri(claims.eat_profile);
  if (profile === undefined || !(options.profiles ?? EAR_PROFILE_NAMES).includes(profile)) {
    throw new EarError('ERR_EAR_INVALID', `EAR profile ${String(claims.eat_profile)} not accepted`);
  }
  return profile === 'veraison'
    ? fromVeraisonEar(claims as VeraisonEarClaims)
    : (claims as EarClaims);
}
