/**
 * Checks every platform shares: allowed platform, trust anchor, TCB status, runtime
 * isolation and debug mode.
 *
 * @module
 */
import { decodeSnpPolicy } from '../platforms/sev-snp/abi/bit-fields.js';
import { TD_ATTRIBUTE_BITS } from '../platforms/tdx/abi/claims.js';
import type { VerifiedEvidence } from '../verify/types.js';
import { AR4SI, hardwareValueFor } from '../policy/ar4si.js';
import { fail, leHexValue, pass } from './check-kit.js';
import type { CheckContext, Finding } from './check-kit.js';

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
 * Revoked 96). TDX evidence without a status has no TCB level → hardware 97. SEV-SNP and
 * Nitro carry no status: a verified chain (VCEK TCB = REPORTED_TCB) is genuine hardware.
 */
export function checkTcb(ctx: CheckContext): Finding[] {
  const { tcbStatus, advisoryIds, platform } = ctx.evidence;
  if (tcbStatus === undefined) {
    if (platform !== 'tdx') return [pass('hardware', AR4SI.hardware.GENUINE)];
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

const ZERO = /^0+$/;

function nitroDebug(e: VerifiedEvidence): boolean {
  const pcrs = (e.claims.pcrs ?? {}) as Record<string, unknown>;
  const zero = ['0', '1', '2'].every((i) => typeof pcrs[i] === 'string' && ZERO.test(pcrs[i]));
  return zero || e.details.debug === true;
}

function tdxDebug(e: VerifiedEvidence): boolean {
  const flags = e.claims.td_attribute_flags as { debug?: unknown } | undefined;
  const raw = e.claims.td_attributes;
  const bits = typeof raw === 'string' ? leHexValue(raw) : 0n;
  return flags?.debug === true || ((bits >> TD_ATTRIBUTE_BITS.debug) & 1n) === 1n;
}

function snpDebug(e: VerifiedEvidence): boolean {
  const policy = e.claims.policy;
  return typeof policy === 'string' && decodeSnpPolicy(BigInt(policy)).debug;
}

const DEBUG: Record<
  VerifiedEvidence['platform'],
  { field: string; test: (e: VerifiedEvidence) => boolean }
> = {
  tdx: { field: 'TDATTRIBUTES.DEBUG', test: tdxDebug },
  'sev-snp': { field: 'POLICY.DEBUG', test: snpDebug },
  nitro: { field: 'PCR0/PCR1/PCR2', test: nitroDebug },
};

/**
 * Debug TEEs (TDX TDATTRIBUTES.DEBUG, SNP POLICY.DEBUG, Nitro PCR0-2 all zero) → configuration
 * 96, or 32 when the policy sets `allow_debug`; otherwise configuration 2.
 */
export function checkDebug(ctx: CheckContext): Finding[] {
  const { field, test } = DEBUG[ctx.evidence.platform];
  if (!test(ctx.evidence)) return [pass('configuration', AR4SI.configuration.APPROVED)];
  const allowed = ctx.policy.allow_debug;
  const value = allowed ? AR4SI.configuration.KNOWN_VULNS : AR4SI.configuration.UNSUPPORTABLE;
  const nitro = ctx.evidence.platform === 'nitro';
  const actual = nitro ? 'all zero (debug mode)' : true;
  const wanted = nitro ? 'non-zero PCRs' : 'false';
  const note = allowed ? ' (allowed by allow_debug: warning)' : '';
  const message = `${field} shows a debug TEE, expected ${wanted}${note}`;
  return [fail('ERR_DEBUG_ENABLED', 'configuration', value, field, false, actual, message)];
}
