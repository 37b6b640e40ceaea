/**
 * The only place a {@link VerifiedEvidence} is created. Platform verifiers call
 * {@link mintVerified} after every check passed; nothing else imports this module
 * (the public API does not re-export it).
 *
 * @module
 */
import type { VERIFIED, VerifiedEvidence } from './types.js';

const verified = new WeakSet<object>();

/** Seals the result of a successful verification. */
export function mintVerified(value: Omit<VerifiedEvidence, typeof VERIFIED>): VerifiedEvidence {
  const sealed = Object.freeze({ ...value }) as unknown as VerifiedEvidence;
  verified.add(sealed);
  return sealed;
}

/** True when `value` came from {@link mintVerified} (guards appraisal against forged values). */
export function isVerified(value: unknown): value is VerifiedEvidence {
  return typeof value === 'object' && value !== null && verified.has(value);
}
