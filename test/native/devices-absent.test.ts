/** Without emulation (this machine has no TEE): every device is ERR_DEVICE_UNAVAILABLE. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceError } from '../../native/errors.js';
import {
  detectPlatforms,
  nsmGetAttestation,
  snpGetReport,
  tdxExtendRtmr,
  tdxGetReport0,
  tdxReadRtmr,
  tsmReport,
} from '../../native/devices.js';
import { getEvidence, openTeeDevice } from '../../native/evidence.js';

const noTee = !process.env.TWI_DEVEMU_SOCKET && (await detectPlatforms()).every((p) => !p.usable);
const skip = !noTee && 'this machine (or environment) has a TEE interface';
const rd = new Uint8Array(64);

function unavailable(errno?: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof DeviceError, String(e));
    assert.equal(e.code, 'ERR_DEVICE_UNAVAILABLE');
    assert.equal(e.retryable, false);
    if (errno) assert.equal(e.errnoName, errno);
    return true;
  };
}

test('detection reports every interface absent', { skip }, async () => {
  const probes = await detectPlatforms();
  assert.deepEqual(
    probes.map((p) => p.platform),
    ['tdx', 'sev-snp', 'nitro'],
  );
  for (const p of probes) for (const i of p.interfaces) assert.equal(i.present, false, i.name);
});

test('each device call fails ERR_DEVICE_UNAVAILABLE with ENOENT', { skip }, async () => {
  await assert.rejects(tsmReport(rd, 'tdx_guest'), unavailable('ENOENT'));
  await assert.rejects(snpGetReport(rd), unavailable('ENOENT'));
  await assert.rejects(snpGetReport(rd, { extended: false }), unavailable('ENOENT'));
  await assert.rejects(tdxGetReport0(rd), unavailable('ENOENT'));
  await assert.rejects(tdxExtendRtmr(0, new Uint8Array(48)), unavailable('ENOENT'));
  await assert.rejects(tdxReadRtmr(1), unavailable('ENOENT'));
  await assert.rejects(nsmGetAttestation({ nonce: new Uint8Array(8) }), unavailable('ENOENT'));
  await assert.rejects(openTeeDevice(), unavailable());
  await assert.rejects(getEvidence({ reportData: rd }), unavailable());
});

test('argument misuse is a TypeError even without devices', async () => {
  await assert.rejects(tsmReport(new Uint8Array(32), 'tdx_guest'), TypeError);
  await assert.rejects(tsmReport(rd, 'other' as 'tdx_guest'), TypeError);
  await assert.rejects(snpGetReport(rd, { vmpl: 7 }), TypeError);
  await assert.rejects(tdxExtendRtmr(0, new Uint8Array(47)), TypeError);
  await assert.rejects(nsmGetAttestation({ publicKey: new Uint8Array(1025) }), TypeError);
  await assert.rejects(getEvidence({ platform: 'tdx', nonce: rd, reportData: rd }), TypeError);
  await assert.rejects(openTeeDevice('sgx' as 'tdx'), TypeError);
});
