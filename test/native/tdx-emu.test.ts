/**
 * TDX through the addon's device code under the device emulator: configfs-tsm quotes
 * that verify affirming with the simulator roots, TDREPORT, RTMR extend, and each
 * injected fault surfacing as its error code.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { bindingReportData, jwkThumbprint } from '../../wire/binding.js';
import { b64, startSession, unb64 } from './emu-session.js';
import type { Session } from './emu-session.js';

let s: Session;
before(async () => {
  s = await startSession('tdx');
});
after(() => s.close());

interface Ev {
  platform: string;
  source: string;
  evidence: string;
}

function collateral(): string {
  const r = s.emu.requests.filter((x) => x.collateral !== undefined).pop()!;
  return JSON.stringify(r.collateral);
}

test('detection prefers TDX and sees configfs-tsm with the tdx_guest provider', async () => {
  const probes = await s.call<{ platform: string; usable: boolean }[]>('detect');
  assert.deepEqual(
    probes.map((p) => [p.platform, p.usable]),
    [
      ['tdx', true],
      ['sev-snp', false],
      ['nitro', false],
    ],
  );
});

test('a quote bound to a native key and a nonce verifies affirming with that binding', async () => {
  const { jwk } = await s.call<{ jwk: JsonWebKey }>('generateKey', { curve: 'P-256' });
  const nonce = new Uint8Array(32).fill(0x5a);
  const jkt = jwkThumbprint(jwk);
  const ev = await s.call<Ev>('evidence', { reportData: b64(bindingReportData(nonce, jkt)) });
  assert.deepEqual([ev.platform, ev.source], ['tdx', 'configfs-tsm']);
  const quote = unb64(ev.evidence);
  const ok = s.appraise('tdx', quote, { tdxCollateral: collateral() }, { nonce, jkt });
  assert.equal(ok.status, 'affirming', JSON.stringify(ok.errors));
  const other = s.appraise(
    'tdx',
    quote,
    { tdxCollateral: collateral() },
    { nonce: new Uint8Array(32), jkt },
  );
  assert.notEqual(other.status, 'affirming');
});

test('TDREPORT carries REPORTDATA at 0x80; RTMR extend is SHA-384(old ‖ digest)', async () => {
  const rd = new Uint8Array(64).fill(0x42);
  const tdreport = unb64(await s.call<string>('tdxReport', { reportData: b64(rd) }));
  assert.equal(tdreport.length, 1024);
  assert.deepEqual(tdreport.subarray(0x80, 0xc0), rd);
  const before = unb64(await s.call<string>('rtmrRead', { index: 2 }));
  const digest = createHash('sha384').update('twi-shim').digest();
  await s.call('rtmrExtend', { index: 2, digest: b64(digest) });
  const after = unb64(await s.call<string>('rtmrRead', { index: 2 }));
  const expected = createHash('sha384').update(before).update(digest).digest();
  assert.deepEqual(Buffer.from(after), expected);
  assert.deepEqual(Buffer.from(s.emu.rtmrs()[2]!), expected);
});

test('a generation race or refused inblob is retried; three in a row are ERR_DEVICE_BUSY', async () => {
  const rd = new Uint8Array(64).fill(0x01);
  s.emu.inject({ kind: 'tsm-generation-race' });
  const r = await s.call<{ attempts: number; outblob: string }>('tsm', {
    inblob: b64(rd),
    provider: 'tdx_guest',
  });
  assert.equal(r.attempts, 2);
  const ok = s.appraise(
    'tdx',
    unb64(r.outblob),
    { tdxCollateral: collateral() },
    { reportData: rd },
  );
  assert.equal(ok.status, 'affirming', JSON.stringify(ok.errors));
  s.emu.inject({ kind: 'tsm-generation-race', count: 3 });
  const err = await s.fails('evidence', { reportData: b64(rd) });
  assert.equal(err.code, 'ERR_DEVICE_BUSY');
  s.emu.inject({ kind: 'tsm-busy', count: 3 });
  const busy = await s.fails('evidence', { reportData: b64(rd) });
  // configfs ignores the verdict of a refused store at release: only the generation tells.
  assert.equal(busy.code, 'ERR_DEVICE_BUSY');
  assert.match(busy.message, /generation/);
});

test('GetQuote and TDG.MR.REPORT failures surface with their errno', async () => {
  const rd = b64(new Uint8Array(64));
  s.emu.inject({ kind: 'tdx-quote-error', errno: 'EIO' });
  const io = await s.fails('evidence', { reportData: rd });
  assert.deepEqual([io.code, io.errnoName], ['ERR_DEVICE_IO', 'EIO']);
  s.emu.inject({ kind: 'tdx-report-error' });
  const fw = await s.fails('tdxReport', { reportData: rd });
  assert.deepEqual([fw.code, fw.errnoName], ['ERR_DEVICE_FIRMWARE', 'EIO']);
});

test('bad arguments are TypeErrors before the device; a vanished device is unavailable', async () => {
  const short = await s.fails('evidence', { reportData: b64(new Uint8Array(63)) });
  assert.equal(short.name, 'TypeError');
  const idx = await s.fails('rtmrExtend', { index: 4, digest: b64(new Uint8Array(48)) });
  assert.equal(idx.name, 'TypeError');
  s.emu.inject({ kind: 'device-absent', device: 'tsm' });
  const gone = await s.fails('evidence', { platform: 'tdx', reportData: b64(new Uint8Array(64)) });
  assert.equal(gone.code, 'ERR_DEVICE_UNAVAILABLE');
  s.emu.clearFaults();
});
