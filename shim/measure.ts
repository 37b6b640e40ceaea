/**
 * Self-measurement: the shim is part of what is attested (ARCHITECTURE "Data flow" step 3;
 * draft-ccc-wimse-twi-extensions requires the credential-obtaining agent in the TCB).
 *
 * The digest is SHA-384 over the measured files in byte-wise order of their package-relative
 * paths, each contributing `path (UTF-8) ‖ 0x00 ‖ length (8 bytes, big-endian) ‖ content`
 * (docs/shim.md "Self-measurement"). On TDX it is extended into RTMR3; on every platform the
 * event log sent with `/v1/attest` lists it with each file's own SHA-384 and, on TDX, carries
 * the CC event log (CCEL), so the verifier replays RTMR0-3 (TDX) or only sees the reported
 * digest (SEV-SNP, Nitro).
 *
 * @internal
 * @module
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVENT_LOG_FORMAT, MAX_CCEL_BYTES } from '../wire/messages.js';
import { ShimError } from './errors.js';

/** The RTMR the shim extends on TDX (RTMR3: not used by firmware or the kernel). */
export const SHIM_RTMR_INDEX = 3;

/** Event-log format name sent as `event_log.format`. */
export { EVENT_LOG_FORMAT };

/** Where Linux exposes the CCEL ACPI table's log area (the TD's CC event log). */
export const CCEL_PATH = '/sys/firmware/acpi/tables/data/CCEL';

/** One measured file. */
export interface MeasuredFile {
  readonly path: string;
  readonly sha384: string;
}

/** The shim's measurement. */
export interface SelfMeasurement {
  /** SHA-384 over the files (see module docs). */
  readonly digest: Uint8Array;
  readonly files: readonly MeasuredFile[];
}

/** One event of the event log (JSON, sent as `event_log.events`). */
export interface ShimEvent {
  /** `rtmr3` when extended into it (TDX), else `none` (reported, not hardware-held). */
  readonly register: string;
  readonly digest_alg: 'sha-384';
  readonly digest: string;
  readonly type: 'twi-shim-measurement';
  readonly files: readonly MeasuredFile[];
}

/** The event log of the attest request. */
export interface ShimEventLog {
  readonly format: typeof EVENT_LOG_FORMAT;
  readonly events: readonly ShimEvent[];
  /** TDX: the CC event log, unpadded base64url (the verifier replays RTMR0-3 with it). */
  readonly ccel?: string;
}

/** Package root: two levels above this compiled file (dist/shim/measure.js). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Relative static import specifiers of one compiled module. Dynamic imports are not followed:
 * the shim loads only the device emulator that way, and only under `--emulate`.
 */
const RELATIVE_IMPORT =
  /^\s*(?:import|export)\s[^'"]*?from\s*'(\.{1,2}\/[^']+)'|^\s*import\s*'(\.{1,2}\/[^']+)'/gm;

/** Every compiled module reachable from `entries` through relative imports, entries included. */
function importClosure(entries: readonly string[]): string[] {
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    seen.add(file);
    for (const m of text.matchAll(RELATIVE_IMPORT)) {
      queue.push(resolve(dirname(file), (m[1] ?? m[2])!));
    }
  }
  return [...seen];
}

/**
 * The files the shim measures: every compiled module the shim command loads — the static
 * import closure of `dist/cli/commands/shim.js` (the shim, the addon loader and what they use from
 * `common/`, `wire/` and `wimse/`) — and the addon (`build/Release/twi_native.node`).
 */
export function shimCodeFiles(root: string = PACKAGE_ROOT): string[] {
  const code = importClosure([join(root, 'dist', 'cli', 'commands', 'shim.js')]);
  const addon = join(root, 'build', 'Release', 'twi_native.node');
  return [...code, ...(existsSync(addon) && statSync(addon).isFile() ? [addon] : [])];
}

/** Measures `files` (absolute paths under `root`) as described in the module docs. */
export function measureFiles(
  files: readonly string[],
  root: string = PACKAGE_ROOT,
): SelfMeasurement {
  const entries = files
    .map((f) => ({ abs: f, path: relative(root, f).split(sep).join('/') }))
    .sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  const total = createHash('sha384');
  const measured: MeasuredFile[] = [];
  for (const e of entries) {
    const content = readFileSync(e.abs);
    const len = Buffer.alloc(8);
    len.writeBigUInt64BE(BigInt(content.length));
    total.update(Buffer.from(e.path, 'utf8')).update(Buffer.of(0)).update(len).update(content);
    measured.push({ path: e.path, sha384: createHash('sha384').update(content).digest('hex') });
  }
  return { digest: new Uint8Array(total.digest()), files: measured };
}

/**
 * The TD's CC event log as the kernel exposes it, or `undefined` where there is none (not a TD,
 * or a kernel without the CCEL table). Read from JavaScript: under device emulation the preload
 * library serves it.
 *
 * @throws {ShimError} `ERR_SHIM_EVENT_LOG` when it exists but cannot be read (the shim runs as
 *   root on a TD: the file is 0400) or is over {@link MAX_CCEL_BYTES}.
 */
export function readCcel(path: string = CCEL_PATH): Uint8Array | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ShimError('ERR_SHIM_EVENT_LOG', `${path}: ${(e as Error).message}`);
  }
  try {
    // One byte over the bound tells an oversize log apart; sysfs reads may come short.
    const buf = Buffer.alloc(MAX_CCEL_BYTES + 1);
    let n = 0;
    for (let r; n < buf.length && (r = readSync(fd, buf, n, buf.length - n, null)) > 0; n += r);
    if (n > MAX_CCEL_BYTES) {
      throw new ShimError('ERR_SHIM_EVENT_LOG', `${path} is over ${MAX_CCEL_BYTES} bytes`);
    }
    return new Uint8Array(buf.subarray(0, n));
  } catch (e) {
    if (e instanceof ShimError) throw e;
    throw new ShimError('ERR_SHIM_EVENT_LOG', `${path}: ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

/**
 * The event log for a measurement; `register` names where it was extended, if anywhere, and
 * `ccel` is the TD's CC event log when there is one.
 */
export function eventLogOf(
  m: SelfMeasurement,
  register: string | undefined,
  ccel?: Uint8Array,
): ShimEventLog {
  return {
    format: EVENT_LOG_FORMAT,
    events: [
      {
        register: register ?? 'none',
        digest_alg: 'sha-384',
        digest: Buffer.from(m.digest).toString('hex'),
        type: 'twi-shim-measurement',
        files: m.files,
      },
    ],
    ...(ccel && ccel.length > 0 && { ccel: Buffer.from(ccel).toString('base64url') }),
  };
}

/**
 * RTMR replay (TDX module ABI, TDG.MR.RTMR.EXTEND): new = SHA-384(old ‖ digest).
 * For tests and verifiers that replay the event log.
 */
export function extendRegister(old: Uint8Array, digest: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha384').update(old).update(digest).digest());
}
