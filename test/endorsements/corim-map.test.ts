/**
 * Mapping reference triples to policy reference values, and the merge rules: SEV-SNP per
 * the AMD profile (masked POLICY, VMPL ranges, TCB layouts by CPUID, CHIP_ID instances),
 * TDX and Nitro per twi's conventions; alternatives merge field by field, fail closed;
 * values twi cannot appraise are ERR_CORIM_UNSUPPORTED naming their path; environments twi
 * does not know are skipped and listed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { corimToPolicy, mergePolicies } from '../../endorsements/corim/policy.js';
import {
  nitroReferenceTriple,
  snpReferenceTriple,
  tdxReferenceTriple,
} from '../../endorsements/corim/templates.js';
import { platformEnvironment, SNP_MKEY } from '../../endorsements/corim/profiles.js';
import type { Corim, Measurement, ReferenceTriple } from '../../endorsements/corim/types.js';
import { loadPolicy, parsePolicy } from '../../verifier/policy/loader.js';

const H = (byte: string, n = 48) => byte.repeat(n);
const corimOf = (...triples: ReferenceTriple[]): Corim => ({
  id: 'map-test',
  comids: [{ tagId: 't', referenceTriples: triples }],
});
const snpTriple = (...measurements: Measurement[]): ReferenceTriple => ({
  environment: platformEnvironment('sev-snp'),
  measurements,
});
const le8 = (v: bigint) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  return b;
};

function refusal(corim: Corim, code: string, path: string | RegExp): void {
  assert.throws(
    () => corimToPolicy(corim),
    (err: { code: string; path: string; message: string }) => {
      assert.equal(err.code, code, err.message);
      if (typeof path === 'string') assert.equal(err.path, path, err.message);
      else assert.match(err.path, path, err.message);
      return true;
    },
  );
}

test('SEV-SNP: every AMD profile field twi appraises maps to the policy', () => {
  const triple = snpReferenceTriple({
    measurement: H('aa'),
    host_data: H('bb', 32),
    id_key_digest: H('cc'),
    author_key_digest: H('dd'),
    chip_id: H('ee', 64),
    policy: { value: 0x130203n, mask: 0xdfffffn },
    guest_svn_min: 4,
    vmpl: 2,
    reported_tcb_min: 0xdb18000000000004n,
  });
  const refs = corimToPolicy(corimOf(triple));
  assert.deepEqual(refs.sources, ['map-test']);
  assert.deepEqual(refs['sev-snp'], {
    chip_ids: [H('ee', 64)],
    guest_svn_min: 4,
    policy: {
      flags: {
        smt: true,
        migrate_ma: false,
        single_socket: true,
        mem_aes_256_xts: false,
        rapl_dis: false,
      },
      abi_major_min: 2,
      abi_minor_min: 3,
    },
    vmpl: { allowed: [2] },
    measurement: [H('aa')],
    host_data: [H('bb', 32)],
    id_key_digest: [H('cc')],
    author_key_digest: [H('dd')],
    min_tcb: { bl: 4, tee: 0, snp: 24, ucode: 219 },
  });
});

test('SEV-SNP: VMPL ranges, Turin TCB by CPUID, CURRENT_TCB, HOST_DATA as a digest, POLICY major only', () => {
  const refs = corimToPolicy(
    corimOf(
      snpTriple(
        { mkey: SNP_MKEY.VMPL, mval: { intRange: { min: null, max: 1 } } },
        { mkey: SNP_MKEY.CPUID_FAM_ID, mval: { intRange: 0x1a } },
        { mkey: SNP_MKEY.CPUID_MOD_ID, mval: { intRange: 0x02 } },
        { mkey: SNP_MKEY.REPORTED_TCB, mval: { svn: { exact: 0x4800000000030201n } } },
        { mkey: SNP_MKEY.CURRENT_TCB, mval: { svn: { min: 0x4000000000040000n } } },
        {
          mkey: SNP_MKEY.HOST_DATA,
          mval: { digests: [{ alg: 7, value: new Uint8Array(32).fill(1) }] },
        },
        { mkey: SNP_MKEY.POLICY, mval: { rawValue: { bytes: le8(0x30500n), mask: le8(0xff00n) } } },
      ),
    ),
  )['sev-snp'];
  assert.deepEqual(refs?.vmpl, { max: 1 });
  assert.deepEqual(refs?.products, ['Turin']);
  assert.deepEqual(refs?.min_tcb, { fmc: 1, bl: 2, tee: 4, snp: 0, ucode: 0x48 });
  assert.deepEqual(refs?.host_data, ['01'.repeat(32)]);
  assert.deepEqual(refs?.policy, { flags: {}, abi_major_min: 5 });
  const ranged = corimToPolicy(
    corimOf(snpTriple({ mkey: SNP_MKEY.VMPL, mval: { intRange: { min: 1, max: 2 } } })),
  );
  assert.deepEqual(ranged['sev-snp']?.vmpl, { allowed: [1, 2] });
});

const BASE = 'corim.tags[0].triples.reference-triples[0]';
const M0 = `${BASE}.measurements[0]`;

/** SEV-SNP measurements twi refuses, with the code and path of the refusal. */
const SNP_REFUSALS: readonly (readonly [Measurement, string, string])[] = [
  [
    { mkey: SNP_MKEY.POLICY, mval: { rawValue: { bytes: le8(1n << 19n) } } },
    'ERR_CORIM_UNSUPPORTED',
    `${M0}.mval.raw-value`,
  ],
  [
    { mkey: SNP_MKEY.POLICY, mval: { rawValue: { bytes: le8(0n), mask: le8(0x0f00n) } } },
    'ERR_CORIM_UNSUPPORTED',
    `${M0}.mval.raw-value`,
  ],
  [
    { mkey: SNP_MKEY.POLICY, mval: { rawValue: { bytes: new Uint8Array(4) } } },
    'ERR_CORIM_INVALID',
    `${M0}.mval.raw-value`,
  ],
  [
    { mkey: 640, mval: { rawValue: { bytes: new Uint8Array(64) } } },
    'ERR_CORIM_UNSUPPORTED',
    `${M0}.mkey`,
  ],
  [
    { mkey: SNP_MKEY.MEASUREMENT, mval: { digests: [{ alg: 1, value: new Uint8Array(32) }] } },
    'ERR_CORIM_UNSUPPORTED',
    `${M0}.mval.digests`,
  ],
  [
    { mkey: SNP_MKEY.MEASUREMENT, mval: { digests: [{ alg: 7, value: new Uint8Array(32) }] } },
    'ERR_CORIM_INVALID',
    `${M0}.mval.digests[0].value`,
  ],
  [
    {
      mkey: SNP_MKEY.MEASUREMENT,
      mval: { digests: [{ alg: 7, value: new Uint8Array(48) }], svn: { exact: 1n } },
    },
    'ERR_CORIM_UNSUPPORTED',
    `${M0}.mval.svn`,
  ],
  [
    {
      mkey: SNP_MKEY.MEASUREMENT,
      mval: { digests: [{ alg: 7, value: new Uint8Array(48) }], flags: { 'is-debug': true } },
    },
    'ERR_CORIM_UNSUPPORTED',
    `${M0}.mval.flags.is-debug`,
  ],
  [
    {
      mkey: SNP_MKEY.MEASUREMENT,
      mval: { rawValue: { bytes: new Uint8Array(48), mask: new Uint8Array(48) } },
    },
    'ERR_CORIM_UNSUPPORTED',
    `${M0}.mval.raw-value`,
  ],
  [{ mkey: SNP_MKEY.CPUID_FAM_ID, mval: { intRange: 0x19 } }, 'ERR_CORIM_UNSUPPORTED', BASE],
  [{ mkey: SNP_MKEY.VMPL, mval: { intRange: 7 } }, 'ERR_CORIM_INVALID', `${M0}.mval`],
  [{ mkey: 'measurement', mval: { name: 'x' } }, 'ERR_CORIM_UNSUPPORTED', `${M0}.mkey`],
];

