/**
 * TDX appraisal checks (the wing's `checks`): reference values (SPEC-DIGEST B1.2, B1.3, B2,
 * E2): TD measurements → executables, TD configuration → configuration, TDX module and
 * FMSPC → hardware; the REPORT_DATA binding; TDATTRIBUTES.DEBUG; a required TCB status.
 *
 * @internal
 * @module
 */
import { TD_ATTRIBUTE_BITS } from './abi/claims.js';
import { reportDataBinding } from '../../appraise/binding-checks.js';
import {
  detailString,
  fail,
  hexClaim,
  leHexValue,
  matchReference,
  pass,
} from '../../appraise/check-kit.js';
import type { CheckContext, Finding, WingChecks } from '../../appraise/check-kit.js';
import type { VectorKey } from '../../policy/ar4si.js';
import type { TdAttributesRule, TdAttributeFlag, TdxReferences } from '../../policy/types.js';
import type { VerifiedEvidence } from '../../verify/types.js';

type HexKey = Exclude<
  keyof TdxReferences,
  'td_attributes' | 'fmspcs' | 'mrownerconfig' | 'min_tcb_evaluation_data_number'
>;

const FIELDS: readonly (readonly [HexKey, string, VectorKey])[] = [
  ['mrtd', 'MRTD', 'executables'],
  ['rtmr0', 'RTMR0', 'executables'],
  ['rtmr1', 'RTMR1', 'executables'],
  ['rtmr2', 'RTMR2', 'executables'],
  ['rtmr3', 'RTMR3', 'executables'],
  ['shim', 'SHIM', 'executables'],
  ['mrservicetd', 'MRSERVICETD', 'executables'],
  ['mrconfigid', 'MRCONFIGID', 'configuration'],
  ['mrowner', 'MROWNER', 'configuration'],
  ['xfam', 'XFAM', 'configuration'],
  ['mrseam', 'MRSEAM', 'hardware'],
];

function mrOwnerConfig(ctx: CheckContext<'tdx'>, refs: TdxReferences): Finding[] {
  if (refs.mrownerconfig === undefined) return [];
  const actual =
    hexClaim(ctx.evidence.claims, 'mrownerconfig') ??
    detailString(ctx.evidence.details, 'mrownerconfig', 'mrOwnerConfig')?.toLowerCase();
  if (actual === undefined) {
    ctx.notes.push('MROWNERCONFIG reference not checked: the verified claims do not carry it');
    return [];
  }
  return matchReference('MROWNERCONFIG', actual, refs.mrownerconfig, 'configuration');
}

function attributeValue(actualHex: string, rule: TdAttributesRule): Finding[] {
  if (rule.value === undefined) return [];
  const mask = leHexValue(rule.mask ?? 'ffffffffffffffff');
  if ((leHexValue(actualHex) & mask) === (leHexValue(rule.value) & mask)) {
    return [pass('configuration')];
  }
  const expected = rule.mask ? `${rule.value} under mask ${rule.mask}` : rule.value;
  return [
    fail('ERR_ATTRIBUTES_MISMATCH', 'configuration', 96, 'TDATTRIBUTES', expected, actualHex),
  ];
}

function attributeFlags(actualHex: string, rule: TdAttributesRule): Finding[] {
  const bits = leHexValue(actualHex);
  return Object.entries(rule.flags).map(([name, want]) => {
    const actual = ((bits >> TD_ATTRIBUTE_BITS[name as TdAttributeFlag]) & 1n) === 1n;
    if (actual === want) return pass('configuration');
    const field = `TDATTRIBUTES.${name.toUpperCase()}`;
    return fail('ERR_ATTRIBUTES_MISMATCH', 'configuration', 96, field, want as boolean, actual);
  });
}

function tdAttributes(ctx: CheckContext<'tdx'>, rule: TdAttributesRule | undefined): Finding[] {
  if (rule === undefined) return [];
  const actual = hexClaim(ctx.evidence.claims, 'td_attributes');
  if (actual === undefined) {
    const message = 'TDATTRIBUTES is absent from the evidence';
    return [fail('ERR_CLAIM_MISSING', 'configuration', 96, 'TDATTRIBUTES', null, null, message)];
  }
  return [...attributeValue(actual, rule), ...attributeFlags(actual, rule)];
}

function fmspc(ctx: CheckContext<'tdx'>, accepted: TdxReferences['fmspcs']): Finding[] {
  if (accepted === undefined) return [];
  const actual = detailString(ctx.evidence.details, 'fmspc', 'FMSPC')?.toLowerCase();
  return matchReference('FMSPC', actual, accepted, 'hardware');
}

const EVALUATION_NUMBERS = [
  ['TCB_INFO.TCB_EVALUATION_DATA_NUMBER', 'tcbEvaluationDataNumber'],
  ['QE_IDENTITY.TCB_EVALUATION_DATA_NUMBER', 'qeIdentityTcbEvaluationDataNumber'],
] as const;

/** The collateral's TCB evaluation data numbers against the policy floor → hardware 96. */
function minEvaluationNumber(ctx: CheckContext<'tdx'>, min: number | undefined): Finding[] {
  if (min === undefined) return [];
  return EVALUATION_NUMBERS.map(([field, key]) => {
    const actual = ctx.evidence.details[key];
    if (typeof actual === 'number' && actual >= min) return pass('hardware');
    const shown = typeof actual === 'number' ? actual : null;
    const message =
      `${field} is ${shown ?? 'absent'}, expected at least ${min} ` +
      '(the policy minimum min_tcb_evaluation_data_number)';
    return fail('ERR_COLLATERAL_BELOW_MINIMUM', 'hardware', 96, field, min, shown, message);
  });
}

/** Every TDX reference value the policy states, each mismatch a violation. */
export function tdxReferences(ctx: CheckContext<'tdx'>): Finding[] {
  const refs = ctx.policy.tdx;
  if (refs === undefined) return [];
  const claims = ctx.evidence.claims;
  return [
    ...FIELDS.flatMap(([key, field, claim]) =>
      matchReference(field, hexClaim(claims, key), refs[key], claim),
    ),
    ...mrOwnerConfig(ctx, refs),
    ...tdAttributes(ctx, refs.td_attributes),
    ...fmspc(ctx, refs.fmspcs),
    ...minEvaluationNumber(ctx, refs.min_tcb_evaluation_data_number),
  ];
}

/** TDATTRIBUTES.DEBUG (bit 0), from the decoded flags or the raw attributes. */
function tdxDebug(e: VerifiedEvidence<'tdx'>): boolean {
  const flags: { debug?: unknown } | undefined = e.claims.td_attribute_flags;
  const raw: unknown = e.claims.td_attributes;
  const bits = typeof raw === 'string' ? leHexValue(raw) : 0n;
  return flags?.debug === true || ((bits >> TD_ATTRIBUTE_BITS.debug) & 1n) === 1n;
}

/** The TDX wing's appraisal checks. */
export const tdxChecks: WingChecks<'tdx'> = {
  references: tdxReferences,
  binding: reportDataBinding,
  debug: { field: 'TDATTRIBUTES.DEBUG', actual: true, wanted: 'false', test: tdxDebug },
  tcbStatusRequired: true,
};
