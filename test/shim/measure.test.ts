/**
 * Self-measurement: the documented digest order, and on TDX the extend into RTMR3 that the
 * quote then carries (the shim runs under a device emulator owned by this test).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDeviceEmulator } from '../../simulators/index.js';
import type { DeviceEmulator } from '../../simulators/index.js';
import { extendRegister, measureFiles, shimCodeFiles, PACKAGE_ROOT } from '../../shim/measure.js';
import { parseTdxQuote } from '../../verifier/platforms/tdx/index.js';
import { startVerifier, waitForCredential } from './setup.js';
import type { ShimProcess, TestVerifier } from './setup.js';
import { spawn } from 'node:child_process';
import { TWI_CLI } from './setup.js';

describe('shim self-measurement', () => {
  it('hashes path ‖ 0 ‖ length ‖ content in byte-wise path order', () => {
    const dir = mkdtempSync(join(tmpdir(), 'twi-measure-'));
    try {
      writeFileSync(join(dir, 'b.js'), 'bb');
      writeFileSync(join(dir, 'a.js'), 'a');
      const m = measureFiles([join(dir, 'b.js'), join(dir, 'a.js')], dir);
      const len = (n: number) => {
        const b = Buffer.alloc(8);
        b.writeBigUInt64BE(BigInt(n));
        return b;
      };
      const expected = createHash('sha384')
        .update(Buffer.concat([Buffer.from('a.js\0'), len(1), Buffer.from('a')]))
        .update(Buffer.concat([Buffer.from('b.js\0'), len(2), Buffer.from('bb')]))
        .digest();
      assert.deepEqual(Buffer.from(m.digest), expected);
      assert.deepEqual(
        m.files.map((f) => f.path),
        ['a.js', 'b.js'],
      );
      // One byte changed in one file changes the digest.
      writeFileSync(join(dir, 'a.js'), 'A');
      assert.notDeepEqual(
        measureFiles([join(dir, 'a.js'), join(dir, 'b.js')], dir).digest,
        m.digest,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('measures the compiled shim, what it imports from every folder, and the addon', () => {
    const paths = measureFiles(shimCodeFiles()).files.map((f) => f.path);
    for (const p of [
      'dist/shim/shim.js',
      'dist/native/keys.js',
      'dist/cli/commands/shim.js',
      'dist/common/errors.js',
      'dist/wire/binding.js',
      'dist/wimse/wit.js',
      'build/Release/twi_native.node',
    ]) {
      assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
    }
    // Only code the shim can load: not the verifier service or the simulators.
    assert.deepEqual(
      paths.filter((p) => /^dist\/(service|simulators|endorsements|provenance)\//.test(p)),
      [],
    );
    assert.ok(PACKAGE_ROOT.length > 0);
  });
});

describe('tdx: the shim extends RTMR3 with its digest', () => {
  let verifier: TestVerifier;
  let emu: DeviceEmulator;
  let dir: string;
  let shim: ShimProcess | undefined;
  before(async () => {
    verifier = await startVerifier({ seed: 'shim-rtmr' });
    emu = await startDeviceEmulator({ platform: 'tdx', pkiDir: verifier.pkiDir });
    dir = mkdtempSync(join(tmpdir(), 'twi-shim-rtmr-'));
  });
  after(async () => {
    if (shim) await shim.stop();
    await emu.close();
    await verifier.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the quote the verifier accepted carries RTMR3 = SHA-384(initial ‖ digest)', async () => {
    const initial = emu.rtmrs()[3]!;
    const socket = join(dir, 'shim.sock');
    // What `twi shim --emulate tdx` does, with the emulator in this process so it can be read.
    const proc = spawn(
      process.execPath,
      [TWI_CLI, 'shim', '--platform', 'tdx', '--verifier', verifier.base, '--socket', socket],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...emu.env },
      },
    );
    let err = '';
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number>((resolve) => proc.once('exit', (c) => resolve(c ?? 128)));
    shim = {
      proc,
      socket,
      files: '',
      stderr: () => err,
      exited,
      stop: async () => (proc.kill('SIGTERM'), exited),
    };
    await waitForCredential(shim);
    const digest = measureFiles(shimCodeFiles()).digest;
    const extend = emu.requests.filter((r) => r.op === 'rtmr-extend');
    assert.equal(extend.length, 1);
    assert.equal(extend[0]!.rtmrIndex, 3);
    assert.deepEqual(Buffer.from(extend[0]!.extendData!), Buffer.from(digest));
    const expected = extendRegister(initial, digest);
    assert.deepEqual(Buffer.from(emu.rtmrs()[3]!), Buffer.from(expected));
    const quote = emu.requests.filter((r) => r.evidence !== undefined).pop()!.evidence!;
    assert.deepEqual(Buffer.from(parseTdxQuote(quote).body.rtmr[3]), Buffer.from(expected));
    assert.match(err, new RegExp(`sha384 ${Buffer.from(digest).toString('hex')} → rtmr3`));
    assert.equal(await shim.stop(), 0);
    shim = undefined;
  });
});
