/**
 * Device emulation for CI: an LD_PRELOAD library that emulates the Linux TEE guest
 * interfaces and the backend that answers it with simulator evidence. See
 * docs/device-emulation.md.
 *
 * @module
 */
export {
  DeviceEmulatorError,
  deviceEmulatorLibrary,
  startDeviceEmulator,
  type DeviceEmulator,
  type DeviceEmulatorOptions,
} from './emulator.js';
export type { DeviceFault, EmulatedDevice, FaultKind, NsmErrorCode } from './faults.js';
export type { DeviceRequestRecord, EmulatedPlatform } from './types.js';
export type { TdxEmuOptions } from './tdx-backend.js';
export type { SnpEmuOptions } from './snp-backend.js';
export type { NitroEmuOptions } from './nsm-backend.js';
