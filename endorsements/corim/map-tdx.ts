/**
 * TDX reference triples (twi's convention, `docs/corim.md`) → twi `tdx` reference values.
 *
 * @internal
 * @module
 */
import type { TdAttributesRule, TdxReferences } from '../../verifier/policy/types.js';
import { invalid, unsupported } from './errors.js';
import { digestValues, exactValues, expectOnly, fullMask, hex, rawBytes } from './map-kit.js';
import { mergeTdx } from './merge-references.js';
import { TDX_MKEYS } from './profiles.js';
import type { TdxMkey } from './profiles.js';
import type { Measurement, MeasurementValues, ReferenceTriple } from './types.js';

type Refs = Record<string, unknown>;

const RTMR_KEYS = ['rtmr0', 'rtmr1', 'rtmr2', 'rtmr3'] as const;

function put(refs: Refs, key: keyof TdxReferences, value: unknown, path: string): void {
  if (key in refs) throw invalid(path, `${key} is stated twice in one triple`);
  refs[key] = value;
}

/** RTMR0..3 from `integrity-registers` keyed by register index. */
function rtmrs(mval: MeasurementValues, path: string, refs: Refs): void {
  expectOnly(mval, path, ['integrityRegisters']);
  if (!mval.integrityRegisters) throw invalid(path, 'the RTMRs are stated as integrity-registers');
  for (const r of mval.integrityRegisters) {
    const rpath = `${path}.integrity-registers[${JSON.stringify(r.id)}]`;
    if (typeof r.id !== 'number' || r.id > 3) throw unsupported(rpath, 'TDX has RTMR 0..3 only');
    put(refs, RTMR_KEYS[r.id]!, digestValues(r.digests, rpath, 48), rpath);
  }
}

/** TDATTRIBUTES: 8 raw little-endian bytes, optionally masked. */
function tdAttributes(mval: MeasurementValues, path: string): TdAttributesRule {
  expectOnly(mval, path, ['rawValue']);
  if (!mval.rawValue) throw invalid(path, 'TDATTRIBUTES needs a raw-value');
  const raw = rawBytes(mval.rawValue, `${path}.raw-value`, 8);
  if (fullMask(raw.mask)) return { value: hex(raw.bytes), flags: {} };
  return {
    value: hex(raw.bytes.map((b, i) => b & raw.mask![i]!)),
    mask: hex(raw.mask!),
    flags: {},
  };
}

/** XFAM: 8 raw little-endian bytes; the policy compares all of them. */
function xfam(mval: MeasurementValues, path: string): string[] {
  expectOnly(mval, path, ['rawValue']);
  if (!mval.rawValue) throw invalid(path, 'XFAM needs a raw-value');
  const raw = rawBytes(mval.rawValue, `${path}.raw-value`, 8);
  if (!fullMask(raw.mask))
    throw unsupported(`${path}.raw-value`, 'twi policies compare all 64 XFAM bits');
  return [hex(raw.bytes)];
}

function measurementRefs(m: Measurement, path: string, refs: Refs): void {
  const vpath = `${path}.mval`;
  if (m.mkey === undefined && m.mval.integrityRegisters) return rtmrs(m.mval, vpath, refs);
  if (m.mkey === undefined) return expectOnly(m.mval, vpath, []);
  if (typeof m.mkey !== 'string' || !TDX_MKEYS.includes(m.mkey as TdxMkey)) {
    throw unsupported(
      `${path}.mkey`,
      `${JSON.stringify(m.mkey)} is not a TDX mkey (${TDX_MKEYS.join(', ')})`,
    );
  }
  const key = m.mkey as TdxMkey;
  if (key === 'rtmr') return rtmrs(m.mval, vpath, refs);
  if (key === 'tdattributes') return put(refs, 'td_attributes', tdAttributes(m.mval, vpath), path);
  if (key === 'xfam') return put(refs, 'xfam', xfam(m.mval, vpath), path);
  put(refs, key, exactValues(m.mval, vpath, 48), path);
}

function tripleRefs(triple: ReferenceTriple, path: string): TdxReferences {
  if (triple.environment.instance !== undefined) {
    throw unsupported(`${path}.environment.instance`, 'TD instances cannot be appraised');
  }
  const refs: Refs = {};
  triple.measurements.forEach((m, i) => measurementRefs(m, `${path}.measurements[${i}]`, refs));
  return refs as TdxReferences;
}

/** TDX reference values of triples (at `paths`), alternatives merged field by field. */
export function tdxReferences(
  triples: readonly ReferenceTriple[],
  paths: readonly string[],
): TdxReferences | undefined {
  return triples.reduce<TdxReferences | undefined>(
    (acc, t, i) => mergeTdx(acc, tripleRefs(t, paths[i]!)),
    undefined,
  );
}
