/**
 * Shared set-up of the device-emulation tests: the C probe compiled once per process into
 * a temporary directory, an emulator per test file with its own simulated PKI, and
 * verification of what the probe obtained with the project's pipeline and the simulator
 * roots as trust anchors.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadAnchorStore } from '../../../endorsements/anchors.js';
import { startDeviceEmulator } from '../../../simulators/index.js';
import type { DeviceEmulator, DeviceEmulatorOptions } from '../../../simulators/index.js';
import type { Expectations } from '../../../verifier/appraise/types.js';
import { appraiseEvidence } from '../../../verifier/pipeline.js';
import type { EvidenceReport } from '../../../verifier/pipeline.js';
import type { PlatformName } from '../../../verifier/platforms/registry.js';
import { createVerificationCache } from '../../../verifier/verify/cache.js';
import type { SuppliedEndorsements } from '../../../verifier/verify/types.js';
import { projectRoot } from '../../helpers/vectors.js';

const run = promisify(execFile);

/** The instant every emulated device produces evidence at, and verification checks. */
export const NOW = new Date('2026-06-01T12:00:00Z');

/** A running emulator, its scratch directory and the compiled probe. */
export interface Rig {
  readonly emu: DeviceEmulator;
  readonly dir: string;
  readonly pkiDir: string;
  /** Runs the probe under emulation; returns its `key=value` lines and output directory. */
  probe(...args: string[]): Promise<ProbeResult>;
  close(): Promise<void>;
}

export interface ProbeResult {
  readonly out: Record<string, string>;
  readonly lines: string[];
  /** Reads a file the probe wrote. */
  file(name: string): Uint8Array;
}

let probePath: string | undefined;
let probeDir: string | undefined;

/** Compiles test/simulators/device-emu/probe.c with the system C compiler (once). */
function compiledProbe(): string {
  if (probePath) return probePath;
  probeDir = mkdtempSync(join(tmpdir(), 'twi-devemu-probe-'));
  const exe = join(probeDir, 'probe');
  execFileSync('cc', [
    '-O1',
    '-Wall',
    '-Wextra',
    '-Werror',
    '-o',
    exe,
    join(projectRoot, 'test', 'simulators', 'device-emu', 'probe.c'),
    '-lpthread',
  ]);
  process.on('exit', () => rmSync(probeDir!, { recursive: true, force: true }));
  return (probePath = exe);
}

function parse(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** Starts an emulator for `platform` with a fresh PKI (seeded, so runs repeat). */
export async function startRig(
  platform: DeviceEmulatorOptions['platform'],
  extra: Partial<DeviceEmulatorOptions> = {},
): Promise<Rig> {
  const exe = compiledProbe();
  const dir = mkdtempSync(join(tmpdir(), `twi-devemu-${platform}-`));
  const pkiDir = join(dir, 'pki');
  const emu = await startDeviceEmulator({
    platform,
    pkiDir,
    pkiSeed: 'devemu-test',
    now: () => NOW,
    ...extra,
  });
  let n = 0;
  return {
    emu,
    dir,
    pkiDir,
    async probe(...args) {
      const outDir = mkdtempSync(join(dir, `run${n++}-`));
      // Asynchronous on purpose: the backend answers on this process's event loop.
      const { stdout } = await run(exe, [outDir, ...args], {
        env: { ...process.env, ...emu.env },
        encoding: 'utf8',
      });
      return {
        out: parse(stdout),
        lines: stdout.split('\n'),
        file: (name) => new Uint8Array(readFileSync(join(outDir, name))),
      };
    },
    async close() {
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Appraises evidence with the simulator roots of `rig` as the only extra anchors. */
export function appraise(
  rig: Rig,
  platform: PlatformName,
  evidence: Uint8Array,
  endorsements: SuppliedEndorsements,
  expectations: Expectations,
): EvidenceReport {
  return appraiseEvidence({
    evidence,
    platform,
    endorsements,
    now: NOW,
    anchors: loadAnchorStore([join(rig.pkiDir, 'roots')]),
    cache: createVerificationCache(),
    expectations,
  });
}

/** `n` bytes of a repeated value, and their hex. */
export function filled(n: number, value: number): { bytes: Uint8Array; hex: string } {
  const bytes = new Uint8Array(n).fill(value);
  return { bytes, hex: Buffer.from(bytes).toString('hex') };
}
