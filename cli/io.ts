/**
 * Shared CLI plumbing: bounded file reads, output, and the mapping of every failure to one
 * line on stderr, `twi: ERR_CODE: what happened (flag or path)`, and an exit status (README
 * "Exit status"): 0 ok/affirming, 1 warning, 2 contraindicated or rejected, 3 could not
 * process, 70 internal error (a bug), 127 the workload command was not found.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isTwiError, TwiError } from '../common/errors.js';

/**
 * Exit code for a failure that stopped the command: usage, unreadable or malformed input, a
 * path that cannot be created, a port in use, a service that cannot be reached. @internal
 */
export const EXIT_UNPROCESSABLE = 3;

/** Exit code for an internal error (a bug in twi), as sysexits' EX_SOFTWARE. @internal */
export const EXIT_INTERNAL = 70;

/** Exit code when the workload command of `twi shim -- CMD` cannot be found, as a shell's. @internal */
export const EXIT_COMMAND_NOT_FOUND = 127;

/** A CLI failure with its code and exit status; the message names the flag or path. @internal */
export class CliError extends TwiError {
  override readonly code: string;
  readonly exitStatus: number;

  constructor(code: string, message: string, options: ErrorOptions & { exitStatus?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.exitStatus = options.exitStatus ?? EXIT_UNPROCESSABLE;
  }
}

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
    throw new InputFileError(`${path}: ${systemWords(err)}`, { cause: err });
  }
  if (size > max) throw new InputFileError(`${path}: ${size} bytes is over the ${max}-byte limit`);
  return new Uint8Array(readFileSync(path));
}

/** {@link readInputFile} for a file a flag names: its errors end with the flag. @internal */
export function readFlagFile(flag: string, path: string, max = MAX_INPUT_BYTES): Uint8Array {
  try {
    return readInputFile(path, max);
  } catch (err) {
    if (err instanceof InputFileError) {
      throw new InputFileError(`${err.message} (${flag})`, { cause: err.cause });
    }
    throw err;
  }
}

/** Prints a value as pretty JSON on stdout. @internal */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Words for the system error codes a person meets at the command line. */
const SYSTEM_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_SOCKET: 'connection closed',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available on this machine',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'already exists',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  ENAMETOOLONG: 'name too long',
  ENOTSOCK: 'not a socket',
};

/** A Node system error; sockets add the address and port. @internal */
export type SystemError = NodeJS.ErrnoException & { address?: string; port?: number };

/** The system error (`code` like `ECONNREFUSED`) in an error's cause chain, if any. @internal */
export function systemError(err: unknown, depth = 0): SystemError | undefined {
  if (!(err instanceof Error) || depth > 8) return undefined;
  const e = err as SystemError;
  if (typeof e.code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(e.code)) return e;
  if (err instanceof AggregateError) {
    for (const inner of err.errors) {
      const found = systemError(inner, depth + 1);
      if (found) return found;
    }
  }
  return systemError(e.cause, depth + 1);
}

/** "connection refused (ECONNREFUSED)": a system error in words, with its code. @internal */
export function systemWords(err: unknown): string {
  const sys = systemError(err);
  if (!sys) return err instanceof Error ? err.message : String(err);
  const code = sys.code!;
  return `${SYSTEM_WORDS[code] ?? sys.message.replace(/^E[A-Z]+: /, '')} (${code})`;
}

/**
 * The error for a path that could not be read, created or written: `what` (e.g. `cannot
 * create`) the path, why, and the flag that named it. @internal
 */
export function pathError(err: unknown, what: string, path: string, flag: string): CliError {
  const code = systemError(err)?.code;
  const file = code === 'EEXIST' || code === 'ENOTDIR' ? fileInTheWay(path) : undefined;
  const why = file === undefined ? systemWords(err) : `${file} is a file, not a directory`;
  return new CliError('ERR_PATH', `${what} ${path}: ${why} (${flag})`, { cause: err });
}

/** The path itself or its nearest existing ancestor when that is not a directory. */
function fileInTheWay(path: string): string | undefined {
  // The path as the user wrote it (relative stays relative), up to its first existing part.
  for (let p = path; ; p = dirname(p)) {
    try {
      return statSync(p).isDirectory() ? undefined : p;
    } catch {
      if (dirname(p) === p) return undefined;
    }
  }
}

/** The error for a simulated PKI directory (`--pki`) that cannot be created or used. @internal */
export function pkiError(err: unknown, dir: string): unknown {
  const sys = systemError(err);
  if (!sys || (sys.path !== undefined && !resolve(sys.path).startsWith(resolve(dir)))) return err;
  return pathError(err, 'cannot create the simulated PKI in', dir, '--pki');
}

/**
 * `fetch` for a URL the user named: a network failure becomes one line naming the URL, the
 * cause (`ECONNREFUSED`, …) and the flag. @internal
 */
export async function fetchNamed(
  url: string | URL,
  init: RequestInit,
  flag: string,
): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    throw unreachable(String(url), err, flag);
  }
}

/** The error for a service that did not answer. @internal */
export function unreachable(url: string, err: unknown, flag: string): CliError {
  const why =
    err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
      ? 'no answer in time (timeout)'
      : systemWords(err);
  return new CliError('ERR_UNREACHABLE', `${url}: ${why} (${flag})`, { cause: err });
}

/** Library option names in messages, and the CLI flag a person types instead. */
const FLAG_NAMES: [RegExp, string][] = [
  [/\bsnpKeyCert\b/g, '--vcek'],
  [/\bsnpCaChain\b/g, '--ca-chain'],
  [/\bsnpCrl\b/g, '--crl'],
  [/\btdxCollateral\b/g, '--collateral'],
  [/\bexpectedSha256\b/g, '--sha256'],
  [/\btrustedKeys\b/g, '--trust-key'],
  [/\bpcsUrl\b/g, '--pcs-url'],
  [/\bkdsUrl\b/g, '--kds-url'],
  [/\bcacheDir\b/g, '--cache'],
];

