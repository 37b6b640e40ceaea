/**
 * Building blocks of the CoRIM → policy mapping: reading a measurement's values as the hex
 * a policy holds, and refusing (with `ERR_CORIM_UNSUPPORTED`) anything a measurement states
 * that the policy model cannot express, rather than silently dropping a constraint.
 *
 * @internal
 * @module
 */
import { invalid, unsupported } from './errors.js';
import { digestLength } from './profiles.js';
import type { Digest, FlagName, MeasurementValues, RawValue } from './types.js';

/** Lowercase hex of bytes. */
export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Flags a TEE reference value may state: each is implied by any verified TEE report. */
const IMPLIED_FLAGS: Readonly<Partial<Record<FlagName, boolean>>> = {
  'is-debug': false,
  'is-confidentiality-protected': true,
  'is-integrity-protected': true,
  'is-replay-protected': true,
};

/**
 * Throws unless `mval` states only the keys in `allowed` (plus flags implied by a verified
 * TEE: not debug, confidentiality-, integrity- and replay-protected).
 */
export function expectOnly(
  mval: MeasurementValues,
  path: string,
  allowed: readonly (keyof MeasurementValues)[],
): void {
  if (mval.unsupported?.length) {
    throw unsupported(
      path,
      `measurement values ${mval.unsupported.join(', ')} cannot be appraised by twi`,
    );
  }
  for (const [name, value] of Object.entries(mval.flags ?? {})) {
    if (IMPLIED_FLAGS[name as FlagName] !== value) {
      throw unsupported(
        `${path}.flags.${name}`,
        `${name} = ${String(value)} cannot be appraised by twi`,
      );
    }
  }
  for (const key of Object.keys(mval) as (keyof MeasurementValues)[]) {
    if (key === 'flags' || allowed.includes(key)) continue;
    throw unsupported(`${path}.${key}`, `is not used for this measurement by twi`);
  }
}

/**
 * The accepted values of a `digests` list for a field of `size` bytes: entries whose algorithm
 * has that digest length (SHA-384 for 48 bytes). Other algorithms cannot be compared with the
 * evidence and are skipped; a list with no usable entry is refused.
 */
export function digestValues(
  digests: readonly Digest[],
  path: string,
  size: number,
  anyAlg = false,
): string[] {
  const out: string[] = [];
  digests.forEach((d, i) => {
    const len = anyAlg ? d.value.length : digestLength(d.alg);
    if (len !== size) return;
    if (d.value.length !== size)
      throw invalid(`${path}[${i}].value`, `expected ${size} bytes, got ${d.value.length}`);
    out.push(hex(d.value));
  });
  if (out.length === 0)
    throw unsupported(path, `no digest of ${size} bytes with an algorithm twi compares`);
  return [...new Set(out)];
}

/** True when every byte of `mask` is 0xff. */
export const fullMask = (mask: Uint8Array | undefined): boolean =>
  mask === undefined || mask.every((b) => b === 0xff);

/** The bytes of a raw value of exactly `size` bytes (int raw values are refused). */
export function rawBytes(
  raw: RawValue,
  path: string,
  size: number,
): { bytes: Uint8Array; mask?: Uint8Array } {
  if ('int' in raw) throw invalid(path, `expected ${size} bytes, got an integer`);
  if (raw.bytes.length !== size)
    throw invalid(path, `expected ${size} bytes, got ${raw.bytes.length}`);
  return raw;
}

/**
 * A field compared for equality (MRTD, MEASUREMENT, CHIP_ID…): from `digests` or from an
 * unmasked `raw-value`, as accepted hex values.
 */
export function exactValues(
  mval: MeasurementValues,
  path: string,
  size: number,
  anyAlg = false,
): string[] {
  expectOnly(mval, path, ['digests', 'rawValue']);
  const out: string[] = [];
  if (mval.digests) out.push(...digestValues(mval.digests, `${path}.digests`, size, anyAlg));
  if (mval.rawValue) {
    const raw = rawBytes(mval.rawValue, `${path}.raw-value`, size);
    if (!fullMask(raw.mask))
      throw unsupported(`${path}.raw-value`, 'a partial mask cannot be expressed for this field');
    out.push(hex(raw.bytes));
  }
  if (out.length === 0) throw invalid(path, 'states neither digests nor raw-value');
  return [...new Set(out)];
}

/** A minimum from an `svn` (exact SVNs are read as minimums: twi's policy has floors only). */
export function svnFloor(mval: MeasurementValues, path: string): bigint {
  expectOnly(mval, path, ['svn']);
  if (!mval.svn) throw invalid(path, 'states no svn');
  return 'min' in mval.svn ? mval.svn.min : mval.svn.exact;
}

/** A single integer from `int-range` (or the AMD profile's integer `raw-value`). */
export function rawInt(mval: MeasurementValues, path: string): number {
  expectOnly(mval, path, ['intRange', 'rawValue']);
  if (typeof mval.intRange === 'number') return mval.intRange;
  if (mval.rawValue && 'int' in mval.rawValue) return mval.rawValue.int;
  throw unsupported(path, 'expected one integer (int-range or raw-value)');
}
