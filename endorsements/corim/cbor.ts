/**
 * CBOR for CoRIM: a strict well-formedness scan that runs before cbor-x decodes anything, and
 * the cbor-x decoder and encoder configured for CoRIM (maps stay `Map`s with integer keys,
 * byte strings are untagged).
 *
 * The scan bounds what cbor-x is asked to do: total size, nesting depth and item count are
 * limited; every length is checked against the bytes actually left (so a length field cannot
 * trigger a large allocation); strings are valid UTF-8; maps have no duplicate keys; only the
 * tags CoRIM uses are allowed (so none of cbor-x's own tag extensions, such as shared
 * references or typed arrays, ever runs); exactly one item fills the input.
 *
 * @internal
 * @module
 */
import { Decoder, Encoder, Tag } from 'cbor-x';
import { invalid } from './errors.js';

export { Tag };

/** Size limits of CoRIM decoding. */
export interface CborLimits {
  /** Largest input, in bytes (whole CoRIM, and each embedded CoMID). Default 1 MiB. */
  readonly maxBytes: number;
  /** Deepest nesting of arrays, maps and tags. Default 32. */
  readonly maxDepth: number;
  /** Most data items in one input. Default 100,000. */
  readonly maxItems: number;
}

/** The limits used when none are given. */
export const DEFAULT_CBOR_LIMITS: CborLimits = Object.freeze({
  maxBytes: 1 << 20,
  maxDepth: 32,
  maxItems: 100_000,
});

/** Tags a CoRIM may contain: time, COSE_Sign1, URI, UUID, OID and the CoRIM range 500-599. */
function allowedTag(tag: number): boolean {
  return (
    tag === 1 || tag === 18 || tag === 32 || tag === 37 || tag === 111 || (tag >= 500 && tag < 600)
  );
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

class Scanner {
  private pos = 0;
  private items = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly path: string,
    private readonly limits: CborLimits,
  ) {}

  fail(message: string, at = this.pos): never {
    throw invalid(this.path, `malformed CBOR at byte ${at}: ${message}`);
  }

  scanAll(): void {
    this.item(0);
    if (this.pos !== this.bytes.length) {
      this.fail(`${this.bytes.length - this.pos} trailing bytes after the item`);
    }
  }

  private argument(info: number, start: number): number {
    if (info < 24) return info;
    const width = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
    if (width === 0) this.fail(`reserved additional information ${info}`, start);
    if (this.pos + width > this.bytes.length) this.fail('truncated item head', start);
    let value = 0;
    for (let i = 0; i < width; i++) value = value * 256 + this.bytes[this.pos++]!;
    return value;
  }

  private take(n: number, start: number): Uint8Array {
    if (n > this.bytes.length - this.pos) this.fail(`length ${n} exceeds the bytes left`, start);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  private item(depth: number): void {
    if (++this.items > this.limits.maxItems) this.fail(`more than ${this.limits.maxItems} items`);
    if (depth > this.limits.maxDepth) this.fail(`nested deeper than ${this.limits.maxDepth}`);
    const start = this.pos;
    if (start >= this.bytes.length) this.fail('truncated: an item is missing', start);
    const initial = this.bytes[this.pos++]!;
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (info === 31) return this.indefinite(major, depth, start);
    const arg = this.argument(info, start);
    switch (major) {
      case 0:
      case 1:
        return;
      case 2:
        this.take(arg, start);
        return;
      case 3:
        return this.text(arg, start);
      case 4:
        return this.array(arg, depth, start);
      case 5:
        return this.map(arg, depth, start);
      case 6:
        if (!allowedTag(arg)) this.fail(`CBOR tag ${arg} is not used by CoRIM`, start);
        return this.item(depth + 1);
      default:
        return this.simple(info, start);
    }
  }

  private text(length: number, start: number): void {
    try {
      utf8.decode(this.take(length, start));
    } catch {
      this.fail('text string is not valid UTF-8', start);
    }
  }

  private array(count: number, depth: number, start: number): void {
    if (count > this.bytes.length - this.pos)
      this.fail(`array of ${count} exceeds the bytes left`, start);
    for (let i = 0; i < count; i++) this.item(depth + 1);
  }

  private map(count: number, depth: number, start: number): void {
    if (count * 2 > this.bytes.length - this.pos)
      this.fail(`map of ${count} exceeds the bytes left`, start);
    const keys = new Set<string>();
    for (let i = 0; i < count; i++) this.entry(keys, depth, start);
  }

  private entry(keys: Set<string>, depth: number, start: number): void {
    const keyStart = this.pos;
    this.item(depth + 1);
    const key = Buffer.from(this.bytes.subarray(keyStart, this.pos)).toString('latin1');
    if (keys.has(key)) this.fail('duplicate map key', start);
    keys.add(key);
    this.item(depth + 1);
  }

  private indefinite(major: number, depth: number, start: number): void {
    if (major !== 4 && major !== 5) {
      this.fail(major === 7 ? 'unexpected break' : 'indefinite length not allowed here', start);
    }
    const keys = new Set<string>();
    while (true) {
      if (this.pos >= this.bytes.length) this.fail('truncated: missing break', start);
      if (this.bytes[this.pos] === 0xff) {
        this.pos++;
        return;
      }
      if (major === 4) this.item(depth + 1);
      else this.entry(keys, depth, start);
    }
  }

  private simple(info: number, start: number): void {
    // false, true, null and floats only: `undefined` and unassigned simple values are not CoRIM.
    if (info >= 20 && info <= 22) return;
    if (info >= 25 && info <= 27) return;
    this.fail(`simple value ${info} is not allowed`, start);
  }
}

/** Checks that `bytes` is one well-formed CBOR item within `limits`. */
export function scanCbor(bytes: Uint8Array, path: string, limits: CborLimits): void {
  if (bytes.length > limits.maxBytes) {
    throw invalid(path, `${bytes.length} bytes is over the ${limits.maxBytes}-byte limit`);
  }
  new Scanner(bytes, path, limits).scanAll();
}

const decoder = new Decoder({ mapsAsObjects: false, useRecords: false });
const encoder = new Encoder({
  mapsAsObjects: false,
  useRecords: false,
  tagUint8Array: false,
  variableMapSize: true,
});

/** Scans, then decodes one CBOR item; any failure is `ERR_CORIM_INVALID` at `path`. */
export function decodeCbor(bytes: Uint8Array, path: string, limits: CborLimits): unknown {
  scanCbor(bytes, path, limits);
  try {
    // A fresh view: cbor-x caches a `dataView` property on the array it decodes.
    return decoder.decode(bytes.subarray(0)) as unknown;
  } catch (err) {
    throw invalid(path, `CBOR: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}

/** Encodes a value built from `Map`, arrays, `Uint8Array`, strings, numbers and {@link Tag}s. */
export function encodeCbor(value: unknown): Uint8Array {
  return new Uint8Array(encoder.encode(value));
}

/** A `Tag` for encoding. */
export function tag(number: number, value: unknown): Tag {
  return new Tag(value, number);
}
