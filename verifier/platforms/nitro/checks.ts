/**
 * Nitro appraisal checks (the wing's `checks`): reference values, the PCRs (PCR0 image, PCR1
 * kernel, PCR2 application, PCR3 IAM role, PCR4 instance, PCR8 signing certificate) →
 * executables; the `nonce` / `user_data` / `public_key` binding; debug mode (PCR0-2 all zero);
 * no TCB status.
 *
 * @internal
 * @module
 */
import { hexClaim, matchReference } from '../../appraise/check-kit.js';
import type { CheckContext, Finding, WingChecks } from '../../appraise/check-kit.js';
import type { VerifiedEvidence } from '../../verify/types.js';
import { nitroBinding } from './binding.js';

/** Every PCR the policy pins, each mismatch a violation naming `PCR<n>`. */
export function nitroReferences(ctx: CheckContext<'nitro'>): Finding[] {
  const pcrs = ctx.policy.nitro?.pcrs;
  if (pcrs === undefined) return [];
  const actual: Readonly<Record<string, unknown>> = ctx.evidence.claims.pcrs ?? {};
  return Object.entries(pcrs)
    .sort(([a], [b]) => Number(a) - Number(b))
    .flatMap(([index, accepted]) =>
      matchReference(`PCR${index}`, hexClaim(actual, index), accepted, 'executables'),
    );
}

const ZERO = /^0+$/;

/** PCR0, PCR1 and PCR2 all zero (an enclave in debug mode), or the verify stage says so. */
function nitroDebug(e: VerifiedEvidence<'nitro'>): boolean {
  const pcrs: Readonly<Record<string, unknown>> = e.claims.pcrs ?? {};
  const zero = ['0', '1', '2'].every((i) => typeof pcrs[i] === 'string' && ZERO.test(pcrs[i]));
  return zero || e.details.debug === true;
}

/** The Nitro wing's appraisal checks. */
export const nitroChecks: WingChecks<'nitro'> = {
  references: nitroReferences,
  binding: nitroBinding,
  debug: {
    field: 'PCR0/PCR1/PCR2',
    actual: 'all zero (debug mode)',
    wanted: 'non-zero PCRs',
    test: nitroDebug,
  },
  tcbStatusRequired: false,
};
