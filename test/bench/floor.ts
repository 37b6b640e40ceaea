/**
 * The crypto floor: one raw `crypto.verify` with a pre-built public `KeyObject`, the same
 * curve, hash, signature encoding (IEEE P1363 `r‖s`) and message length as the signature
 * each piece of evidence carries. No verifier can check that signature faster than this.
 *
 * @module
 */
import { randomBytes, sign, verify } from 'node:crypto';
import type { FloorCurve } from './samples.js';
import type { Operation } from './timing.js';
import { newKeyPair } from '../../common/key-pair.js';

const CURVES: Record<FloorCurve, { namedCurve: string; hash: string }> = {
  'P-256': { namedCurve: 'prime256v1', hash: 'sha256' },
  'P-384': { namedCurve: 'secp384r1', hash: 'sha384' },
};

/** The hash a floor curve signs with, for the report. */
export function floorHash(curve: FloorCurve): string {
  return CURVES[curve].hash.toUpperCase().replace('SHA', 'SHA-');
}

/**
 * An operation verifying one ECDSA signature over `messageLength` random bytes.
 *
 * @throws Error if the signature made here does not verify (a broken crypto provider).
 * @example
 * ```ts
 * const op = floorOperation('P-384', 672);
 * op(); // true
 * ```
 */
export function floorOperation(curve: FloorCurve, messageLength: number): Operation {
  const { namedCurve, hash } = CURVES[curve];
  const { publicKey, privateKey } = newKeyPair('ec', { namedCurve });
  const message = randomBytes(messageLength);
  const signature = sign(hash, message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  const key = { key: publicKey, dsaEncoding: 'ieee-p1363' as const };
  if (!verify(hash, message, key, signature)) throw new Error(`${curve} floor self-check failed`);
  return () => verify(hash, message, key, signature);
}
