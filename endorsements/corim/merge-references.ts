/**
 * Merging reference values that are alternatives of each other (two reference triples for
 * one environment, or a policy file and a CoRIM). The policy model constrains each field on
 * its own, so alternatives merge field by field:
 *
 * - a field stated by both: accepted values are the union (lists), the lower floor (minimums),
 *   the union of allowed VMPLs, and for bits only what both require alike;
 * - a field stated by one side only stays as that side states it (fail closed).
 *
 * @internal
 * @module
 */
import type {
  NitroReferences,
  Reference,
  SnpPolicyRule,
  SnpReferences,
  TdAttributesRule,
  TdxReferences,
  VmplRule,
} from '../../verifier/policy/types.js';

/** Union of two accepted-value lists (order kept, duplicates dropped). */
export function unionReference(a?: Reference, b?: Reference): Reference | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return [...new Set([...a, ...b])];
}

function lower(a?: number, b?: number): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

function pickDefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Flags both sides state alike, plus those only one side states. */
function mergeFlags<K extends string>(
  a: Readonly<Partial<Record<K, boolean>>>,
  b: Readonly<Partial<Record<K, boolean>>>,
): Partial<Record<K, boolean>> {
  const out: Partial<Record<K, boolean>> = { ...a };
  for (const [k, v] of Object.entries(b) as [K, boolean][]) {
    if (!(k in out)) out[k] = v;
    else if (out[k] !== v) delete out[k];
  }
  return out;
}

function bytesOf(h: string): Uint8Array {
  return new Uint8Array(Buffer.from(h, 'hex'));
}

/** The masked value covering both: bits both masks fix to the same value. */
function mergeMasked(
  a: TdAttributesRule,
  b: TdAttributesRule,
): Pick<TdAttributesRule, 'value' | 'mask'> {
  if (a.value === undefined) return pickDefined({ value: b.value, mask: b.mask });
  if (b.value === undefined) return pickDefined({ value: a.value, mask: a.mask });
  const [va, vb] = [bytesOf(a.value), bytesOf(b.value)];
  const [ma, mb] = [
    bytesOf(a.mask ?? 'ff'.repeat(va.length)),
    bytesOf(b.mask ?? 'ff'.repeat(vb.length)),
  ];
  const mask = ma.map((m, i) => m & mb[i]! & ~(va[i]! ^ vb[i]!));
  if (mask.every((m) => m === 0)) return {};
  const value = va.map((v, i) => v & mask[i]!);
  const hex = (x: Uint8Array) => Buffer.from(x).toString('hex');
  return mask.every((m) => m === 0xff)
    ? { value: hex(value) }
    : { value: hex(value), mask: hex(mask) };
}

function mergeTdAttributes(
  a?: TdAttributesRule,
  b?: TdAttributesRule,
): TdAttributesRule | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return { ...mergeMasked(a, b), flags: mergeFlags(a.flags, b.flags) };
}

/** TDX reference values stated as alternatives. */
export function mergeTdx(a?: TdxReferences, b?: TdxReferences): TdxReferences | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const out: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof TdxReferences>) {
    out[key] =
      key === 'td_attributes'
        ? mergeTdAttributes(a.td_attributes, b.td_attributes)
        : unionReference(a[key] as Reference | undefined, b[key] as Reference | undefined);
  }
  return pickDefined(out) as TdxReferences;
}

function vmplSet(r: VmplRule): number[] {
  return 'max' in r ? Array.from({ length: r.max + 1 }, (_, i) => i) : [...r.allowed];
}

function mergeVmpl(a?: VmplRule, b?: VmplRule): VmplRule | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if ('max' in a && 'max' in b) return { max: Math.max(a.max, b.max) };
  return { allowed: [...new Set([...vmplSet(a), ...vmplSet(b)])].sort((x, y) => x - y) };
}

function mergeAbi(
  a: SnpPolicyRule,
  b: SnpPolicyRule,
): Pick<SnpPolicyRule, 'abi_major_min' | 'abi_minor_min'> {
  if (a.abi_major_min === undefined || b.abi_major_min === undefined) {
    const one = a.abi_major_min === undefined ? b : a;
    return pickDefined({ abi_major_min: one.abi_major_min, abi_minor_min: one.abi_minor_min });
  }
  const lowest = [a, b].sort(
    (x, y) =>
      x.abi_major_min! - y.abi_major_min! || (x.abi_minor_min ?? 0) - (y.abi_minor_min ?? 0),
  )[0]!;
  return pickDefined({ abi_major_min: lowest.abi_major_min, abi_minor_min: lowest.abi_minor_min });
}

function mergeSnpPolicy(a?: SnpPolicyRule, b?: SnpPolicyRule): SnpPolicyRule | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return { flags: mergeFlags(a.flags, b.flags), ...mergeAbi(a, b) };
}

function mergeMinTcb(a?: SnpReferences['min_tcb'], b?: SnpReferences['min_tcb']) {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const out: Record<string, number> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = lower(out[k], v)!;
  return out as SnpReferences['min_tcb'];
}

/** SEV-SNP reference values stated as alternatives. */
export function mergeSnp(a?: SnpReferences, b?: SnpReferences): SnpReferences | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return pickDefined({
    measurement: unionReference(a.measurement, b.measurement),
    host_data: unionReference(a.host_data, b.host_data),
    id_key_digest: unionReference(a.id_key_digest, b.id_key_digest),
    author_key_digest: unionReference(a.author_key_digest, b.author_key_digest),
    policy: mergeSnpPolicy(a.policy, b.policy),
    min_tcb: mergeMinTcb(a.min_tcb, b.min_tcb),
    vmpl: mergeVmpl(a.vmpl, b.vmpl),
    guest_svn_min: lower(a.guest_svn_min, b.guest_svn_min),
    chip_ids: unionReference(a.chip_ids, b.chip_ids),
    products: unionReference(a.products, b.products),
  });
}

/** Nitro reference values stated as alternatives: PCR by PCR. */
export function mergeNitro(a?: NitroReferences, b?: NitroReferences): NitroReferences | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (a.pcrs === undefined || b.pcrs === undefined) return a.pcrs === undefined ? b : a;
  const pcrs: Record<string, Reference> = { ...a.pcrs };
  for (const [k, v] of Object.entries(b.pcrs)) pcrs[k] = unionReference(pcrs[k], v)!;
  return { pcrs };
}
