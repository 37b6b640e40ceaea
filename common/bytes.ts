/**
 * Bounds-checked little-endian reading and writing shared by the evidence codecs.
 * Every read names the spec field it is reading so that a short buffer becomes an
 * {@link EvidenceMalformedError} that says which field and offset, never a RangeError.
 *
 * @internal
 * @module
 */
import { createHash } from 'node:crypto';
import { EvidenceMalformedError } from './errors.js';

/** Reads fields from a byte buffer, refusing to read past its end. */
export class ByteReader {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  /** Current offset. */
  pos: number;

  /**
   * @param bytes - the buffer to read. It is copied once, so fields are views into a private
   *   copy the caller cannot alter (unless `shared`, for a reader over such a private copy).
   * @param pos - offset to start reading at.
   */
  constructor(bytes: Uint8Array, pos = 0, shared = false) {
    this.bytes = shared ? plainBytes(bytes) : plainBytes(bytes).slice();
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = pos;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** Throws unless `n` more bytes are available for `field`. */
  need(n: number, field: string): void {
    if (n < 0 || this.pos + n > this.bytes.length) {
      throw new EvidenceMalformedError(
        `truncated: needs ${n} bytes, ${Math.max(0, this.remaining)} left`,
        { field, offset: this.pos },
      );
    }
  }

  u8(field: string): number {
    this.need(1, field);
    return this.view.getUint8(this.pos++);
  }

  u16(field: string): number {
    this.need(2, field);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u64(field: string): bigint {
    this.need(8, field);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** The next `n` bytes (a view into the reader's private copy). */
  bytesOf(n: number, field: string): Uint8Array {
    this.need(n, field);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

/** Appends little-endian fields to a growing buffer. */
export class ByteWriter {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  private size = 0;

  get length(): number {
    return this.size;
  }

  /** Makes room for `n` bytes and returns where they go (call before reading buf/view). */
  private reserve(n: number): number {
    const at = this.size;
    if (at + n > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.buf.length * 2, at + n));
      grown.set(this.buf.subarray(0, at));
      this.buf = grown;
      this.view = new DataView(grown.buffer);
    }
    this.size += n;
    return at;
  }

  u8(v: number): this {
    const at = this.reserve(1);
    this.buf[at] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    const at = this.reserve(2);
    this.view.setUint16(at, v, true);
    return this;
  }

  u32(v: number): this {
    const at = this.reserve(4);
    this.view.setUint32(at, v >>> 0, true);
    return this;
  }

  u64(v: bigint): this {
    const at = this.reserve(8);
    this.view.setBigUint64(at, BigInt.asUintN(64, v), true);
    return this;
  }

  /** Appends bytes; with `size`, checks the field has exactly that length. */
  raw(bytes: Uint8Array, size?: number, field = 'field'): this {
    if (size !== undefined && bytes.length !== size) {
      throw new TypeError(`${field} must be ${size} bytes, got ${bytes.length}`);
    }
    const at = this.reserve(bytes.length);
    this.buf.set(bytes, at);
    return this;
  }

  /** The bytes written so far (a copy). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.size);
  }
}

/**
 * The same bytes as a plain Uint8Array view. A Node Buffer's `slice()` returns a view;
 * parsers call this first so that the fields they slice out are copies.
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * SHA-256 (lowercase hex) over the concatenation of `parts`; strings are hashed as UTF-8. twi's
 * one definition: content keys of endorsement records and caches, collateral digests.
 *
 * @example
 * sha256Hex(qeReportBytes, qeReportSignature); // '3f1c…'
 */
export function sha256Hex(...parts: readonly (Uint8Array | string)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Bytes of a hex string (no prefix); throws TypeError on odd length or non-hex characters. */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new TypeError('not a hex string');
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** True when every byte is zero. */
export function isZero(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0) return false;
  return true;
}

/** Byte-wise equality. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
