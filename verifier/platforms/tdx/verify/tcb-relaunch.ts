/**
 * The TD relaunch advice of TD report 1.5 quotes (spec digest C1.4 `checkForRelaunch`;
 * Intel QVL `TDRelaunchCheck`): when the platform's TDX TCB and the running module are
 * out of date but TEE_TCB_SVN2 (the module a relaunched TD would get) reaches the newest
 * levels, relaunching the TD is enough.
 *
 * @internal
 * @module
 */
import { VerificationError } from '../../../../common/errors.js';
import { findTdxModuleIdentity } from '../collateral/tcb-info.js';
import type { TdxTcbInfo } from '../collateral/tcb-info.js';
import type { TcbStatus } from './tcb-status.js';

/** Inputs of {@link isRelaunchAdvised}. */
export interface RelaunchInput {
  /** TEE_TCB_SVN2 (16 bytes). */
  readonly teeTcbSvn2: Uint8Array;
  readonly tcbInfo: TdxTcbInfo;
  /** Status of the first level matching the SGX components alone. */
  readonly sgxStatus: TcbStatus;
  /** Platform status after converging with the module status. */
  readonly tdxStatus: TcbStatus;
  readonly moduleStatus: TcbStatus;
  /** QE status as the QE check reports it (UpToDate, OutOfDate or Revoked). */
  readonly qeStatus: TcbStatus;
}

const SGX_OK: readonly TcbStatus[] = [
  'UpToDate',
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
];

/**
 * True when a relaunch of the TD would reach the newest TCB level.
 *
 * @throws {VerificationError} `ERR_TDX_MODULE_MISMATCH` when TEE_TCB_SVN2 names a module
 *   version without an identity in the TCB Info (Intel QVL fails the same way).
 */
export function isRelaunchAdvised(input: RelaunchInput): boolean {
  const { teeTcbSvn2: svn2, tcbInfo } = input;
  if (input.qeStatus !== 'UpToDate' || !SGX_OK.includes(input.sgxStatus)) return false;
  if (input.tdxStatus !== 'OutOfDate' && input.tdxStatus !== 'OutOfDateConfigurationNeeded')
    return false;
  if (input.moduleStatus !== 'OutOfDate') return false;
  const latest = tcbInfo.tcbLevels[0];
  if (latest === undefined) return false;
  if (svn2[1] === 0) {
    return svn2[0]! >= latest.tdxTcbComponents[0]! && svn2[2]! >= latest.tdxTcbComponents[2]!;
  }
  const identity = findTdxModuleIdentity(tcbInfo, svn2[1]!);
  if (identity === undefined) {
    throw new VerificationError(
      'ERR_TDX_MODULE_MISMATCH',
      `TEE_TCB_SVN2 names TDX module version ${svn2[1]}, which the TCB Info does not list`,
      'tdxModuleIdentities',
    );
  }
  const latestModule = identity.tcbLevels[0];
  if (latestModule === undefined) return false;
  return svn2[0]! >= latestModule.isvSvn && svn2[2]! >= latest.tdxTcbComponents[2]!;
}
