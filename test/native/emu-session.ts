/**
 * A device emulator and one child process running the native loader under it
 * (device-child.ts): the tests inject faults here and call the child's operations.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadAnchorStore } from '../../endorsements/anchors.js';
import { startDeviceEmulator } from '../../simulators/index.js';
import type { DeviceEmulator, DeviceEmulatorOptions } from '../../simulators/index.js';
import type { Expectations } from '../../verifier/appraise/types.js';
import { appraiseEvidence } from '../../verifier/pipeline.js';
import type { EvidenceReport } from '../../verifier/pipeline.js';
import type { PlatformName } from '../../verifier/platforms/registry.js';
import { createVerificationCache } from '../../verifier/verify/cache.js';
import type { SuppliedEndorsements } from '../../verifier/verify/types.js';

/** The instant the emulated devices produce evidence at, and verification checks. */
export const NOW = new Date('2026-06-01T12:00:00Z');

/** What a failed child call threw, as plain data. */
export interface ChildError {
  name: string;
  code?: string;
  message: string;
  errno?: number;
  errnoName?: string;
  fwError?: number;
  vmmError?: number;
  nsmError?: string;
}

/** Thrown by {@link Session.call} when the child's operation failed. */
export class ChildCallError extends Error {
  constructor(readonly detail: ChildError) {
    super(`${detail.code ?? detail.name}: ${detail.message}`);
  }
}

export interface Session {
  readonly emu: DeviceEmulator;
  readonly pkiDir: string;
  call<T = unknown>(op: string, args?: Record<string, unknown>): Promise<T>;
  /** The failure of a call that must fail. */
  fails(op: string, args?: Record<string, unknown>): Promise<ChildError>;
  appraise(
    platform: PlatformName,
    evidence: Uint8Array,
    endorsements: SuppliedEndorsements,
    expectations: Expectations,
  ): EvidenceReport;
  close(): Promise<void>;
}

const childPath = fileURLToPath(new URL('./device-child.js', import.meta.url));

export const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64');
export const unb64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

/** Starts an emulator for `platform` (fresh seeded PKI) and the child under it. */
export async function startSession(
  platform: DeviceEmulatorOptions['platform'],
  extra: Partial<DeviceEmulatorOptions> = {},
  pkiDir?: string,
): Promise<Session> {
  const dir = mkdtempSync(join(tmpdir(), `twi-native-emu-${platform}-`));
  const pki = pkiDir ?? join(dir, 'pki');
  const emu = await startDeviceEmulator({
    platform,
    pkiDir: pki,
    pkiSeed: 'native-emu-test',
    now: () => NOW,
    ...extra,
  });
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [childPath], {
    env: { ...process.env, ...emu.env },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const waiting = new Map<number, (answer: { result?: unknown; error?: ChildError }) => void>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    const a = JSON.parse(line) as { id: number; result?: unknown; error?: ChildError };
    waiting.get(a.id)?.(a);
    waiting.delete(a.id);
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  child.on('exit', (code) => {
    for (const w of waiting.values())
      w({ error: { name: 'Exit', message: `child exited ${code}: ${stderr}` } });
  });
  let next = 0;
  const call = async <T>(op: string, args: Record<string, unknown> = {}): Promise<T> => {
    const id = next++;
    const answer = await new Promise<{ result?: unknown; error?: ChildError }>((resolve) => {
      waiting.set(id, resolve);
      child.stdin.write(JSON.stringify({ id, op, args }) + '\n');
    });
    if (answer.error) throw new ChildCallError(answer.error);
    return answer.result as T;
  };
  return {
    emu,
    pkiDir: pki,
    call,
    async fails(op, args) {
      try {
        await call(op, args);
      } catch (err) {
        if (err instanceof ChildCallError) return err.detail;
        throw err;
      }
      throw new Error(`${op} succeeded but was expected to fail`);
    },
    appraise: (p, evidence, endorsements, expectations) =>
      appraiseEvidence({
        evidence,
        platform: p,
        endorsements,
        now: NOW,
        anchors: loadAnchorStore([join(pki, 'roots')]),
        cache: createVerificationCache(),
        expectations,
      }),
    async close() {
      child.stdin.end();
      await exited;
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
