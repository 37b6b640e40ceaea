/**
 * HMAC_DRBG (NIST SP 800-90A §10.1.2) without reseeding, used to turn a simulator seed and
 * a label into reproducible bytes: private keys, primes, serial numbers, PSS salts. The DRBG is
 * @noble/curves' `createHmacDrbg`; the HMAC is node:crypto's.
 *
 * @internal
 * @module
 */
import { createHmac } from 'node:crypto';
import { createHmacDrbg } from '@noble/curves/utils.js';

/** Hashes the DRBG can run on. */
export type DrbgHash = 'sha256' | 'sha384' | 'sha512';

const OUT_LEN: Record<DrbgHash, number> = { sha256: 32, sha384: 48, sha512: 64 };

/** The seed material: the seed length-prefixed (keeps ("ab", "c") and ("a", "bc") apart), then the label. */
function seedMaterial(seed: string, label: string): Uint8Array {
  const seedBytes = Buffer.from(seed, 'utf8');
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(seedBytes.length);
  return new Uint8Array(Buffer.concat([prefix, seedBytes, Buffer.from(label, 'utf8')]));
}

/**
 * Hands successive `n`-byte outputs of the DRBG keyed by (seed, label) to `accept` until it
 * returns something other than `undefined` (at most 1000 outputs), and returns that.
 *
 * @param hash - HMAC hash.
 * @param seed - entropy input (the simulator's secret seed).
 * @param label - personalisation string: what the bytes are for.
 */
export function drbgUntil<T>(
  hash: DrbgHash,
  seed: string,
  label: string,
  n: number,
  accept: (bytes: Uint8Array) => T | undefined,
): T {
  const hmac = (key: Uint8Array, message: Uint8Array): Uint8Array =>
    new Uint8Array(createHmac(hash, key).update(message).digest());
  const run = createHmacDrbg<T>(OUT_LEN[hash], n, hmac);
  return run(seedMaterial(seed, label), (block) => accept(block.slice(0, n))) as T;
}

/** The first `n` bytes of the DRBG keyed by (seed, label). */
export function drbgBytes(hash: DrbgHash, seed: string, label: string, n: number): Uint8Array {
  return drbgUntil(hash, seed, label, n, (bytes) => bytes);
}

/** `n` bytes determined by (seed, label) (HMAC-SHA-256). */
export function deriveBytes(seed: string, label: string, n: number): Uint8Array {
  return drbgBytes('sha256', seed, label, n);
}

/** Big-endian bytes as an unsigned bigint. */
export function bytesToBigint(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt('0x' + Buffer.from(bytes).toString('hex'));
}

/** Unsigned bigint as exactly `len` big-endian bytes. */
export function bigintToBytes(value: bigint, len: number): Uint8Array {
  const hex = value.toString(16);
  if (value < 0n || hex.length > 2 * len)
    throw new RangeError(`${value} does not fit ${len} bytes`);
  return new Uint8Array(Buffer.from(hex.padStart(2 * len, '0'), 'hex'));
}
