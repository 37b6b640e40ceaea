/**
 * Hardware and vendor simulators: simulated Intel, AMD and AWS PKIs and evidence
 * generators for TDX, SEV-SNP and Nitro. Library code for tests, benchmarks, the
 * `twi simulate` command and development; production paths never import it.
 *
 * @module
 */
export {
  createIntelPki,
  SgxOids,
  type CrlOptions,
  type IntelPki,
  type PckCa,
  type PckOptions,
} from './pki/intel.js';
export {
  AmdOids,
  createAmdPki,
  type AmdCrlOptions,
  type AmdPki,
  type AmdProduct,
  type AmdTcb,
  type VcekOptions,
  type VlekOptions,
} from './pki/amd.js';
export { createNitroPki, nitroHostName, type NitroLeafOptions, type NitroPki } from './pki/aws.js';
export { openSimulatedPki, SimulatorStateError, type SimulatedPki } from './pki/store.js';
export {
  deriveEcKey,
  deriveRsaKey,
  ecdsaRawToDer,
  type EcCurve,
  type EcKeyPair,
  type RsaKeyPair,
  type SimKeyPair,
} from './pki/keys.js';
export {
  buildCrl,
  encodeName,
  issueCertificate,
  Oids,
  pemChain,
  toPem,
  type CertificateSpec,
  type CrlSpec,
  type DistinguishedName,
  type DnAttribute,
  type Extension,
  type IssuedCert,
  type RevokedEntry,
} from './pki/x509.js';
export {
  authorityKeyIdentifier,
  basicConstraints,
  crlDistributionPoint,
  crlNumber,
  keyIdOverPublicKey,
  keyIdOverSpki,
  keyUsage,
  subjectKeyIdentifier,
  type KeyUsageFlag,
} from './pki/extensions.js';
export { simulateTdx, type TdxSimulation } from './tdx.js';
export { simulatedTdxEventLog, type SimulatedTdxEventLog } from './tdx-event-log.js';
export type { TdxSimOptions } from './tdx-options.js';
export { simulateSnp, type SnpSimOptions, type SnpSimResult } from './sev-snp.js';
export {
  simulateNitro,
  simulatedNitroModuleId,
  type NitroSimOptions,
  type NitroSimResult,
} from './nitro.js';
export { buildTdReport, parseTdReport, tdReportMac, type TdReport } from './tdx-report.js';
export {
  DeviceEmulatorError,
  deviceEmulatorLibrary,
  startDeviceEmulator,
  type DeviceEmulator,
  type DeviceEmulatorOptions,
} from './device-emu/emulator.js';
export type { DeviceFault, EmulatedDevice, FaultKind, NsmErrorCode } from './device-emu/faults.js';
export type { DeviceRequestRecord, EmulatedPlatform } from './device-emu/types.js';
export type { TdxEmuOptions } from './device-emu/tdx-backend.js';
export type { SnpEmuOptions } from './device-emu/snp-backend.js';
export type { NitroEmuOptions } from './device-emu/nsm-backend.js';
export {
  signStatement,
  simulateSbom,
  simulateSlsaProvenance,
  slsaStatement,
  type SimulatedEnvelope,
  type SimulatedSubject,
  type SlsaSimOptions,
} from './supply-chain.js';
