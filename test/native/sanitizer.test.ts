/**
 * The addon's pure C++ device and key code under AddressSanitizer and UBSan: key
 * generation, signing, sealing and tampering; the NSM CBOR decoder on truncated and
 * mutated answers; and the device call sequences against the device emulator for each
 * platform and with no devices at all. Any finding fails the run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startDeviceEmulator } from '../../simulators/index.js';
import { sanitizerDriver } from './native-build.js';

const run = promisify(execFile);
const driver = sanitizerDriver();
const skip = driver.skip && `sanitizer toolchain unavailable: ${driver.skip}`;
const ASAN_OPTIONS = 'detect_leaks=1:abort_on_error=0:exitcode=23';

async function runDriver(args: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout, stderr } = await run(driver.path!, args, {
      env: { ...process.env, ...env, ASAN_OPTIONS, UBSAN_OPTIONS: 'print_stacktrace=1' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.doesNotMatch(stderr, /AddressSanitizer|runtime error|LeakSanitizer/, stderr);
    return stdout;
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    assert.fail(`driver ${args.join(' ')} exited ${e.code}:\n${e.stdout}\n${e.stderr}`);
  }
}

test('keys and CBOR decoding run clean under ASan + UBSan', { skip }, async () => {
  assert.match(await runDriver(['keys']), /^ok \d+ checks, 0 failed/);
  assert.match(await runDriver(['cbor']), /^ok \d+ checks, 0 failed/);
});

test('device sequences with no devices: all unavailable, clean', { skip }, async () => {
  assert.match(await runDriver(['devices', 'none']), /^ok \d+ checks, 0 failed/);
});

for (const platform of ['tdx', 'sev-snp', 'nitro'] as const) {
  test(`device sequences under the ${platform} emulator run clean`, { skip }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twi-asan-'));
    const emu = await startDeviceEmulator({ platform, pkiDir: join(dir, 'pki'), pkiSeed: 'asan' });
    try {
      // With static libasan, LD_PRELOAD of the emulator library is allowed (no
      // "runtime does not come first" abort); the driver's syscalls reach the emulator.
      assert.match(await runDriver(['devices', platform], emu.env), /^ok \d+ checks, 0 failed/);
      assert.ok(emu.requests.length >= 1, 'the driver talked to the emulator');
    } finally {
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
