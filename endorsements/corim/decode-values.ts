/**
 * Decoding of `measurement-values-map` (draft-ietf-rats-corim-11 §5.1.4.1.4): versions, SVNs,
 * digests, flags, raw values (tagged, masked, and the AMD profile's integers), integrity
 * registers and integer ranges. Other keys are listed in `unsupported`.
 *
 * @internal
 * @module
 */
import { invalid } from './errors.js';
import {
  asArray,
  asBool,
  asBytes,
  asInt,
  asMap,
  asTag,
  asText,
  asU64,
  asUint,
  at,
  defined,
  need,
  nth,
  optional,
} from './read-kit.js';
import { Tag } from './cbor.js';
import { FLAG_NAMES } from './types.js';
import type {
  Digest,
  FlagName,
  IntegrityRegister,
  IntRange,
  MeasurementValues,
  RawValue,
  Svn,
  VersionMap,
} from './types.js';

/** Keys of `measurement-values-map` that {@link readMeasurementValues} models. */
const MODELLED = new Set([0, 1, 2, 3, 4, 5, 11, 14, 15]);

function readVersion(v: unknown, path: string): VersionMap {
  const m = asMap(v, path);
  return defined({
    version: asText(need(m, 0, at(path, 'version')), at(path, 'version')),
    scheme: optional(m, 1, at(path, 'version-scheme'), asInt),
  });
}

function readSvn(v: unknown, path: string): Svn {
  if (v instanceof Tag) {
    const t = asTag(v, path, 552, 553);
    const n = asU64(t.value, path);
    return t.tag === 553 ? { min: n } : { exact: n };
  }
  return { exact: asU64(v, path) };
}

function readDigest(v: unknown, path: string): Digest {
  const pair = asArray(v, path);
  if (pair.length !== 2) throw invalid(path, 'a digest is [alg, value]');
  const alg = typeof pair[0] === 'string' ? pair[0] : asInt(pair[0], at(path, 'alg'));
  const value = asBytes(pair[1], at(path, 'value'));
  if (value.length === 0 || value.length > 128)
    throw invalid(at(path, 'value'), 'must be 1..128 bytes');
  return { alg, value };
}

/** `digests-type`: `[+ [alg, bytes]]`. */
export function readDigests(v: unknown, path: string): Digest[] {
  return asArray(v, path, 1).map((d, i) => readDigest(d, nth(path, i)));
}

function readFlags(v: unknown, path: string, unsupported: (string | number)[]) {
  const m = asMap(v, path);
  if (m.size === 0) throw invalid(path, 'flags-map must not be empty');
  const out: Partial<Record<FlagName, boolean>> = {};
  for (const [k, value] of m) {
    const name = typeof k === 'number' ? FLAG_NAMES[k] : undefined;
    if (name === undefined) unsupported.push(`flags.${String(k)}`);
    else out[name] = asBool(value, at(path, name));
  }
  return out;
}

function readRawValue(m: Map<unknown, unknown>, path: string): RawValue {
  const v = m.get(4);
  const deprecatedMask = optional(m, 5, at(path, 'raw-value-mask'), asBytes);
  if (typeof v === 'number' || typeof v === 'bigint') {
    if (deprecatedMask) throw invalid(at(path, 'raw-value-mask'), 'applies to byte values only');
    return { int: asInt(v, at(path, 'raw-value')) };
  }
  const t = asTag(v, at(path, 'raw-value'), 560, 563);
  if (t.tag === 560) {
    const bytes = asBytes(t.value, at(path, 'raw-value'));
    return maskedValue(bytes, deprecatedMask, at(path, 'raw-value-mask'));
  }
  if (deprecatedMask) throw invalid(at(path, 'raw-value-mask'), 'not allowed with #6.563');
  const pair = asArray(t.value, at(path, 'raw-value'));
  if (pair.length !== 2) throw invalid(at(path, 'raw-value'), 'masked raw value is [value, mask]');
  const bytes = asBytes(pair[0], at(path, 'raw-value.value'));
  return maskedValue(
    bytes,
    asBytes(pair[1], at(path, 'raw-value.mask')),
    at(path, 'raw-value.mask'),
  );
}

function maskedValue(bytes: Uint8Array, mask: Uint8Array | undefined, path: string): RawValue {
  if (mask === undefined) return { bytes };
  if (mask.length !== bytes.length) throw invalid(path, 'mask and value differ in length');
  return { bytes, mask };
}

function readRegisters(v: unknown, path: string): IntegrityRegister[] {
  const m = asMap(v, path);
  if (m.size === 0) throw invalid(path, 'integrity-registers must not be empty');
  return [...m].map(([k, value]) => {
    const id = typeof k === 'string' ? k : asUint(k, `${path} key`);
    return { id, digests: readDigests(value, `${path}[${JSON.stringify(id)}]`) };
  });
}

function readIntRange(v: unknown, path: string): IntRange {
  if (!(v instanceof Tag)) return asInt(v, path);
  const pair = asArray(asTag(v, path, 564).value, path);
  if (pair.length !== 2) throw invalid(path, 'int-range is [min, max]');
  const end = (x: unknown, p: string) => (x === null ? null : asInt(x, p));
  const range = { min: end(pair[0], at(path, 'min')), max: end(pair[1], at(path, 'max')) };
  if (range.min !== null && range.max !== null && range.min > range.max) {
    throw invalid(path, `min ${range.min} is greater than max ${range.max}`);
  }
  return range;
}

/** `measurement-values-map` at `path` (e.g. `…measurements[0].mval`). */
export function readMeasurementValues(v: unknown, path: string): MeasurementValues {
  const m = asMap(v, path);
  if (m.size === 0) throw invalid(path, 'measurement-values-map must not be empty');
  if (m.has(5) && !m.has(4)) throw invalid(at(path, 'raw-value-mask'), 'requires raw-value');
  const unsupported: (string | number)[] = [];
  const out: MeasurementValues = defined({
    version: optional(m, 0, at(path, 'version'), readVersion),
    svn: optional(m, 1, at(path, 'svn'), readSvn),
    digests: optional(m, 2, at(path, 'digests'), readDigests),
    flags: optional(m, 3, at(path, 'flags'), (x, p) => readFlags(x, p, unsupported)),
    rawValue: m.has(4) ? readRawValue(m, path) : undefined,
    name: optional(m, 11, at(path, 'name'), asText),
    integrityRegisters: optional(m, 14, at(path, 'integrity-registers'), readRegisters),
    intRange: optional(m, 15, at(path, 'int-range'), readIntRange),
  });
  for (const k of m.keys()) {
    if (typeof k === 'number' && MODELLED.has(k)) continue;
    unsupported.push(typeof k === 'number' || typeof k === 'string' ? k : String(k));
  }
  return unsupported.length > 0 ? { ...out, unsupported } : out;
}
