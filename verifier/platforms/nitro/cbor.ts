/**
 * A small bounds-checked CBOR (RFC 8949) reader and writer for the Nitro envelope and payload.
 *
 * It works item head by item head so that the codec sees the exact encoding of every item:
 * the width of each head's argument (so non-minimal integers and lengths round-trip) and
 * definite versus indefinite containers. Lengths are checked against the bytes actually left
 * before anything is sliced, so a length field can never cause a large allocation.
 *
 * @module
 */
import { EvidenceMalformedError, EvidenceUnsupportedError } from '../../../common/errors.js';

/** CBOR major types used here (RFC 8949 §3.1). @internal */
export const Major = {
  uint: 0,
  nint: 1,
  bytes: 2,
  text: 3,
  array: 4,
  map: 5,
  tag: 6,
  simple: 7,
} as const;

/**
 * How a head's argument is encoded: `0` inside the initial byte (values below 24), `1`, `2`,
 * `4` or `8` following bytes, or `'indefinite'` (additional information 31).
 */
export type HeadWidth = 0 | 1 | 2 | 4 | 8 | 'indefinite';

/** One decoded item head. @internal */
export interface Head {
  major: number;
  /** The argument: integer value, length, count or tag number (0 when indefinite). */
  value: number;
  width: HeadWidth;
  /** Offset of the initial byte. */
  offset: number;
}

const NULL_BYTE = 0xf6;
const BREAK_BYTE = 0xff;
const WIDTH_BY_INFO: Record<number, 1 | 2 | 4 | 8> = { 24: 1, 25: 2, 26: 4, 27: 8 };
const INFO_BY_WIDTH = { 1: 24, 2: 25, 4: 26, 8: 27 } as const;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/** The smallest width able to hold `value`. @internal */
export function minimalWidth(value: number): 0 | 1 | 2 | 4 | 8 {
  if (value < 24) return 0;
  if (value < 0x100) return 1;
  if (value < 0x10000) return 2;
  if (value < 0x100000000) return 4;
  return 8;
}

function malformed(message: string, field: string, offset: number): EvidenceMalformedError {
  return new EvidenceMalformedError(message, { field, offset });
}

/**
 * Reads CBOR item heads and string contents from `bytes[pos, end)`. Offsets stay absolute.
 *
 * @internal
 */
export class CborReader {
  readonly bytes: Uint8Array;
  readonly end: number;
  pos: number;

  constructor(bytes: Uint8Array, pos = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = pos;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws unless `n` more bytes are available for `field`. */
  need(n: number, field: string, offset = this.pos): void {
    if (n > this.remaining) {
      throw malformed(`truncated: needs ${n} bytes, ${this.remaining} left`, field, offset);
    }
  }

  /** The next byte without consuming it, or -1 at the end. */
  peek(): number {
    return this.pos < this.end ? (this.bytes[this.pos] as number) : -1;
  }

  /** Reads one head. Breaks (0xff) are only returned when `allowBreak` is set. */
  head(field: string, allowBreak = false): Head {
    const offset = this.pos;
    this.need(1, field);
    const initial = this.bytes[this.pos++] as number;
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (info < 24) return { major, value: info, width: 0, offset };
    if (info === 31) return this.indefinite(major, field, offset, allowBreak);
    const width = WIDTH_BY_INFO[info];
    if (width === undefined)
      throw malformed(`reserved CBOR additional info ${info}`, field, offset);
    this.need(width, field);
    let value = 0;
    for (let i = 0; i < width; i++) value = value * 256 + (this.bytes[this.pos++] as number);
    if (!Number.isSafeInteger(value)) throw malformed('CBOR argument too large', field, offset);
    if (major === Major.simple) return this.simple(width, value, field, offset);
    return { major, value, width, offset };
  }

  private indefinite(major: number, field: string, offset: number, allowBreak: boolean): Head {
    if (major === Major.simple && allowBreak)
      return { major, value: 0, width: 'indefinite', offset };
    if (major === Major.array || major === Major.map) {
      return { major, value: 0, width: 'indefinite', offset };
    }
    if (major === Major.bytes || major === Major.text) {
      throw new EvidenceUnsupportedError('indefinite-length (chunked) strings are not supported', {
        field,
        offset,
      });
    }
    throw malformed(
      major === Major.simple ? 'unexpected break' : 'invalid indefinite length',
      field,
      offset,
    );
  }

  private simple(width: 1 | 2 | 4 | 8, value: number, field: string, offset: number): Head {
    // RFC 8949 §3.3: a one-byte simple value below 32 is not well-formed.
    if (width === 1 && value < 32) throw malformed('non-well-formed simple value', field, offset);
    return { major: Major.simple, value, width, offset };
  }

  /** Consumes a `null` (0xf6) if it is next. */
  takeNull(): boolean {
    if (this.peek() !== NULL_BYTE) return false;
    this.pos++;
    return true;
  }

  /** Consumes a break (0xff) if it is next. */
  takeBreak(): boolean {
    if (this.peek() !== BREAK_BYTE) return false;
    this.pos++;
    return true;
  }

  /** Reads a head and checks its major type. */
  expect(major: number, field: string, what: string): Head {
    const h = this.head(field);
    if (h.major !== major) throw malformed(`expected ${what}`, field, h.offset);
    return h;
  }

  /** A copy of the string content announced by `h`, after checking `min..max` and the bytes left. */
  content(h: Head, field: string, min: number, max: number): Uint8Array {
    if (h.value < min || h.value > max) {
      const range = min === max ? `${min}` : `${min}..${max}`;
      throw malformed(`length ${h.value} not in ${range}`, field, h.offset);
    }
    this.need(h.value, field, h.offset);
    const out = this.bytes.slice(this.pos, this.pos + h.value);
    this.pos += h.value;
    return out;
  }

  /** Reads a byte string of `min..max` bytes. */
  byteString(field: string, min: number, max: number): { value: Uint8Array; head: Head } {
    const head = this.expect(Major.bytes, field, 'a byte string');
    return { value: this.content(head, field, min, max), head };
  }

  /** Reads a UTF-8 text string of at most `max` bytes. */
  textString(field: string, max: number): { value: string; head: Head } {
    const head = this.expect(Major.text, field, 'a text string');
    return { value: this.text(head, field, max), head };
  }

  /** The UTF-8 text announced by the text-string head `h` (at most `max` bytes). */
  text(h: Head, field: string, max: number): string {
    const raw = this.content(h, field, 0, max);
    try {
      return utf8.decode(raw);
    } catch {
      throw malformed('invalid UTF-8', field, h.offset);
    }
  }

  /**
   * Iterates a definite or indefinite array/map announced by `h`, calling `each` per element
   * (per key/value pair for maps). Refuses more than `max` elements.
   */
  items(h: Head, field: string, max: number, each: (index: number) => void): number {
    if (h.width !== 'indefinite') {
      if (h.value > max)
        throw malformed(`${h.value} entries, at most ${max} allowed`, field, h.offset);
      for (let i = 0; i < h.value; i++) each(i);
      return h.value;
    }
    let n = 0;
    while (!this.takeBreak()) {
      if (n === max) throw malformed(`more than ${max} entries`, field, h.offset);
      this.need(1, field);
      each(n++);
    }
    return n;
  }
}

/** Appends CBOR heads and strings; every head width can be chosen. @internal */
export class CborWriter {
  private chunks: Uint8Array[] = [];
  private size = 0;

