/**
 * The file delivery of the credential: `wit.jwt`, `ear.jwt` and `bundle.json` (in X.509 mode
 * also `svid.pem`, `bundle.pem` and, with a held key, `svid-key.pem`) written atomically
 * (temporary file in the same directory, fsync, rename) so a reader sees the old or the new
 * file, never a part of one. Credentials and keys are 0600 from their first byte, in a 0700
 * directory; the public bundle files are 0640. A revoked credential's files are removed
 * (unlink is atomic too): no file means no credential, as before the first one.
 *
 * @internal
 * @module
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Credential } from './credential.js';
import { ShimError } from './errors.js';
import type { HeldBundle } from './local-api.js';
import { bundlePem } from './x509.js';

/** File names inside `--files DIR`. */
export const SHIM_FILES = {
  wit: 'wit.jwt',
  ear: 'ear.jwt',
  bundle: 'bundle.json',
  svid: 'svid.pem',
  svidKey: 'svid-key.pem',
  bundlePem: 'bundle.pem',
} as const;

/** Mode of the files directory. */
export const FILES_DIR_MODE = 0o700;
/** Mode of the files holding a credential or a key (`wit.jwt`, `ear.jwt`, `svid*.pem`). */
export const CREDENTIAL_FILE_MODE = 0o600;
/** Mode of the public bundle files (`bundle.json`, `bundle.pem`). */
export const PUBLIC_FILE_MODE = 0o640;

/**
 * Writes `data` to `dir/name` atomically; the temporary file is created with `mode`, so the
 * data is never readable more widely (the umask can only narrow it).
 */
export function writeAtomic(dir: string, name: string, data: string, mode: number): void {
  const tmp = join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, join(dir, name));
}

/** A directory mode that was tightened: the permission bits found and set. */
export interface DirModeFix {
  readonly was: number;
  readonly now: number;
}

function filesError(dir: string, what: string, cause?: unknown): ShimError {
  return new ShimError('ERR_SHIM_FILES', `--files ${dir}: ${what}`, cause ? { cause } : {});
}

/**
 * Creates the files directory 0700 (missing parents too) or tightens an existing one to at
 * most 0700, as the store does with its data directory (docs/shim.md "Files"). Returns the
 * fix when the mode was tightened.
 *
 * @throws {ShimError} `ERR_SHIM_FILES` when the path is not a directory, or cannot be created
 *   or have its mode changed (e.g. another user owns it).
 */
export function prepareFilesDir(dir: string): DirModeFix | undefined {
  let st;
  try {
    st = statSync(dir, { throwIfNoEntry: false });
    if (!st) {
      mkdirSync(dir, { recursive: true, mode: FILES_DIR_MODE });
      chmodSync(dir, FILES_DIR_MODE); // the umask may have removed more than asked
      return undefined;
    }
  } catch (err) {
    throw filesError(dir, `cannot create it (${(err as NodeJS.ErrnoException).code})`, err);
  }
  if (!st.isDirectory()) throw filesError(dir, 'not a directory');
  const was = st.mode & 0o777;
  if ((was & ~FILES_DIR_MODE) === 0) return undefined;
  try {
    chmodSync(dir, was & FILES_DIR_MODE);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw filesError(
      dir,
      `mode ${was.toString(8)} is wider than 0700 and chmod failed (${code})`,
      err,
    );
  }
  return { was, now: was & FILES_DIR_MODE };
}

/**
 * WIT and EAR files for a new credential, `svid.pem` when it has a certificate and
 * `svid-key.pem` when the workload holds that certificate's key; all 0600.
 */
export function writeCredentialFiles(dir: string, c: Credential): void {
  const mode = CREDENTIAL_FILE_MODE;
  // The key first: a reader that sees the new certificate finds its key.
  if (c.x509?.keyPem !== undefined) writeAtomic(dir, SHIM_FILES.svidKey, c.x509.keyPem, mode);
  if (c.x509) writeAtomic(dir, SHIM_FILES.svid, c.x509.pem, mode);
  writeAtomic(dir, SHIM_FILES.wit, c.wit + '\n', mode);
  writeAtomic(dir, SHIM_FILES.ear, c.ear + '\n', mode);
}

/** Removes the WIT, EAR and certificate files (a revoked credential); missing files are fine. */
export function removeCredentialFiles(dir: string): void {
  rmSync(join(dir, SHIM_FILES.wit), { force: true });
  rmSync(join(dir, SHIM_FILES.ear), { force: true });
  rmSync(join(dir, SHIM_FILES.svid), { force: true });
  rmSync(join(dir, SHIM_FILES.svidKey), { force: true });
}

/** The bundle file, with its expiry beside the bundle. */
export function writeBundleFile(dir: string, b: HeldBundle): void {
  writeAtomic(
    dir,
    SHIM_FILES.bundle,
    JSON.stringify({ bundle: b.bundle, expires_at: b.expiresAt.toISOString() }, null, 2) + '\n',
    PUBLIC_FILE_MODE,
  );
}

/**
 * `bundle.pem` (X.509 mode): the bundle's `x509-svid` authorities; left as it was when the
 * bundle has none.
 */
export function writeBundlePemFile(dir: string, b: HeldBundle): void {
  const pem = bundlePem(b.bundle);
  if (pem !== '') writeAtomic(dir, SHIM_FILES.bundlePem, pem, PUBLIC_FILE_MODE);
}
