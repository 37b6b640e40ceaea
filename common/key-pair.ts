/**
 * Key-pair generation that cannot deadlock on Node 20.
 *
 * Why: a `KeyObject` returned by `generateKeyPairSync` shares its key's mutex with the
 * generation job that made it, and that job is freed later by the garbage collector, whose
 * destructor locks the mutex. `export({ format: 'jwk' })` holds the same mutex while it
 * allocates the JWK's strings; when that allocation triggers a GC that frees the job, the main
 * thread waits on a mutex it holds itself (seen in a stack trace: `ExportJWKEcKey` →
 * `EncodeBignum` → `Heap::CollectGarbage` → `~KeyGenJob` → `uv_mutex_lock`). A loop of
 * generate-then-export hangs within a few hundred iterations. Generating with DER encodings
 * returns only bytes, and keys imported from those bytes own their own mutex, so no job can
 * ever lock it.
 *
 * @internal
 * @module
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';

/** A private key and its public key, neither tied to a key-generation job. */
export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

const DER = {
  publicKeyEncoding: { type: 'spki', format: 'der' },
  privateKeyEncoding: { type: 'pkcs8', format: 'der' },
} as const;

/**
 * Generates a key pair like `generateKeyPairSync` does, but through DER so that exporting the
 * keys (JWK included) is safe at any time (see the module notes).
 *
 * @example
 * ```ts
 * const { privateKey, publicKey } = newKeyPair('ec', { namedCurve: 'P-256' });
 * const jwk = publicKey.export({ format: 'jwk' });
 * ```
 */
export function newKeyPair(type: 'ec', options: { namedCurve: string }): KeyPair;
export function newKeyPair(type: 'ed25519' | 'ed448'): KeyPair;
export function newKeyPair(type: 'rsa', options: { modulusLength: number }): KeyPair;
export function newKeyPair(
  type: 'ec' | 'ed25519' | 'ed448' | 'rsa',
  options: { namedCurve?: string; modulusLength?: number } = {},
): KeyPair {
  // The overloads above guarantee the options each type needs; node:crypto's own overloads
  // cannot take the union, hence the cast.
  const der = (
    generateKeyPairSync as (t: string, o: object) => { publicKey: Buffer; privateKey: Buffer }
  )(type, { ...options, ...DER });
  try {
    return {
      privateKey: createPrivateKey({ key: der.privateKey, format: 'der', type: 'pkcs8' }),
      publicKey: createPublicKey({ key: der.publicKey, format: 'der', type: 'spki' }),
    };
  } finally {
    der.privateKey.fill(0);
  }
}
