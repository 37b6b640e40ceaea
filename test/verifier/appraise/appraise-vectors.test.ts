/**
 * Appraisal of every real sample in the vectors manifest under the default policy and under
 * policies pinning each sample's own measurements.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { haveVectors } from '../../helpers/vectors.js';
import type { Sample } from '../../helpers/vectors.js';
import { appraise } from '../../../verifier/appraise/appraise.js';
import { defaultPolicy } from '../../../verifier/policy/normalize.js';
import { parsePolicy } from '../../../verifier/policy/loader.js';
import type { Policy } from '../../../verifier/policy/types.js';
import { failureOf, isDebugSample, sample, samples, verifiedOf } from './fixtures.js';

const skip = !haveVectors;

/** A policy whose reference values are exactly the sample's measurements. */
function pinning(s: Sample): Policy {
  const m = s.measurements as Record<string, unknown>;
  const pick = (keys: string[]) =>
    Object.fromEntries(keys.filter((k) => m[k] !== undefined).map((k) => [k, m[k]]));
  if (s.platform === 'tdx') {
    const refs = pick([
      'mrtd',
      'rtmr0',
      'rtmr1',
      'rtmr2',
      'rtmr3',
      'mrseam',
      'mrconfigid',
      'mrowner',
      'xfam',
      'mrservicetd',
    ]);
    return parsePolicy({ id: `pin-${s.name}`, tdx: { ...refs, fmspcs: [s.fmspc] } });
  }
  if (s.platform === 'sev-snp') {
    const refs = pick(['measurement', 'host_data', 'id_key_digest', 'chip_id']);
    const { chip_id, ...rest } = refs;
    const parts = m.reported_tcb_parts as Record<string, number>;
    return parsePolicy({
      id: `pin-${s.name}`,
      'sev-snp': {
        ...rest,
        chip_ids: [chip_id],
        min_tcb: parts,
        vmpl: [m.vmpl],
        guest_svn_min: m.guest_svn,
      },
    });
  }
  return parsePolicy({ id: `pin-${s.name}`, nitro: { pcrs: m.pcrs } });
}

test('the manifest has appraisable samples of every platform', { skip }, () => {
  const platforms = new Set(samples.map((s) => s.platform));
  assert.deepEqual([...platforms].sort(), ['nitro', 'sev-snp', 'tdx']);
  assert.ok(
    samples.some((s) => s.expected.verifies && isDebugSample(s)),
    'a debug sample',
  );
});

test(
  'default policy: debug samples and SEV-SNP above VMPL 0 are contraindicated, the others follow their TCB status',
  { skip },
  () => {
    for (const s of samples.filter((x) => x.expected.verifies)) {
      const a = appraise(verifiedOf(s), defaultPolicy());
      assert.equal(a.policyId, 'tag:twi.dev,2026:policy/default');
      if (isDebugSample(s)) {
        assert.equal(a.status, 'contraindicated', s.name);
        assert.equal(a.trustVector.configuration, 96, s.name);
        assert.deepEqual(
          a.violations.map((v) => v.code),
          ['ERR_DEBUG_ENABLED'],
          s.name,
        );
        continue;
      }
      const vmpl = (s.measurements as { vmpl?: number }).vmpl;
      if (s.platform === 'sev-snp' && vmpl !== 0) {
        // The default policy accepts SEV-SNP reports from VMPL 0 only.
        assert.equal(a.status, 'contraindicated', `${s.name} (VMPL ${vmpl})`);
        assert.ok(
          a.violations.some((v) => v.code === 'ERR_VMPL_NOT_ALLOWED'),
          s.name,
        );
        continue;
      }
      const status = s.expected.tcb_status ?? 'UpToDate';
      const tier = status === 'UpToDate' ? 'affirming' : 'warning';
      assert.equal(a.status, tier, `${s.name} (${status})`);
      assert.equal(a.trustVector.hardware, status === 'UpToDate' ? 2 : 32, s.name);
      assert.equal(a.trustVector['runtime-opaque'], 2);
      assert.equal(a.trustVector['instance-identity'], 2);
      assert.equal(a.trustVector.configuration, 2);
      assert.equal(
        a.trustVector.executables,
        undefined,
        'no reference values, no executables claim',
      );
    }
  },
);

test('the Nitro debug samples are the ones named debug', { skip }, () => {
  for (const s of samples.filter((x) => x.platform === 'nitro')) {
    assert.equal(isDebugSample(s), s.name.endsWith('-debug'), s.name);
  }
});

test('the OutOfDate TDX sample is a warning naming its status and advisories', { skip }, () => {
  const s = sample('tdx-v4-automata-00806f-gce-outofdate');
  const a = appraise(verifiedOf(s), defaultPolicy());
  assert.equal(a.status, 'warning');
  assert.equal(a.violations.length, 1);
  const v = a.violations[0]!;
  assert.equal(v.code, 'ERR_TCB_STATUS');
  assert.equal(v.actual, 'OutOfDate');
  assert.equal(v.tier, 'warning');
  assert.match(v.message, /OutOfDate/);
  assert.match(v.message, /INTEL-SA-00960/);
  assert.deepEqual(a.verification.advisoryIds, [
    'INTEL-SA-00960',
    'INTEL-SA-00982',
    'INTEL-SA-00986',
  ]);
});

test('samples that do not verify are contraindicated', { skip }, () => {
  const failing = samples.filter((x) => !x.expected.verifies);
  assert.ok(failing.length >= 2);
  for (const s of failing) {
    const a = appraise(failureOf(s), defaultPolicy());
    assert.equal(a.status, 'contraindicated', s.name);
    assert.deepEqual(a.trustVector, { hardware: 97 }, `${s.name}: no TCB level → hardware 97`);
    assert.equal(a.violations[0]!.code, 'ERR_VERIFICATION_FAILED');
    assert.equal(a.verification.verified, false);
  }
});

test('a broken signature sets every claim to 99', () => {
  const a = appraise(
    { platform: 'sev-snp', error: { code: 'ERR_SIGNATURE_INVALID', message: 'bad r||s' } },
    defaultPolicy(),
  );
  assert.equal(a.status, 'contraindicated');
  assert.equal(Object.keys(a.trustVector).length, 8);
  assert.ok(Object.values(a.trustVector).every((v) => v === 99));
  assert.match(a.violations[0]!.message, /ERR_SIGNATURE_INVALID: bad r\|\|s/);
});

test(
  'a policy pinning a sample affirms it and contraindicates the other samples of its platform',
  { skip },
  () => {
    const good = samples.filter((s) => s.expected.verifies && !isDebugSample(s));
    for (const s of good) {
      const policy = pinning(s);
      const own = appraise(verifiedOf(s), policy);
      assert.equal(own.trustVector.executables, 2, s.name);
      assert.equal(
        own.status,
        s.expected.tcb_status === 'OutOfDate' ? 'warning' : 'affirming',
        s.name,
      );
      for (const other of good.filter((o) => o.platform === s.platform && o.name !== s.name)) {
        const a = appraise(verifiedOf(other), policy);
        assert.equal(a.status, 'contraindicated', `${other.name} under ${policy.id}`);
        const mismatches = a.violations.filter((v) => v.code === 'ERR_REFERENCE_MISMATCH');
        assert.ok(mismatches.length > 0, other.name);
        for (const v of mismatches)
          assert.match(v.message, new RegExp(`^${v.field.replace(/[.]/g, '\\.')} is `));
      }
    }
  },
);
