/**
 * twi native addon: TEE guest devices (configfs-tsm, `/dev/sev-guest`, `/dev/tdx_guest`,
 * `/dev/nsm`) and a non-exportable key store, built by `binding.gyp` during `npm install`.
 * See docs/native.md.
 *
 * @module
 */
export { loadNative, NativeUnavailableError, NATIVE_ABI_VERSION } from './binding.js';
export type { NativeBinding } from './binding.js';
export {
  DeviceError,
  KeyDisposedError,
  KeySealError,
  KeyStoreError,
  type DeviceErrorCode,
} from './errors.js';
export {
  NSM_LIMITS,
  REPORT_DATA_SIZE,
  detectPlatforms,
  nsmGetAttestation,
  snpGetReport,
  tdxExtendRtmr,
  tdxGetReport0,
  tdxReadRtmr,
  tsmReport,
  type InterfaceProbe,
  type NsmAttestationInput,
  type PlatformProbe,
  type SnpReport,
  type TsmReport,
} from './devices.js';
export {
  EVIDENCE_MEDIA_TYPES,
  SNP_CERTS_MEDIA_TYPE,
  getEvidence,
  openTeeDevice,
  teeDeviceFor,
  type Evidence,
  type EvidenceRequest,
  type SuppliedEndorsement,
  type TeeDevice,
  type TeePlatform,
} from './evidence.js';
export {
  FIELD_MEASUREMENT,
  MAX_SIGN_INPUT,
  NativeKey,
  generateKey,
  keyStoreInfo,
  sealKey,
  unsealKey,
  type KeyCurve,
  type SealOptions,
} from './keys.js';
