/** Parsers for CLI option values; bad values are caller misuse (TypeError → exit 3). */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readInputFile } from './io.js';

/** Bytes of a hex option value (an optional `0x` prefix is accepted). @internal */
export function hexOption(name: string, value: string, maxBytes?: number): Uint8Array {
  const hex = value.startsWith('0x') ? value.slice(2) : value;
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new TypeError(`${name} must be hex, got ${JSON.stringify(value)}`);
  }
  const bytes = new Uint8Array(Buffer.from(hex, 'hex'));
  if (maxBytes !== undefined && bytes.length > maxBytes) {
    throw new TypeError(`${name} is ${bytes.length} bytes, at most ${maxBytes} allowed`);
  }
  return bytes;
}

/** A hex value of exactly `size` bytes. @internal */
export function fixedHexOption(name: string, value: string, size: number): Uint8Array {
  const bytes = hexOption(name, value);
  if (bytes.length !== size) throw new TypeError(`${name} must be ${size} bytes`);
  return bytes;
}

/** Zero-pads bytes on the right to `size` (REPORT_DATA is always 64 bytes). @internal */
export function padTo(bytes: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  out.set(bytes);
  return out;
}

/** An ISO 8601 instant. @internal */
export function instantOption(name: string, value: string): Date {
  const d = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(d.getTime())) {
    throw new TypeError(`${name} must be an ISO 8601 instant, got ${JSON.stringify(value)}`);
  }
  return d;
}

/** A whole number within [min, max]. @internal */
export function intOption(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new TypeError(`${name} must be an integer from ${min} to ${max}`);
  }
  return n;
}

/** `INDEX=HEX` pairs of a repeatable option (RTMRs, PCRs). @internal */
export function indexedHexOption(
  name: string,
  values: readonly string[],
  maxIndex: number,
  sizes: readonly number[],
): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  for (const v of values) {
    const m = /^(\d+)=(.*)$/.exec(v);
    if (!m) throw new TypeError(`${name} takes INDEX=HEX, got ${JSON.stringify(v)}`);
    const index = intOption(name, m[1]!, 0, maxIndex);
    const bytes = hexOption(name, m[2]!);
    if (!sizes.includes(bytes.length)) {
      throw new TypeError(`${name} ${index} must be ${sizes.join(' or ')} bytes`);
    }
    out.set(index, bytes);
  }
  return out;
}

/** Collects a repeatable option's values. @internal */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A public key file: SPKI PEM or DER, or a public JWK in JSON. @internal */
export function readPublicKey(path: string): { key: KeyObject; jwk: JsonWebKey; spki: Uint8Array } {
  const bytes = readInputFile(path, 64 * 1024);
  const text = Buffer.from(bytes).toString('utf8').trim();
  let key: KeyObject;
  try {
    if (text.startsWith('{')) {
      key = createPublicKey({ key: JSON.parse(text) as JsonWebKey, format: 'jwk' });
    } else if (text.startsWith('-----BEGIN')) {
      key = createPublicKey(text);
    } else {
      key = createPublicKey({ key: Buffer.from(bytes), format: 'der', type: 'spki' });
    }
  } catch (err) {
    throw new TypeError(
      `${path}: not a public key (SPKI PEM/DER or JWK): ${(err as Error).message}`,
    );
  }
  if (key.type !== 'public') throw new TypeError(`${path}: expected a public key`);
  const spki = new Uint8Array(key.export({ format: 'der', type: 'spki' }));
  return { key, jwk: key.export({ format: 'jwk' }), spki };
}
