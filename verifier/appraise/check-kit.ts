/**
 * Building blocks of the policy checks: every check is a small function returning findings
 * (a trustworthiness claim value, and a violation when the value is not affirming), so that
 * running all of them reports every violation (STYLE "small validators combined").
 *
 * @internal
 * @module
 */
import type { PlatformName, VerifiedEvidence } from '../verify/types.js';
import { tierOf } from '../policy/ar4si.js';
import type { VectorKey } from '../policy/ar4si.js';
import type { Policy, Reference } from '../policy/types.js';
import type { Expectations, JsonValue, Violation, ViolationCode } from './types.js';

/** One contribution to the trustworthiness vector. */
export interface Finding {
  readonly claim: VectorKey;
  readonly value: number;
  readonly violation?: Violation;
}

/**
 * Everything a check may look at; `notes` collects remarks that are not violations. A wing's
 * checks take the context of its own platform `P`, with typed claims and details.
 */
export interface CheckContext<P extends PlatformName = PlatformName> {
  readonly evidence: VerifiedEvidence<P>;
  readonly policy: Policy;
  readonly expectations: Expectations;
  readonly notes: string[];
}

/** A policy check. */
export type Check = (ctx: CheckContext) => Finding[];

/** How a platform shows a debug TEE, for the shared debug check. */
export interface DebugProbe<P extends PlatformName = PlatformName> {
  /** The spec name of the field, e.g. `TDATTRIBUTES.DEBUG`. */
  readonly field: string;
  /** What the violation reports as the actual value. */
  readonly actual: JsonValue;
  /** What the violation message names as expected. */
  readonly wanted: string;
  /** True when the verified evidence shows a debug TEE. */
  test(evidence: VerifiedEvidence<P>): boolean;
}

/**
 * The appraisal knowledge of one platform (its wing's member `checks` in the platform
 * registry): the checks the appraise stage runs with the shared ones.
 */
export interface WingChecks<P extends PlatformName = PlatformName> {
  /** Every reference value the policy states for this platform, each mismatch a violation. */
  references(ctx: CheckContext<P>): Finding[];
  /**
   * Freshness and key binding: the evidence against the expected nonce, report data and key
   * thumbprint. Runs only when a nonce or report data is expected.
   */
  binding(ctx: CheckContext<P>): Finding[];
  /** How the evidence shows a debug TEE. */
  readonly debug: DebugProbe<P>;
  /**
   * True when verified evidence of this platform always carries a TCB status, so that its
   * absence means no TCB level matched (hardware 97); false when the platform has none (a
   * verified chain is genuine hardware).
   */
  readonly tcbStatusRequired: boolean;
}

/** The value a passing check of each claim contributes. */
export const AFFIRM: Readonly<Record<VectorKey, number>> = {
  'instance-identity': 2,
  configuration: 2,
  executables: 2,
  'file-system': 2,
  hardware: 2,
  'runtime-opaque': 2,
  'storage-opaque': 2,
  'sourced-data': 2,
};

/** The value a failing check of each claim contributes (all contraindicated, AR4SI §2.3.4). */
export const CONTRAINDICATE: Readonly<Record<VectorKey, number>> = {
  'instance-identity': 96,
  configuration: 96,
  executables: 96,
  'file-system': 96,
  hardware: 96,
  'runtime-opaque': 96,
  'storage-opaque': 96,
  'sourced-data': 96,
};

/** Long hex shortened for messages: first 8 and last 4 digits. */
export function short(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(short).join(', ')}]`;
  const s = String(value);
  return /^[0-9a-f]{17,}$/i.test(s) ? `${s.slice(0, 8)}…${s.slice(-4)}` : s;
}

/** "expected X" or "expected one of [X, Y]". */
export function expectedText(expected: JsonValue): string {
  if (Array.isArray(expected)) {
    return expected.length === 1
      ? `expected ${short(expected[0]!)}`
      : `expected one of ${short(expected)}`;
  }
  return `expected ${short(expected)}`;
}

/** A finding that records a violation. */
export function fail(
  code: ViolationCode,
  claim: VectorKey,
  value: number,
  field: string,
  expected: JsonValue,
  actual: JsonValue,
  message?: string,
): Finding {
  const tier = tierOf(value);
  if (tier !== 'warning' && tier !== 'contraindicated') {
    throw new TypeError(`violation value ${value} is not a warning or contraindication`);
  }
  const text = message ?? `${field} is ${short(actual)}, ${expectedText(expected)}`;
  const violation: Violation = { code, field, expected, actual, message: text, tier, claim };
  return { claim, value, violation };
}

/** A passing finding. */
export function pass(claim: VectorKey, value: number = AFFIRM[claim]): Finding {
  return { claim, value };
}

/** Reads a claim as lowercase hex, or undefined when absent or not a string. */
export function hexClaim(
  claims: Readonly<Record<string, unknown>>,
  key: string,
): string | undefined {
  const v = claims[key];
  return typeof v === 'string' ? v.toLowerCase() : undefined;
}

/**
 * Compares a claim with the accepted values of a reference; nothing when the policy
 * states none; `ERR_CLAIM_MISSING` when the evidence lacks the field.
 */
export function matchReference(
  field: string,
  actual: string | undefined,
  accepted: Reference | undefined,
  claim: VectorKey,
): Finding[] {
  if (accepted === undefined) return [];
  const expected = [...accepted];
  if (actual === undefined) {
    const message = `${field} is absent from the evidence, ${expectedText(expected)}`;
    return [
      fail('ERR_CLAIM_MISSING', claim, CONTRAINDICATE[claim], field, expected, null, message),
    ];
  }
  if (accepted.includes(actual.toLowerCase())) return [pass(claim)];
  return [fail('ERR_REFERENCE_MISMATCH', claim, CONTRAINDICATE[claim], field, expected, actual)];
}

/** Reads a string from the verifier's details under any of `keys`. */
export function detailString(
  details: Readonly<Record<string, unknown>>,
  ...keys: string[]
): string | undefined {
  for (const k of keys) {
    const v = details[k];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}

/** The unsigned value of little-endian bytes given as hex (TDATTRIBUTES, XFAM); 0 for bad hex. */
export function leHexValue(hex: string): bigint {
  if (!/^([0-9a-f]{2})+$/i.test(hex)) return 0n;
  const bytes = hex.match(/../g) as string[];
  return BigInt('0x' + bytes.reverse().join(''));
}
