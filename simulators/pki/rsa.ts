/**
 * Deterministic RSA for the simulated AMD PKI: key generation from a seeded DRBG and
 * RSASSA-PSS signing with a derived salt, so that a given seed always yields the same
 * key and the same signature bytes.
 *
 * @internal
 * @module
 */
import {
  checkPrimeSync,
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  privateEncrypt,
  type KeyObject,
} from 'node:crypto';
import { bytesToBigint, drbgBytes, drbgUntil } from './drbg.js';

const E = 65537n;

const SMALL_PRIMES: readonly number[] = (() => {
  const out: number[] = [];
  for (let n = 3; out.length < 6000; n += 2) {
    if (out.every((p) => p * p > n || n % p !== 0)) out.push(n);
  }
  return out;
})();

/**
 * Incremental search from a random odd start: a sieve of small primes discards most
 * candidates in JavaScript, so OpenSSL's Miller-Rabin (`checkPrimeSync`) runs on few.
 */
function findPrime(start: Uint8Array): bigint {
  start[0]! |= 0xc0; // top two bits set: the product has exactly 2·bits bits
  start[start.length - 1]! |= 1;
  const base = bytesToBigint(start);
  const residues = SMALL_PRIMES.map((p) => Number(base % BigInt(p)));
  for (let delta = 0; delta < 1 << 24; delta += 2) {
    if (SMALL_PRIMES.some((p, i) => (residues[i]! + delta) % p === 0)) continue;
    const candidate = base + BigInt(delta);
    if ((candidate - 1n) % E === 0n) continue;
    if (checkPrimeSync(candidate)) return candidate;
  }
  throw new Error('no prime found in range'); // unreachable in practice (prime gaps are far smaller)
}

function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1] = [a % m, m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new RangeError('not invertible');
  return ((s0 % m) + m) % m;
}

function b64u(v: bigint): string {
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  return Buffer.from(hex, 'hex').toString('base64url');
}

/** Generates the (p, q) pair for (seed, label) and imports it as node key objects. */
export function generateRsaKey(
  seed: string,
  label: string,
  bits: number,
): { privateKey: KeyObject; publicKey: KeyObject } {
  if (!Number.isInteger(bits) || bits < 1024 || bits % 16 !== 0) {
    throw new RangeError(`unsupported RSA size ${bits}`);
  }
  // Successive DRBG outputs start the searches for p, then q (again while q equals p).
  const found: bigint[] = [];
  let [p, q] = drbgUntil('sha512', seed, `rsa-${bits}/${label}`, bits / 16, (start) => {
    const prime = findPrime(start);
    if (!found.includes(prime)) found.push(prime);
    return found.length === 2 ? (found as [bigint, bigint]) : undefined;
  });
  if (p < q) [p, q] = [q, p];
  const n = p * q;
  const d = modInverse(E, (p - 1n) * (q - 1n));
  const jwk = {
    kty: 'RSA',
    n: b64u(n),
    e: b64u(E),
    d: b64u(d),
    p: b64u(p),
    q: b64u(q),
    dp: b64u(d % (p - 1n)),
    dq: b64u(d % (q - 1n)),
    qi: b64u(modInverse(q, p)),
  };
  const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

function mgf1(hash: string, seed: Uint8Array, len: number): Buffer {
  const out: Buffer[] = [];
  for (let c = 0, have = 0; have < len; c++) {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(c);
    const block = createHash(hash).update(seed).update(counter).digest();
    out.push(block);
    have += block.length;
  }
  return Buffer.concat(out).subarray(0, len);
}

/**
 * EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with SHA-384, MGF1-SHA-384 and a 48-byte salt,
 * the parameters AMD's certificates declare.
 */
export function emsaPssEncode(message: Uint8Array, salt: Uint8Array, emBits: number): Buffer {
  const hLen = 48;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < hLen + salt.length + 2) throw new RangeError('modulus too small for PSS');
  const mHash = createHash('sha384').update(message).digest();
  const h = createHash('sha384').update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.alloc(emLen - hLen - 1);
  db[db.length - salt.length - 1] = 0x01;
  Buffer.from(salt).copy(db, db.length - salt.length);
  const mask = mgf1('sha384', h, db.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  return Buffer.concat([db, h, Buffer.of(0xbc)]);
}

/** RSASSA-PSS-SHA384 signature, salt derived from (seed, label, message). */
export function signPssDeterministic(
  privateKey: KeyObject,
  modulusBits: number,
  seed: string,
  label: string,
  message: Uint8Array,
): Uint8Array {
  const digest = createHash('sha384').update(message).digest('hex');
  const salt = drbgBytes('sha384', seed, `pss-salt/${label}/${digest}`, 48);
  const em = emsaPssEncode(message, salt, modulusBits - 1);
  const k = Math.ceil(modulusBits / 8);
  const padded = Buffer.concat([Buffer.alloc(k - em.length), em]);
  const sig = privateEncrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, padded);
  return new Uint8Array(sig);
}

/** Modulus size in bits of an RSA public key object. */
export function rsaModulusBits(publicKey: KeyObject): number {
  const n = publicKey.export({ format: 'jwk' }).n;
  if (!n) throw new TypeError('not an RSA key');
  return bytesToBigint(Buffer.from(n, 'base64url')).toString(2).length;
}
