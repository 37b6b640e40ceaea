/**
 * The raw shape of the compiled addon (`build/Release/twi_native.node`) and its loader.
 * Internal: the typed surface is in `devices.ts`, `evidence.ts` and `keys.ts`.
 *
 * @internal
 * @module
 */
import { createRequire } from 'node:module';
import { TwiError } from '../common/errors.js';

/** What the addon's device probe reports per interface. */
export interface RawInterfaceProbe {
  name: string;
  path: string;
  present: boolean;
  usable: boolean;
  detail: string;
  errno?: number;
}

export interface RawPlatformProbe {
  platform: 'tdx' | 'sev-snp' | 'nitro';
  usable: boolean;
  interfaces: RawInterfaceProbe[];
}

export interface RawTsmReport {
  provider: string;
  outblob: Buffer;
  auxblob: Buffer;
  generation: number;
  attempts: number;
}

export interface RawSnpReport {
  report: Buffer;
  certs: Buffer;
  certsBufferLength: number;
  attempts: number;
}

/** The opaque key object of the addon: nothing on it yields the private key. */
export interface RawKeyHandle {
  readonly curve: 'P-256' | 'P-384';
  readonly disposed: boolean;
  publicPoint(): Buffer;
  signSync(data: Uint8Array): Buffer;
  sign(data: Uint8Array): Promise<Buffer>;
  dispose(): void;
}

export interface NativeBinding {
  abiVersion(): number;
  detectPlatforms(): Promise<RawPlatformProbe[]>;
  tsmReport(inblob: Uint8Array, provider: string, auxblob: boolean): Promise<RawTsmReport>;
  snpGetReport(userData: Uint8Array, vmpl: number, extended: boolean): Promise<RawSnpReport>;
  tdxGetReport0(reportData: Uint8Array): Promise<Buffer>;
  tdxExtendRtmr(index: number, digest: Uint8Array): Promise<void>;
  tdxReadRtmr(index: number): Promise<Buffer>;
  nsmGetAttestation(
    userData: Uint8Array | null,
    nonce: Uint8Array | null,
    publicKey: Uint8Array | null,
  ): Promise<Buffer>;
  generateKey(curve: 'P-256' | 'P-384'): RawKeyHandle;
  sealKey(
    handle: RawKeyHandle,
    fieldSelectLo: number,
    fieldSelectHi: number,
    rootKeySelect: number,
    vmpl: number,
    guestSvn: number,
    tcbLo: number,
    tcbHi: number,
  ): Promise<Buffer>;
  unsealKey(sealed: Uint8Array): Promise<RawKeyHandle>;
  keyStoreInfo(): { secureHeap: boolean; liveKeys: number };
  /** SO_PEERCRED of a connected Unix-domain socket, by its file descriptor. */
  peerCredentials(fd: number): { pid: number; uid: number; gid: number };
}

/** The ABI version this loader was written for (native/src/addon.cc kAbiVersion). */
export const NATIVE_ABI_VERSION = 3;

/** The addon is not built, or was built from other sources than this loader. */
export class NativeUnavailableError extends TwiError {
  override readonly code = 'ERR_NATIVE_UNAVAILABLE';
}

const require = createRequire(import.meta.url);
let cached: NativeBinding | undefined;

/**
 * Loads the compiled addon from `build/Release`, once.
 *
 * @throws {NativeUnavailableError} when it is missing or of another ABI version.
 */
export function loadNative(): NativeBinding {
  if (cached) return cached;
  let binding: NativeBinding;
  try {
    binding = require('../../build/Release/twi_native.node') as NativeBinding;
  } catch (err) {
    throw new NativeUnavailableError(
      'the twi native addon is not built (run `npm install` or `npx node-gyp rebuild`)',
      { cause: err },
    );
  }
  const abi = binding.abiVersion();
  if (abi !== NATIVE_ABI_VERSION) {
    throw new NativeUnavailableError(
      `native addon ABI ${abi} does not match the loader's ${NATIVE_ABI_VERSION}: rebuild it`,
    );
  }
  return (cached = binding);
}
