/**
 * A seeded byte mutator for the verify-path property test: bit flips, byte sets, truncation,
 * extension, deletions, duplications and copies, aimed partly at "hot" ranges (the public
 * keys and DER headers of certificates), plus a PEM-aware mutation that edits the DER of a
 * certificate embedded as PEM (in a quote's PCK chain, a CA chain or TDX collateral) and
 * writes it back in place, so the enclosing format still parses.
 *
 * @module
 */

/** A half-open byte range `[start, end)`. */
export type Range = readonly [number, number];

/** A certificate embedded as PEM text in an item, located once in the base bytes. */
export interface PemCert {
  /** Positions of the base64 characters of its body in the item (whitespace and `\n` escapes skipped). */
  readonly chars: readonly number[];
  /** TBSCertificate and SubjectPublicKeyInfo ranges inside its DER. */
  readonly tbs: Range;
  readonly spki: Range;
  /** True when verification must use this certificate (a leaf): a changed TBS must not verify. */
  readonly signed: boolean;
}

/** One mutable input of a case: the evidence or one endorsement. */
export interface FuzzItem {
  /** `evidence` or a key of `SuppliedEndorsements`. */
  readonly key: string;
  readonly bytes: Uint8Array;
  /** Ranges whose bytes a signature covers and verification must use. */
  readonly signed: readonly Range[];
  /** Ranges worth aiming flips at (SubjectPublicKeyInfo, lengths, headers). */
  readonly hot: readonly Range[];
  readonly pem: readonly PemCert[];
}

/** The outcome of one mutation. */
export interface Mutated {
  readonly bytes: Uint8Array;
  readonly kind: string;
  /** A byte of a signed range (or of a signed embedded TBS) differs from the base. */
  readonly signedChanged: boolean;
}

/** Small fast seeded PRNG (sfc32); deterministic for a given seed. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.next();
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform integer in `[0, n)`; 0 when `n` ≤ 0. */
  int(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

const INTERESTING = [0x00, 0x01, 0x02, 0x03, 0x04, 0x7f, 0x80, 0x81, 0x82, 0xff];

/** A position: half the time inside a hot range, else anywhere. */
function position(rng: Rng, length: number, hot: readonly Range[]): number {
  if (hot.length > 0 && rng.int(2) === 0) {
    const [s, e] = rng.pick(hot);
    return Math.min(length - 1, s + rng.int(e - s));
  }
  return rng.int(length);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** In-place edits of a copy: XOR flips (always change), interesting values, copied chunks. */
function overwrite(rng: Rng, base: Uint8Array, hot: readonly Range[]): Uint8Array {
  const out = base.slice();
  const n = 1 + rng.int(4);
  for (let i = 0; i < n; i++) {
    const at = position(rng, out.length, hot);
    const how = rng.int(3);
    if (how === 0) out[at] = out[at]! ^ (1 + rng.int(255));
    else if (how === 1) out[at] = rng.pick(INTERESTING);
    else out[at] = out[at]! ^ (1 << rng.int(8));
  }
  return out;
}

const BYTE_KINDS = ['overwrite', 'truncate', 'extend', 'delete', 'duplicate', 'copy'] as const;

function mutateBytes(rng: Rng, item: FuzzItem, kind: string): Uint8Array {
  const b = item.bytes;
  const at = position(rng, b.length, item.hot);
  const n = 1 + rng.int(rng.int(2) === 0 ? 8 : 128);
  switch (kind) {
    case 'truncate':
      return b.slice(0, at);
    case 'extend':
      return concat(b, rng.bytes(n));
    case 'delete':
      return concat(b.subarray(0, at), b.subarray(at + n));
    case 'duplicate':
      return concat(b.subarray(0, at + n), b.subarray(at, at + n), b.subarray(at + n));
    case 'copy': {
      const out = b.slice();
      const from = rng.int(b.length);
      out.set(b.subarray(from, from + n).subarray(0, Math.max(0, b.length - at)), at);
      return out;
    }
    default:
      return overwrite(rng, b, item.hot);
  }
}

/** Decodes, mutates (same length) and re-encodes one embedded PEM certificate. */
function mutatePem(rng: Rng, item: FuzzItem, cert: PemCert): { bytes: Uint8Array; tbs: boolean } {
  const b64 = String.fromCharCode(...cert.chars.map((i) => item.bytes[i]!));
  const der = new Uint8Array(Buffer.from(b64, 'base64'));
  // Mostly the public key, sometimes the whole TBS or the outer headers and signature.
  const hot = rng.int(4) === 0 ? [] : [cert.spki];
  const changed = overwrite(rng, der, hot);
  const text = Buffer.from(changed).toString('base64');
  const out = item.bytes.slice();
  cert.chars.forEach((pos, i) => (out[pos] = text.charCodeAt(i)));
  const [s, e] = cert.tbs;
  return { bytes: out, tbs: !Buffer.from(changed.subarray(s, e)).equals(der.subarray(s, e)) };
}

/**
 * A signed range changed when its bytes are no longer in place and not anywhere else either
 * (a deletion or duplication before it only moves it, and JSON does not care where it sits).
 */
function rangeChanged(base: Uint8Array, out: Uint8Array, [s, e]: Range): boolean {
  const signed = base.subarray(s, e);
  const buf = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  if (out.length >= e && buf.subarray(s, e).equals(signed)) return false;
  return buf.indexOf(signed) < 0;
}

/**
 * One mutation of `item`: a PEM-aware edit when it embeds certificates (a third of the
 * time), else one of the byte mutations. Reports whether a signed byte changed.
 */
export function mutateItem(rng: Rng, item: FuzzItem): Mutated {
  if (item.pem.length > 0 && rng.int(3) === 0) {
    const cert = rng.pick(item.pem);
    const { bytes, tbs } = mutatePem(rng, item, cert);
    const signedChanged =
      (cert.signed && tbs) || item.signed.some((r) => rangeChanged(item.bytes, bytes, r));
    return { bytes, kind: 'pem-der', signedChanged };
  }
  const kind = rng.pick(BYTE_KINDS);
  const bytes = mutateBytes(rng, item, kind);
  return {
    bytes,
    kind,
    signedChanged: item.signed.some((r) => rangeChanged(item.bytes, bytes, r)),
  };
}

/**
 * Locates the PEM certificates of `bytes` (PEM text, or PEM inside a binary quote or a JSON
 * string with `\n` escapes), with the DER ranges `derRanges` computes for each.
 */
export function findPemCerts(
  bytes: Uint8Array,
  derRanges: (der: Uint8Array) => { tbs: Range; spki: Range },
  isSigned: (index: number) => boolean,
): PemCert[] {
  const text = Buffer.from(bytes).toString('latin1');
  const begin = '-----BEGIN CERTIFICATE-----';
  const out: PemCert[] = [];
  for (let at = text.indexOf(begin); at >= 0; at = text.indexOf(begin, at + 1)) {
    const end = text.indexOf('-----END', at + begin.length);
    if (end < 0) break;
    const chars: number[] = [];
    for (let i = at + begin.length; i < end; i++) {
      const c = text[i]!;
      if (c === '\\') i++;
      else if (/[A-Za-z0-9+/=]/.test(c)) chars.push(i);
    }
    const der = new Uint8Array(Buffer.from(chars.map((i) => text[i]).join(''), 'base64'));
    out.push({ chars, ...derRanges(der), signed: isSigned(out.length) });
  }
  return out;
}
