/**
 * `twi verify` reference values on the command line (`--mrtd`, `--rtmrN`, `--measurement`,
 * `--host-data`, `--min-tcb`, `--vmpl`, `--pcr`): values equal to the real vectors' keep the
 * default outcome, a different value makes the EAR contraindicated (exit 2) with the
 * violation in words, flags for another platform refuse the evidence, and malformed values
 * exit 3.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { loadManifest, vectorsDir, type Sample } from '../helpers/vectors.js';

const samples = loadManifest().samples;
const tdx = samples.find((s) => s.platform === 'tdx' && s.expected.tcb_status === 'UpToDate')!;
const snp = samples.find(
  (s) =>
    s.platform === 'sev-snp' &&
    s.files.report &&
    s.measurements?.vmpl === 0 &&
    (BigInt(s.measurements.policy as string) & (1n << 19n)) === 0n,
)!;
const nitro = samples.find(
  (s) =>
    s.platform === 'nitro' && !/^0+$/.test((s.measurements!.pcrs as Record<string, string>)['0']!),
)!;

interface Out {
  status: string;
  errors: { code: string; message: string }[];
  policy_id: string;
  ear: { submods: Record<string, { 'tag:twi.dev,2026:ear#policy'?: unknown }> };
}

function run(s: Sample, file: string, args: string[]): { status: number | null; out: Out } {
  const r = runCli(['verify', join(vectorsDir, file), '--at', s.verify_at, ...args, '--json']);
  assert.ok(r.stdout, r.stderr);
  return { status: r.status, out: JSON.parse(r.stdout) as Out };
}

const m = (s: Sample, k: string): string => s.measurements![k] as string;
const flip = (hex: string): string => (hex.startsWith('00') ? '11' : '00') + hex.slice(2);

test('tdx: --mrtd and --rtmr0..3 equal to the quote affirm; a different RTMR2 contraindicates', () => {
  const refs = [
    '--mrtd',
    m(tdx, 'mrtd'),
    ...[0, 1, 2, 3].flatMap((i) => [`--rtmr${i}`, m(tdx, `rtmr${i}`)]),
  ];
  const ok = run(tdx, tdx.files.quote!, refs);
  assert.equal(ok.out.status, 'affirming', JSON.stringify(ok.out.errors));
  assert.equal(ok.status, 0);
  assert.match(ok.out.policy_id, /\+command-line$/);

  const bad = run(tdx, tdx.files.quote!, [...refs, '--rtmr2', flip(m(tdx, 'rtmr2'))]);
  assert.equal(bad.out.status, 'contraindicated');
  assert.equal(bad.status, 2);
  const v = bad.out.errors.find((e) => e.code === 'ERR_REFERENCE_MISMATCH');
  assert.ok(v, JSON.stringify(bad.out.errors));
  assert.match(v.message, /^RTMR2 is [0-9a-f]{8}…[0-9a-f]{4}, expected [0-9a-f]{8}…/);
});

test('sev-snp: --measurement, --host-data, --vmpl and --min-tcb are checked', () => {
  const file = snp.files.report!;
  const parts = snp.measurements!.reported_tcb_parts as Record<string, number>;
  const refs = [
    '--measurement',
    m(snp, 'measurement'),
    '--host-data',
    m(snp, 'host_data'),
    '--vmpl',
    '0',
    '--min-tcb',
    `bl=${parts.bl},snp=${parts.snp}`,
  ];
  const ok = run(snp, file, refs);
  assert.equal(ok.out.status, 'affirming', JSON.stringify(ok.out.errors));
  assert.equal(ok.status, 0);

  const bad = run(snp, file, [
    '--measurement',
    flip(m(snp, 'measurement')),
    '--min-tcb',
    `snp=${parts.snp! + 1}`,
  ]);
  assert.equal(bad.status, 2);
  assert.equal(bad.out.status, 'contraindicated');
  const codes = bad.out.errors.map((e) => e.code);
  assert.ok(codes.includes('ERR_REFERENCE_MISMATCH'), codes.join());
  const tcb = bad.out.errors.find((e) => e.code === 'ERR_TCB_TOO_LOW')!;
  assert.equal(
    tcb.message,
    `REPORTED_TCB.SNP ${parts.snp} is less than the required minimum ${parts.snp! + 1}`,
  );

  const vmpl = run(snp, file, ['--vmpl', '1']);
  assert.equal(vmpl.status, 2);
  assert.ok(vmpl.out.errors.some((e) => e.code === 'ERR_VMPL_NOT_ALLOWED'));
});

test('nitro: --pcr I=HEX equal to the document affirms, a different PCR0 contraindicates', () => {
  const pcrs = nitro.measurements!.pcrs as Record<string, string>;
  const file = nitro.files.cose_sign1!;
  const ok = run(nitro, file, ['--pcr', `0=${pcrs['0']}`, '--pcr', `1=${pcrs['1']}`]);
  assert.equal(ok.out.status, 'affirming', JSON.stringify(ok.out.errors));
  const bad = run(nitro, file, ['--pcr', `0=${flip(pcrs['0']!)}`]);
  assert.equal(bad.status, 2);
  assert.ok(
    bad.out.errors.some((e) => /PCR0/.test(e.message)),
    JSON.stringify(bad.out.errors),
  );
});

test('reference values for one platform refuse evidence of another', () => {
  const r = run(snp, snp.files.report!, ['--mrtd', m(tdx, 'mrtd')]);
  assert.equal(r.status, 2);
  assert.equal(r.out.status, 'contraindicated');
  assert.ok(r.out.errors.length > 0);
});

test('malformed reference values exit 3 with ERR_USAGE', () => {
  const file = join(vectorsDir, tdx.files.quote!);
  for (const args of [
    ['--mrtd', 'abcd'],
    ['--rtmr1', 'zz'.repeat(48)],
    ['--pcr', '0'],
    ['--pcr', '40=' + '00'.repeat(48)],
    ['--min-tcb', 'microcode=3'],
    ['--min-tcb', 'snp=300'],
    ['--vmpl', '4'],
    ['--host-data', '00'],
  ]) {
    const r = runCli(['verify', file, '--at', tdx.verify_at, ...args]);
    assert.equal(r.status, 3, args.join(' '));
    assert.match(r.stderr, /^twi: ERR_USAGE: /, args.join(' '));
  }
});
