/**
 * Keys of the simulated vendor PKIs, derived deterministically from a secret seed and a
 * label (what the key is for), and signing that is deterministic too (RFC 6979 ECDSA,
 * RSASSA-PSS with a derived salt), so that certificates are byte-stable for a seed.
 *
 * These keys are simulator keys: anyone holding the seed holds every private key.
 *
 * @module
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { p256, p384 } from '@noble/curves/nist.js';
import * as asn1js from 'asn1js';
import { der, unsignedInteger } from './asn1.js';
import { bigintToBytes, bytesToBigint, drbgBytes } from './drbg.js';
import { generateRsaKey, signPssDeterministic } from './rsa.js';

/** NIST curves the vendors use: P-256 (Intel), P-384 (AMD VCEK/VLEK, AWS Nitro). */
export type EcCurve = 'P-256' | 'P-384';

/** An EC key pair with deterministic raw ECDSA signing. */
export interface EcKeyPair {
  readonly kind: 'ec';
  readonly curve: EcCurve;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Uncompressed point X‖Y without the 0x04 prefix (64 or 96 bytes). */
  readonly publicRaw: Uint8Array;
  /** SubjectPublicKeyInfo DER. */
  readonly spki: Uint8Array;
  /** ECDSA r‖s (IEEE P1363) over SHA-256 (P-256) or SHA-384 (P-384) of `data`. */
  signRaw(data: Uint8Array): Uint8Array;
}

/** An RSA key pair with deterministic RSASSA-PSS (SHA-384, MGF1-SHA-384, salt 48) signing. */
export interface RsaKeyPair {
  readonly kind: 'rsa';
  readonly bits: number;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** SubjectPublicKeyInfo DER (rsaEncryption). */
  readonly spki: Uint8Array;
  /** RSASSA-PSS-SHA384 signature over `data`. */
  signPss(data: Uint8Array): Uint8Array;
}

/** Any key the simulated PKIs hold. */
export type SimKeyPair = EcKeyPair | RsaKeyPair;

const CURVES = {
  'P-256': { ecdsa: p256, size: 32, hash: 'sha256' },
  'P-384': { ecdsa: p384, size: 48, hash: 'sha384' },
} as const;

const EC_CACHE_LIMIT = 4096;
const ecCache = new Map<string, EcKeyPair>();
const rsaCache = new Map<string, RsaKeyPair>();

function cacheKey(...parts: (string | number)[]): string {
  return JSON.stringify(parts);
}

/**
 * Derives the EC key for (seed, label): the private scalar comes from an HMAC_DRBG
 * (SHA-256 for P-256, SHA-384 for P-384), reduced into [1, n-1].
 *
 * @example
 * ```ts
 * const key = deriveEcKey(seed, 'intel/root', 'P-256');
 * const sig = key.signRaw(new TextEncoder().encode('hello')); // 64 bytes r‖s
 * ```
 */
export function deriveEcKey(seed: string, label: string, curve: EcCurve): EcKeyPair {
  const id = cacheKey(seed, label, curve);
  const hit = ecCache.get(id);
  if (hit) return hit;
  const c = CURVES[curve];
  if (!c) throw new TypeError(`unsupported curve ${String(curve)}`);
  const n = c.ecdsa.Point.Fn.ORDER;
  // 64 extra bits make the bias of the reduction negligible (FIPS 186-5 A.2.1).
  const x = bytesToBigint(drbgBytes(c.hash, seed, `ec-${curve}/${label}`, c.size + 8));
  const secret = bigintToBytes((x % (n - 1n)) + 1n, c.size);
  const point = c.ecdsa.getPublicKey(secret, false);
  const publicRaw = point.slice(1);
  const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
  const privateKey = createPrivateKey({
    key: {
      kty: 'EC',
      crv: curve,
      x: b64(publicRaw.subarray(0, c.size)),
      y: b64(publicRaw.subarray(c.size)),
      d: b64(secret),
    },
    format: 'jwk',
  });
  const publicKey = createPublicKey(privateKey);
  const pair: EcKeyPair = {
    kind: 'ec',
    curve,
    privateKey,
    publicKey,
    publicRaw,
    spki: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
    signRaw: (data) =>
      c.ecdsa.sign(data, secret, { prehash: true, lowS: false, extraEntropy: false }),
  };
  // Leaf keys are per document or per TCB; bound the cache for long-running simulators.
  if (ecCache.size >= EC_CACHE_LIMIT) ecCache.delete(ecCache.keys().next().value!);
  ecCache.set(id, pair);
  return pair;
}

/**
 * Derives the RSA key for (seed, label): primes are searched from DRBG output and tested
 * with OpenSSL (`crypto.checkPrimeSync`), e = 65537. A 4096-bit key takes a few hundred
 * milliseconds, so keys are cached in memory per (seed, label, bits).
 */
export function deriveRsaKey(seed: string, label: string, bits = 4096): RsaKeyPair {
  const id = cacheKey(seed, label, bits);
  const hit = rsaCache.get(id);
  if (hit) return hit;
  const { privateKey, publicKey } = generateRsaKey(seed, label, bits);
  const pair: RsaKeyPair = {
    kind: 'rsa',
    bits,
    privateKey,
    publicKey,
    spki: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
    signPss: (data) => signPssDeterministic(privateKey, bits, seed, label, data),
  };
  rsaCache.set(id, pair);
  return pair;
}

/** Converts an r‖s signature to the DER `ECDSA-Sig-Value` that X.509 and CRLs carry. */
export function ecdsaRawToDer(rs: Uint8Array): Uint8Array {
  if (rs.length === 0 || rs.length % 2 !== 0) throw new RangeError('r‖s must have even length');
  const half = rs.length / 2;
  const value = [unsignedInteger(rs.subarray(0, half)), unsignedInteger(rs.subarray(half))];
  return der(new asn1js.Sequence({ value }));
}