test('SEV-SNP: what the policy model cannot express is refused with its path', () => {
  for (const [m, code, path] of SNP_REFUSALS) refusal(corimOf(snpTriple(m)), code, path);
  const withModel = {
    environment: { class: { classId: { oid: '1.3.6.1.4.1.3704.3.1' }, model: 'Milan' } },
    measurements: [],
  };
  refusal(corimOf(withModel), 'ERR_CORIM_INVALID', `${BASE}.environment.class.model`);
  const byCsp = snpReferenceTriple({ measurement: H('aa'), byCsp: true });
  refusal(
    corimOf({
      ...byCsp,
      environment: { ...byCsp.environment, instance: { bytes: new Uint8Array(64) } },
    }),
    'ERR_CORIM_UNSUPPORTED',
    `${BASE}.environment.instance`,
  );
  const twice = snpTriple(
    ...snpReferenceTriple({ measurement: H('aa') }).measurements,
    ...snpReferenceTriple({ measurement: H('bb') }).measurements,
  );
  refusal(corimOf(twice), 'ERR_CORIM_INVALID', `${BASE}.measurements[1]`);
});

test('TDX and Nitro conventions map to the policy', () => {
  const refs = corimToPolicy(
    corimOf(
      tdxReferenceTriple({
        mrtd: H('01'),
        rtmrs: [H('02')],
        mrservicetd: H('03'),
        td_attributes: { value: '0000001000000000' },
        xfam: 'e700060000000000',
      }),
      nitroReferenceTriple({ 0: H('04'), 16: H('05', 32) }),
    ),
  );
  assert.deepEqual(refs.tdx, {
    mrtd: [H('01')],
    mrservicetd: [H('03')],
    rtmr0: [H('02')],
    td_attributes: { value: '0000001000000000', flags: {} },
    xfam: ['e700060000000000'],
  });
  assert.deepEqual(refs.nitro, { pcrs: { 0: [H('04')], 16: [H('05', 32)] } });
});

