/**
 * Shared CLI plumbing: bounded file reads, output, and the mapping of errors to
 * exit codes (0 ok/affirming, 1 warning, 2 contraindicated, 3 could not process).
 */
import { readFileSync, statSync } from 'node:fs';
import { isTwiError, TwiError } from '../common/errors.js';

/** Exit code for input that could not be processed (usage, unreadable, malformed). @internal */
export const EXIT_UNPROCESSABLE = 3;

/**
 * Largest evidence or collateral file the CLI reads (DICE-based TDX quotes exceed 8 KiB).
 *
 * @internal
 */
export const MAX_INPUT_BYTES = 1 << 20;

/** A file the CLI could not read. @internal */
export class InputFileError extends TwiError {
  override readonly code = 'ERR_INPUT_FILE';
}

/** Reads a whole file, refusing anything larger than `max` bytes. @internal */
export function readInputFile(path: string, max = MAX_INPUT_BYTES): Uint8Array {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new InputFileError(`${path}: not a regular file`);
    size = st.size;
  } catch (err) {
    if (isTwiError(err)) throw err;
    throw new InputFileError(`${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  if (size > max) throw new InputFileError(`${path}: ${size} bytes is over the ${max}-byte limit`);
  return new Uint8Array(readFileSync(path));
}

/** Prints a value as pretty JSON on stdout. @internal */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** One-line error on stderr and the exit code for it. @internal */
export function reportError(err: unknown): number {
  if (isTwiError(err)) {
    process.stderr.write(`twi: ${err.code}: ${err.message}\n`);
    return EXIT_UNPROCESSABLE;
  }
  if (err instanceof TypeError || err instanceof RangeError) {
    process.stderr.write(`twi: ERR_USAGE: ${err.message}\n`);
    return EXIT_UNPROCESSABLE;
  }
  const sys = err as NodeJS.ErrnoException;
  if (err instanceof Error && typeof sys.syscall === 'string' && typeof sys.code === 'string') {
    // An operating-system refusal (port in use, path is a file, missing file): not a bug.
    process.stderr.write(`twi: ${sys.code}: ${err.message}\n`);
    return EXIT_UNPROCESSABLE;
  }
  process.stderr.write(`twi: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
  return 70;
}
