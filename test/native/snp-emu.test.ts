/**
 * SEV-SNP through the addon's device code under the device emulator: configfs-tsm and
 * SNP_GET_EXT_REPORT reports verifying affirming with the supplied certificate table,
 * the certificate buffer growing on the host's "too small" answer, sealing under
 * SNP_GET_DERIVED_KEY, and firmware errors as ERR_DEVICE_FIRMWARE / ERR_DEVICE_DISABLED.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { b64, startSession, unb64 } from './emu-session.js';
import type { Session } from './emu-session.js';

let s: Session;
before(async () => {
  s = await startSession('sev-snp');
});
after(() => s.close());

interface Ev {
  platform: string;
  source: string;
  evidence: string;
  endorsements: { mediaType: string; bytes: string }[];
}

test('configfs-tsm report with its auxblob verifies affirming with the REPORT_DATA asked', async () => {
  const rd = new Uint8Array(64).fill(0x3c);
  const ev = await s.call<Ev>('evidence', { reportData: b64(rd) });
  assert.deepEqual([ev.platform, ev.source], ['sev-snp', 'configfs-tsm']);
  assert.equal(ev.endorsements[0]?.mediaType, 'application/vnd.twi.sev-snp-certs');
  const certs = unb64(ev.endorsements[0]!.bytes);
  const ok = s.appraise('sev-snp', unb64(ev.evidence), { snpCertTable: certs }, { reportData: rd });
  assert.equal(ok.status, 'affirming', JSON.stringify(ok.errors));
  const other = new Uint8Array(64).fill(0x3d);
  const bad = s.appraise(
    'sev-snp',
    unb64(ev.evidence),
    { snpCertTable: certs },
    { reportData: other },
  );
  assert.notEqual(bad.status, 'affirming');
});

test('SNP_GET_EXT_REPORT grows the certificate buffer to what the host asks and verifies', async () => {
  const rd = new Uint8Array(64).fill(0x51);
  const r = await s.call<{
    report: string;
    certs: string;
    certsBufferLength: number;
    attempts: number;
  }>('snpReport', { userData: b64(rd), extended: true });
  const offered = s.emu.requests.filter((x) => x.op === 'get-ext-report').map((x) => x.certsLen);
  assert.equal(offered[0], 4096, 'starts with one page');
  assert.ok(r.certsBufferLength > 4096 && r.attempts === 2, JSON.stringify(offered));
  const ok = s.appraise(
    'sev-snp',
    unb64(r.report),
    { snpCertTable: unb64(r.certs) },
    { reportData: rd },
  );
  assert.equal(ok.status, 'affirming', JSON.stringify(ok.errors));
});

test('a key sealed under the measurement-bound derived key unseals to the same key', async () => {
  const { id, jwk } = await s.call<{ id: number; jwk: JsonWebKey }>('generateKey', {});
  const sealed = await s.call<string>('seal', { id });
  const logged = s.emu.requests.filter((x) => x.op === 'get-derived-key').pop()!;
  assert.equal(logged.fieldSelect! & 0b1000n, 0b1000n, 'MEASUREMENT is in guest_field_select');
  const back = await s.call<{ id: number; jwk: JsonWebKey }>('unseal', { sealed });
  assert.deepEqual(back.jwk, jwk);
  const msg = new TextEncoder().encode('after restart');
  const sig = unb64(await s.call<string>('sign', { id: back.id, data: b64(msg) }));
  const pub = createPublicKey({ key: jwk, format: 'jwk' });
  assert.ok(verify('sha256', msg, { key: pub, dsaEncoding: 'ieee-p1363' }, sig));
  const tampered = unb64(sealed);
  tampered[tampered.length - 1]! ^= 1;
  const err = await s.fails('unseal', { sealed: b64(tampered) });
  assert.equal(err.code, 'ERR_KEY_SEAL');
  const noMeasurement = await s.fails('seal', { id, options: { guestFieldSelect: 1 } });
  assert.equal(noMeasurement.name, 'TypeError');
});

test('another launch measurement cannot unseal', async () => {
  const { id } = await s.call<{ id: number }>('generateKey', { curve: 'P-384' });
  const sealed = await s.call<string>('seal', { id });
  const other = await startSession(
    'sev-snp',
    { snp: { measurement: new Uint8Array(48).fill(9) } },
    s.pkiDir,
  );
  try {
    const err = await other.fails('unseal', { sealed });
    assert.equal(err.code, 'ERR_KEY_SEAL');
  } finally {
    await other.close();
  }
});

test('MSG_REPORT_RSP status is ERR_DEVICE_FIRMWARE with fwError', async () => {
  s.emu.inject({ kind: 'snp-report-status', status: 0x16 });
  const err = await s.fails('snpReport', { userData: b64(new Uint8Array(64)), extended: true });
  assert.deepEqual([err.code, err.fwError], ['ERR_DEVICE_FIRMWARE', 0x16]);
});

test('a firmware error wipes the VMPCK: ERR_DEVICE_FIRMWARE, then ERR_DEVICE_DISABLED for good', async () => {
  s.emu.inject({ kind: 'snp-fw-error', status: 0x16 });
  const fw = await s.fails('snpReport', { userData: b64(new Uint8Array(64)) });
  assert.deepEqual([fw.code, fw.errnoName, fw.fwError], ['ERR_DEVICE_FIRMWARE', 'EIO', 0x16]);
  const off = await s.fails('snpReport', { userData: b64(new Uint8Array(64)) });
  assert.deepEqual([off.code, off.errnoName], ['ERR_DEVICE_DISABLED', 'ENOTTY']);
});
