/**
 * Intel's TDX TCB evaluation (spec digest C1.4, C1.5; Intel QVL `TcbLevelCheck`,
 * `TdxModuleCheck`, `EnclaveReportVerifier`) as a pure function of plain values, so it
 * can be tested without the quote codec:
 *
 * 1. TDX module identity: MRSIGNERSEAM and SEAMATTRIBUTES against `tdxModule`, or against
 *    `tdxModuleIdentities["TDX_<TEE_TCB_SVN[1]>"]` when the module major version is non-zero.
 * 2. QE identity: MISCSELECT and ATTRIBUTES under their masks, MRSIGNER, ISVPRODID; the QE
 *    TCB level is the first whose ISVSVN the QE's ISVSVN reaches.
 * 3. Platform level: the first TCB level whose 16 SGX components and PCESVN the PCK
 *    certificate reaches and whose TDX components TEE_TCB_SVN reaches (bytes 0–1 skipped
 *    when TEE_TCB_SVN[1] > 0: the module identity judges them).
 * 4. Module level: the first level of the module identity whose ISVSVN TEE_TCB_SVN[0] reaches.
 * 5. Convergence: platform status, then module status, then QE status.
 *
 * @internal
 * @module
 */
import { VerificationError } from '../../../../common/errors.js';
import { bytesEqual } from '../../../../common/bytes.js';
import type { IsvTcbLevel } from '../collateral/json.js';
import type { TdQeIdentity } from '../collateral/qe-identity.js';
import { findTdxModuleIdentity } from '../collateral/tcb-info.js';
import type { TdxModuleSigner, TdxTcbInfo, TdxTcbLevel } from '../collateral/tcb-info.js';
import type { PckTcb } from '../collateral/pck-extensions.js';
import { isRelaunchAdvised } from './tcb-relaunch.js';
import { convergeTcbStatus, qeComponentStatus } from './tcb-status.js';
import type { TcbStatus } from './tcb-status.js';

/** The QE report fields the QE identity constrains. */
export interface QeReportFields {
  readonly miscSelect: number;
  /** 16 bytes. */
  readonly attributes: Uint8Array;
  /** 32 bytes. */
  readonly mrSigner: Uint8Array;
  readonly isvProdId: number;
  readonly isvSvn: number;
}

/** Everything the evaluation reads, as plain values. */
export interface TdxTcbInput {
  /** From the PCK certificate's SGX extensions. */
  readonly pckTcb: Pick<PckTcb, 'sgxTcbComponents' | 'pceSvn'>;
  /** TEE_TCB_SVN (16 bytes). */
  readonly teeTcbSvn: Uint8Array;
  /** TEE_TCB_SVN2 (16 bytes), TD report 1.5 only: enables the relaunch advice. */
  readonly teeTcbSvn2?: Uint8Array;
  /** MRSIGNERSEAM (48 bytes). */
  readonly mrSignerSeam: Uint8Array;
  /** SEAMATTRIBUTES (8 bytes). */
  readonly seamAttributes: Uint8Array;
  readonly qeReport: QeReportFields;
  /** Verified TCB Info and QE Identity. */
  readonly tcbInfo: TdxTcbInfo;
  readonly qeIdentity: TdQeIdentity;
}

/** The TDX module part of the evaluation. */
export interface TdxModuleEvaluation {
  /** `TDX_<xx>` when TEE_TCB_SVN[1] > 0, else undefined (the module is judged by the platform level). */
  readonly identityId: string | undefined;
  readonly level: IsvTcbLevel | undefined;
  /** The module level's status; `UpToDate` when no module identity applies. */
  readonly status: TcbStatus;
}

/** Result of {@link evaluateTdxTcb}. */
export interface TdxTcbEvaluation {
  /** The converged status. */
  readonly status: TcbStatus;
  /** Union of the platform, module and QE levels' advisory IDs, in that order. */
  readonly advisoryIds: readonly string[];
  /** The matched platform TCB level (SGX and TDX components). */
  readonly platformLevel: TdxTcbLevel;
  /** The first level matching the SGX components and PCESVN alone. */
  readonly sgxLevel: TdxTcbLevel;
  readonly module: TdxModuleEvaluation;
  /** Convenience: `module.level`. */
  readonly moduleLevel: IsvTcbLevel | undefined;
  readonly qeLevel: IsvTcbLevel;
  /** The platform level's tcbDate (Intel's `tcb_level_date_tag`). */
  readonly tcbDate: string;
  /**
   * TD report 1.5 only: the platform and module are out of date but TEE_TCB_SVN2 shows
   * an updated module; relaunching the TD would pick it up. Intel QVL reports this as
   * `TDRelaunchAdvised` / `TDRelaunchAdvisedConfigurationNeeded` in place of `status`.
   */
  readonly relaunchAdvised: boolean;
}

