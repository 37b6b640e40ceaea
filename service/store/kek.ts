/**
 * The key-encryption key (KEK) private keys are sealed under at rest: AES-256-GCM with a random
 * 96-bit IV, the key's purpose and id as additional authenticated data, in a versioned envelope
 * `twi-kek-v1.<kekId>.<iv>.<ciphertext+tag>` (base64url parts). `kekId` is a fingerprint of the
 * KEK (HMAC-SHA-256 of a fixed label, 9 bytes), so a store names the KEK it needs without
 * revealing it, and a wrong KEK is told apart from a damaged envelope.
 *
 * @internal
 * @module
 */
import { createCipheriv, createDecipheriv, createHmac, KeyObject, randomBytes } from 'node:crypto';
import { StoreError } from './errors.js';

/** A KEK as given to the library: 32 bytes, or a 32-byte secret `KeyObject`. */
export type KekInput = Uint8Array | KeyObject;

/** Stable codes of {@link KekError}. */
export type KekErrorCode =
  /** The store holds sealed keys (or must seal one) and no KEK was given. */
  | 'ERR_KEK_MISSING'
  /** The store's keys are sealed under another KEK. */
  | 'ERR_KEK_MISMATCH'
  /** The KEK given is not 32 bytes (or its file or text does not decode). */
  | 'ERR_KEK_INVALID'
  /** A sealed value is malformed or fails authentication under the right KEK. */
  | 'ERR_KEK_CORRUPT';

/** A KEK problem. Messages never contain key material, only KEK fingerprints and names. */
export class KekError extends StoreError {
  override readonly code: KekErrorCode;

  constructor(code: KekErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Seals and opens private keys; what a store holds instead of the KEK's bytes. */
export interface Kek {
  /** Fingerprint of the KEK, as written in every envelope; `undefined` when there is no KEK. */
  readonly id: string | undefined;
  /** Seals `plaintext` for the key `id` of kind `purpose` (e.g. `signing-key`, `kid`). */
  seal(purpose: string, id: string, plaintext: string): string;
  /** Opens an envelope written by {@link Kek.seal} for the same `purpose` and `id`. */
  open(purpose: string, id: string, envelope: string): string;
}

const VERSION = 'twi-kek-v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const PART = /^[A-Za-z0-9_-]+$/;

/** Whether a stored value is a sealed envelope (rather than legacy plaintext). */
export function isSealed(value: string): boolean {
  return value.startsWith(`${VERSION}.`);
}

function secretBytes(input: KekInput): Buffer {
  if (input instanceof KeyObject) {
    if (input.type !== 'secret') {
      throw new KekError('ERR_KEK_INVALID', `KEK must be a secret key, got a ${input.type} key`);
    }
    return input.export();
  }
  if (!(input instanceof Uint8Array)) throw new TypeError('KEK must be a Uint8Array or KeyObject');
  return Buffer.from(input);
}

function aad(kekId: string, purpose: string, id: string): Buffer {
  return Buffer.from(`${VERSION}.${kekId}\0${purpose}\0${id}`, 'utf8');
}

/**
 * The sealer over a 32-byte KEK.
 *
 * @throws {KekError} `ERR_KEK_INVALID` when the KEK is not 32 bytes.
 * @example
 * ```ts
 * const kek = createKek(randomBytes(32));
 * const sealed = kek.seal('signing-key', kid, pem);
 * ```
 */
export function createKek(input: KekInput): Kek {
  const key = secretBytes(input);
  if (key.length !== KEY_BYTES) {
    throw new KekError('ERR_KEK_INVALID', `KEK must be ${KEY_BYTES} bytes, got ${key.length}`);
  }
  const id = createHmac('sha256', key)
    .update('twi-kek-id')
    .digest()
    .subarray(0, 9)
    .toString('base64url');
  return {
    id,
    seal(purpose, keyId, plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(aad(id, purpose, keyId));
      const ct = Buffer.concat([
        cipher.update(plaintext, 'utf8'),
        cipher.final(),
        cipher.getAuthTag(),
      ]);
      return [VERSION, id, iv.toString('base64url'), ct.toString('base64url')].join('.');
    },
    open(purpose, keyId, envelope) {
      const parts = envelope.split('.');
      if (
        parts.length !== 4 ||
        parts[0] !== VERSION ||
        !parts.slice(1).every((p) => PART.test(p))
      ) {
        throw new KekError(
          'ERR_KEK_CORRUPT',
          `${purpose} ${keyId} is not a sealed ${VERSION} value`,
        );
      }
      const [, sealedBy, ivText, ctText] = parts as [string, string, string, string];
      if (sealedBy !== id) {
        throw new KekError(
          'ERR_KEK_MISMATCH',
          `${purpose} ${keyId} is sealed under KEK ${sealedBy}, not the given KEK ${id}`,
        );
      }
      const iv = Buffer.from(ivText, 'base64url');
      const ct = Buffer.from(ctText, 'base64url');
      if (iv.length !== IV_BYTES || ct.length < TAG_BYTES) {
        throw new KekError('ERR_KEK_CORRUPT', `${purpose} ${keyId}: malformed envelope`);
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv).setAAD(aad(id, purpose, keyId));
        decipher.setAuthTag(ct.subarray(ct.length - TAG_BYTES));
        const body = ct.subarray(0, ct.length - TAG_BYTES);
        return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      } catch {
        // No cause: the driver error says nothing useful and nothing secret is worth risking.
        throw new KekError(
          'ERR_KEK_CORRUPT',
          `${purpose} ${keyId}: sealed value fails authentication (altered, or moved from another key)`,
        );
      }
    },
  };
}

/** The sealer of a store opened without a KEK: it refuses to seal or open anything. */
export function noKek(why: string): Kek {
  const refuse = (purpose: string, keyId: string): never => {
    throw new KekError('ERR_KEK_MISSING', `${purpose} ${keyId}: no KEK given (${why})`);
  };
  return { id: undefined, seal: refuse, open: refuse };
}

/**
 * Decodes a KEK from text or bytes: exactly 32 raw bytes, or (surrounding whitespace ignored)
 * 64 hex digits, or base64 / base64url of 32 bytes.
 *
 * @throws {KekError} `ERR_KEK_INVALID` otherwise (the message never echoes the input).
 */
export function decodeKek(data: Uint8Array | string, source: string): Buffer {
  if (typeof data !== 'string' && data.length === KEY_BYTES) return Buffer.from(data);
  const text = (typeof data === 'string' ? data : Buffer.from(data).toString('latin1')).trim();
  let bytes: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(text)) bytes = Buffer.from(text, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(text)) {
    bytes = Buffer.from(
      text.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''),
      'base64url',
    );
  }
  if (bytes?.length !== KEY_BYTES) {
    throw new KekError(
      'ERR_KEK_INVALID',
      `${source}: a KEK is 32 bytes, raw or as 64 hex digits or base64/base64url`,
    );
  }
  return bytes;
}
