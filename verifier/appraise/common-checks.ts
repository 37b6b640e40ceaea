/**
 * Checks every platform shares: allowed platform, trust anchor, TCB status, runtime
 * isolation and debug mode.
 *
 * @internal
 * @module
 */
import { AR4SI, hardwareValueFor } from '../policy/ar4si.js';
import { fail, pass } from './check-kit.js';
import type { CheckContext, Finding, WingChecks } from './check-kit.js';

/** Evidence from a platform the policy does not list → hardware 96. */
export function checkPlatform(ctx: CheckContext): Finding[] {
  const { platform } = ctx.evidence;
  if (ctx.policy.platforms.includes(platform)) return [];
  const expected = [...ctx.policy.platforms];
  return [fail('ERR_PLATFORM_NOT_ALLOWED', 'hardware', 96, 'platform', expected, platform)];
}

/** A chain to a vendor root → instance-identity 2; an operator-configured root adds a note. */
export function checkAnchor(ctx: CheckContext): Finding[] {
  const { anchor } = ctx.evidence;
  if (anchor.source === 'configured') {
    ctx.notes.push(
      `the chain ends at an operator-configured root (${anchor.subject}, sha256 ${anchor.sha256}), ` +
        'not a pinned vendor root: simulated or private hardware',
    );
  }
  return [pass('instance-identity', AR4SI.identity.RECOGNIZED)];
}

/** A verified TDX/SNP/Nitro report implies an encrypted, isolated TEE (AR4SI appendix). */
export function checkRuntime(): Finding[] {
  return [pass('runtime-opaque', AR4SI.runtimeOpaque.ENCRYPTED)];
}

/**
 * TCB status → hardware claim through the policy's tier table (UpToDate 2, warnings 32,
 * Revoked 96). Evidence of a platform whose wing requires a status (TDX) but without one has
 * no TCB level → hardware 97. Platforms without a status (SEV-SNP, Nitro): a verified chain
 * (VCEK TCB = REPORTED_TCB) is genuine hardware.
 */
export function checkTcb(
  ctx: CheckContext,
  wing: Pick<WingChecks, 'tcbStatusRequired'>,
): Finding[] {
  const { tcbStatus, advisoryIds } = ctx.evidence;
  if (tcbStatus === undefined) {
    if (!wing.tcbStatusRequired) return [pass('hardware', AR4SI.hardware.GENUINE)];
    const message = 'TCB status is absent (no matching TCB level), expected a TCB level';
    return [fail('ERR_TCB_STATUS', 'hardware', 97, 'TCB_STATUS', 'UpToDate', null, message)];
  }
  const tier = ctx.policy.tcb.tiers[tcbStatus];
  const value = hardwareValueFor(tier);
  if (tier === 'affirming') return [pass('hardware', value)];
  const accepted = Object.entries(ctx.policy.tcb.tiers)
    .filter(([, t]) => t === 'affirming')
    .map(([s]) => s);
  const advisories = advisoryIds.length > 0 ? ` (advisories ${advisoryIds.join(', ')})` : '';
  const message =
    `TCB_STATUS is ${tcbStatus}${advisories}, expected one of [${accepted.join(', ')}]; ` +
    `the policy rates ${tcbStatus} ${tier}`;
  return [fail('ERR_TCB_STATUS', 'hardware', value, 'TCB_STATUS', accepted, tcbStatus, message)];
}

/**
 * A debug TEE, as the evidence's wing shows it (TDX TDATTRIBUTES.DEBUG, SNP POLICY.DEBUG, Nitro
 * PCR0-2 all zero) → configuration 96, or 32 when the policy sets `allow_debug`; otherwise
 * configuration 2.
 */
export function checkDebug(ctx: CheckContext, wing: Pick<WingChecks, 'debug'>): Finding[] {
  const { field, actual, wanted } = wing.debug;
  if (!wing.debug.test(ctx.evidence)) return [pass('configuration', AR4SI.configuration.APPROVED)];
  const allowed = ctx.policy.allow_debug;
  const value = allowed ? AR4SI.configuration.KNOWN_VULNS : AR4SI.configuration.UNSUPPORTABLE;
  const note = allowed ? ' (allowed by allow_debug: warning)' : '';
  const message = `${field} shows a debug TEE, expected ${wanted}${note}`;
  return [fail('ERR_DEBUG_ENABLED', 'configuration', value, field, false, actual, message)];
}
