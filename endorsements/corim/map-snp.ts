/**
 * SEV-SNP reference triples (AMD SEV-SNP CoRIM profile -02) → twi `sev-snp` reference values.
 *
 * @internal
 * @module
 */
import type {
  SnpPolicyFlag,
  SnpPolicyRule,
  SnpReferences,
  SnpTcbComponent,
  VmplRule,
} from '../../verifier/policy/types.js';
import { decodeSnpTcb, snpProductFromCpuid } from '../../verifier/platforms/sev-snp/abi/tcb.js';
import type { SnpProduct } from '../../verifier/platforms/sev-snp/abi/types.js';
import { invalid, unsupported } from './errors.js';
import { exactValues, expectOnly, fullMask, hex, rawBytes, rawInt, svnFloor } from './map-kit.js';
import { mergeSnp } from './merge-references.js';
import { SNP_CLASS_BY_CHIP, SNP_MKEY, SNP_MKEY_NAMES } from './profiles.js';
import type { Measurement, MeasurementValues, ReferenceTriple } from './types.js';

/** POLICY bits twi's policy names (SPEC-DIGEST B3.2); DEBUG (19) is governed by allow_debug. */
const POLICY_BITS: readonly (readonly [SnpPolicyFlag, number])[] = [
  ['smt', 16],
  ['migrate_ma', 18],
  ['single_socket', 20],
  ['cxl_allow', 21],
  ['mem_aes_256_xts', 22],
  ['rapl_dis', 23],
  ['ciphertext_hiding_dram', 24],
  ['page_swap_disable', 25],
];

const le = (b: Uint8Array): bigint =>
  BigInt('0x' + (Buffer.from(b).reverse().toString('hex') || '0'));
const bits = (v: bigint, lo: number, n: number) =>
  Number((v >> BigInt(lo)) & ((1n << BigInt(n)) - 1n));

function abiRule(
  value: bigint,
  mask: bigint,
  path: string,
): Pick<SnpPolicyRule, 'abi_major_min' | 'abi_minor_min'> {
  const [minorMask, majorMask] = [bits(mask, 0, 8), bits(mask, 8, 8)];
  if (minorMask === 0 && majorMask === 0) return {};
  if (majorMask !== 0xff || (minorMask !== 0 && minorMask !== 0xff)) {
    throw unsupported(path, 'a partial mask over POLICY.ABI_MAJOR/ABI_MINOR cannot be expressed');
  }
  const major = bits(value, 8, 8);
  return minorMask === 0
    ? { abi_major_min: major }
    : { abi_major_min: major, abi_minor_min: bits(value, 0, 8) };
}

/** POLICY (mkey 2): an 8-byte little-endian raw value, optionally masked. */
function policyRule(mval: MeasurementValues, path: string): SnpPolicyRule {
  expectOnly(mval, path, ['rawValue']);
  if (!mval.rawValue) throw invalid(path, 'POLICY needs a raw-value');
  const raw = rawBytes(mval.rawValue, `${path}.raw-value`, 8);
  const value = le(raw.bytes);
  const mask = fullMask(raw.mask) ? (1n << 64n) - 1n : le(raw.mask!);
  if (bits(mask, 19, 1) && bits(value, 19, 1)) {
    throw unsupported(
      `${path}.raw-value`,
      'POLICY.DEBUG = 1 cannot be required (debug is governed by allow_debug)',
    );
  }
  if ((mask & value & ~((1n << 26n) - 1n)) !== 0n) {
    throw unsupported(`${path}.raw-value`, 'POLICY bits 63:26 must be zero');
  }
  const flags: Partial<Record<SnpPolicyFlag, boolean>> = {};
  for (const [name, bit] of POLICY_BITS)
    if (bits(mask, bit, 1)) flags[name] = bits(value, bit, 1) === 1;
  return { flags, ...abiRule(value, mask, `${path}.raw-value`) };
}

/** VMPL (mkey 5): one integer, or an int-range. */
function vmplRule(mval: MeasurementValues, path: string): VmplRule {
  const r = mval.intRange;
  if (r !== undefined && typeof r === 'object') {
    expectOnly(mval, path, ['intRange']);
    const lo = Math.max(r.min ?? 0, 0);
    const hi = Math.min(r.max ?? 3, 3);
    if (lo > hi) throw unsupported(`${path}.int-range`, 'no VMPL in 0..3 is within the range');
    return lo === 0
      ? { max: hi }
      : { allowed: Array.from({ length: hi - lo + 1 }, (_, i) => lo + i) };
  }
  const vmpl = rawInt(mval, path);
  if (vmpl < 0 || vmpl > 3) throw invalid(path, `VMPL ${vmpl} is not in 0..3`);
  return { allowed: [vmpl] };
}

function tcbFloor(mval: MeasurementValues, path: string, product: SnpProduct | undefined) {
  const parts = decodeSnpTcb(svnFloor(mval, path), product);
  return Object.fromEntries(Object.entries(parts).filter(([, v]) => v !== undefined)) as Partial<
    Record<SnpTcbComponent, number>
  >;
}

