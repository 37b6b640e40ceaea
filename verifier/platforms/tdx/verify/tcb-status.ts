/**
 * Intel TCB status values and the convergence rules of Intel's quote verification
 * library (spec digest C1.3, C1.4): how a TDX module status and a QE status modify the
 * platform TCB level's status.
 *
 * @module
 */

/** The `tcbStatus` values of Intel TCB Info v3 and QE Identity v2 levels. @internal */
export const TCB_STATUSES = [
  'UpToDate',
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'OutOfDate',
  'OutOfDateConfigurationNeeded',
  'Revoked',
] as const;

/** A TCB status. */
export type TcbStatus = (typeof TCB_STATUSES)[number];

/** True for one of {@link TCB_STATUSES}. @internal */
export function isTcbStatus(value: unknown): value is TcbStatus {
  return typeof value === 'string' && (TCB_STATUSES as readonly string[]).includes(value);
}

/**
 * Applies an out-of-date or revoked component (TDX module or QE) to the platform status:
 * OutOfDate turns UpToDate/SWHardeningNeeded into OutOfDate and the two configuration
 * statuses into OutOfDateConfigurationNeeded; Revoked wins; anything else keeps the
 * platform status (Intel QVL `convergeTcbStatusWithTdxModuleStatus` /
 * `convergeTcbStatusWithQeTcbStatus`).
 *
 * @internal
 */
export function convergeTcbStatus(platform: TcbStatus, component: TcbStatus): TcbStatus {
  if (component === 'Revoked') return 'Revoked';
  if (component === 'OutOfDate') {
    if (platform === 'UpToDate' || platform === 'SWHardeningNeeded') return 'OutOfDate';
    if (platform === 'ConfigurationNeeded' || platform === 'ConfigurationAndSWHardeningNeeded') {
      return 'OutOfDateConfigurationNeeded';
    }
  }
  return platform;
}

/**
 * The QE identity's level status as the QE check reports it: Intel's enclave report
 * verifier treats every non-UpToDate, non-Revoked level as "ISVSVN out of date".
 *
 * @internal
 */
export function qeComponentStatus(levelStatus: TcbStatus): TcbStatus {
  if (levelStatus === 'UpToDate' || levelStatus === 'Revoked') return levelStatus;
  return 'OutOfDate';
}
