/**
 * The workload key of `POST /v1/attest` (ARCHITECTURE "Wire contracts"): any public JWK the
 * standard exporters produce (WebCrypto, jose, node:crypto), `alg` optional and inferred from
 * `kty`/`crv`. What goes on into the WIT's `cnf.jwk` is rebuilt from the public members of its
 * key type and `alg` only; nothing else the attester sent.
 *
 * @internal
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { CNF_JWK_MEMBERS, keyFitsAlg, PRIVATE_JWK_MEMBERS } from '../wimse/wit.js';
import { importPublicJwk, type JwsAlg } from '../wimse/jws.js';
import { ProblemError } from './problem.js';

export { PRIVATE_JWK_MEMBERS };

/** Most members a workload JWK may have. */
export const MAX_JWK_MEMBERS = 32;

/** The JWS algorithm of each accepted `kty`/`crv` (RFC 7518 §3.4, RFC 8037 §3.1). */
export const ALG_OF_CURVE: Readonly<Record<string, JwsAlg>> = {
  'EC/P-256': 'ES256',
  'EC/P-384': 'ES384',
  'EC/P-521': 'ES512',
  'OKP/Ed25519': 'EdDSA',
};

/** A checked workload key. */
export interface WorkloadKey {
  /** The public key, imported. */
  readonly key: KeyObject;
  readonly alg: JwsAlg;
  /** Only the public members of its key type, plus `alg`: what `cnf.jwk` carries. */
  readonly jwk: Readonly<Record<string, string>>;
}

const B64U = /^[A-Za-z0-9_-]+$/;

function bad(detail: string): ProblemError {
  return new ProblemError(400, 'ERR_KEY_INVALID', detail);
}

function publicMembers(jwk: Record<string, unknown>, kty: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of CNF_JWK_MEMBERS[kty]!) {
    const v = jwk[m];
    if (typeof v !== 'string' || (m !== 'kty' && m !== 'crv' && !B64U.test(v))) {
      throw bad(`key.${m} must be a base64url string`);
    }
    out[m] = v;
  }
  return out;
}

/**
 * Checks the workload key and returns it imported with the `cnf.jwk` to issue. Refused with
 * 400 `ERR_KEY_INVALID`: a non-object, private members ({@link PRIVATE_JWK_MEMBERS}), a key
 * type or curve outside {@link ALG_OF_CURVE}, an `alg` that does not fit the key, a `use`
 * other than `sig`, a point that does not decode, more than {@link MAX_JWK_MEMBERS} members.
 *
 * @throws {ProblemError} `ERR_KEY_INVALID`.
 *
 * @example
 * ```ts
 * const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey); // no alg, with key_ops, ext
 * checkWorkloadKey(jwk).jwk; // { crv: 'P-256', kty: 'EC', x, y, alg: 'ES256' }
 * ```
 */
export function checkWorkloadKey(value: unknown): WorkloadKey {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw bad('key must be a JWK object');
  }
  const jwk = value as Record<string, unknown>;
  if (Object.keys(jwk).length > MAX_JWK_MEMBERS) throw bad('key has too many members');
  if (PRIVATE_JWK_MEMBERS.some((m) => m in jwk)) {
    throw bad('key must be a public JWK; it carries private key members');
  }
  const kty = jwk.kty;
  if (typeof kty !== 'string' || !(kty in CNF_JWK_MEMBERS)) throw bad('key.kty must be EC or OKP');
  const inferred = ALG_OF_CURVE[`${kty}/${String(jwk.crv)}`];
  if (!inferred) throw bad(`key.crv ${JSON.stringify(jwk.crv)} is not accepted for ${kty}`);
  if (jwk.alg !== undefined && jwk.alg !== inferred) {
    throw bad(`key.alg must be ${inferred} for a ${String(jwk.crv)} key`);
  }
  if (jwk.use !== undefined && jwk.use !== 'sig') throw bad('key.use must be sig when present');
  const pub = publicMembers(jwk, kty);
  let key: KeyObject;
  try {
    key = importPublicJwk(pub);
  } catch {
    throw bad('key is not a valid public JWK');
  }
  if (!keyFitsAlg(key, inferred)) throw bad(`key is not a ${inferred} key`);
  return { key, alg: inferred, jwk: Object.freeze({ ...pub, alg: inferred }) };
}
