/**
 * Nonce and key binding: TDX/SEV-SNP REPORT_DATA, Nitro nonce / user_data / public_key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { haveVectors } from '../../helpers/vectors.js';
import { appraise } from '../../../verifier/appraise/appraise.js';
import { defaultPolicy } from '../../../verifier/policy/normalize.js';
import { bindingReportData, jwkThumbprint } from '../../../wire/binding.js';
import { fromHex, toHex } from '../../../common/bytes.js';
import { sample, verifiedOf } from './fixtures.js';
import { newKeyPair } from '../../../common/key-pair.js';

const skip = !haveVectors;
const policy = defaultPolicy();

function workloadKey() {
  const { publicKey } = newKeyPair('ec', { namedCurve: 'P-256' });
  const jkt = jwkThumbprint(publicKey.export({ format: 'jwk' }));
  const spki = toHex(new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })));
  return { jkt, spki };
}

test('SNP: REPORT_DATA equal to the zero-padded nonce binds the nonce', { skip }, () => {
  const s = sample('snp-v2-milan-gosevguest');
  const e = verifiedOf(s, { claims: { policy: '0x30000' } }); // the sample is a debug guest
  const nonce = Uint8Array.from([1, 2, 3, 4, 5]);
  const a = appraise(e, policy, { nonce });
  assert.equal(a.status, 'affirming', JSON.stringify(a.violations));
  assert.equal(a.nonce, undefined, 'a 5-byte nonce is too short for eat_nonce');
  const wrong = appraise(e, policy, { nonce: Uint8Array.from([1, 2, 3, 4, 6]) });
  assert.equal(wrong.status, 'contraindicated');
  assert.equal(wrong.trustVector['instance-identity'], 96);
  assert.equal(wrong.violations[0]!.code, 'ERR_REPORT_DATA_MISMATCH');
  assert.equal(wrong.violations[0]!.field, 'REPORT_DATA');
});

test('TDX: REPORT_DATA = bindingReportData(nonce, jkt)', { skip }, () => {
  const nonce = new Uint8Array(randomBytes(32));
  const { jkt } = workloadKey();
  const reportData = toHex(bindingReportData(nonce, jkt));
  const e = verifiedOf(sample('tdx-v4-dcapqvl-b0c06f-uptodate'), {
    claims: { report_data: reportData },
  });
  const a = appraise(e, policy, { nonce, jkt });
  assert.equal(a.status, 'affirming');
  assert.deepEqual(a.nonce, nonce);
  const other = workloadKey().jkt;
  const bad = appraise(e, policy, { nonce, jkt: other });
  assert.equal(bad.status, 'contraindicated');
  assert.equal(bad.violations[0]!.code, 'ERR_REPORT_DATA_MISMATCH');
  assert.match(bad.violations[0]!.message, /^REPORT_DATA is .*, expected the key binding /);
  const padded = appraise(e, policy, { nonce });
  assert.equal(padded.status, 'contraindicated', 'without jkt the nonce must be zero-padded');
});

test('explicit reportData expectation', { skip }, () => {
  const s = sample('tdx-v4-dcapqvl-b0c06f-uptodate');
  const rd = fromHex((s.measurements as { report_data: string }).report_data);
  assert.equal(appraise(verifiedOf(s), policy, { reportData: rd }).status, 'affirming');
  rd[0]! ^= 1;
  assert.equal(appraise(verifiedOf(s), policy, { reportData: rd }).status, 'contraindicated');
});

test('Nitro: the nonce field must equal the nonce', { skip }, () => {
  const s = sample('nitro-evervault-20221013-prod');
  const nonce = fromHex((s.measurements as { nonce: string }).nonce);
  const a = appraise(verifiedOf(s), policy, { nonce });
  assert.equal(a.status, 'affirming');
  assert.equal(a.nonce, undefined, 'longer than 64 bytes: not echoed');
  const bad = appraise(verifiedOf(s), policy, { nonce: nonce.slice(1) });
  assert.equal(bad.violations[0]!.code, 'ERR_NONCE_MISMATCH');
  assert.equal(bad.violations[0]!.field, 'nonce');
  const absent = appraise(verifiedOf(sample('nitro-dstack-20251225-prod')), policy, { nonce });
  assert.equal(absent.violations[0]!.code, 'ERR_NONCE_MISMATCH');
  assert.match(absent.violations[0]!.message, /nonce is absent/);
});

test('Nitro: user_data carries the binding and public_key the workload key', { skip }, () => {
  const nonce = new Uint8Array(randomBytes(32));
  const { jkt, spki } = workloadKey();
  const claims = {
    nonce: toHex(nonce),
    user_data: toHex(bindingReportData(nonce, jkt)),
    public_key: spki,
  };
  const e = verifiedOf(sample('nitro-dstack-20251225-prod'), { claims });
  const a = appraise(e, policy, { nonce, jkt });
  assert.equal(a.status, 'affirming', JSON.stringify(a.violations));
  assert.deepEqual(a.nonce, nonce);

  const swapped = verifiedOf(sample('nitro-dstack-20251225-prod'), {
    claims: { ...claims, public_key: workloadKey().spki },
  });
  const b = appraise(swapped, policy, { nonce, jkt });
  assert.deepEqual(
    b.violations.map((v) => v.code),
    ['ERR_PUBLIC_KEY_MISMATCH'],
  );
  const wrongUser = verifiedOf(sample('nitro-dstack-20251225-prod'), {
    claims: { ...claims, user_data: '00'.repeat(64) },
  });
  const c = appraise(wrongUser, policy, { nonce, jkt });
  assert.deepEqual(
    c.violations.map((v) => [v.code, v.field]),
    [['ERR_REPORT_DATA_MISMATCH', 'user_data']],
  );
});

test('no expectations: freshness is not checked, and a note says so', { skip }, () => {
  const a = appraise(verifiedOf(sample('snp-v2-milan-virtee')), policy);
  assert.equal(a.status, 'affirming');
  assert.ok(a.notes.some((n) => n.includes('freshness was not checked')));
});

test('malformed expectations are TypeErrors', { skip }, () => {
  const e = verifiedOf(sample('snp-v2-milan-virtee'));
  assert.throws(
    () => appraise(e, policy, { jkt: new Uint8Array(32) }),
    /needs expectations\.nonce/,
  );
  assert.throws(
    () => appraise(e, policy, { nonce: new Uint8Array(8), jkt: new Uint8Array(31) }),
    TypeError,
  );
  assert.throws(() => appraise(e, policy, { nonce: new Uint8Array(65) }), /at most 64 bytes/);
  assert.throws(() => appraise(e, policy, { nonce: 'abc' as never }), TypeError);
});
