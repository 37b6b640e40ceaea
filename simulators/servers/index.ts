/**
 * Simulated vendor collateral services: Intel PCS v4 and AMD KDS on one loopback HTTP
 * server, with switchable faults. For tests, development and `twi simulate serve`.
 *
 * @example
 * ```ts
 * import { startCollateralServer } from './simulators/servers/index.js';
 * const server = await startCollateralServer({ pki, faults: parseFaultSpec('latency:200') });
 * console.log(`--pcs-url ${server.url} --kds-url ${server.url}`);
 * ```
 *
 * @module
 */
export {
  startCollateralServer,
  type CollateralServer,
  type CollateralServerOptions,
} from './collateral-server.js';
export {
  FaultState,
  checkFaults,
  mergeFaults,
  parseFaultSpec,
  type FaultAction,
  type FaultConfig,
  type FaultDecision,
  type FaultSet,
} from './faults.js';
export { SIM_ROOT_CRL_PATH } from './intel-routes.js';
export type { ServedTdxOptions, SimResponse } from './routes.js';
