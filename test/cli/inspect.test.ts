import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { loadManifest, readVector, vectorsDir } from '../helpers/vectors.js';

const evidenceKey: Record<string, string> = {
  tdx: 'quote',
  'sev-snp': 'report',
  nitro: 'cose_sign1',
};

const samples = loadManifest().samples.filter((s) => s.files[evidenceKey[s.platform]!]);

for (const sample of samples) {
  const file = join(vectorsDir, sample.files[evidenceKey[sample.platform]!]!);

  test(`twi inspect --json reproduces the manifest measurements of ${sample.name}`, () => {
    const r = runCli(['inspect', file, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { platform: string; format: object; claims: object };
    assert.equal(out.platform, sample.platform, 'platform auto-detected');
    assert.deepEqual(out.claims, sample.measurements);
    assert.equal(typeof out.format, 'object');
  });
}

test('twi inspect with an explicit platform agrees with detection', () => {
  const tdx = samples.find((s) => s.platform === 'tdx')!;
  const r = runCli(['inspect', join(vectorsDir, tdx.files.quote!), '--platform', 'tdx', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).claims, tdx.measurements);
});

test('twi inspect prints a readable summary without --json', () => {
  const snp = samples.find((s) => s.platform === 'sev-snp')!;
  const r = runCli(['inspect', join(vectorsDir, snp.files.report!)]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^platform: sev-snp/m);
  assert.match(r.stdout, /measurement: [0-9a-f]{96}/);
});

test('malformed input exits 3 with one line naming the code and the field or offset', () => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-inspect-'));
  try {
    const tdx = samples.find((s) => s.platform === 'tdx')!;
    const truncated = join(dir, 'truncated.bin');
    writeFileSync(truncated, readVector(tdx.files.quote!).subarray(0, 700));
    const r = runCli(['inspect', truncated, '--platform', 'tdx']);
    assert.equal(r.status, 3);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^twi: ERR_EVIDENCE_MALFORMED: .*(offset 0x[0-9a-f]+|[a-z_]+)/);

    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, Buffer.from('definitely not evidence'));
    const j = runCli(['inspect', junk]);
    assert.equal(j.status, 3);
    assert.match(j.stderr, /^twi: ERR_PLATFORM_UNKNOWN: /);

    const missing = runCli(['inspect', join(dir, 'missing.bin')]);
    assert.equal(missing.status, 3);
    assert.match(missing.stderr, /^twi: ERR_INPUT_FILE: .*ENOENT/);

    const badPlatform = runCli(['inspect', junk, '--platform', 'sgx']);
    assert.equal(badPlatform.status, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('twi inspect shows TDATTRIBUTES, XFAM, POLICY and PLATFORM_INFO bit by bit', () => {
  const tdx = samples.find((s) => s.platform === 'tdx')!;
  const t = runCli(['inspect', join(vectorsDir, tdx.files.quote!)]);
  assert.equal(t.status, 0, t.stderr);
  const flags = tdx.measurements!.td_attribute_flags as Record<string, boolean>;
  const on = Object.keys(flags).filter((k) => flags[k]);
  assert.match(
    t.stdout,
    new RegExp(`^  td_attributes:\\n    value: 0x[0-9a-f]+\\n    set: ${on.join(', ')}\\n`, 'm'),
  );
  assert.match(t.stdout, /^ {2}xfam:\n {4}value: 0x[0-9a-f]+\n {4}set: x87, sse, /m);
  assert.match(t.stdout, /^ {2}td_attribute_flags:\n {4}set: .*\n {4}clear: .*debug/m);

  const json = JSON.parse(runCli(['inspect', join(vectorsDir, tdx.files.quote!), '--json']).stdout);
  assert.deepEqual(json.format.td_attributes.set, on);

  const debug = samples.find(
    (s) => s.platform === 'sev-snp' && s.files.report && s.measurements!.policy === '0xb0000',
  )!;
  const r = runCli(['inspect', join(vectorsDir, debug.files.report!)]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /^ {2}policy:\n {4}set: smt, debug\n {4}clear: migrateMa, singleSocket, /m,
  );
  assert.match(r.stdout, /^ {4}raw: 0xb0000$/m);
  assert.match(r.stdout, /^ {2}platformInfo:\n {4}set: smtEn\n/m);
});