/** CPUID_FAM_ID (648) and CPUID_MOD_ID (649) of the triple, as a product name. */
function productOf(ms: readonly Measurement[], path: string): SnpProduct | undefined {
  const fam = ms.findIndex((m) => m.mkey === SNP_MKEY.CPUID_FAM_ID);
  const mod = ms.findIndex((m) => m.mkey === SNP_MKEY.CPUID_MOD_ID);
  if (fam < 0 && mod < 0) return undefined;
  if (fam < 0 || mod < 0)
    throw unsupported(path, 'CPUID_FAM_ID and CPUID_MOD_ID must be stated together');
  const family = rawInt(ms[fam]!.mval, `${path}.measurements[${fam}].mval`);
  const model = rawInt(ms[mod]!.mval, `${path}.measurements[${mod}].mval`);
  const product = snpProductFromCpuid({ family, model, stepping: 0 });
  if (!product)
    throw unsupported(path, `CPUID family ${family} model ${model} is not a known product`);
  return product;
}

type Refs = Record<string, unknown>;

function assign(refs: Refs, key: keyof SnpReferences, value: unknown, path: string): void {
  if (key in refs) throw invalid(path, `${key} is stated twice in one triple`);
  refs[key] = value;
}

function measurementRefs(
  m: Measurement,
  path: string,
  refs: Refs,
  product: SnpProduct | undefined,
): void {
  const mval = m.mval;
  const put = (key: keyof SnpReferences, value: unknown) => assign(refs, key, value, path);
  if (m.mkey === undefined) return expectOnly(mval, `${path}.mval`, []);
  const vpath = `${path}.mval`;
  switch (m.mkey) {
    case SNP_MKEY.MEASUREMENT:
      return put('measurement', exactValues(mval, vpath, 48));
    case SNP_MKEY.HOST_DATA:
      return put('host_data', exactValues(mval, vpath, 32, true));
    case SNP_MKEY.ID_KEY_DIGEST:
      return put('id_key_digest', exactValues(mval, vpath, 48));
    case SNP_MKEY.AUTHOR_KEY_DIGEST:
      return put('author_key_digest', exactValues(mval, vpath, 48));
    case SNP_MKEY.CHIP_ID:
      return chipIds(refs, exactValues(mval, vpath, 64), vpath);
    case SNP_MKEY.GUEST_SVN: {
      const svn = svnFloor(mval, vpath);
      if (svn > 0xffffffffn) throw invalid(vpath, 'GUEST_SVN is a 32-bit value');
      return put('guest_svn_min', Number(svn));
    }
    case SNP_MKEY.POLICY:
      return put('policy', policyRule(mval, vpath));
    case SNP_MKEY.VMPL:
      return put('vmpl', vmplRule(mval, vpath));
    case SNP_MKEY.CURRENT_TCB:
    case SNP_MKEY.REPORTED_TCB: {
      const floor = tcbFloor(mval, vpath, product);
      refs.min_tcb = mergeTcbFloors(refs.min_tcb as Record<string, number> | undefined, floor);
      return;
    }
    case SNP_MKEY.CPUID_FAM_ID:
      if (product) put('products', [product]);
      return;
    case SNP_MKEY.CPUID_MOD_ID:
      return;
  }
  const name = typeof m.mkey === 'number' ? SNP_MKEY_NAMES[m.mkey] : undefined;
  throw unsupported(
    `${path}.mkey`,
    `${name ?? `mkey ${JSON.stringify(m.mkey)}`} is not a reference value twi appraises`,
  );
}

/** CHIP_ID stated as the environment's instance and as a measurement: both apply. */
function chipIds(refs: Refs, ids: string[], path: string): void {
  const prior = refs.chip_ids as string[] | undefined;
  const both = prior === undefined ? ids : ids.filter((id) => prior.includes(id));
  if (both.length === 0) throw invalid(path, 'CHIP_ID contradicts the environment instance');
  refs.chip_ids = both;
}

/** Both TCB floors of one triple apply (CURRENT_TCB and REPORTED_TCB): the higher of each. */
function mergeTcbFloors(a: Record<string, number> | undefined, b: Record<string, number>) {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = Math.max(out[k] ?? 0, v);
  return out;
}

function instanceRefs(triple: ReferenceTriple, path: string): Refs {
  const env = triple.environment;
  if (env.class?.model !== undefined)
    throw invalid(`${path}.environment.class.model`, 'MUST NOT be present (AMD SEV-SNP profile)');
  if (env.instance === undefined) return {};
  const byChip =
    env.class?.classId && 'oid' in env.class.classId && env.class.classId.oid === SNP_CLASS_BY_CHIP;
  if (!byChip || !('bytes' in env.instance) || env.instance.bytes.length !== 64) {
    throw unsupported(
      `${path}.environment.instance`,
      'only a 64-byte CHIP_ID (#6.560) instance can be appraised',
    );
  }
  return { chip_ids: [hex(env.instance.bytes)] };
}

/** The SEV-SNP reference values of one triple. */
function tripleRefs(triple: ReferenceTriple, path: string): SnpReferences {
  const refs = instanceRefs(triple, path);
  const product = productOf(triple.measurements, path);
  triple.measurements.forEach((m, i) =>
    measurementRefs(m, `${path}.measurements[${i}]`, refs, product),
  );
  return refs as SnpReferences;
}

/**
 * SEV-SNP reference values of triples (at `paths`) for one environment class; the triples
 * are alternatives, merged field by field.
 */
export function snpReferences(
  triples: readonly ReferenceTriple[],
  paths: readonly string[],
): SnpReferences | undefined {
  return triples.reduce<SnpReferences | undefined>(
    (acc, t, i) => mergeSnp(acc, tripleRefs(t, paths[i]!)),
    undefined,
  );
}
