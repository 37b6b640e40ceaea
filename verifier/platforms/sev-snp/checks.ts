/**
 * SEV-SNP appraisal checks (the wing's `checks`): reference values (SPEC-DIGEST B3, E2):
 * launch digest and signing keys → executables, HOST_DATA / POLICY / VMPL → configuration,
 * TCB and product → hardware, CHIP_ID → instance-identity; the REPORT_DATA binding;
 * POLICY.DEBUG; no TCB status.
 *
 * @internal
 * @module
 */
import { decodeSnpPolicy } from './abi/bit-fields.js';
import type { SnpPolicy } from './abi/bit-fields.js';
import { reportDataBinding } from '../../appraise/binding-checks.js';
import { detailString, fail, hexClaim, matchReference, pass } from '../../appraise/check-kit.js';
import type { CheckContext, Finding, WingChecks } from '../../appraise/check-kit.js';
import type { VerifiedEvidence } from '../../verify/types.js';
import type {
  SnpPolicyFlag,
  SnpPolicyRule,
  SnpReferences,
  SnpTcbComponent,
  VmplRule,
} from '../../policy/types.js';

const POLICY_FLAG_NAMES: Readonly<Record<SnpPolicyFlag, keyof SnpPolicy>> = {
  smt: 'smt',
  migrate_ma: 'migrateMa',
  single_socket: 'singleSocket',
  cxl_allow: 'cxlAllow',
  mem_aes_256_xts: 'memAes256Xts',
  rapl_dis: 'raplDis',
  ciphertext_hiding_dram: 'ciphertextHidingDram',
  page_swap_disable: 'pageSwapDisable',
};

function missing(field: string, claim: Finding['claim']): Finding {
  const message = `${field} is absent from the evidence`;
  return fail('ERR_CLAIM_MISSING', claim, 96, field, null, null, message);
}

function abiChecks(policy: SnpPolicy, rule: SnpPolicyRule): Finding[] {
  if (rule.abi_major_min === undefined) return [];
  const min = `${rule.abi_major_min}.${rule.abi_minor_min ?? 0}`;
  const actual = `${policy.abiMajor}.${policy.abiMinor}`;
  const ok =
    policy.abiMajor > rule.abi_major_min ||
    (policy.abiMajor === rule.abi_major_min && policy.abiMinor >= (rule.abi_minor_min ?? 0));
  if (ok) return [pass('configuration')];
  const message = `POLICY.ABI ${actual} is lower than the required minimum ${min}`;
  return [fail('ERR_POLICY_BIT', 'configuration', 96, 'POLICY.ABI', `>= ${min}`, actual, message)];
}

function policyChecks(ctx: CheckContext<'sev-snp'>, rule: SnpPolicyRule | undefined): Finding[] {
  if (rule === undefined) return [];
  const raw = ctx.evidence.claims.policy;
  if (typeof raw !== 'string') return [missing('POLICY', 'configuration')];
  const policy = decodeSnpPolicy(BigInt(raw));
  const flags = Object.entries(rule.flags).map(([name, want]) => {
    const actual = policy[POLICY_FLAG_NAMES[name as SnpPolicyFlag]] as boolean;
    if (actual === want) return pass('configuration');
    const field = `POLICY.${name.toUpperCase()}`;
    return fail('ERR_POLICY_BIT', 'configuration', 96, field, want as boolean, actual);
  });
  return [...flags, ...abiChecks(policy, rule)];
}

function tcbChecks(ctx: CheckContext<'sev-snp'>, min: SnpReferences['min_tcb']): Finding[] {
  if (min === undefined) return [];
  const parts = (ctx.evidence.claims.reported_tcb_parts ?? {}) as Partial<
    Record<SnpTcbComponent, number>
  >;
  return Object.entries(min).flatMap(([comp, required]): Finding[] => {
    const field = `REPORTED_TCB.${comp.toUpperCase()}`;
    const actual = parts[comp as SnpTcbComponent];
    if (actual === undefined && comp === 'fmc') {
      ctx.notes.push('min_tcb.fmc not checked: the report has no FMC SPL (pre-Turin layout)');
      return [];
    }
    if (actual === undefined) return [missing(field, 'hardware')];
    if (actual >= required) return [pass('hardware')];
    const message = `${field} ${actual} is less than the required minimum ${required}`;
    return [fail('ERR_TCB_TOO_LOW', 'hardware', 96, field, required, actual, message)];
  });
}

