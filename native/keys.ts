/**
 * Non-exportable ECDSA keys held by the addon. The private scalar lives in locked,
 * non-dumpable native memory that is zeroised on release; JavaScript only ever holds
 * {@link NativeKey}, an opaque handle (see docs/native.md for what is and is not
 * guaranteed).
 *
 * @internal
 * @module
 */
import { createPublicKey } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { loadNative } from './binding.js';
import type { RawKeyHandle } from './binding.js';
import { KeyDisposedError, call, settle } from './errors.js';
import { bytesArg, intArg } from './validate.js';

/** Curves of the key store. */
export type KeyCurve = 'P-256' | 'P-384';

/** Largest message `sign` accepts (the addon copies it once). */
export const MAX_SIGN_INPUT = 64 * 1024 * 1024;

const SIZES: Record<KeyCurve, number> = { 'P-256': 32, 'P-384': 48 };

// Handles by key, for sealKey in this module; nothing outside can reach them.
const handles = new WeakMap<NativeKey, RawKeyHandle>();

/** A key that signs inside the addon; it never yields its private part. */
export class NativeKey {
  readonly #handle: RawKeyHandle;
  #jwk: JsonWebKey | undefined;
  #spki: Uint8Array | undefined;

  /** @internal Use {@link generateKey} or {@link unsealKey}. */
  constructor(handle: RawKeyHandle) {
    this.#handle = handle;
    handles.set(this, handle);
  }

  /** `P-256` or `P-384`. */
  get curve(): KeyCurve {
    return this.#handle.curve;
  }

  /** The JWS algorithm of `sign`'s output: ES256 (P-256, SHA-256) or ES384 (P-384, SHA-384). */
  get alg(): 'ES256' | 'ES384' {
    return this.#handle.curve === 'P-256' ? 'ES256' : 'ES384';
  }

  /** True after {@link NativeKey.dispose}. */
  get disposed(): boolean {
    return this.#handle.disposed;
  }

