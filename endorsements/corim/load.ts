/**
 * CoRIM files and CoRIM signing-key files, for the CLI and the verifier service.
 *
 * @internal
 * @module
 */
import { createPublicKey, KeyObject } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { DEFAULT_CBOR_LIMITS } from './cbor.js';
import type { CborLimits } from './cbor.js';
import type { CorimKey } from './cose.js';
import { decodeCorim } from './decode-corim.js';
import { CorimError } from './errors.js';
import { corimToPolicy, mergePolicies, referencePlatforms } from './policy.js';
import type { CorimReferences } from './policy.js';
import type { Policy } from '../../verifier/policy/types.js';

const MAX_KEY_FILE = 64 * 1024;

/** Reads a whole file of at most `max` bytes. */
export function readLimitedFile(path: string, max: number): Uint8Array {
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new CorimError('ERR_CORIM_UNREADABLE', path, 'not a regular file');
    if (st.size > max)
      throw new CorimError(
        'ERR_CORIM_INVALID',
        path,
        `${st.size} bytes is over the ${max}-byte limit`,
      );
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    if (err instanceof CorimError) throw err;
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new CorimError('ERR_CORIM_UNREADABLE', path, `cannot read: ${reason}`, { cause: err });
  }
}

function keysOfText(text: string, path: string): CorimKey[] {
  if (text.startsWith('{')) {
    const json = JSON.parse(text) as { keys?: JsonWebKey[] } & JsonWebKey;
    return Array.isArray(json.keys) ? json.keys : [json];
  }
  if (text.includes('-----BEGIN')) {
    const blocks = text.match(/-----BEGIN [^-]+-----[\s\S]+?-----END [^-]+-----/g) ?? [];
    return blocks.map((pem) => createPublicKey(pem));
  }
  throw new TypeError(`${path}: expected a PEM public key, a JWK or a JWK set`);
}

/**
 * Trusted CoRIM signing keys from files: SPKI PEM (one or more keys, or certificates), a JWK
 * or a JWK set.
 *
 * @throws CorimError `ERR_CORIM_UNREADABLE`; TypeError for files that hold no usable key.
 *
 * @example
 * ```ts
 * const trustedKeys = loadCorimKeys(['vendor-corim-signer.pem']);
 * ```
 */
export function loadCorimKeys(files: readonly string[]): CorimKey[] {
  return files.flatMap((path) => {
    const text = Buffer.from(readLimitedFile(path, MAX_KEY_FILE)).toString('utf8').trim();
    try {
      const keys = keysOfText(text, path);
      if (keys.length === 0) throw new TypeError('no key found');
      for (const k of keys)
        if (!(k instanceof KeyObject)) createPublicKey({ key: k, format: 'jwk' });
      return keys;
    } catch (err) {
      throw new TypeError(`${path}: not a usable public key: ${(err as Error).message}`);
    }
  });
}

/** Options of {@link loadCorimPolicies}. */
export interface LoadCorimOptions {
  /**
   * Keys CoRIMs must be signed with. When any are given, every CoRIM must be signed by one of
   * them; when none are, unsigned CoRIMs are accepted and signed ones are refused (their
   * signature could not be checked).
   */
  readonly trustedKeys?: readonly CorimKey[];
  /** The instant validity periods are checked at. */
  readonly now: Date;
  readonly limits?: Partial<CborLimits>;
}

/**
 * Reads CoRIM files and returns the reference values of each, ready for `mergePolicies`.
 * Every CoRIM must state reference values for at least one of TDX, SEV-SNP and Nitro.
 *
 * @throws CorimError with the file name in the message: `ERR_CORIM_UNREADABLE`,
 *   `ERR_CORIM_INVALID`, `ERR_CORIM_SIGNATURE`, `ERR_CORIM_EXPIRED`,
 *   `ERR_CORIM_NOT_YET_VALID`, `ERR_CORIM_UNSUPPORTED`.
 *
 * @example
 * ```ts
 * const corims = loadCorimPolicies(['tdx-refs.corim'], { trustedKeys, now: new Date() });
 * const policy = mergePolicies(loadPolicy('policy.yaml'), ...corims);
 * ```
 */
export function loadCorimPolicies(
  files: readonly string[],
  options: LoadCorimOptions,
): CorimReferences[] {
  const keys = options.trustedKeys ?? [];
  const max = options.limits?.maxBytes ?? DEFAULT_CBOR_LIMITS.maxBytes;
  return files.map((file) => {
    try {
      const decoded = decodeCorim(readLimitedFile(file, max), {
        now: options.now,
        trustedKeys: keys,
        requireSignature: keys.length > 0,
        ...(options.limits && { limits: options.limits }),
      });
      const refs = corimToPolicy(decoded);
      if (referencePlatforms([refs]).length === 0) {
        throw new CorimError(
          'ERR_CORIM_UNSUPPORTED',
          'corim',
          'states no reference values for TDX, SEV-SNP or Nitro',
        );
      }
      return refs;
    } catch (err) {
      if (!(err instanceof CorimError) || err.path === file) throw err;
      const message = `${err.message.slice(err.path.length + 2)} (in ${file})`;
      throw new CorimError(err.code, err.path, message, { cause: err });
    }
  });
}

/** Options of {@link applyCorimFiles}. */
export interface ApplyCorimOptions {
  /** CoRIM files (none: the base policy is returned unchanged). */
  readonly files?: readonly string[];
  /** Key files (PEM, JWK, JWK set) the CoRIMs must be signed with; see {@link loadCorimKeys}. */
  readonly keyFiles?: readonly string[];
  readonly now: Date;
}

/**
 * The policy to appraise with: `base` with the reference values of CoRIM files merged in
 * ({@link loadCorimPolicies} then `mergePolicies`); `base` itself when there are no files.
 *
 * @example
 * ```ts
 * const policy = applyCorimFiles(loadPolicy('policy.yaml'), { files: ['refs.corim'], now });
 * ```
 */
export function applyCorimFiles(
  base: Policy | undefined,
  o: ApplyCorimOptions,
): Policy | undefined {
  const files = o.files ?? [];
  if (files.length === 0) return base;
  const trustedKeys = loadCorimKeys(o.keyFiles ?? []);
  return mergePolicies(base, ...loadCorimPolicies(files, { trustedKeys, now: o.now }));
}
