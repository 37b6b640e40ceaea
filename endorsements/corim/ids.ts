/**
 * Identifier codecs: OIDs (`#6.111`, BER content octets ⇄ dotted decimal), UUIDs (16 bytes
 * ⇄ 8-4-4-4-12 text) and the tagged identifier choices of environments and measurements.
 *
 * @internal
 * @module
 */
import { tag, Tag } from './cbor.js';
import { invalid } from './errors.js';
import { asBytes, asTag, asUint } from './read-kit.js';
import type { ClassId, GroupId, InstanceId, Mkey } from './types.js';

/** Dotted decimal of OID content octets (X.690 §8.19). */
export function oidToString(bytes: Uint8Array, path: string): string {
  if (bytes.length === 0 || bytes.length > 64) throw invalid(path, 'OID must be 1..64 bytes');
  const arcs: bigint[] = [];
  let value = 0n;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (value === 0n && b === 0x80) throw invalid(path, 'OID arc is not minimally encoded');
    value = (value << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(value);
      value = 0n;
    } else if (i === bytes.length - 1) {
      throw invalid(path, 'OID ends inside an arc');
    }
  }
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

function base128(n: bigint): number[] {
  const out = [Number(n & 0x7fn)];
  for (let v = n >> 7n; v > 0n; v >>= 7n) out.unshift(Number(v & 0x7fn) | 0x80);
  return out;
}

/** OID content octets of a dotted decimal OID. */
export function oidToBytes(oid: string): Uint8Array {
  if (!/^[0-2](\.(0|[1-9]\d*))+$/.test(oid)) throw new TypeError(`not a dotted OID: ${oid}`);
  const arcs = oid.split('.').map((a) => BigInt(a));
  if (arcs[0]! < 2n && arcs[1]! >= 40n) throw new TypeError(`bad second arc in ${oid}`);
  const parts = [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)];
  return Uint8Array.from(parts.flatMap(base128));
}

/** `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` of 16 bytes. */
export function uuidToString(bytes: Uint8Array): string {
  const h = Buffer.from(bytes).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The 16 bytes of a UUID text. */
export function uuidToBytes(uuid: string): Uint8Array {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uuid)) {
    throw new TypeError(`not a UUID: ${uuid}`);
  }
  return new Uint8Array(Buffer.from(uuid.replace(/-/g, ''), 'hex'));
}

type TaggedId = ClassId | InstanceId;

function readTaggedId(v: unknown, path: string, numbers: number[]): TaggedId {
  const t = asTag(v, path, ...numbers);
  if (t.tag === 111) return { oid: oidToString(asBytes(t.value, path), path) };
  if (t.tag === 37) return { uuid: uuidToString(asBytes(t.value, path, 16)) };
  if (t.tag === 550) {
    const ueid = asBytes(t.value, path);
    if (ueid.length < 7 || ueid.length > 33) throw invalid(path, 'UEID must be 7..33 bytes');
    return { ueid };
  }
  return { bytes: asBytes(t.value, path) };
}

/** `$class-id-type-choice`. */
export function readClassId(v: unknown, path: string): ClassId {
  return readTaggedId(v, path, [111, 37, 560]) as ClassId;
}

/** `$instance-id-type-choice` (UEID, UUID, tagged bytes). */
export function readInstanceId(v: unknown, path: string): InstanceId {
  return readTaggedId(v, path, [550, 37, 560]) as InstanceId;
}

/** `$group-id-type-choice`. */
export function readGroupId(v: unknown, path: string): GroupId {
  return readTaggedId(v, path, [37, 560]) as GroupId;
}

/** `$measured-element-type-choice`. */
export function readMkey(v: unknown, path: string): Mkey {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return asUint(v, path);
  if (v instanceof Tag && (v.tag === 111 || v.tag === 37)) {
    return readTaggedId(v, path, [111, 37]) as Mkey;
  }
  throw invalid(path, 'expected an mkey: uint, text, #6.111 OID or #6.37 UUID');
}

/** CBOR value of a tagged identifier. */
export function encodeTaggedId(id: TaggedId | GroupId): Tag {
  if ('oid' in id) return tag(111, oidToBytes(id.oid));
  if ('uuid' in id) return tag(37, uuidToBytes(id.uuid));
  if ('ueid' in id) return tag(550, id.ueid);
  return tag(560, id.bytes);
}

/** CBOR value of an mkey. */
export function encodeMkey(mkey: Mkey): unknown {
  return typeof mkey === 'object' ? encodeTaggedId(mkey) : mkey;
}

/** A short text form of an identifier, for messages and `twi corim inspect`. */
export function idText(id: TaggedId | Mkey): string {
  if (typeof id !== 'object') return String(id);
  if ('oid' in id) return `oid:${id.oid}`;
  if ('uuid' in id) return `uuid:${id.uuid}`;
  if ('ueid' in id) return `ueid:${Buffer.from(id.ueid).toString('hex')}`;
  return `bytes:${Buffer.from(id.bytes).toString('hex')}`;
}
