/**
 * Errors of the native layer. Device failures carry a stable `code` and what the kernel,
 * firmware or NSM said (`errno`, `fwError`, `vmmError`, `nsmError`); caller misuse is a
 * plain `TypeError`, raised before the addon is called.
 *
 * @internal
 * @module
 */
import { constants } from 'node:os';
import { TwiError } from '../common/errors.js';

/** Stable codes of device failures. */
export type DeviceErrorCode =
  /** The node or configfs tree is absent, has no (or another) provider, or cannot be opened. */
  | 'ERR_DEVICE_UNAVAILABLE'
  /** The TEE firmware, the hypervisor or the NSM refused: see `fwError`, `vmmError`, `nsmError`. */
  | 'ERR_DEVICE_FIRMWARE'
  /** Contention: EBUSY, a configfs-tsm generation race, SNP throttling. Retryable. */
  | 'ERR_DEVICE_BUSY'
  /** Another system call failure: see `errno`. */
  | 'ERR_DEVICE_IO'
  /** The SEV-SNP VMPCK was wiped after a failed request (ENOTTY): fatal until the VM reboots. */
  | 'ERR_DEVICE_DISABLED'
  /** The answer was malformed, truncated or over its size limit. */
  | 'ERR_DEVICE_RESPONSE'
  /** The kernel refused the request as invalid (EINVAL, EMSGSIZE). */
  | 'ERR_DEVICE_REJECTED';

const CODES: Record<string, DeviceErrorCode> = {
  unavailable: 'ERR_DEVICE_UNAVAILABLE',
  firmware: 'ERR_DEVICE_FIRMWARE',
  busy: 'ERR_DEVICE_BUSY',
  io: 'ERR_DEVICE_IO',
  disabled: 'ERR_DEVICE_DISABLED',
  response: 'ERR_DEVICE_RESPONSE',
  argument: 'ERR_DEVICE_REJECTED',
};

/** What the native side attached to a failure. */
export interface DeviceErrorDetail {
  errno?: number;
  fwError?: number;
  vmmError?: number;
  nsmError?: string;
}

/** A TEE guest device operation failed. */
export class DeviceError extends TwiError {
  override readonly code: DeviceErrorCode;
  /** errno of the failing system call. */
  readonly errno: number | undefined;
  /** Its symbolic name (`ENOENT`, `EIO`...). */
  readonly errnoName: string | undefined;
  /** SEV: firmware status (exitinfo2[31:0] or the MSG_*_RSP status). */
  readonly fwError: number | undefined;
  /** SEV: hypervisor error (exitinfo2[63:32]): 1 invalid certificate length, 2 busy. */
  readonly vmmError: number | undefined;
  /** Nitro: the ErrorCode of an `{"Error": ...}` answer. */
  readonly nsmError: string | undefined;
  /** True when asking again later may succeed. */
  readonly retryable: boolean;

  constructor(code: DeviceErrorCode, message: string, detail: DeviceErrorDetail = {}) {
    super(message);
    this.code = code;
    this.errno = detail.errno;
    this.errnoName = detail.errno === undefined ? undefined : errnoName(detail.errno);
    this.fwError = detail.fwError;
    this.vmmError = detail.vmmError;
    this.nsmError = detail.nsmError;
    this.retryable = code === 'ERR_DEVICE_BUSY';
  }
}

/** `sign` (or `seal`) on a key after `dispose()`. */
export class KeyDisposedError extends TwiError {
  override readonly code = 'ERR_KEY_DISPOSED';
}

/** Key memory could not be locked, or OpenSSL failed. */
export class KeyStoreError extends TwiError {
  override readonly code = 'ERR_KEY_STORE';
}

/** A sealed key is malformed or does not open with this workload's derived key. */
export class KeySealError extends TwiError {
  override readonly code = 'ERR_KEY_SEAL';
}

function errnoName(n: number): string | undefined {
  for (const [name, value] of Object.entries(constants.errno)) if (value === n) return name;
  return undefined;
}

interface NativeFailure extends Error {
  kind?: string;
  errno?: number;
  fwError?: number;
  vmmError?: number;
  nsmError?: string;
}

/** Turns what the addon threw or rejected with into a twi error (TypeErrors pass through). */
export function mapNativeError(err: unknown): unknown {
  if (!(err instanceof Error) || err instanceof TypeError) return err;
  const e = err as NativeFailure;
  if (e.kind === 'key-disposed') return new KeyDisposedError(e.message);
  if (e.kind === 'key') return new KeyStoreError(e.message);
  if (e.kind === 'seal') return new KeySealError(e.message);
  const code = e.kind === undefined ? undefined : CODES[e.kind];
  if (!code) return err;
  const detail: DeviceErrorDetail = {
    ...(e.errno !== undefined && { errno: e.errno }),
    ...(e.fwError !== undefined && { fwError: e.fwError }),
    ...(e.vmmError !== undefined && { vmmError: e.vmmError }),
    ...(e.nsmError !== undefined && { nsmError: e.nsmError }),
  };
  return new DeviceError(code, e.message, detail);
}

/** Awaits a native Promise, mapping its failure. */
export async function settle<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw mapNativeError(err);
  }
}

/** Runs a synchronous native call, mapping its failure. */
export function call<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw mapNativeError(err);
  }
}
