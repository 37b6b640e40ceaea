/**
 * Decoding of a CoMID (`concise-mid-tag`, draft-ietf-rats-corim-11 §5): tag identity,
 * entities and reference triples (environment + measurements). Other triple kinds are
 * recognised and listed, not read.
 *
 * @internal
 * @module
 */
import { decodeCbor } from './cbor.js';
import type { CborLimits } from './cbor.js';
import { readMeasurementValues } from './decode-values.js';
import { invalid } from './errors.js';
import { readClassId, readGroupId, readInstanceId, readMkey, uuidToString } from './ids.js';
import {
  asArray,
  asBytes,
  asMap,
  asText,
  asUint,
  asUri,
  at,
  defined,
  need,
  nth,
  optional,
} from './read-kit.js';
import type {
  ClassMap,
  Comid,
  Entity,
  Environment,
  Measurement,
  ReferenceTriple,
  UuidId,
} from './types.js';

/** Names of the `triples-map` keys (for messages and {@link Comid.otherTriples}). */
export const TRIPLE_NAMES: Readonly<Record<number, string>> = {
  0: 'reference-triples',
  1: 'endorsed-triples',
  2: 'identity-triples',
  3: 'attest-key-triples',
  4: 'dependency-triples',
  5: 'membership-triples',
  6: 'coswid-triples',
  8: 'conditional-endorsement-series-triples',
  10: 'conditional-endorsement-triples',
};

/** `tag-id` / `corim-id`: text or a 16-byte UUID. */
export function readTextOrUuid(v: unknown, path: string): string | UuidId {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array && v.length === 16) return { uuid: uuidToString(v) };
  throw invalid(path, 'expected a text string or a 16-byte UUID');
}

/** `entity-map` (CoRIM and CoMID share the shape). */
export function readEntity(v: unknown, path: string): Entity {
  const m = asMap(v, path);
  const rolesPath = at(path, 'role');
  return defined({
    name: asText(need(m, 0, at(path, 'entity-name')), at(path, 'entity-name')),
    regId: optional(m, 1, at(path, 'reg-id'), asUri),
    roles: asArray(need(m, 2, rolesPath), rolesPath, 1).map((r, i) => asUint(r, nth(rolesPath, i))),
  });
}

function readClass(v: unknown, path: string): ClassMap {
  const m = asMap(v, path);
  if (m.size === 0) throw invalid(path, 'class-map must not be empty');
  return defined({
    classId: optional(m, 0, at(path, 'class-id'), readClassId),
    vendor: optional(m, 1, at(path, 'vendor'), asText),
    model: optional(m, 2, at(path, 'model'), asText),
    layer: optional(m, 3, at(path, 'layer'), (x, p) => asUint(x, p)),
    index: optional(m, 4, at(path, 'index'), (x, p) => asUint(x, p)),
  });
}

/** `environment-map`. */
export function readEnvironment(v: unknown, path: string): Environment {
  const m = asMap(v, path);
  if (![0, 1, 2].some((k) => m.has(k))) throw invalid(path, 'environment-map must not be empty');
  return defined({
    class: optional(m, 0, at(path, 'class'), readClass),
    instance: optional(m, 1, at(path, 'instance'), readInstanceId),
    group: optional(m, 2, at(path, 'group'), readGroupId),
  });
}

function readMeasurement(v: unknown, path: string): Measurement {
  const m = asMap(v, path);
  return defined({
    mkey: optional(m, 0, at(path, 'mkey'), readMkey),
    mval: readMeasurementValues(need(m, 1, at(path, 'mval')), at(path, 'mval')),
  });
}

function readReferenceTriple(v: unknown, path: string): ReferenceTriple {
  const triple = asArray(v, path);
  if (triple.length !== 2) throw invalid(path, 'a reference triple is [environment, measurements]');
  const mPath = at(path, 'measurements');
  return {
    environment: readEnvironment(triple[0], at(path, 'environment')),
    measurements: asArray(triple[1], mPath, 1).map((x, i) => readMeasurement(x, nth(mPath, i))),
  };
}

function readTriples(v: unknown, path: string) {
  const m = asMap(v, path);
  if (m.size === 0) throw invalid(path, 'triples-map must not be empty');
  const refPath = at(path, 'reference-triples');
  const referenceTriples = m.has(0)
    ? asArray(m.get(0), refPath, 1).map((t, i) => readReferenceTriple(t, nth(refPath, i)))
    : [];
  const otherTriples = [...m.keys()]
    .filter((k) => k !== 0)
    .map((k) => (typeof k === 'number' && TRIPLE_NAMES[k]) || `triples-map key ${String(k)}`);
  return { referenceTriples, otherTriples };
}

/** A CoMID from the bytes of a `#6.506` tag at `path` (e.g. `corim.tags[0]`). */
export function decodeComid(v: unknown, path: string, limits: CborLimits): Comid {
  const bytes = asBytes(v, path);
  const m = asMap(decodeCbor(bytes, path, limits), path);
  const idPath = at(path, 'tag-identity');
  const identity = asMap(need(m, 1, idPath), idPath);
  const entPath = at(path, 'entities');
  const { referenceTriples, otherTriples } = readTriples(
    need(m, 4, at(path, 'triples')),
    at(path, 'triples'),
  );
  return defined({
    language: optional(m, 0, at(path, 'language'), asText),
    tagId: readTextOrUuid(need(identity, 0, at(idPath, 'tag-id')), at(idPath, 'tag-id')),
    tagVersion: optional(identity, 1, at(idPath, 'tag-version'), (x, p) => asUint(x, p)),
    entities: m.has(2)
      ? asArray(m.get(2), entPath, 1).map((e, i) => readEntity(e, nth(entPath, i)))
      : undefined,
    referenceTriples,
    otherTriples: otherTriples.length > 0 ? otherTriples : undefined,
  });
}
