/**
 * Simulated vendor PKIs (Intel SGX/TDX provisioning, AMD SEV-SNP KDS, AWS Nitro Enclaves)
 * whose certificates mirror the real vendors' profiles and differ only in their keys,
 * which derive from a secret seed. For tests, development and the `simulate` command;
 * production code paths must not trust these roots unless explicitly configured.
 *
 * @example
 * ```ts
 * import { openSimulatedPki } from './simulators/pki/index.js';
 * const sim = await openSimulatedPki('.twi/sim-pki');
 * const intel = sim.intel();
 * const pck = intel.issuePck({ ca: 'platform', cpusvn, pcesvn: 11, fmspc });
 * ```
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
} from './intel.js';
export {
  AmdOids,
  createAmdPki,
  type AmdCrlOptions,
  type AmdPki,
  type AmdProduct,
  type AmdTcb,
  type VcekOptions,
  type VlekOptions,
} from './amd.js';
export { createNitroPki, nitroHostName, type NitroLeafOptions, type NitroPki } from './aws.js';
export { openSimulatedPki, SimulatorStateError, type SimulatedPki } from './store.js';
export {
  deriveEcKey,
  deriveRsaKey,
  ecdsaRawToDer,
  type EcCurve,
  type EcKeyPair,
  type RsaKeyPair,
  type SimKeyPair,
} from './keys.js';
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
} from './x509.js';
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
} from './extensions.js';
export * as der from './der.js';
