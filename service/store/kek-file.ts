/**
 * KEK files: read one given by the operator, or keep a generated one beside an SQLite store.
 *
 * @internal
 * @module
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { FILE_MODE } from './file-modes.js';
import { decodeKek, KekError } from './kek.js';

/** Name of the generated KEK file, beside the SQLite database. */
export const KEK_FILE_NAME = 'kek';

/**
 * Reads a KEK file: 32 raw bytes, or 64 hex digits, or base64/base64url (see `decodeKek`).
 *
 * @throws {KekError} `ERR_KEK_MISSING` when the file does not exist, `ERR_KEK_INVALID` when it
 *   cannot be read or does not hold a KEK.
 */
export function readKekFile(path: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new KekError(
      code === 'ENOENT' ? 'ERR_KEK_MISSING' : 'ERR_KEK_INVALID',
      `KEK file ${path}: ${code ?? 'unreadable'}`,
    );
  }
  try {
    return decodeKek(data, `KEK file ${path}`);
  } finally {
    data.fill(0);
  }
}

/**
 * Creates a KEK file holding 32 random bytes as base64url text (so it can also be given as
 * `TWI_KEK`), mode 0600 from the first byte. Safe against a concurrent creator: the file
 * appears atomically (link), and the loser reads the winner's KEK.
 */
export function createKekFile(path: string): Buffer {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const kek = randomBytes(32);
  writeFileSync(tmp, kek.toString('base64url') + '\n', { mode: FILE_MODE, flag: 'wx' });
  chmodSync(tmp, FILE_MODE); // exactly 0600 whatever the umask
  try {
    linkSync(tmp, path);
    return kek;
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') throw err;
    return readKekFile(path);
  } finally {
    rmSync(tmp, { force: true });
  }
}