function vmplCheck(ctx: CheckContext<'sev-snp'>, rule: VmplRule | undefined): Finding[] {
  if (rule === undefined) return [];
  const vmpl = ctx.evidence.claims.vmpl;
  if (typeof vmpl !== 'number') return [missing('VMPL', 'configuration')];
  const ok = 'max' in rule ? vmpl <= rule.max : rule.allowed.includes(vmpl);
  if (ok) return [pass('configuration')];
  const expected = 'max' in rule ? `<= ${rule.max}` : [...rule.allowed];
  const message =
    'max' in rule
      ? `VMPL is ${vmpl}, expected at most ${rule.max}`
      : `VMPL is ${vmpl}, expected one of [${rule.allowed.join(', ')}]`;
  return [fail('ERR_VMPL_NOT_ALLOWED', 'configuration', 96, 'VMPL', expected, vmpl, message)];
}

function svnCheck(ctx: CheckContext<'sev-snp'>, min: number | undefined): Finding[] {
  if (min === undefined) return [];
  const svn = ctx.evidence.claims.guest_svn;
  if (typeof svn !== 'number') return [missing('GUEST_SVN', 'executables')];
  if (svn >= min) return [pass('executables')];
  const message = `GUEST_SVN ${svn} is less than the required minimum ${min}`;
  return [fail('ERR_SVN_TOO_LOW', 'executables', 96, 'GUEST_SVN', min, svn, message)];
}

function productCheck(
  ctx: CheckContext<'sev-snp'>,
  products: readonly string[] | undefined,
): Finding[] {
  if (products === undefined) return [];
  const actual = detailString(ctx.evidence.details, 'product');
  if (actual === undefined) return [missing('PRODUCT', 'hardware')];
  const name = actual.toLowerCase();
  const ok = products.some(
    (p) => name === p.toLowerCase() || name.startsWith(`${p.toLowerCase()}-`),
  );
  if (ok) return [pass('hardware')];
  return [fail('ERR_REFERENCE_MISMATCH', 'hardware', 96, 'PRODUCT', [...products], actual)];
}

function authorKeyDigest(ctx: CheckContext<'sev-snp'>): string | undefined {
  return (
    hexClaim(ctx.evidence.claims, 'author_key_digest') ??
    detailString(ctx.evidence.details, 'authorKeyDigest', 'author_key_digest')?.toLowerCase()
  );
}

/** Every SEV-SNP reference value the policy states, each mismatch a violation. */
export function snpReferences(ctx: CheckContext<'sev-snp'>): Finding[] {
  const refs = ctx.policy['sev-snp'];
  if (refs === undefined) return [];
  const c = ctx.evidence.claims;
  return [
    ...matchReference('MEASUREMENT', hexClaim(c, 'measurement'), refs.measurement, 'executables'),
    ...matchReference(
      'ID_KEY_DIGEST',
      hexClaim(c, 'id_key_digest'),
      refs.id_key_digest,
      'executables',
    ),
    ...matchReference(
      'AUTHOR_KEY_DIGEST',
      authorKeyDigest(ctx),
      refs.author_key_digest,
      'executables',
    ),
    ...svnCheck(ctx, refs.guest_svn_min),
    ...matchReference('HOST_DATA', hexClaim(c, 'host_data'), refs.host_data, 'configuration'),
    ...policyChecks(ctx, refs.policy),
    ...vmplCheck(ctx, refs.vmpl),
    ...tcbChecks(ctx, refs.min_tcb),
    ...productCheck(ctx, refs.products),
    ...matchReference('CHIP_ID', hexClaim(c, 'chip_id'), refs.chip_ids, 'instance-identity'),
  ];
}

/** POLICY.DEBUG (bit 19). */
function snpDebug(e: VerifiedEvidence<'sev-snp'>): boolean {
  const policy: unknown = e.claims.policy;
  return typeof policy === 'string' && decodeSnpPolicy(BigInt(policy)).debug;
}

/** The SEV-SNP wing's appraisal checks. */
export const snpChecks: WingChecks<'sev-snp'> = {
  references: snpReferences,
  binding: reportDataBinding,
  debug: { field: 'POLICY.DEBUG', actual: true, wanted: 'false', test: snpDebug },
  tcbStatusRequired: false,
};
