/**
 * The only place a {@link VerifiedEvidence} is created. Platform verifiers call
 * {@link mintVerified} after every check passed; nothing else imports this module
 * (the public API does not re-export it).
 *
 * @module
 */
import type {
  PlatformName,
  VerifiedEvidence,
  VerifiedEvidenceOf,
  VerifiedFields,
} from './types.js';

const verified = new WeakSet<object>();

/**
 * Seals the result of a successful verification; the platform's claims and details types
 * follow from `value.platform`.
 *
 * @internal
 */
export function mintVerified<P extends PlatformName>(
  value: VerifiedFields<P>,
): VerifiedEvidenceOf<P> {
  // The brand exists only in the type: the WeakSet below is what `isVerified` trusts.
  const sealed = Object.freeze({ ...value }) as VerifiedEvidenceOf<P>;
  verified.add(sealed);
  return sealed;
}

/** True when `value` came from {@link mintVerified} (guards appraisal against forged values). */
export function isVerified(value: unknown): value is VerifiedEvidence {
  return typeof value === 'object' && value !== null && verified.has(value);
}
