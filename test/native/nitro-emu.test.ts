/**
 * Nitro through the addon's /dev/nsm code under the device emulator: the CBOR request
 * carries nonce, user_data and the native key's SPKI; the document verifies affirming.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { bindingReportData, jwkThumbprint } from '../../wire/binding.js';
import { b64, startSession, unb64 } from './emu-session.js';
import type { Session } from './emu-session.js';

let s: Session;
before(async () => {
  s = await startSession('nitro');
});
after(() => s.close());

test('an attestation document bound to a native key verifies affirming', async () => {
  const { jwk } = await s.call<{ jwk: JsonWebKey }>('generateKey', { curve: 'P-384' });
  const spki = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' });
  const nonce = new Uint8Array(32).fill(0x77);
  const jkt = jwkThumbprint(jwk);
  const userData = bindingReportData(nonce, jkt);
  const ev = await s.call<{ platform: string; source: string; evidence: string }>('evidence', {
    nonce: b64(nonce),
    userData: b64(userData),
    publicKey: b64(spki),
  });
  assert.deepEqual([ev.platform, ev.source], ['nitro', '/dev/nsm']);
  const logged = s.emu.requests.find((r) => r.op === 'Attestation')!;
  assert.deepEqual([logged.nonce, logged.userData], [nonce, userData]);
  assert.deepEqual(Buffer.from(logged.publicKey!), spki);
  const ok = s.appraise('nitro', unb64(ev.evidence), {}, { nonce, jkt });
  assert.equal(ok.status, 'affirming', JSON.stringify(ok.errors));
  const wrong = s.appraise('nitro', unb64(ev.evidence), {}, { nonce: new Uint8Array(32) });
  assert.notEqual(wrong.status, 'affirming');
});

test('absent fields go as CBOR null; {"Error": ...} is ERR_DEVICE_FIRMWARE with the NSM code', async () => {
  await s.call('nsm', { nonce: b64(new Uint8Array(8).fill(1)) });
  const logged = s.emu.requests.filter((r) => r.op === 'Attestation').pop()!;
  assert.deepEqual([logged.userData, logged.publicKey], [null, null]);
  s.emu.inject({ kind: 'nsm-error', code: 'InvalidArgument' });
  const err = await s.fails('nsm', { nonce: b64(new Uint8Array(8)) });
  assert.deepEqual([err.code, err.nsmError], ['ERR_DEVICE_FIRMWARE', 'InvalidArgument']);
});

test('size limits are enforced before the ioctl (user_data, nonce ≤ 512, public_key 1-1024)', async () => {
  for (const args of [
    { userData: b64(new Uint8Array(513)) },
    { nonce: b64(new Uint8Array(513)) },
    { publicKey: b64(new Uint8Array(1025)) },
    { publicKey: b64(new Uint8Array(0)) },
  ]) {
    const before = s.emu.requests.length;
    const err = await s.fails('nsm', args);
    assert.equal(err.name, 'TypeError', JSON.stringify(err));
    assert.equal(s.emu.requests.length, before, 'nothing reached the device');
  }
});

test('TDX and SEV-SNP interfaces are unavailable on a Nitro machine', async () => {
  const err = await s.fails('evidence', { platform: 'tdx', reportData: b64(new Uint8Array(64)) });
  assert.equal(err.code, 'ERR_DEVICE_UNAVAILABLE');
  const snp = await s.fails('snpReport', { userData: b64(new Uint8Array(64)) });
  assert.deepEqual([snp.code, snp.errnoName], ['ERR_DEVICE_UNAVAILABLE', 'ENOENT']);
});
