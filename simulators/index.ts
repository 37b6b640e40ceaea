/**
 * Hardware and vendor simulators: simulated Intel, AMD and AWS PKIs and evidence
 * generators for TDX, SEV-SNP and Nitro. Library code for tests, benchmarks, the
 * `twi simulate` command and development; production paths never import it.
 *
 * @module
 */
export * from './pki/index.js';
export { simulateTdx, type TdxSimulation } from './tdx.js';
export type { TdxSimOptions } from './tdx-options.js';
export { simulateSnp, type SnpSimOptions, type SnpSimResult } from './sev-snp.js';
export {
  simulateNitro,
  simulatedNitroModuleId,
  type NitroSimOptions,
  type NitroSimResult,
} from './nitro.js';
export { buildTdReport, parseTdReport, tdReportMac, type TdReport } from './tdx-report.js';
export * from './device-emu/index.js';
export {
  signStatement,
  simulateSbom,
  simulateSlsaProvenance,
  slsaStatement,
  type SimulatedEnvelope,
  type SimulatedSubject,
  type SlsaSimOptions,
} from './supply-chain.js';
