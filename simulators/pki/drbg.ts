/**
 * HMAC_DRBG (NIST SP 800-90A §10.1.2) without reseeding, used to turn a simulator seed and
 * a label into reproducible bytes: private keys, primes, serial numbers, PSS salts.
 *
 * @module
 */
import { createHmac } from 'node:crypto';

/** Hashes the DRBG can run on. */
export type DrbgHash = 'sha256' | 'sha384' | 'sha512';

const OUT_LEN: Record<DrbgHash, number> = { sha256: 32, sha384: 48, sha512: 64 };

/** Deterministic byte stream keyed by (seed, label). */
export class HmacDrbg {
  private k: Buffer;
  private v: Buffer;

  /**
   * @param hash - HMAC hash.
   * @param seed - entropy input (the simulator's secret seed).
   * @param label - personalisation string: what the bytes are for.
   */
  constructor(
    private readonly hash: DrbgHash,
    seed: string,
    label: string,
  ) {
    const len = OUT_LEN[hash];
    this.k = Buffer.alloc(len, 0x00);
    this.v = Buffer.alloc(len, 0x01);
    // Length-prefixing the seed keeps ("ab", "c") and ("a", "bc") apart.
    const seedBytes = Buffer.from(seed, 'utf8');
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(seedBytes.length);
    this.update(Buffer.concat([prefix, seedBytes, Buffer.from(label, 'utf8')]));
  }

  private mac(...parts: Uint8Array[]): Buffer {
    const h = createHmac(this.hash, this.k);
    for (const p of parts) h.update(p);
    return h.digest();
  }

  private update(data?: Uint8Array): void {
    this.k = this.mac(this.v, Uint8Array.of(0x00), data ?? new Uint8Array(0));
    this.v = this.mac(this.v);
    if (!data || data.length === 0) return;
    this.k = this.mac(this.v, Uint8Array.of(0x01), data);
    this.v = this.mac(this.v);
  }

  /** Next `n` bytes of the stream. */
  generate(n: number): Uint8Array {
    const out = Buffer.alloc(n);
    for (let at = 0; at < n;) {
      this.v = this.mac(this.v);
      at += this.v.copy(out, at);
    }
    this.update();
    return new Uint8Array(out);
  }
}

/** `n` bytes determined by (seed, label). */
export function deriveBytes(seed: string, label: string, n: number): Uint8Array {
  return new HmacDrbg('sha256', seed, label).generate(n);
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
