/**
 * Reference values, policy bits, TCB tiers and the other policy knobs, on real sample claims.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { haveVectors } from '../../helpers/vectors.js';
import { appraise } from '../../../verifier/appraise/appraise.js';
import { defaultPolicy } from '../../../verifier/policy/normalize.js';
import { parsePolicy } from '../../../verifier/policy/loader.js';
import { sample, verifiedOf } from './fixtures.js';

const skip = !haveVectors;
const WRONG48 = 'ab'.repeat(48);
const TDX = 'tdx-v4-dcapqvl-b0c06f-uptodate';
const SNP = 'snp-v5-milan-gcp-teekit';
const NITRO = 'nitro-dstack-20251225-prod';

test(
  'three wrong TDX values give three violations naming field, expected and actual',
  { skip },
  () => {
    const s = sample(TDX);
    const m = s.measurements as Record<string, string>;
    const policy = parsePolicy({
      id: 'p',
      tdx: {
        mrtd: [WRONG48, 'cd'.repeat(48)],
        rtmr1: WRONG48,
        mrconfigid: WRONG48,
        rtmr0: m.rtmr0,
      },
    });
    const a = appraise(verifiedOf(s), policy);
    assert.equal(a.status, 'contraindicated');
    assert.deepEqual(
      a.violations.map((v) => v.field),
      ['MRTD', 'RTMR1', 'MRCONFIGID'],
    );
    assert.ok(a.violations.every((v) => v.code === 'ERR_REFERENCE_MISMATCH'));
    const mrtd = a.violations[0]!;
    assert.equal(mrtd.actual, m.mrtd);
    assert.deepEqual(mrtd.expected, [WRONG48, 'cd'.repeat(48)]);
    assert.equal(
      mrtd.message,
      'MRTD is 91eb2b44…18b7, expected one of [abababab…abab, cdcdcdcd…cdcd]',
    );
    assert.equal(a.violations[1]!.message, 'RTMR1 is 0084452c…9378, expected abababab…abab');
    assert.equal(a.trustVector.executables, 96);
    assert.equal(a.trustVector.configuration, 96);
  },
);

test('a list of accepted values matches any member, case-insensitively', { skip }, () => {
  const s = sample(TDX);
  const m = s.measurements as Record<string, string>;
  const policy = parsePolicy({ id: 'p', tdx: { mrtd: [WRONG48, m.mrtd!.toUpperCase()] } });
  const a = appraise(verifiedOf(s), policy);
  assert.equal(a.status, 'affirming');
  assert.equal(a.trustVector.executables, 2);
});

test('TD attributes: named flags and a masked value', { skip }, () => {
  const s = sample(TDX);
  const ok = parsePolicy({
    id: 'p',
    tdx: {
      td_attributes: {
        value: '0000001000000000',
        mask: '01000010ffffffff',
        sept_ve_disable: true,
        debug: false,
      },
    },
  });
  assert.equal(appraise(verifiedOf(s), ok).status, 'affirming');
  const bad = parsePolicy({
    id: 'p',
    tdx: { td_attributes: { value: '0000000000000000', sept_ve_disable: false, pks: true } },
  });
  const a = appraise(verifiedOf(s), bad);
  assert.deepEqual(
    a.violations.map((v) => v.field),
    ['TDATTRIBUTES', 'TDATTRIBUTES.SEPT_VE_DISABLE', 'TDATTRIBUTES.PKS'],
  );
  assert.equal(a.violations[1]!.message, 'TDATTRIBUTES.SEPT_VE_DISABLE is true, expected false');
});

test(
  'FMSPC, MRSERVICETD absent from a TD 1.0 quote, and MROWNERCONFIG skipped with a note',
  { skip },
  () => {
    const s = sample(TDX);
    const policy = parsePolicy({
      id: 'p',
      tdx: {
        fmspcs: ['00806f000000'],
        mrservicetd: '00'.repeat(48),
        mrownerconfig: '00'.repeat(48),
      },
    });
    const a = appraise(verifiedOf(s), policy);
    assert.deepEqual(
      a.violations.map((v) => [v.code, v.field]),
      [
        ['ERR_CLAIM_MISSING', 'MRSERVICETD'],
        ['ERR_REFERENCE_MISMATCH', 'FMSPC'],
      ],
    );
    assert.equal(a.trustVector.hardware, 96);
    assert.ok(a.notes.some((n) => n.includes('MROWNERCONFIG')));
  },
);

test('SEV-SNP: measurement, policy bits, TCB, VMPL, SVN, chip id and product', { skip }, () => {
  const s = sample(SNP);
  const m = s.measurements as Record<string, unknown>;
  const good = parsePolicy({
    id: 'p',
    'sev-snp': {
      measurement: m.measurement,
      host_data: m.host_data,
      id_key_digest: m.id_key_digest,
      policy: { smt: true, migrate_ma: false, debug: false, abi_major_min: 0 },
      min_tcb: { bl: 4, tee: 0, snp: 27, ucode: 222, fmc: 1 },
      vmpl: { max: 0 },
      guest_svn_min: 0,
      chip_ids: [m.chip_id],
      products: ['Milan'],
    },
  });
  const ok = appraise(verifiedOf(s), good);
  assert.equal(ok.status, 'affirming', JSON.stringify(ok.violations));
  assert.ok(
    ok.notes.some((n) => n.includes('fmc')),
    'fmc skipped on Milan',
  );

  const bad = parsePolicy({
    id: 'p',
    'sev-snp': {
      measurement: WRONG48,
      policy: { smt: false, migrate_ma: false, abi_major_min: 1 },
      min_tcb: { snp: 28, ucode: 200 },
      vmpl: [1, 2],
      guest_svn_min: 1,
      chip_ids: ['00'.repeat(64)],
      products: ['Genoa', 'Turin'],
    },
  });
  const a = appraise(verifiedOf(s), bad);
  assert.deepEqual(
    a.violations.map((v) => [v.code, v.field]),
    [
      ['ERR_REFERENCE_MISMATCH', 'MEASUREMENT'],
      ['ERR_SVN_TOO_LOW', 'GUEST_SVN'],
      ['ERR_POLICY_BIT', 'POLICY.SMT'],
      ['ERR_POLICY_BIT', 'POLICY.ABI'],
      ['ERR_VMPL_NOT_ALLOWED', 'VMPL'],
      ['ERR_TCB_TOO_LOW', 'REPORTED_TCB.SNP'],
      ['ERR_REFERENCE_MISMATCH', 'PRODUCT'],
      ['ERR_REFERENCE_MISMATCH', 'CHIP_ID'],
    ],
  );
  const tcb = a.violations.find((v) => v.field === 'REPORTED_TCB.SNP')!;
  assert.equal(tcb.message, 'REPORTED_TCB.SNP 27 is less than the required minimum 28');
  assert.equal(a.trustVector['instance-identity'], 96);
  assert.equal(a.trustVector.hardware, 96);
});

test('SEV-SNP debug policy is contraindicated, or a warning with allow_debug', { skip }, () => {
  const s = sample(SNP);
  const debug = verifiedOf(s, { claims: { policy: '0xb0000' } });
  const a = appraise(debug, defaultPolicy());
  assert.equal(a.status, 'contraindicated');
  assert.equal(a.violations[0]!.field, 'POLICY.DEBUG');
  const dev = appraise(debug, parsePolicy({ id: 'dev', allow_debug: true }));
  assert.equal(dev.status, 'warning');
  assert.equal(dev.trustVector.configuration, 32);
});

test('TDX debug TD is contraindicated', { skip }, () => {
  const s = sample(TDX);
  const e = verifiedOf(s, {
    claims: {
      td_attributes: '0100001000000000',
      td_attribute_flags: {
        debug: true,
        sept_ve_disable: true,
        pks: false,
        kl: false,
        perfmon: false,
      },
    },
  });
  const a = appraise(e, defaultPolicy());
  assert.equal(a.status, 'contraindicated');
  assert.deepEqual(
    a.violations.map((v) => v.field),
    ['TDATTRIBUTES.DEBUG'],
  );
});

test('Nitro PCRs: each wrong PCR is named', { skip }, () => {
  const s = sample(NITRO);
  const pcrs = (s.measurements as { pcrs: Record<string, string> }).pcrs;
  const policy = parsePolicy({
    id: 'p',
    nitro: { pcrs: { 0: pcrs['0'], 1: [WRONG48, pcrs['1']], 2: WRONG48, 8: WRONG48 } },
  });
  const a = appraise(verifiedOf(s), policy);
  assert.deepEqual(
    a.violations.map((v) => v.field),
    ['PCR2', 'PCR8'],
  );
  assert.equal(a.trustVector.executables, 96);
});

test('platforms: a section-only policy allows only its platforms', { skip }, () => {
  const policy = parsePolicy({ id: 'p', tdx: {} });
  assert.deepEqual(policy.platforms, ['tdx']);
  const a = appraise(verifiedOf(sample(NITRO)), policy);
  assert.equal(a.status, 'contraindicated');
  assert.equal(a.violations[0]!.code, 'ERR_PLATFORM_NOT_ALLOWED');
  assert.deepEqual(parsePolicy({ id: 'p' }).platforms, ['tdx', 'sev-snp', 'nitro']);
});

test('TCB tiers: overrides, Revoked, and a TDX quote without a TCB level', { skip }, () => {
  const s = sample('tdx-v4-automata-00806f-gce-outofdate');
  const lenient = parsePolicy({ id: 'p', tcb: { accept: { OutOfDate: 'affirming' } } });
  assert.equal(appraise(verifiedOf(s), lenient).status, 'affirming');
  const strict = parsePolicy({ id: 'p', tcb: { accept: { OutOfDate: 'contraindicated' } } });
  assert.equal(appraise(verifiedOf(s), strict).trustVector.hardware, 96);
  const revoked = appraise(verifiedOf(s, { tcbStatus: 'Revoked' }), defaultPolicy());
  assert.equal(revoked.status, 'contraindicated');
  assert.equal(revoked.trustVector.hardware, 96);
  const none = appraise(verifiedOf(s, { tcbStatus: null }), defaultPolicy());
  assert.equal(none.trustVector.hardware, 97);
  assert.equal(none.violations[0]!.code, 'ERR_TCB_STATUS');
});

test('an operator-configured anchor is noted', { skip }, () => {
  const e = verifiedOf(sample(NITRO), {
    anchor: { source: 'configured', subject: 'twi simulated AWS root' },
  });
  const a = appraise(e, defaultPolicy());
  assert.equal(a.status, 'affirming');
  assert.ok(a.notes.some((n) => n.includes('operator-configured root (twi simulated AWS root')));
  assert.equal(a.verification.anchor?.source, 'configured');
});

test('forged evidence and a missing policy are caller errors', { skip }, () => {
  const real = verifiedOf(sample(TDX));
  const forged = { ...real };
  assert.throws(() => appraise(forged, defaultPolicy()), TypeError);
  assert.throws(() => appraise(real, undefined as never), TypeError);
});

test('appraisals are frozen', { skip }, () => {
  const a = appraise(verifiedOf(sample(TDX)), defaultPolicy());
  assert.ok(Object.isFrozen(a) && Object.isFrozen(a.trustVector) && Object.isFrozen(a.violations));
});
