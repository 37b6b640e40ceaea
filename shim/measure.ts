/**
 * Self-measurement: the shim is part of what is attested (ARCHITECTURE "Data flow" step 3;
 * draft-ccc-wimse-twi-extensions requires the credential-obtaining agent in the TCB).
 *
 * The digest is SHA-384 over the measured files in byte-wise order of their package-relative
 * paths, each contributing `path (UTF-8) ‖ 0x00 ‖ length (8 bytes, big-endian) ‖ content`
 * (docs/shim.md "Self-measurement"). On TDX it is extended into RTMR3; on every platform the
 * event log sent with `/v1/attest` lists it with each file's own SHA-384, so a verifier can
 * replay RTMR3 (TDX) or compare the reported digest (SEV-SNP, Nitro).
 *
 * @internal
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The RTMR the shim extends on TDX (RTMR3: not used by firmware or the kernel). */
export const SHIM_RTMR_INDEX = 3;

/** Event-log format name sent as `event_log.format`. */
export const EVENT_LOG_FORMAT = 'tag:twi.dev,2026:shim-event-log#1';

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

/** The event log for a measurement; `register` names where it was extended, if anywhere. */
export function eventLogOf(m: SelfMeasurement, register: string | undefined): ShimEventLog {
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
  };
}

/**
 * RTMR replay (TDX module ABI, TDG.MR.RTMR.EXTEND): new = SHA-384(old ‖ digest).
 * For tests and verifiers that replay the event log.
 */
export function extendRegister(old: Uint8Array, digest: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha384').update(old).update(digest).digest());
}
