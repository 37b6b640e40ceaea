/**
 * Compact JWS plumbing shared by WIT and WPT: strict decoding, hand-built signing for keys that
 * never leave native code, signature checks with `jose`, and public JWK import.
 *
 * @module
 */
import { createHash, createPublicKey, KeyObject } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { CompactSign, compactVerify, errors } from 'jose';

/** The JWS algorithms twi signs and accepts for WIT issuers and workload keys. */
export type JwsAlg = 'ES256' | 'ES384' | 'ES512' | 'EdDSA';

/** Raw signature length of each algorithm (ECDSA `r‖s`, Ed25519). @internal */
export const SIGNATURE_BYTES: Readonly<Record<JwsAlg, number>> = {
  ES256: 64,
  ES384: 96,
  ES512: 132,
  EdDSA: 64,
};

/** True for an algorithm name twi accepts (never `none`, never symmetric). */
export function isJwsAlg(alg: unknown): alg is JwsAlg {
  return typeof alg === 'string' && Object.hasOwn(SIGNATURE_BYTES, alg);
}

/**
 * A signing key that may live outside JavaScript (native key store, TEE, HSM): given the JWS
 * signing input it returns the raw signature (`r‖s` for ECDSA), never the key.
 */
export interface RawSigner {
  sign(signingInput: Uint8Array): Promise<Uint8Array> | Uint8Array;
}

/** Largest compact token decoded, in characters. @internal */
export const MAX_TOKEN_CHARS = 16 * 1024;

/** A compact JWS taken apart (signature not checked). */
export interface DecodedJws {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
}

const B64U = /^[A-Za-z0-9_-]*$/;

/** base64url without padding, of bytes or of a string's UTF-8. */
export function b64u(data: Uint8Array | string): string {
  return Buffer.from(data).toString('base64url');
}

/** base64url(SHA-256(ASCII(token))): the `wth`, `ath`, `tth` and `oth` hash (RFC 9449 §4.1). */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'ascii').digest('base64url');
}

function jsonObject(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new TypeError(`the ${what} is not base64url JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`the ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Decodes one compact JWS without checking its signature.
 *
 * @throws TypeError describing why the token is not a single well-formed compact JWS.
 */
export function decodeCompact(token: unknown): DecodedJws {
  if (typeof token !== 'string') throw new TypeError('the token is not a string');
  if (token.length > MAX_TOKEN_CHARS) throw new TypeError('the token is too long');
  const parts = token.split('.');
  if (parts.length !== 3) throw new TypeError('not a compact JWS (three dot-separated parts)');
  if (!parts.every((p) => p.length > 0 && B64U.test(p))) {
    throw new TypeError('a JWS part is empty or not base64url');
  }
  return { header: jsonObject(parts[0]!, 'header'), payload: jsonObject(parts[1]!, 'payload') };
}

async function signRaw(input: string, signer: RawSigner, alg: JwsAlg): Promise<string> {
  const signature = await signer.sign(new Uint8Array(Buffer.from(input, 'ascii')));
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_BYTES[alg]) {
    throw new TypeError(
      `the signer must return a raw ${SIGNATURE_BYTES[alg]}-byte ${alg} signature`,
    );
  }
  return `${input}.${b64u(signature)}`;
}

/**
 * Signs `payload` under `header` as a compact JWS. A `KeyObject` is signed with `jose`; a
 * {@link RawSigner} gets the ASCII signing input `b64u(header).b64u(payload)` and its raw
 * signature is appended, so the private key never enters JavaScript.
 *
 * @example
 * ```ts
 * const jws = await signCompact({ alg: 'ES256', typ: 'wpt+jwt' }, claims, nativeSigner, 'ES256');
 * ```
 */
export async function signCompact(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: KeyObject | RawSigner,
  alg: JwsAlg,
): Promise<string> {
  const body = new TextEncoder().encode(JSON.stringify(payload));
  if (key instanceof KeyObject) {
    return new CompactSign(body).setProtectedHeader({ ...header, alg }).sign(key);
  }
  if (typeof key?.sign !== 'function') throw new TypeError('key must be a KeyObject or a signer');
  return signRaw(`${b64u(JSON.stringify({ ...header, alg }))}.${b64u(body)}`, key, alg);
}

/**
 * Checks a compact JWS signature under `key` with exactly `alg`.
 *
 * @returns false for a wrong signature or a key that does not fit `alg`.
 *
 * @internal
 */
export async function signatureValid(token: string, key: KeyObject, alg: JwsAlg): Promise<boolean> {
  try {
    await compactVerify(token, key, { algorithms: [alg] });
    return true;
  } catch (err) {
    if (err instanceof errors.JWSSignatureVerificationFailed) return false;
    if (err instanceof TypeError || err instanceof errors.JOSEError) return false;
    throw err;
  }
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * Imports the public part of an asymmetric JWK (EC, OKP or RSA); private members are dropped.
 *
 * @throws TypeError for a symmetric, malformed or unsupported key.
 */
export function importPublicJwk(jwk: unknown): KeyObject {
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) {
    throw new TypeError('the JWK is not an object');
  }
  const pub = { ...(jwk as Record<string, unknown>) };
  if (!['EC', 'OKP', 'RSA'].includes(String(pub.kty))) {
    throw new TypeError(`JWK kty ${String(pub.kty)} is not an asymmetric key type`);
  }
  for (const m of PRIVATE_MEMBERS) delete pub[m];
  try {
    return createPublicKey({ key: pub as JsonWebKey, format: 'jwk' });
  } catch (err) {
    throw new TypeError('the JWK is not a usable public key', { cause: err });
  }
}