test('TDX and Nitro: what the conventions cannot express is refused with its path', () => {
  const env = platformEnvironment('tdx');
  const m0 = 'corim.tags[0].triples.reference-triples[0].measurements[0]';
  const xfam = {
    mkey: 'xfam',
    mval: { rawValue: { bytes: new Uint8Array(8), mask: new Uint8Array(8).fill(0xf0) } },
  };
  refusal(
    corimOf({ environment: env, measurements: [xfam] }),
    'ERR_CORIM_UNSUPPORTED',
    `${m0}.mval.raw-value`,
  );
  refusal(
    corimOf({ environment: env, measurements: [{ mkey: 'mrfoo', mval: { name: 'x' } }] }),
    'ERR_CORIM_UNSUPPORTED',
    `${m0}.mkey`,
  );
  const rtmr4 = {
    mkey: 'rtmr',
    mval: { integrityRegisters: [{ id: 4, digests: [{ alg: 7, value: new Uint8Array(48) }] }] },
  };
  refusal(
    corimOf({ environment: env, measurements: [rtmr4] }),
    'ERR_CORIM_UNSUPPORTED',
    `${m0}.mval.integrity-registers[4]`,
  );
  refusal(
    corimOf({
      environment: { ...env, instance: { uuid: '67b28b6c-34cc-40a1-9117-ab5b05911e37' } },
      measurements: [],
    }),
    'ERR_CORIM_UNSUPPORTED',
    /environment\.instance$/,
  );
  const nitroEnv = platformEnvironment('nitro');
  const pcr = {
    mkey: 'pcr',
    mval: { integrityRegisters: [{ id: 'x', digests: [{ alg: 7, value: new Uint8Array(48) }] }] },
  };
  refusal(
    corimOf({ environment: nitroEnv, measurements: [pcr] }),
    'ERR_CORIM_UNSUPPORTED',
    `${m0}.mval.integrity-registers["x"]`,
  );
});