/** A library message as the command line says it: flags for option names, one line. @internal */
export function inCliWords(message: string): string {
  let out = message;
  for (const [re, flag] of FLAG_NAMES) out = out.replace(re, flag);
  return out.replace(/\s*\n\s*/g, ' ');
}

/** Long hex runs (chip IDs, digests) cut to their first 16 digits. */
const shortHex = (s: string): string => s.replace(/\b([0-9a-fA-F]{16})[0-9a-fA-F]{24,}\b/g, '$1…');

/** The innermost error in a cause chain that names a URL (an endorsement fetch). */
function fetchFailure(err: unknown, depth = 0): { url: string; err: Error } | undefined {
  if (!(err instanceof Error) || depth > 8) return undefined;
  const inner =
    err instanceof AggregateError
      ? err.errors.map((e: unknown) => fetchFailure(e, depth + 1)).find(Boolean)
      : fetchFailure(err.cause, depth + 1);
  if (inner) return inner;
  const url = (err as { url?: unknown }).url;
  return typeof url === 'string' ? { url, err } : undefined;
}

/**
 * The message of an endorsement that could not be had: the URL and why (nested provider
 * layers each repeat the request key, which made one line of ~800 characters).
 */
function endorsementMessage(err: TwiError): string {
  const f = fetchFailure(err);
  if (!f) return shortHex(err.message);
  const sys = systemError(f.err);
  const status = (f.err as { status?: unknown }).status;
  const why = sys
    ? systemWords(sys)
    : typeof status === 'number'
      ? `HTTP ${status}`
      : f.err.message.replace(`${f.url}: `, '');
  return shortHex(`${f.url}: ${why}`);
}

/** Prints the stack after the line when TWI_DEBUG is set (never otherwise). */
function debugDetail(err: unknown): void {
  const v = process.env['TWI_DEBUG'];
  if (v === undefined || v === '' || v === '0') return;
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
}

/** The code and message of one failure, and its exit status. @internal */
export function describeFailure(err: unknown): { code: string; message: string; exit: number } {
  if (err instanceof CliError) {
    return { code: err.code, message: err.message, exit: err.exitStatus };
  }
  if (isTwiError(err)) {
    const message =
      err.code === 'ERR_ENDORSEMENT_UNAVAILABLE' ? endorsementMessage(err) : err.message;
    return { code: err.code, message, exit: EXIT_UNPROCESSABLE };
  }
  if (err instanceof TypeError && err.message === 'fetch failed') {
    // A fetch no command wrapped: the cause at least (the URL is not in the error).
    return { code: 'ERR_UNREACHABLE', message: systemWords(err), exit: EXIT_UNPROCESSABLE };
  }
  const input = (err as { code?: unknown; input?: unknown }).input;
  if (err instanceof TypeError && (err as { code?: unknown }).code === 'ERR_INVALID_URL') {
    const message = `${JSON.stringify(String(input))} is not a valid URL`;
    return { code: 'ERR_USAGE', message, exit: EXIT_UNPROCESSABLE };
  }
  if (err instanceof TypeError || err instanceof RangeError) {
    return { code: 'ERR_USAGE', message: err.message, exit: EXIT_UNPROCESSABLE };
  }
  if (err instanceof SyntaxError) {
    // JSON.parse of a file or answer no command checked more closely: bad input, not a bug.
    return { code: 'ERR_INPUT_INVALID', message: err.message, exit: EXIT_UNPROCESSABLE };
  }
  const sys = systemError(err);
  if (sys && typeof sys.syscall === 'string') {
    // An operating-system refusal (port in use, path is a file, missing file): not a bug.
    const where = sys.path ?? (sys.address ? `${sys.address}:${sys.port ?? ''}` : sys.syscall);
    const code = sys.code === 'EADDRINUSE' ? 'ERR_PORT_IN_USE' : 'ERR_SYSTEM';
    return { code, message: `${systemWords(sys)}: ${where}`, exit: EXIT_UNPROCESSABLE };
  }
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return {
    code: 'ERR_INTERNAL',
    message: `${what} (a bug in twi; TWI_DEBUG=1 prints the stack)`,
    exit: EXIT_INTERNAL,
  };
}

/** One line on stderr, `twi: CODE: message`, and the exit status for it. @internal */
export function reportError(err: unknown): number {
  const { code, message, exit } = describeFailure(err);
  process.stderr.write(`twi: ${code}: ${inCliWords(message)}\n`);
  debugDetail(err);
  return exit;
}

/**
 * A listen failure in words: the port in use (naming host:port and suggesting `portFlag`), a
 * privileged port, or a host this machine does not have (`hostFlag`). @internal
 */
export function listenError(
  err: unknown,
  host: string,
  port: number,
  portFlag: string,
  hostFlag: string,
): unknown {
  const code = systemError(err)?.code;
  const at = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (code === 'EADDRINUSE') {
    return new CliError(
      'ERR_PORT_IN_USE',
      `${at} is already in use, by another twi or another program ` +
        `(${portFlag}: give another port, or ${portFlag} 0 for a free one)`,
      { cause: err },
    );
  }
  if (code === 'EACCES') {
    const why = `permission denied (${portFlag}: use a port above 1023)`;
    return new CliError('ERR_PORT_DENIED', `${at}: ${why}`, { cause: err });
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    const why = `cannot listen on ${host}: ${systemWords(err)} (${hostFlag})`;
    return new CliError('ERR_BAD_HOST', why, { cause: err });
  }
  return err;
}
