/**
 * The measurement identity of verified evidence: a digest over every code-identifying
 * measurement of its platform, and the identifier derived from it for evidence that matches
 * no registration (see `docs/service.md`, "The `sub` rule").
 *
 * @internal
 * @module
 */
import { createHash } from 'node:crypto';
import { getPlatform, platforms } from '../verifier/platforms/registry.js';
import type { PlatformName } from '../verifier/platforms/registry.js';
import type { LaunchIdentityField } from '../verifier/verify/types.js';

/** Domain-separation label of the measurement digest (version 1). */
export const MEASUREMENT_ID_LABEL = 'twi-measurement-id-v1';

/** Bytes of the SHA-256 digest kept in a derived identifier (128 bits, 32 hex digits). */
export const MEASUREMENT_ID_BYTES = 16;

/** A measurement taken into the digest: its name and its value (hex of the raw bytes). */
export interface IdentityMeasurement {
  readonly name: string;
  readonly hex: string;
}

type Source = LaunchIdentityField[1];

/**
 * The code-identifying measurements of each platform, in digest order: where each is read
 * from in the verified evidence. Each platform's wing declares its own (`launchIdentity` in
 * the platform registry); this is their table by platform name.
 */
export const IDENTITY_FIELDS = Object.freeze(
  Object.fromEntries(platforms.map((p) => [p.platform, p.launchIdentity])),
) as Readonly<Record<PlatformName, readonly LaunchIdentityField[]>>;

/** The verified evidence the digest reads: its claims and platform details. */
export interface MeasuredEvidence {
  readonly claims: Readonly<Record<string, unknown>>;
  readonly details: Readonly<Record<string, unknown>>;
}

const HEX = /^(?:[0-9a-f]{2})*$/;

function valueOf(e: MeasuredEvidence, source: Source, key: string): string {
  let v: unknown = source === 'claims' ? e.claims : e.details;
  for (const part of key.split('.')) v = (v as Record<string, unknown> | undefined)?.[part];
  // VMPL is a number in the claims; it enters as the report's 4-byte little-endian field.
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    return b.toString('hex');
  }
  // An absent value enters as zero bytes; the length prefix keeps it apart from any value.
  if (v === undefined || v === null) return '';
  const hex = String(v).toLowerCase();
  if (!HEX.test(hex)) throw new TypeError(`measurement ${key} is not hex`);
  return hex;
}

/** The code-identifying measurements of `evidence`, in digest order. */
export function identityMeasurements(
  platform: PlatformName,
  evidence: MeasuredEvidence,
): IdentityMeasurement[] {
  return getPlatform(platform).launchIdentity.map(([name, source, key]) => ({
    name,
    hex: valueOf(evidence, source, key),
  }));
}

/**
 * The measurement digest: the first 16 bytes (32 lowercase hex digits) of
 * `SHA-256(label ‖ 0x00 ‖ platform ‖ 0x00 ‖ Σ (name ‖ 0x00 ‖ len_u16be ‖ bytes))` over
 * {@link IDENTITY_FIELDS} in order, where `label` is {@link MEASUREMENT_ID_LABEL}, names
 * and the platform are ASCII, and `bytes` are the raw measurement bytes.
 *
 * @example
 * ```ts
 * measurementDigest('tdx', verified); // '3f0c…' (32 hex digits)
 * ```
 */
export function measurementDigest(platform: PlatformName, evidence: MeasuredEvidence): string {
  const h = createHash('sha256');
  h.update(`${MEASUREMENT_ID_LABEL}\0${platform}\0`, 'ascii');
  for (const m of identityMeasurements(platform, evidence)) {
    const bytes = Buffer.from(m.hex, 'hex');
    const len = Buffer.alloc(2);
    len.writeUInt16BE(bytes.length);
    h.update(`${m.name}\0`, 'ascii').update(len).update(bytes);
  }
  return h.digest().subarray(0, MEASUREMENT_ID_BYTES).toString('hex');
}

/**
 * The identifier of evidence no registration selects:
 * `spiffe://<trustDomain>/<platform>/m/<measurement digest>`, plus `/<workload>` when given
 * (the caller decides whether the policy allows that).
 *
 * @example
 * ```ts
 * derivedSubject('example.org', 'tdx', digest); // spiffe://example.org/tdx/m/3f0c…
 * ```
 */
export function derivedSubject(
  trustDomain: string,
  platform: PlatformName,
  digest: string,
  workload?: string,
): string {
  const base = `spiffe://${trustDomain}/${platform}/m/${digest}`;
  return workload === undefined ? base : `${base}/${workload}`;
}
