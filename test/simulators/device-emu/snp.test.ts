/**
 * SEV-SNP under device emulation: the probe's real configfs-tsm and /dev/sev-guest call
 * sequences get evidence that the verifier accepts with the simulator roots, and each
 * injected fault comes back as the kernel's errno / fw_error / vmm_error.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseSnpReport } from '../../../verifier/platforms/sev-snp/abi/report.js';
import { appraise, filled, startRig } from './harness.js';
import type { Rig } from './harness.js';

let rig: Rig;
before(async () => {
  rig = await startRig('sev-snp');
});
after(() => rig.close());

const EIO = '5';
const EINVAL = '22';
const ENOTTY = '25';
const ETIMEDOUT = '110';

test('configfs-tsm: mkdir, provider, inblob, outblob, auxblob, generation, rmdir', async () => {
  const rd = filled(64, 0xa1);
  const { out, file } = await rig.probe('tsm', 'snp1', rd.hex);
  assert.equal(out.provider, 'sev_guest');
  assert.equal(out.entry_is_dir, '1');
  assert.deepEqual([out.g0, out.inblob_write, out.g1, out.rmdir], ['0', '64', '1', '0']);
  assert.equal(out.outblob_len, '1184');
  const report = appraise(
    rig,
    'sev-snp',
    file('outblob.bin'),
    { snpCertTable: file('auxblob.bin') },
    { reportData: rd.bytes },
  );
  assert.equal(report.status, 'affirming', JSON.stringify(report.errors));
  const logged = rig.emu.requests.find((r) => r.device === 'tsm' && r.op === 'report')!;
  assert.deepEqual(logged.reportData, rd.bytes);
  // The same REPORT_DATA under a different nonce expectation is refused: the binding is real.
  const other = appraise(
    rig,
    'sev-snp',
    file('outblob.bin'),
    {
      snpCertTable: file('auxblob.bin'),
    },
    { reportData: filled(64, 0xa2).bytes },
  );
  assert.notEqual(other.status, 'affirming');
});

test('configfs-tsm: privlevel out of [floor, 3] is EINVAL, a valid one is the report VMPL', async () => {
  const rd = filled(64, 0x33);
  const bad = await rig.probe('tsm', 'snp-pl', rd.hex, '4');
  assert.equal(bad.out.privlevel_write, `-${EINVAL}`);
  const { out, file } = await rig.probe('tsm', 'snp-pl2', rd.hex, '2');
  assert.equal(out.privlevel_write, '1');
  assert.equal(out.g1, '2', 'privlevel and inblob writes each advance the generation');
  assert.equal(parseSnpReport(file('outblob.bin')).vmpl, 2);
});

test('configfs-tsm: outblob without an inblob of 64 bytes is EINVAL, the generation race shows', async () => {
  const short = await rig.probe('tsm', 'snp-short', 'abcd');
  assert.equal(short.out.inblob_write, '2');
  assert.equal(short.out.outblob_len, `-${EINVAL}`);
  rig.emu.inject({ kind: 'tsm-generation-race' });
  const raced = await rig.probe('tsm', 'snp-race', filled(64, 0x44).hex);
  assert.equal(raced.out.g0, '0');
  assert.equal(raced.out.g1, '2', 'another writer advanced the generation');
  assert.notDeepEqual(parseSnpReport(raced.file('outblob.bin')).reportData, filled(64, 0x44).bytes);
});

test('SNP_GET_REPORT returns MSG_REPORT_RSP with a report that verifies', async () => {
  const rd = filled(64, 0x5c);
  const { out, file } = await rig.probe('snp-report', rd.hex, '0');
  assert.deepEqual([out.report_rc, out.status, out.report_size], ['0', '0', '1184']);
  const certTable = (await rig.probe('tsm', 'snp-certs', rd.hex)).file('auxblob.bin');
  const r = appraise(
    rig,
    'sev-snp',
    file('report.bin'),
    { snpCertTable: certTable },
    {
      reportData: rd.bytes,
    },
  );
  assert.equal(r.status, 'affirming', JSON.stringify(r.errors));
  const zero = await rig.probe('snp-report', rd.hex, '0', '0');
  assert.deepEqual([zero.out.report_rc, zero.out.report_errno], ['-1', EINVAL]);
  assert.equal(zero.out.report_fw_error, '0', 'msg_version 0 fails before exitinfo2 is copied');
  const vmpl = await rig.probe('snp-report', rd.hex, '7');
  assert.deepEqual([vmpl.out.report_rc, vmpl.out.status], ['0', String(0x16)]);
});

test('SNP_GET_EXT_REPORT: too small → EIO, vmm_error 1, certs_len rewritten; retry verifies', async () => {
  const rd = filled(64, 0x6d);
  const { out, file } = await rig.probe('snp-ext', rd.hex, '4096');
  assert.deepEqual(
    [out.attempt0_rc, out.attempt0_errno, out.attempt0_vmm_error, out.attempt0_certs_len],
    ['-1', EIO, '1', '8192'],
  );
  assert.equal(out.attempt1_rc, '0');
  const r = appraise(
    rig,
    'sev-snp',
    file('report.bin'),
    { snpCertTable: file('certs.bin') },
    {
      reportData: rd.bytes,
    },
  );
  assert.equal(r.status, 'affirming', JSON.stringify(r.errors));
  const unaligned = await rig.probe('snp-ext', rd.hex, '5000');
  assert.deepEqual(
    [unaligned.out.attempt0_errno, unaligned.out.attempt0_fw_error],
    [EINVAL, '255'],
  );
  const huge = await rig.probe('snp-ext', rd.hex, String(0x5000));
  assert.equal(huge.out.attempt0_errno, EINVAL);
});

test('SNP_GET_DERIVED_KEY is stable per measured workload and differs with MEASUREMENT', async () => {
  const a = await rig.probe('snp-key', '0x8', '0');
  const b = await rig.probe('snp-key', '0x8', '0');
  assert.deepEqual([a.out.key_rc, a.out.status], ['0', '0']);
  assert.deepEqual(a.file('key.bin'), b.file('key.bin'));
  const policy = await rig.probe('snp-key', '0x9', '0');
  assert.notDeepEqual(policy.file('key.bin'), a.file('key.bin'), 'field select is mixed in');
  const bad = await rig.probe('snp-key', '0x80', '0');
  assert.equal(bad.out.status, String(0x16), 'reserved guest_field_select bits');
  const other = await startRig('sev-snp', {
    snp: { measurement: new Uint8Array(createHash('sha384').update('other image').digest()) },
  });
  try {
    const c = await other.probe('snp-key', '0x8', '0');
    assert.notDeepEqual(c.file('key.bin'), a.file('key.bin'));
    const unmeasured = await other.probe('snp-key', '0x0', '0');
    const unmeasuredHere = await rig.probe('snp-key', '0x0', '0');
    assert.deepEqual(unmeasured.file('key.bin'), unmeasuredHere.file('key.bin'));
  } finally {
    await other.close();
  }
});

test('firmware error → EIO with fw_error, then the wiped VMPCK makes every call ENOTTY', async () => {
  const local = await startRig('sev-snp');
  try {
    local.emu.inject({ kind: 'snp-fw-error', status: 0x16 });
    const rd = filled(64, 1).hex;
    const first = await local.probe('snp-report', rd, '0');
    assert.deepEqual([first.out.report_errno, first.out.report_fw_error], [EIO, '22']);
    const next = await local.probe('snp-report', rd, '0');
    assert.deepEqual([next.out.report_errno, next.out.report_fw_error], [ENOTTY, '255']);
    const tsm = await local.probe('tsm', 'after', filled(64, 2).hex);
    assert.equal(tsm.out.outblob_len, `-${ENOTTY}`);
  } finally {
    await local.close();
  }
});

test('VMM busy: transparent within the retry budget, ETIMEDOUT with vmm_error 2 beyond', async () => {
  const local = await startRig('sev-snp');
  try {
    local.emu.inject({ kind: 'snp-vmm-busy', retries: 3 });
    const ok = await local.probe('snp-report', filled(64, 3).hex, '0');
    assert.equal(ok.out.report_rc, '0');
    local.emu.inject({ kind: 'snp-vmm-busy' });
    const busy = await local.probe('snp-report', filled(64, 3).hex, '0');
    assert.deepEqual([busy.out.report_errno, busy.out.report_vmm_error], [ETIMEDOUT, '2']);
  } finally {
    await local.close();
  }
});

test('report status, VMPCK disabled and an absent device', async () => {
  const local = await startRig('sev-snp');
  try {
    local.emu.inject({ kind: 'snp-report-status', status: 0x27 });
    const st = await local.probe('tsm', 'status', filled(64, 4).hex);
    assert.equal(st.out.outblob_len, `-${EINVAL}`, 'INVALID_KEY maps to EINVAL in configfs');
    local.emu.inject({ kind: 'device-absent', device: 'sev-guest' });
    const gone = await local.probe('snp-report', filled(64, 4).hex, '0');
    assert.equal(gone.out.open_errno, '2');
    local.emu.clearFaults();
    local.emu.inject({ kind: 'snp-vmpck-disabled' });
    const off = await local.probe('snp-key', '0x8', '0');
    assert.equal(off.out.key_errno, ENOTTY);
  } finally {
    await local.close();
  }
});

test('threads: concurrent configfs sequences each get their own REPORT_DATA', async () => {
  const { out, file } = await rig.probe('threads', '4');
  assert.equal(out.failures, '0');
  for (let i = 0; i < 4; i++) {
    assert.deepEqual(parseSnpReport(file(`thread${i}.bin`)).reportData, filled(64, i + 1).bytes);
  }
});