function mismatch(
  code: 'ERR_TDX_MODULE_MISMATCH' | 'ERR_QE_IDENTITY_MISMATCH',
  msg: string,
  subject: string,
): never {
  throw new VerificationError(code, msg, subject);
}

function notFound(msg: string, subject: string): never {
  throw new VerificationError('ERR_TCB_LEVEL_NOT_FOUND', msg, subject);
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

/** `value & mask == expected` bytewise (`expected` masked too when `maskExpected`). */
function maskedEqual(
  value: Uint8Array,
  expected: Uint8Array,
  mask: Uint8Array,
  maskExpected: boolean,
): boolean {
  if (value.length !== expected.length || mask.length !== expected.length) return false;
  return value.every(
    (b, i) => (b & mask[i]!) === (maskExpected ? expected[i]! & mask[i]! : expected[i]),
  );
}

/**
 * Checks the TDX module's signer and attributes and picks the module TCB level.
 *
 * @throws {VerificationError} `ERR_TDX_MODULE_MISMATCH` when the identity is missing or
 *   MRSIGNERSEAM/SEAMATTRIBUTES differ; `ERR_TCB_LEVEL_NOT_FOUND` when TEE_TCB_SVN[0] is
 *   below every module level.
 */
export function evaluateTdxModule(
  input: Pick<TdxTcbInput, 'teeTcbSvn' | 'mrSignerSeam' | 'seamAttributes' | 'tcbInfo'>,
): TdxModuleEvaluation {
  const version = input.teeTcbSvn[1]!;
  const isvSvn = input.teeTcbSvn[0]!;
  const identity = version > 0 ? findTdxModuleIdentity(input.tcbInfo, version) : undefined;
  const signer: TdxModuleSigner | undefined = version > 0 ? identity : input.tcbInfo.tdxModule;
  const subject = version > 0 ? `tdxModuleIdentities[TDX_${hex2(version)}]` : 'tdxModule';
  if (signer === undefined) {
    mismatch(
      'ERR_TDX_MODULE_MISMATCH',
      `TCB Info has no ${subject} for TEE_TCB_SVN ${version}.${isvSvn}`,
      subject,
    );
  }
  if (!bytesEqual(input.mrSignerSeam, signer.mrSigner)) {
    mismatch('ERR_TDX_MODULE_MISMATCH', `MRSIGNERSEAM differs from ${subject}.mrsigner`, subject);
  }
  if (!maskedEqual(input.seamAttributes, signer.attributes, signer.attributesMask, true)) {
    mismatch(
      'ERR_TDX_MODULE_MISMATCH',
      `SEAMATTRIBUTES differ from ${subject}.attributes under its mask`,
      subject,
    );
  }
  if (identity === undefined) {
    return { identityId: undefined, level: undefined, status: 'UpToDate' };
  }
  const level = identity.tcbLevels.find((l) => isvSvn >= l.isvSvn);
  if (level === undefined) {
    notFound(
      `TDX module ISVSVN ${isvSvn} is below every level of ${identity.id}`,
      `${subject}.tcbLevels`,
    );
  }
  return { identityId: identity.id, level, status: level.tcbStatus };
}

/**
 * Checks the QE report against the QE identity and picks the QE TCB level.
 *
 * @throws {VerificationError} `ERR_QE_IDENTITY_MISMATCH` for MISCSELECT, ATTRIBUTES,
 *   MRSIGNER or ISVPRODID; `ERR_TCB_LEVEL_NOT_FOUND` when ISVSVN is below every level.
 */
export function matchQeIdentity(qe: QeReportFields, identity: TdQeIdentity): IsvTcbLevel {
  const fail = (what: string): never =>
    mismatch(
      'ERR_QE_IDENTITY_MISMATCH',
      `QE report ${what} does not match the QE identity`,
      'qeIdentity',
    );
  // Intel QVL 4.1.2.9.5–6: the report is masked, the identity's value is compared as is.
  if ((qe.miscSelect & identity.miscSelectMask) >>> 0 !== identity.miscSelect) fail('MISCSELECT');
  if (!maskedEqual(qe.attributes, identity.attributes, identity.attributesMask, false)) {
    fail('ATTRIBUTES');
  }
  if (!bytesEqual(qe.mrSigner, identity.mrSigner)) fail('MRSIGNER');
  if (qe.isvProdId !== identity.isvProdId) fail(`ISVPRODID ${qe.isvProdId}`);
  const level = identity.tcbLevels.find((l) => qe.isvSvn >= l.isvSvn);
  if (level === undefined) {
    notFound(`QE ISVSVN ${qe.isvSvn} is below every QE identity level`, 'qeIdentity.tcbLevels');
  }
  return level;
}

function reaches(values: ArrayLike<number>, required: readonly number[], from: number): boolean {
  for (let i = from; i < 16; i++) if (values[i]! < required[i]!) return false;
  return true;
}

/**
 * The platform TCB levels: the first matching the PCK's SGX components and PCESVN, and
 * the first also matching TEE_TCB_SVN (bytes 2–15 only when TEE_TCB_SVN[1] > 0).
 *
 * @throws {VerificationError} `ERR_TCB_LEVEL_NOT_FOUND` when no level matches.
 */
export function matchPlatformTcbLevel(
  input: Pick<TdxTcbInput, 'pckTcb' | 'teeTcbSvn' | 'tcbInfo'>,
): { sgxLevel: TdxTcbLevel; tdxLevel: TdxTcbLevel } {
  const { pckTcb, teeTcbSvn } = input;
  const start = teeTcbSvn[1]! > 0 ? 2 : 0;
  let sgxLevel: TdxTcbLevel | undefined;
  for (const level of input.tcbInfo.tcbLevels) {
    if (
      !reaches(pckTcb.sgxTcbComponents, level.sgxTcbComponents, 0) ||
      pckTcb.pceSvn < level.pceSvn
    )
      continue;
    sgxLevel ??= level;
    if (reaches(teeTcbSvn, level.tdxTcbComponents, start)) return { sgxLevel, tdxLevel: level };
  }
  return notFound(
    sgxLevel === undefined
      ? `no TCB level matches the PCK SGX components ${pckTcb.sgxTcbComponents.join(',')} and PCESVN ${pckTcb.pceSvn}`
      : 'no TCB level matches TEE_TCB_SVN',
    'tcbInfo.tcbLevels',
  );
}

function checkInput(input: TdxTcbInput): void {
  const sizes: [string, Uint8Array | undefined, number][] = [
    ['teeTcbSvn', input.teeTcbSvn, 16],
    ['teeTcbSvn2', input.teeTcbSvn2, 16],
    ['mrSignerSeam', input.mrSignerSeam, 48],
    ['seamAttributes', input.seamAttributes, 8],
  ];
  for (const [name, value, size] of sizes) {
    if (value !== undefined && value.length !== size)
      throw new TypeError(`${name} must be ${size} bytes`);
  }
  if (input.pckTcb.sgxTcbComponents.length !== 16)
    throw new TypeError('pckTcb needs 16 SGX components');
}

function unionAdvisories(...lists: (readonly string[] | undefined)[]): readonly string[] {
  return Object.freeze([...new Set(lists.flatMap((l) => l ?? []))]);
}

/**
 * Evaluates the TDX TCB status of a quote from plain values.
 *
 * @throws {VerificationError} `ERR_TDX_MODULE_MISMATCH`, `ERR_QE_IDENTITY_MISMATCH`,
 *   `ERR_TCB_LEVEL_NOT_FOUND` (Intel: TCB level not supported).
 * @example
 * const { status, advisoryIds } = evaluateTdxTcb({ pckTcb: pck.tcb, teeTcbSvn, mrSignerSeam,
 *   seamAttributes, qeReport, tcbInfo: collateral.tcbInfo, qeIdentity: collateral.qeIdentity });
 */
export function evaluateTdxTcb(input: TdxTcbInput): TdxTcbEvaluation {
  checkInput(input);
  const module = evaluateTdxModule(input);
  const qeLevel = matchQeIdentity(input.qeReport, input.qeIdentity);
  const { sgxLevel, tdxLevel } = matchPlatformTcbLevel(input);
  const platformStatus = convergeTcbStatus(tdxLevel.tcbStatus, module.status);
  const qeStatus = qeComponentStatus(qeLevel.tcbStatus);
  const relaunchAdvised =
    input.teeTcbSvn2 !== undefined &&
    isRelaunchAdvised({
      teeTcbSvn2: input.teeTcbSvn2,
      tcbInfo: input.tcbInfo,
      sgxStatus: sgxLevel.tcbStatus,
      tdxStatus: platformStatus,
      moduleStatus: module.status,
      qeStatus,
    });
  return Object.freeze({
    status: convergeTcbStatus(platformStatus, qeStatus),
    advisoryIds: unionAdvisories(
      tdxLevel.advisoryIds,
      module.level?.advisoryIds,
      qeLevel.advisoryIds,
    ),
    platformLevel: tdxLevel,
    sgxLevel,
    module,
    moduleLevel: module.level,
    qeLevel,
    tcbDate: tdxLevel.tcbDate,
    relaunchAdvised,
  });
}
