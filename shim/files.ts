/**
 * The file delivery of the credential: `wit.jwt`, `ear.jwt` and `bundle.json` (in X.509 mode
 * also `svid.pem`, `bundle.pem` and, with a held key, `svid-key.pem`, 0600) written
 * atomically (temporary file in the same directory, fsync, rename) so a reader sees the old
 * or the new file, never a part of one. A revoked credential's files are removed (unlink is
 * atomic too): no file means no credential, as before the first one.
 *
 * @internal
 * @module
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Credential } from './credential.js';
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

/** Writes `data` to `dir/name` atomically with `mode`. */
export function writeAtomic(dir: string, name: string, data: string, mode = 0o640): void {
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

/** Creates the directory (0750) when missing. */
export function prepareFilesDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o750 });
}

/**
 * WIT and EAR files for a new credential, `svid.pem` when it has a certificate and
 * `svid-key.pem` (0600) when the workload holds that certificate's key.
 */
export function writeCredentialFiles(dir: string, c: Credential): void {
  // The key first: a reader that sees the new certificate finds its key.
  if (c.x509?.keyPem !== undefined) writeAtomic(dir, SHIM_FILES.svidKey, c.x509.keyPem, 0o600);
  if (c.x509) writeAtomic(dir, SHIM_FILES.svid, c.x509.pem);
  writeAtomic(dir, SHIM_FILES.wit, c.wit + '\n');
  writeAtomic(dir, SHIM_FILES.ear, c.ear + '\n');
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
  );
}

/**
 * `bundle.pem` (X.509 mode): the bundle's `x509-svid` authorities; left as it was when the
 * bundle has none.
 */
export function writeBundlePemFile(dir: string, b: HeldBundle): void {
  const pem = bundlePem(b.bundle);
  if (pem !== '') writeAtomic(dir, SHIM_FILES.bundlePem, pem);
}
