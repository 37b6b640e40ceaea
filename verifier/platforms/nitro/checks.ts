/**
 * Nitro reference values: PCRs (PCR0 image, PCR1 kernel, PCR2 application, PCR3 IAM role,
 * PCR4 instance, PCR8 signing certificate) → executables.
 *
 * @module
 */
import { hexClaim, matchReference } from '../../appraise/check-kit.js';
import type { CheckContext, Finding } from '../../appraise/check-kit.js';

/** Every PCR the policy pins, each mismatch a violation naming `PCR<n>`. */
export function nitroChecks(ctx: CheckContext): Finding[] {
  const pcrs = ctx.policy.nitro?.pcrs;
  if (pcrs === undefined) return [];
  const actual = (ctx.evidence.claims.pcrs ?? {}) as Readonly<Record<string, unknown>>;
  return Object.entries(pcrs)
    .sort(([a], [b]) => Number(a) - Number(b))
    .flatMap(([index, accepted]) =>
      matchReference(`PCR${index}`, hexClaim(actual, index), accepted, 'executables'),
    );
}