test('alternatives merge field by field; unknown environments are skipped and listed', () => {
  const refs = corimToPolicy(
    corimOf(
      tdxReferenceTriple({
        mrtd: H('01'),
        rtmrs: [H('02')],
        td_attributes: { value: '0000001000000000' },
      }),
      {
        environment: { class: { classId: { uuid: '67b28b6c-34cc-40a1-9117-ab5b05911e37' } } },
        measurements: [{ mval: { name: 'ACME' } }],
      },
      tdxReferenceTriple({
        mrtd: H('03'),
        mrowner: H('04'),
        td_attributes: { value: '0000001000000001' },
      }),
      snpReferenceTriple({
        guest_svn_min: 5,
        reported_tcb_min: 0x4405000000000002n,
        policy: { value: 0x30000n, mask: 0x10000n },
      }),
      snpReferenceTriple({
        guest_svn_min: 3,
        reported_tcb_min: 0x4406000000000001n,
        policy: { value: 0x20000n, mask: 0x110000n },
      }),
      nitroReferenceTriple({ 0: H('05'), 1: H('06') }),
      nitroReferenceTriple({ 0: H('07') }),
    ),
  );
  assert.deepEqual(refs.ignored, ['corim.tags[0].triples.reference-triples[1]']);
  assert.deepEqual(refs.tdx?.mrtd, [H('01'), H('03')]);
  assert.deepEqual(refs.tdx?.rtmr0, [H('02')], 'stated by one alternative only: still required');
  assert.deepEqual(refs.tdx?.mrowner, [H('04')]);
  assert.deepEqual(refs.tdx?.td_attributes, {
    value: '0000001000000000',
    mask: 'fffffffffffffffe',
    flags: {},
  });
  assert.equal(refs['sev-snp']?.guest_svn_min, 3);
  assert.deepEqual(refs['sev-snp']?.min_tcb, { bl: 1, tee: 0, snp: 5, ucode: 0x44 });
  assert.deepEqual(refs['sev-snp']?.policy, { flags: { single_socket: false } });
  assert.deepEqual(refs.nitro?.pcrs, { 0: [H('05'), H('07')], 1: [H('06')] });
});

test('mergePolicies: the base keeps its rules, values unite, and without a base the CoRIM platforms are allowed', () => {
  const base = parsePolicy({
    id: 'prod',
    description: 'production',
    platforms: ['tdx', 'sev-snp'],
    allow_debug: false,
    tcb: { accept: { SWHardeningNeeded: 'affirming' } },
    tdx: { mrtd: H('0a'), td_attributes: { sept_ve_disable: true } },
    'sev-snp': { vmpl: { max: 0 }, guest_svn_min: 9, policy: { smt: false, abi_major_min: 1 } },
  });
  const corim = corimToPolicy(
    corimOf(
      tdxReferenceTriple({ mrtd: H('0b'), td_attributes: { value: '0000001000000000' } }),
      snpReferenceTriple({
        vmpl: 2,
        guest_svn_min: 4,
        policy: { value: 0x31000n, mask: 0x1ff00n },
      }),
    ),
  );
  const merged = mergePolicies(base, corim);
  assert.equal(merged.id, 'prod');
  assert.equal(merged.description, 'production; reference values from CoRIM map-test');
  assert.deepEqual(merged.platforms, ['tdx', 'sev-snp']);
  assert.equal(merged.tcb.tiers.SWHardeningNeeded, 'affirming');
  assert.deepEqual(merged.tdx?.mrtd, [H('0a'), H('0b')]);
  assert.deepEqual(merged.tdx?.td_attributes, {
    value: '0000001000000000',
    flags: { sept_ve_disable: true },
  });
  assert.deepEqual(merged['sev-snp']?.vmpl, { allowed: [0, 2] });
  assert.equal(merged['sev-snp']?.guest_svn_min, 4);
  assert.deepEqual(merged['sev-snp']?.policy, { flags: {}, abi_major_min: 1 });
  assert.ok(Object.isFrozen(merged.tdx?.mrtd));
  const alone = mergePolicies(
    undefined,
    corimToPolicy(corimOf(nitroReferenceTriple({ 4: H('0c') }))),
  );
  assert.equal(alone.id, 'tag:twi.dev,2026:policy/corim');
  assert.deepEqual(alone.platforms, ['nitro']);
  assert.equal(alone.allow_debug, false);
  const unchanged = loadPolicy('{"id":"x","nitro":{"pcrs":{"0":"' + H('0d') + '"}}}');
  assert.deepEqual(mergePolicies(unchanged), unchanged);
});
