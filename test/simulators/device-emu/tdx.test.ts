/**
 * TDX under device emulation: configfs-tsm quotes that verify with the simulator roots,
 * TDX_CMD_GET_REPORT0 TDREPORTs that agree with the quote, RTMR extends through sysfs
 * reflected in later evidence, and the injected failures as the kernel reports them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseTdReport, tdReportMac } from '../../../simulators/index.js';
import { parseTdxQuote } from '../../../verifier/platforms/tdx/index.js';
import { appraise, filled, startRig } from './harness.js';
import type { Rig } from './harness.js';

let rig: Rig;
before(async () => {
  rig = await startRig('tdx', { seed: 'td-under-test' });
});
after(() => rig.close());

const EIO = '5';
const EINVAL = '22';
const ENOTTY = '25';

function lastQuote(r: Rig) {
  const e = [...r.emu.requests].reverse().find((x) => x.op === 'report' && x.evidence);
  assert.ok(e?.collateral, 'the backend logged the quote with its collateral');
  return e;
}

test('configfs-tsm quote verifies with the REPORT_DATA asked for', async () => {
  const rd = filled(64, 0x71);
  const { out, file } = await rig.probe('tsm', 'q1', rd.hex);
  assert.equal(out.provider, 'tdx_guest');
  assert.deepEqual([out.g0, out.g1, out.rmdir], ['0', '1', '0']);
  assert.equal(out.auxblob_len, undefined, 'tdx_guest shows no auxblob');
  const quote = file('outblob.bin');
  assert.equal(Number(out.outblob_len), quote.length);
  const logged = lastQuote(rig);
  assert.deepEqual(logged.evidence, quote);
  const report = appraise(
    rig,
    'tdx',
    quote,
    { tdxCollateral: JSON.stringify(logged.collateral) },
    { reportData: rd.bytes },
  );
  assert.equal(report.status, 'affirming', JSON.stringify(report.errors));
});

test('TDX_CMD_GET_REPORT0 returns a TDREPORT consistent with the quote', async () => {
  const rd = filled(64, 0x72);
  const { out, file } = await rig.probe('tdx-report', rd.hex);
  assert.deepEqual([out.rc, out.bad_cmd_errno], ['0', ENOTTY]);
  const tdreport = file('tdreport.bin');
  const parsed = parseTdReport(tdreport);
  assert.deepEqual(parsed.body.reportData, rd.bytes);
  assert.deepEqual(parsed.mac, tdReportMac('td-under-test', tdreport));
  const quote = parseTdxQuote((await rig.probe('tsm', 'q2', rd.hex)).file('outblob.bin'));
  for (const k of ['mrTd', 'mrSeam', 'tdAttributes', 'xfam', 'rtmr', 'reportData'] as const) {
    assert.deepEqual(parsed.body[k], quote.body[k], k);
  }
  assert.deepEqual(
    parsed.teeInfoHash,
    new Uint8Array(createHash('sha384').update(tdreport.subarray(0x200, 0x400)).digest()),
  );
});

test('RTMR extend through sysfs: 48 bytes at offset 0 only; later evidence reflects it', async () => {
  const before = rig.emu.rtmrs()[2]!;
  const data = filled(48, 0x5a);
  const { out, file } = await rig.probe('rtmr', '2', data.hex);
  assert.deepEqual(
    [out.short_write, out.offset_write, out.extend],
    [`-${EINVAL}`, `-${EINVAL}`, '48'],
  );
  const expected = new Uint8Array(createHash('sha384').update(before).update(data.bytes).digest());
  assert.deepEqual(file('rtmr.bin'), expected);
  assert.equal(file('mrtd.bin').length, 48);
  const tdreport = parseTdReport(
    (await rig.probe('tdx-report', filled(64, 1).hex)).file('tdreport.bin'),
  );
  assert.deepEqual(tdreport.body.rtmr[2], expected);
  const rd = filled(64, 0x73);
  const quote = (await rig.probe('tsm', 'q3', rd.hex)).file('outblob.bin');
  assert.deepEqual(parseTdxQuote(quote).body.rtmr[2], expected);
  const report = appraise(
    rig,
    'tdx',
    quote,
    { tdxCollateral: JSON.stringify(lastQuote(rig).collateral) },
    { reportData: rd.bytes },
  );
  assert.equal(report.status, 'affirming', JSON.stringify(report.errors));
});

test('failures: short inblob, GetQuote EIO / in flight, TDCALL failure, absent device', async () => {
  const short = await rig.probe('tsm', 'bad', 'aa');
  assert.equal(short.out.outblob_len, `-${EINVAL}`);
  rig.emu.inject({ kind: 'tdx-quote-error' });
  const eio = await rig.probe('tsm', 'eio', filled(64, 9).hex);
  assert.equal(eio.out.outblob_len, `-${EIO}`);
  rig.emu.inject({ kind: 'tdx-quote-error', errno: 'EBUSY' });
  const busy = await rig.probe('tsm', 'busy', filled(64, 9).hex);
  assert.equal(busy.out.outblob_len, '-16');
  rig.emu.inject({ kind: 'tsm-busy' });
  const wrap = await rig.probe('tsm', 'wrap', filled(64, 9).hex);
  assert.equal(wrap.out.g_after_write, '0', 'the inblob store was refused (EBUSY at release)');
  assert.equal(wrap.out.outblob_len, `-${EINVAL}`);
  rig.emu.inject({ kind: 'tdx-report-error' });
  const rep = await rig.probe('tdx-report', filled(64, 9).hex);
  assert.deepEqual([rep.out.rc, rep.out.errno], ['-1', EIO]);
  const ok = await rig.probe('tsm', 'again', filled(64, 9).hex);
  assert.ok(Number(ok.out.outblob_len) > 1020, 'faults are one-shot');
  const local = await startRig('tdx');
  try {
    local.emu.inject({ kind: 'device-absent', device: 'tdx_guest' });
    assert.equal((await local.probe('tdx-report', filled(64, 1).hex)).out.open_errno, '2');
    local.emu.inject({ kind: 'device-absent', device: 'tsm' });
    assert.equal((await local.probe('tsm', 'x', filled(64, 1).hex)).out.mkdir_errno, '2');
  } finally {
    await local.close();
  }
});

test('listing: the measurements directory and the report entries', async () => {
  const m = await rig.probe('ls', '/sys/devices/virtual/misc/tdx_guest/measurements');
  const names = m.lines.filter((l) => l.startsWith('entry=')).map((l) => l.split(' ')[0]!.slice(6));
  assert.deepEqual(names.sort(), [
    '.',
    '..',
    'mrconfigid',
    'mrowner',
    'mrownerconfig',
    'mrtd:sha384',
    'rtmr0:sha384',
    'rtmr1:sha384',
    'rtmr2:sha384',
    'rtmr3:sha384',
  ]);
});

test('a platform without a configfs-tsm provider answers mkdir with ENXIO', async () => {
  const nitro = await startRig('nitro');
  try {
    const { out } = await nitro.probe('tsm', 'none', filled(64, 1).hex);
    assert.equal(out.mkdir_errno, '6');
    assert.equal((await nitro.probe('tdx-report', filled(64, 1).hex)).out.open_errno, '2');
  } finally {
    await nitro.close();
  }
});
