/**
 * Owner-only files for the store: the data directory 0700, the database and its `-wal`,
 * `-shm` and `-journal` files 0600, from the first write whatever the umask. Files found with
 * wider modes are tightened (not refused): stores created by earlier builds keep working, and
 * the caller hears which files were fixed so it can say so.
 *
 * @internal
 * @module
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** Mode of the data directory. */
export const DIR_MODE = 0o700;
/** Mode of every store file. */
export const FILE_MODE = 0o600;

/** Files SQLite may create beside the database. */
export const SQLITE_COMPANIONS = ['-wal', '-shm', '-journal'] as const;

/** A file or directory whose mode was tightened. */
export interface ModeFix {
  readonly path: string;
  /** Permission bits found. */
  readonly was: number;
  /** Permission bits set. */
  readonly now: number;
}

function tighten(path: string, mode: number, fixes: ModeFix[]): void {
  const st = statSync(path);
  // Never chmod something that is not ours to fix (e.g. a directory given as the database).
  if (!(mode === DIR_MODE ? st.isDirectory() : st.isFile())) return;
  const was = st.mode & 0o777;
  if ((was & ~mode) === 0) return;
  chmodSync(path, was & mode);
  fixes.push({ path, was, now: was & mode });
}

/**
 * Creates `dir` (and missing parents) with mode 0700, or tightens an existing `dir` to at
 * most 0700. Only call this on a directory twi owns (the `--data` directory).
 */
export function securePrivateDir(dir: string, fixes: ModeFix[] = []): ModeFix[] {
  if (existsSync(dir)) tighten(dir, DIR_MODE, fixes);
  else {
    mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    chmodSync(dir, DIR_MODE); // the umask may have removed more than asked
  }
  return fixes;
}

/**
 * Prepares an SQLite database path: missing parent directories are created 0700 (existing
 * ones are left alone), the database file is created empty with mode 0600 before SQLite opens
 * it (SQLite gives `-wal`, `-shm` and `-journal` the database file's mode), and existing store
 * files wider than 0600 are tightened. Returns what was tightened.
 */
export function secureSqliteFiles(file: string): ModeFix[] {
  const fixes: ModeFix[] = [];
  const dir = dirname(file);
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    chmodSync(dir, DIR_MODE);
  }
  if (!existsSync(file)) {
    closeSync(openSync(file, 'a', FILE_MODE));
    chmodSync(file, FILE_MODE);
  }
  for (const path of [file, ...SQLITE_COMPANIONS.map((s) => file + s)]) {
    if (existsSync(path)) tighten(path, FILE_MODE, fixes);
  }
  return fixes;
}
