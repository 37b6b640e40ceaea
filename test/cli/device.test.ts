/** `twi device info` and `twi device evidence` (with and without --emulate). */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'twi-device-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const at = '2026-06-01T12:00:00Z';
const pki = join(dir, 'pki');
const hasTee = !runCli(['device', 'info', '--json']).stdout.includes('"usable": false');

test(
  'device info --json lists every platform, nothing usable here',
  { skip: hasTee && 'has a TEE' },
  () => {
    const r = runCli(['device', 'info', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const info = JSON.parse(r.stdout) as {
      platforms: { platform: string; usable: boolean }[];
      keyStore: { secureHeap: boolean };
    };
    assert.deepEqual(
      info.platforms.map((p) => [p.platform, p.usable]),
      [
        ['tdx', false],
        ['sev-snp', false],
        ['nitro', false],
      ],
    );
    assert.equal(typeof info.keyStore.secureHeap, 'boolean');
    const text = runCli(['device', 'info']);
    assert.match(text.stdout, /^tdx: unavailable$/m);
  },
);

test(
  'device evidence without a TEE exits 3 with ERR_DEVICE_UNAVAILABLE',
  { skip: hasTee && 'has a TEE' },
  () => {
    const out = join(dir, 'none.bin');
    const r = runCli(['device', 'evidence', '--report-data', '00', '--out', out]);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /^twi: ERR_DEVICE_UNAVAILABLE: /);
    assert.equal(existsSync(out), false);
  },
);

test('usage errors exit 3 with ERR_USAGE', () => {
  const out = join(dir, 'u.bin');
  for (const args of [
    ['--emulate', 'tdx', '--report-data', '00', '--out', out],
    ['--pki', pki, '--report-data', '00', '--out', out],
    ['--emulate', 'sgx', '--pki', pki, '--report-data', '00', '--out', out],
    ['--emulate', 'tdx', '--pki', pki, '--report-data', 'zz', '--out', out],
    ['--emulate', 'tdx', '--pki', pki, '--out', out],
  ]) {
    const r = runCli(['device', 'evidence', ...args]);
    assert.equal(r.status, 3, args.join(' '));
    assert.match(r.stderr, /ERR_USAGE/, r.stderr);
  }
});

for (const [platform, files] of [
  ['tdx', ['.collateral.json']],
  ['sev-snp', ['.certs.bin', '.vcek.der', '.ca-chain.pem']],
  ['nitro', []],
] as const) {
  test(`device evidence --emulate ${platform} writes evidence that twi verify affirms`, () => {
    const out = join(dir, `${platform}.bin`);
    const binding =
      platform === 'nitro'
        ? ['--nonce', '0011223344556677']
        : ['--report-data', '0011223344556677'];
    const args = ['device', 'evidence', '--emulate', platform, '--pki', pki, '--pki-seed', 's'];
    const r = runCli([...args, ...binding, '--at', at, '--out', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const outcome = JSON.parse(r.stdout) as {
      platform: string;
      emulated: boolean;
      files: string[];
    };
    assert.deepEqual([outcome.platform, outcome.emulated], [platform, true]);
    assert.deepEqual(outcome.files, [out, ...files.map((f) => `${out}${f}`)]);
    const v = runCli([
      'verify',
      out,
      '--trust-anchors',
      join(pki, 'roots'),
      '--at',
      at,
      '--nonce',
      '0011223344556677',
      '--json',
    ]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.equal((JSON.parse(v.stdout) as { status: string }).status, 'affirming');
    const wrong = runCli([
      'verify',
      out,
      '--trust-anchors',
      join(pki, 'roots'),
      '--at',
      at,
      '--nonce',
      '0011223344556678',
    ]);
    assert.notEqual(wrong.status, 0);
  });
}
