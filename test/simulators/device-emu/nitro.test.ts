/**
 * Nitro under device emulation: NSM_IOCTL_RAW with CBOR requests, documents that verify
 * with the simulator root and the nonce asked for, the driver's size limits, truncation to
 * the caller's buffer and NSM error answers. Also: Node itself is unaffected by the
 * preloaded library.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Decoder, Encoder } from 'cbor-x';
import { appraise, filled, startRig } from './harness.js';
import type { Rig } from './harness.js';

const run = promisify(execFile);
const encoder = new Encoder({ tagUint8Array: false, useRecords: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: false });

let rig: Rig;
before(async () => {
  rig = await startRig('nitro');
});
after(() => rig.close());

let n = 0;
function requestFile(value: unknown): string {
  const path = join(rig.dir, `req${n++}.cbor`);
  writeFileSync(path, encoder.encode(value));
  return path;
}

function attestation(fields: Record<string, Uint8Array | null>): unknown {
  return new Map([['Attestation', new Map(Object.entries(fields))]]);
}

test('Attestation: the document verifies with the nonce and carries user_data and public_key', async () => {
  const nonce = filled(32, 0x11).bytes;
  const userData = filled(40, 0x22).bytes;
  const publicKey = filled(65, 0x04).bytes;
  const req = requestFile(attestation({ user_data: userData, nonce, public_key: publicKey }));
  const { out, file } = await rig.probe('nsm', req, String(0x3000));
  assert.equal(out.rc, '0');
  const resp = decoder.decode(file('response.bin')) as Map<string, Map<string, Uint8Array>>;
  const document = new Uint8Array(resp.get('Attestation')!.get('document')!);
  const report = appraise(rig, 'nitro', document, {}, { nonce, reportData: userData });
  assert.equal(report.status, 'affirming', JSON.stringify(report.errors));
  const logged = rig.emu.requests.find((r) => r.op === 'Attestation')!;
  assert.deepEqual([logged.nonce, logged.userData, logged.publicKey], [nonce, userData, publicKey]);
  const wrong = appraise(rig, 'nitro', document, {}, { nonce: filled(32, 0x12).bytes });
  assert.notEqual(wrong.status, 'affirming');
});

test('a short response buffer truncates and says how much was written', async () => {
  const req = requestFile(attestation({ nonce: filled(16, 1).bytes }));
  const { out, file } = await rig.probe('nsm', req, '100');
  assert.deepEqual([out.rc, out.response_len], ['0', '100']);
  assert.throws(() => decoder.decode(file('response.bin')));
});

test('limits: request > 4096 bytes is EMSGSIZE; oversized fields are InvalidArgument', async () => {
  const big = requestFile(attestation({ user_data: filled(5000, 1).bytes }));
  assert.equal((await rig.probe('nsm', big, '4096')).out.errno, '90');
  const oversized: Record<string, Uint8Array>[] = [
    { user_data: filled(513, 1).bytes },
    { nonce: filled(513, 1).bytes },
    { public_key: filled(1025, 1).bytes },
  ];
  for (const fields of oversized) {
    const { out, file } = await rig.probe('nsm', requestFile(attestation(fields)), '4096');
    assert.equal(out.rc, '0');
    assert.deepEqual(decoder.decode(file('response.bin')), new Map([['Error', 'InvalidArgument']]));
  }
  const edge = requestFile(attestation({ user_data: filled(512, 1).bytes }));
  const ok = decoder.decode((await rig.probe('nsm', edge, String(0x3000))).file('response.bin'));
  assert.ok((ok as Map<string, unknown>).has('Attestation'), '512 bytes of user_data is allowed');
});

test('DescribeNSM, GetRandom, an injected NSM error and an unknown request', async () => {
  const describe = await rig.probe('nsm', requestFile('DescribeNSM'), '4096');
  const d = (
    decoder.decode(describe.file('response.bin')) as Map<string, Map<string, unknown>>
  ).get('DescribeNSM')!;
  assert.equal(d.get('digest'), 'SHA384');
  assert.match(String(d.get('module_id')), /^i-[0-9a-f]+-enc[0-9a-f]{16}$/);
  const random = await rig.probe('nsm', requestFile('GetRandom'), '4096');
  const r = (decoder.decode(random.file('response.bin')) as Map<string, Map<string, unknown>>).get(
    'GetRandom',
  )!;
  assert.equal((r.get('random') as Uint8Array).length, 256);
  rig.emu.inject({ kind: 'nsm-error', code: 'InternalError' });
  const err = await rig.probe('nsm', requestFile('DescribeNSM'), '4096');
  assert.deepEqual(decoder.decode(err.file('response.bin')), new Map([['Error', 'InternalError']]));
  const unknown = await rig.probe('nsm', requestFile('FlyToTheMoon'), '4096');
  assert.deepEqual(
    decoder.decode(unknown.file('response.bin')),
    new Map([['Error', 'InvalidOperation']]),
  );
});

test('Node runs normally with the library preloaded, inert or active', async () => {
  const script = [
    "const fs = require('node:fs');",
    "const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));",
    "fs.writeFileSync(process.argv[1], 'x'.repeat(1000));",
    'const back = fs.readFileSync(process.argv[1], "utf8").length;',
    "const listed = fs.readdirSync('.').includes('package.json');",
    "const nsm = fs.existsSync('/dev/nsm');",
    'console.log(JSON.stringify({ name: pkg.name, back, listed, nsm }));',
  ].join('\n');
  const scratch = join(rig.dir, 'node-check.txt');
  for (const env of [{ LD_PRELOAD: rig.emu.env.LD_PRELOAD! }, rig.emu.env]) {
    const { stdout } = await run(process.execPath, ['-e', script, scratch], {
      env: { ...process.env, ...env },
      cwd: process.cwd(),
    });
    const got = JSON.parse(stdout) as Record<string, unknown>;
    assert.deepEqual(
      { name: got.name, back: got.back, listed: got.listed },
      { name: 'twi', back: 1000, listed: true },
    );
    // Inert: the real machine has no /dev/nsm; active: the emulated one is visible.
    assert.equal(got.nsm, env === rig.emu.env);
  }
});
