/**
 * From a schema-valid policy document to the {@link Policy} model: defaults filled in,
 * single values turned into lists, hex lowercased, everything frozen. Also the default
 * policy used when none is configured.
 *
 * @module
 */
import { TCB_STATUSES } from '../platforms/tdx/verify/tcb-status.js';
import type { TcbStatus } from '../platforms/tdx/verify/tcb-status.js';
import { PolicyError } from './errors.js';
import { normalizeRegistrations } from './registrations.js';
import type {
  AgentReferences,
  NitroReferences,
  Policy,
  PolicyPlatform,
  SnpReferences,
  TcbTier,
  TdxReferences,
  VmplRule,
} from './types.js';

/** Identifier of the built-in default policy. */
export const DEFAULT_POLICY_ID = 'tag:twi.dev,2026:policy/default';

/** All platforms, in registry order. @internal */
export const ALL_PLATFORMS: readonly PolicyPlatform[] = Object.freeze(['tdx', 'sev-snp', 'nitro']);

/** Default tier of each TCB status: UpToDate affirms, Revoked contraindicates, the rest warn. */
export const DEFAULT_TCB_TIERS: Readonly<Record<TcbStatus, TcbTier>> = Object.freeze({
  UpToDate: 'affirming',
  SWHardeningNeeded: 'warning',
  ConfigurationNeeded: 'warning',
  ConfigurationAndSWHardeningNeeded: 'warning',
  OutOfDate: 'warning',
  OutOfDateConfigurationNeeded: 'warning',
  Revoked: 'contraindicated',
});

type Doc = Record<string, unknown>;

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

const hexList = (v: unknown): readonly string[] | undefined =>
  v === undefined ? undefined : (Array.isArray(v) ? v : [v]).map((s) => String(s).toLowerCase());

function pickDefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function splitFlags(o: Doc | undefined, numeric: readonly string[]) {
  if (o === undefined) return undefined;
  const flags: Record<string, boolean> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === 'debug') continue;
    if (typeof v === 'boolean') flags[k] = v;
    else if (numeric.includes(k)) rest[k] = v;
    else rest[k] = String(v).toLowerCase();
  }
  return { ...rest, flags };
}

const TDX_HEX = ['mrtd', 'rtmr0', 'rtmr1', 'rtmr2', 'rtmr3', 'mrseam', 'mrconfigid', 'mrowner'];
const TDX_HEX_MORE = ['mrownerconfig', 'mrservicetd', 'shim', 'xfam', 'fmspcs'];

function tdxRefs(doc: Doc | undefined): TdxReferences | undefined {
  if (doc === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const k of [...TDX_HEX, ...TDX_HEX_MORE]) out[k] = hexList(doc[k]);
  out.td_attributes = splitFlags(doc.td_attributes as Doc | undefined, []);
  out.min_tcb_evaluation_data_number = doc.min_tcb_evaluation_data_number;
  return pickDefined(out) as TdxReferences;
}

function vmplRule(v: unknown): VmplRule | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? { allowed: v as number[] } : { max: (v as { max: number }).max };
}

function snpRefs(doc: Doc | undefined): SnpReferences | undefined {
  if (doc === undefined) return undefined;
  return pickDefined({
    measurement: hexList(doc.measurement),
    host_data: hexList(doc.host_data),
    id_key_digest: hexList(doc.id_key_digest),
    author_key_digest: hexList(doc.author_key_digest),
    policy: splitFlags(doc.policy as Doc | undefined, ['abi_major_min', 'abi_minor_min']),
    min_tcb: doc.min_tcb as SnpReferences['min_tcb'],
    vmpl: vmplRule(doc.vmpl),
    guest_svn_min: doc.guest_svn_min as number | undefined,
    chip_ids: hexList(doc.chip_ids),
    products: doc.products as string[] | undefined,
  }) as SnpReferences;
}

function nitroRefs(doc: Doc | undefined): NitroReferences | undefined {
  if (doc === undefined) return undefined;
  const pcrs = doc.pcrs as Doc | undefined;
  if (pcrs === undefined) return {};
  const out: Record<string, readonly string[]> = {};
  for (const [k, v] of Object.entries(pcrs)) out[String(Number(k))] = hexList(v)!;
  return { pcrs: out };
}

function agentRefs(doc: Doc | undefined): AgentReferences | undefined {
  if (doc === undefined) return undefined;
  const tdx = doc.tdx as Doc | undefined;
  const snp = doc['sev-snp'] as Doc | undefined;
  const nitro = doc.nitro as Doc | undefined;
  return pickDefined({
    tdx: tdx && { shim: hexList(tdx.shim)! },
    'sev-snp': snp && { measurement: hexList(snp.measurement)! },
    nitro: nitro && { pcr0: hexList(nitro.pcr0)! },
  }) as AgentReferences;
}

function tcbTiers(doc: Doc): Record<TcbStatus, TcbTier> {
  const accept = ((doc.tcb as Doc | undefined)?.accept ?? {}) as Partial<
    Record<TcbStatus, TcbTier>
  >;
  if (accept.Revoked !== undefined && accept.Revoked !== 'contraindicated') {
    throw new PolicyError('ERR_POLICY_INVALID', [
      { path: 'tcb.accept.Revoked', message: 'a Revoked TCB can only be contraindicated' },
    ]);
  }
  const tiers = { ...DEFAULT_TCB_TIERS };
  for (const s of TCB_STATUSES) if (accept[s]) tiers[s] = accept[s];
  return tiers;
}

/**
 * Allowed platforms: as listed; when not listed, the platforms the policy has a section for
 * (so a TDX-only policy does not silently affirm Nitro evidence), or all when it has none.
 */
function platformsOf(doc: Doc): readonly PolicyPlatform[] {
  if (Array.isArray(doc.platforms)) return doc.platforms as PolicyPlatform[];
  const named = ALL_PLATFORMS.filter((p) => doc[p] !== undefined);
  return named.length > 0 ? named : ALL_PLATFORMS;
}

/** Normalises a schema-valid document (see {@link parsePolicy}). @internal */
export function normalizePolicy(doc: Doc): Policy {
  const policy = pickDefined({
    id: doc.id as string,
    description: doc.description as string | undefined,
    platforms: platformsOf(doc),
    allow_debug: doc.allow_debug === true,
    tcb: { tiers: tcbTiers(doc) },
    tdx: tdxRefs(doc.tdx as Doc | undefined),
    'sev-snp': snpRefs(doc['sev-snp'] as Doc | undefined),
    nitro: nitroRefs(doc.nitro as Doc | undefined),
    registrations: normalizeRegistrations(doc.registrations),
    allow_unregistered_workload_names: doc.allow_unregistered_workload_names === true,
    require_registration: doc.require_registration === true,
    agents: agentRefs(doc.agents as Doc | undefined),
  });
  return deepFreeze(structuredClone(policy)) as Policy;
}

/**
 * The policy used when none is configured: every platform allowed, no reference values,
 * debug TEEs contraindicated, SEV-SNP reports only from VMPL 0 (the most privileged level, where
 * the guest's own firmware runs: a report from a higher VMPL may come from code the guest
 * kernel does not control), TCB statuses tiered as in {@link DEFAULT_TCB_TIERS}.
 *
 * @example
 * ```ts
 * const appraisal = appraise(verified, defaultPolicy(), { nonce });
 * ```
 */
export function defaultPolicy(): Policy {
  return normalizePolicy({
    id: DEFAULT_POLICY_ID,
    platforms: [...ALL_PLATFORMS],
    'sev-snp': { vmpl: [0] },
  });
}