  /**
   * The public key as a JWK (`kty`, `crv`, `x`, `y`) and as SPKI DER.
   *
   * @throws {KeyDisposedError} after dispose.
   */
  publicKey(): { jwk: JsonWebKey; spki: Uint8Array } {
    if (!this.#jwk || !this.#spki) {
      const point = call(() => this.#handle.publicPoint());
      const n = SIZES[this.curve];
      const jwk: JsonWebKey = {
        kty: 'EC',
        crv: this.curve,
        x: Buffer.from(point.subarray(1, 1 + n)).toString('base64url'),
        y: Buffer.from(point.subarray(1 + n)).toString('base64url'),
      };
      const spki = createPublicKey({ key: jwk, format: 'jwk' }).export({
        type: 'spki',
        format: 'der',
      });
      this.#jwk = jwk;
      this.#spki = new Uint8Array(spki);
    }
    if (this.disposed) throw new KeyDisposedError('the key has been disposed');
    return { jwk: { ...this.#jwk }, spki: new Uint8Array(this.#spki) };
  }

  /**
   * Signs `data` on the libuv pool: ECDSA with SHA-256 / SHA-384, the raw `r ‖ s` form of
   * JWS (RFC 7518 §3.4). Fits the WIMSE `RawSigner` interface.
   *
   * @throws {KeyDisposedError} after dispose.
   */
  async sign(data: Uint8Array): Promise<Uint8Array> {
    bytesArg('data', data, 0, MAX_SIGN_INPUT);
    if (this.disposed) throw new KeyDisposedError('the key has been disposed');
    return settle(this.#handle.sign(data));
  }

  /** {@link NativeKey.sign} on the calling thread. */
  signSync(data: Uint8Array): Uint8Array {
    bytesArg('data', data, 0, MAX_SIGN_INPUT);
    return call(() => this.#handle.signSync(data));
  }

  /** Wipes the key. Signing afterwards fails with `ERR_KEY_DISPOSED`; idempotent. */
  dispose(): void {
    this.#handle.dispose();
  }

  /** Neither the scalar nor the handle shows in `JSON.stringify` or `util.inspect`. */
  toJSON(): { curve: KeyCurve; disposed: boolean } {
    return { curve: this.curve, disposed: this.disposed };
  }
}

/**
 * Generates a key in the addon from OpenSSL's private DRBG.
 *
 * @throws {KeyStoreError} when locked memory is not available (RLIMIT_MEMLOCK).
 */
export function generateKey(curve: KeyCurve = 'P-256'): NativeKey {
  if (curve !== 'P-256' && curve !== 'P-384') throw new TypeError('curve must be P-256 or P-384');
  return new NativeKey(call(() => loadNative().generateKey(curve)));
}

/** SNP_GET_DERIVED_KEY fields of the sealing key (SEV-SNP firmware ABI, MSG_KEY_REQ). */
export interface SealOptions {
  /** Bits: 0 GUEST_POLICY, 1 IMAGE_ID, 2 FAMILY_ID, 3 MEASUREMENT (required), 4 GUEST_SVN, 5 TCB_VERSION. Default 0b1001. */
  guestFieldSelect?: number;
  /** 0 VCEK (default), 1 VMRK. */
  rootKeySelect?: 0 | 1;
  /** At least the VMPL the guest runs at (default 0). */
  vmpl?: number;
  guestSvn?: number;
  /** Up to 2^53 − 1. */
  tcbVersion?: number;
}

/** guest_field_select bit 3: mix the launch MEASUREMENT into the derived key. */
export const FIELD_MEASUREMENT = 1 << 3;

/**
 * Seals a key for restart on SEV-SNP: AES-256-GCM under a key from SNP_GET_DERIVED_KEY
 * whose derivation includes the launch MEASUREMENT, so only the same measured workload
 * (on the same chip, same policy) can unseal it. The blob is safe to store.
 *
 * @throws {DeviceError} when `/dev/sev-guest` is unavailable or refuses.
 */
export async function sealKey(key: NativeKey, options: SealOptions = {}): Promise<Uint8Array> {
  if (!(key instanceof NativeKey)) throw new TypeError('key must be a NativeKey');
  const fields = intArg('guestFieldSelect', options.guestFieldSelect ?? 0b1001, 0, 0x7f);
  if ((fields & FIELD_MEASUREMENT) === 0) {
    throw new TypeError('guestFieldSelect must include MEASUREMENT (bit 3)');
  }
  const root = intArg('rootKeySelect', options.rootKeySelect ?? 0, 0, 1);
  const vmpl = intArg('vmpl', options.vmpl ?? 0, 0, 3);
  const svn = intArg('guestSvn', options.guestSvn ?? 0, 0, 0xffffffff);
  const tcb = intArg('tcbVersion', options.tcbVersion ?? 0, 0, Number.MAX_SAFE_INTEGER);
  const handle = rawHandleOf(key);
  return settle(
    loadNative().sealKey(
      handle,
      fields,
      0,
      root,
      vmpl,
      svn,
      tcb % 2 ** 32,
      Math.floor(tcb / 2 ** 32),
    ),
  );
}

/**
 * Unseals a key sealed by {@link sealKey} in a workload with the same measurement.
 *
 * @throws {KeySealError} when the blob is malformed or does not open with this workload's key.
 */
export async function unsealKey(sealed: Uint8Array): Promise<NativeKey> {
  bytesArg('sealed', sealed, 1, 4096);
  return new NativeKey(await settle(loadNative().unsealKey(sealed)));
}

/** Whether OpenSSL's secure heap is on (`node --secure-heap=N`) and how many keys are alive. */
export function keyStoreInfo(): { secureHeap: boolean; liveKeys: number } {
  return loadNative().keyStoreInfo();
}

function rawHandleOf(key: NativeKey): RawKeyHandle {
  const h = handles.get(key);
  if (!h) throw new TypeError('key must be a NativeKey');
  return h;
}
