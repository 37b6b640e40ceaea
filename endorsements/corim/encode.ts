/**
 * Encoding of the CoRIM model: {@link buildCorim} (unsigned `#6.501`) and {@link signCorim}
 * (`#6.18` COSE_Sign1). What they write decodes back with `decodeCorim` to an equal model.
 * Map keys are written in ascending order.
 *
 * @internal
 * @module
 */
import { encodeCbor, tag } from './cbor.js';
import { signCoseSign1 } from './cose.js';
import type { SignCorimOptions } from './cose.js';
import { encodeMkey, encodeTaggedId, oidToBytes, uuidToBytes } from './ids.js';
import { FLAG_NAMES } from './types.js';
import type {
  ClassMap,
  Comid,
  Corim,
  Digest,
  Entity,
  Environment,
  Measurement,
  MeasurementValues,
  RawValue,
  Svn,
  UuidId,
} from './types.js';
import { encodeValidity } from './validity.js';

type CborMap = Map<number | string, unknown>;

/** A map from `[key, value]` pairs, leaving out undefined values. */
function cborMap(entries: readonly (readonly [number | string, unknown])[]): CborMap {
  return new Map(entries.filter(([, v]) => v !== undefined) as [number | string, unknown][]);
}

const textOrUuid = (id: string | UuidId): unknown =>
  typeof id === 'string' ? id : uuidToBytes(id.uuid);

/** Integers that fit a number are written as numbers (shortest encoding). */
const uint = (n: bigint): number | bigint => (n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n);

function entity(e: Entity): CborMap {
  return cborMap([
    [0, e.name],
    [1, e.regId === undefined ? undefined : tag(32, e.regId)],
    [2, [...e.roles]],
  ]);
}

function classMap(c: ClassMap): CborMap {
  return cborMap([
    [0, c.classId && encodeTaggedId(c.classId)],
    [1, c.vendor],
    [2, c.model],
    [3, c.layer],
    [4, c.index],
  ]);
}

function environment(e: Environment): CborMap {
  return cborMap([
    [0, e.class && classMap(e.class)],
    [1, e.instance && encodeTaggedId(e.instance)],
    [2, e.group && encodeTaggedId(e.group)],
  ]);
}

const digests = (ds: readonly Digest[]) => ds.map((d) => [d.alg, d.value]);

function svn(s: Svn): unknown {
  return 'min' in s ? tag(553, uint(s.min)) : tag(552, uint(s.exact));
}

function rawValue(r: RawValue): unknown {
  if ('int' in r) return r.int;
  return r.mask === undefined ? tag(560, r.bytes) : tag(563, [r.bytes, r.mask]);
}

function flags(f: NonNullable<MeasurementValues['flags']>): CborMap {
  return cborMap(FLAG_NAMES.map((name, i) => [i, f[name]] as const));
}

function intRange(r: NonNullable<MeasurementValues['intRange']>): unknown {
  return typeof r === 'number' ? r : tag(564, [r.min, r.max]);
}

function values(v: MeasurementValues): CborMap {
  if (v.unsupported?.length) {
    throw new TypeError(`cannot encode measurement values with keys ${v.unsupported.join(', ')}`);
  }
  const version =
    v.version &&
    cborMap([
      [0, v.version.version],
      [1, v.version.scheme],
    ]);
  const registers =
    v.integrityRegisters &&
    new Map(v.integrityRegisters.map((r) => [r.id, digests(r.digests)] as const));
  return cborMap([
    [0, version],
    [1, v.svn && svn(v.svn)],
    [2, v.digests && digests(v.digests)],
    [3, v.flags && flags(v.flags)],
    [4, v.rawValue && rawValue(v.rawValue)],
    [11, v.name],
    [14, registers],
    [15, v.intRange === undefined ? undefined : intRange(v.intRange)],
  ]);
}

function measurement(m: Measurement): CborMap {
  return cborMap([
    [0, m.mkey === undefined ? undefined : encodeMkey(m.mkey)],
    [1, values(m.mval)],
  ]);
}

/**
 * The bytes of a CoMID (`concise-mid-tag`, without the `#6.506` tag).
 *
 * @example
 * ```ts
 * const bytes = buildComid({ tagId: 'my-tdx-refs', referenceTriples: [tdxReferenceTriple(refs)] });
 * ```
 */
export function buildComid(c: Comid): Uint8Array {
  if (c.otherTriples?.length)
    throw new TypeError('cannot encode triples other than reference triples');
  if (c.referenceTriples.length === 0)
    throw new TypeError('a CoMID needs at least one reference triple');
  const identity = cborMap([
    [0, textOrUuid(c.tagId)],
    [1, c.tagVersion],
  ]);
  const triples = c.referenceTriples.map((t) => [
    environment(t.environment),
    t.measurements.map(measurement),
  ]);
  return encodeCbor(
    cborMap([
      [0, c.language],
      [1, identity],
      [2, c.entities?.map(entity)],
      [4, new Map([[0, triples]])],
    ]),
  );
}

function profile(p: NonNullable<Corim['profile']>): unknown {
  return 'uri' in p ? tag(32, p.uri) : tag(111, oidToBytes(p.oid));
}

/**
 * Encodes an unsigned CoRIM: `#6.501(corim-map)` with each CoMID as `#6.506(bstr)`.
 *
 * @example
 * ```ts
 * const bytes = buildCorim({
 *   id: 'tag:example.com,2026:tdx-refs',
 *   comids: [{ tagId: 'tdx-refs', referenceTriples: [tdxReferenceTriple({ mrtd: '91eb…' })] }],
 *   validity: { notAfter: new Date('2027-01-01T00:00:00Z') },
 * });
 * ```
 */
export function buildCorim(corim: Corim): Uint8Array {
  const tags = [
    ...corim.comids.map((c) => tag(506, buildComid(c))),
    ...(corim.otherTags ?? []).map((t) => tag(t.type === 'coswid' ? 505 : 508, t.bytes)),
  ];
  if (tags.length === 0) throw new TypeError('a CoRIM needs at least one tag');
  return encodeCbor(
    tag(
      501,
      cborMap([
        [0, textOrUuid(corim.id)],
        [1, tags],
        [3, corim.profile && profile(corim.profile)],
        [4, corim.validity && encodeValidity(corim.validity)],
        [5, corim.entities?.map(entity)],
      ]),
    ),
  );
}

/**
 * Signs a CoRIM (the model, or the bytes {@link buildCorim} returned) as a `#6.18`
 * COSE_Sign1 with content type `application/rim+cbor` and a `corim-meta` signer.
 *
 * @example
 * ```ts
 * const { privateKey } = newKeyPair('ec', { namedCurve: 'P-384' });
 * const signed = signCorim(corim, { key: privateKey, signer: { name: 'ACME builds' } }); // ES384
 * ```
 */
export function signCorim(corim: Corim | Uint8Array, options: SignCorimOptions): Uint8Array {
  const payload = corim instanceof Uint8Array ? corim : buildCorim(corim);
  return signCoseSign1(payload, options);
}