  /** Appends raw bytes. */
  raw(bytes: Uint8Array): this {
    this.chunks.push(bytes);
    this.size += bytes.length;
    return this;
  }

  /** Appends a head with `value` using `width` (minimal when omitted). */
  head(major: number, value: number, width: HeadWidth = minimalWidth(value), path = 'item'): this {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new TypeError(`${path}: bad CBOR argument ${value}`);
    if (width === 'indefinite') return this.raw(Uint8Array.of((major << 5) | 31));
    if (width === 0) {
      if (value >= 24) throw new TypeError(`${path}: ${value} does not fit in the initial byte`);
      return this.raw(Uint8Array.of((major << 5) | value));
    }
    if (value >= 2 ** (8 * width))
      throw new TypeError(`${path}: ${value} does not fit in ${width} bytes`);
    const out = new Uint8Array(1 + width);
    out[0] = (major << 5) | INFO_BY_WIDTH[width];
    let v = value;
    for (let i = width; i >= 1; i--) {
      out[i] = v % 256;
      v = Math.floor(v / 256);
    }
    return this.raw(out);
  }

  /** Appends a byte string. */
  byteString(value: Uint8Array, width?: HeadWidth, path = 'bytes'): this {
    if (width === 'indefinite') throw new TypeError(`${path}: chunked strings are not supported`);
    return this.head(Major.bytes, value.length, width, path).raw(value);
  }

  /** Appends a UTF-8 text string. */
  textString(value: string, width?: HeadWidth, path = 'text'): this {
    if (width === 'indefinite') throw new TypeError(`${path}: chunked strings are not supported`);
    const raw = utf8Encoder.encode(value);
    return this.head(Major.text, raw.length, width, path).raw(raw);
  }

  /** Appends a signed integer. */
  integer(value: number, width?: HeadWidth, path = 'int'): this {
    return value < 0
      ? this.head(Major.nint, -1 - value, width, path)
      : this.head(Major.uint, value, width, path);
  }

  null(): this {
    return this.raw(Uint8Array.of(NULL_BYTE));
  }

  break(): this {
    return this.raw(Uint8Array.of(BREAK_BYTE));
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

/** Records, by item path, every head whose width is not the minimal one. @internal */
export class HeadLog {
  readonly widths: Record<string, HeadWidth> = {};

  note(path: string, h: Head): void {
    if (h.width === 'indefinite' || h.width !== minimalWidth(h.value)) this.widths[path] = h.width;
  }
}
