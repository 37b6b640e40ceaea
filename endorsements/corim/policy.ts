/**
 * From CoRIMs to appraisal policy: {@link corimToPolicy} reads the reference triples twi
 * understands as per-platform reference values, {@link mergePolicies} merges them into a
 * policy (`docs/corim.md` "Merge rules").
 *
 * @internal
 * @module
 */
import { parsePolicy } from '../../verifier/policy/loader.js';
import { ALL_PLATFORMS, DEFAULT_TCB_TIERS } from '../../verifier/policy/normalize.js';
import type {
  NitroReferences,
  Policy,
  PolicyPlatform,
  SnpReferences,
  TdxReferences,
} from '../../verifier/policy/types.js';
import { idText } from './ids.js';
import { nitroReferences } from './map-nitro.js';
import { snpReferences } from './map-snp.js';
import { tdxReferences } from './map-tdx.js';
import { mergeNitro, mergeSnp, mergeTdx } from './merge-references.js';
import { platformOfClass } from './profiles.js';
import type { CorimPlatform } from './profiles.js';
import type { Corim, DecodedCorim, ReferenceTriple } from './types.js';

/** The reference values one or more CoRIMs state, per platform: a partial policy. */
export interface CorimReferences {
  /** The CoRIM ids the values come from. */
  readonly sources: readonly string[];
  readonly tdx?: TdxReferences;
  readonly 'sev-snp'?: SnpReferences;
  readonly nitro?: NitroReferences;
  /** Paths of reference triples whose environment is not a TEE twi appraises (skipped). */
  readonly ignored: readonly string[];
}

/** The CoRIM id as text (`uuid:…` for UUIDs). */
export function corimIdText(corim: Corim): string {
  return typeof corim.id === 'string' ? corim.id : idText(corim.id);
}

interface Located {
  readonly triple: ReferenceTriple;
  readonly path: string;
}

function byPlatform(corim: Corim): { groups: Map<CorimPlatform, Located[]>; ignored: string[] } {
  const groups = new Map<CorimPlatform, Located[]>();
  const ignored: string[] = [];
  corim.comids.forEach((comid, c) => {
    comid.referenceTriples.forEach((triple, t) => {
      const path = `corim.tags[${c}].triples.reference-triples[${t}]`;
      const platform = platformOfClass(triple.environment.class?.classId);
      if (platform === undefined) ignored.push(path);
      else groups.set(platform, [...(groups.get(platform) ?? []), { triple, path }]);
    });
  });
  return { groups, ignored };
}

function refsOf<T>(
  located: Located[] | undefined,
  map: (t: ReferenceTriple[], p: string[]) => T,
): T | undefined {
  if (located === undefined) return undefined;
  return map(
    located.map((l) => l.triple),
    located.map((l) => l.path),
  );
}

/**
 * The reference values a CoRIM states for TDX, SEV-SNP and Nitro environments. Reference
 * triples of one platform are alternatives (any may match) and merge field by field;
 * triples of other environments are listed in `ignored`.
 *
 * @throws CorimError `ERR_CORIM_UNSUPPORTED` for a reference value twi cannot appraise
 *   (naming its path), `ERR_CORIM_INVALID` for values of the wrong size or shape.
 *
 * @example
 * ```ts
 * const refs = corimToPolicy(decodeCorim(bytes, { now }));
 * refs.tdx?.mrtd; // ['91eb2b44…']
 * ```
 */
export function corimToPolicy(input: Corim | DecodedCorim): CorimReferences {
  const corim = 'corim' in input ? input.corim : input;
  const { groups, ignored } = byPlatform(corim);
  const out = {
    sources: [corimIdText(corim)],
    tdx: refsOf(groups.get('tdx'), tdxReferences),
    'sev-snp': refsOf(groups.get('sev-snp'), snpReferences),
    nitro: refsOf(groups.get('nitro'), nitroReferences),
    ignored,
  };
  return Object.fromEntries(
    Object.entries(out).filter(([, v]) => v !== undefined),
  ) as unknown as CorimReferences;
}

/** Platforms the references state values for. */
export function referencePlatforms(refs: readonly CorimReferences[]): PolicyPlatform[] {
  return ALL_PLATFORMS.filter((p) => refs.some((r) => r[p] !== undefined));
}

function flat<T extends { flags: object }>(
  rule: T | undefined,
): Record<string, unknown> | undefined {
  if (rule === undefined) return undefined;
  const { flags, ...rest } = rule;
  return { ...rest, ...flags };
}

function snpDocument(refs: SnpReferences): Record<string, unknown> {
  const vmpl = refs.vmpl && ('allowed' in refs.vmpl ? refs.vmpl.allowed : refs.vmpl);
  return { ...refs, policy: flat(refs.policy), vmpl };
}

/** The policy-file document of a normalised policy (so `parsePolicy` re-validates it). */
function toDocument(p: Policy): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    id: p.id,
    description: p.description,
    platforms: [...p.platforms],
    allow_debug: p.allow_debug,
    tcb: { accept: { ...p.tcb.tiers } },
    tdx: p.tdx && { ...p.tdx, td_attributes: flat(p.tdx.td_attributes) },
    'sev-snp': p['sev-snp'] && snpDocument(p['sev-snp']),
    nitro: p.nitro,
    registrations: p.registrations,
    allow_unregistered_workload_names: p.allow_unregistered_workload_names,
    require_registration: p.require_registration,
  };
  return JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
}

function corimBase(refs: readonly CorimReferences[]): Policy {
  const platforms = referencePlatforms(refs);
  return parsePolicy({
    id: 'tag:twi.dev,2026:policy/corim',
    platforms: platforms.length > 0 ? platforms : [...ALL_PLATFORMS],
    tcb: { accept: { ...DEFAULT_TCB_TIERS } },
  });
}

/**
 * Merges CoRIM reference values into a policy. The base keeps its id, platforms, debug and
 * TCB rules; reference values merge as alternatives: lists are united, floors lowered, bits
 * both sides fix alike kept, a field stated on one side only kept (fail closed). Without a
 * base, the policy allows the platforms the CoRIMs state values for.
 *
 * @throws PolicyError `ERR_POLICY_INVALID` if the merged policy does not validate.
 *
 * @example
 * ```ts
 * const policy = mergePolicies(loadPolicy('policy.yaml'), corimToPolicy(decoded));
 * const appraisal = appraise(verified, policy, { nonce });
 * ```
 */
export function mergePolicies(base: Policy | undefined, ...partials: CorimReferences[]): Policy {
  const start = base ?? corimBase(partials);
  const merged = partials.reduce<Policy>(
    (p, r) => ({
      ...p,
      tdx: mergeTdx(p.tdx, r.tdx),
      'sev-snp': mergeSnp(p['sev-snp'], r['sev-snp']),
      nitro: mergeNitro(p.nitro, r.nitro),
    }),
    start,
  );
  const sources = partials.flatMap((r) => r.sources);
  const note = sources.length > 0 ? `reference values from CoRIM ${sources.join(', ')}` : undefined;
  const description = [start.description, note].filter(Boolean).join('; ') || undefined;
  return parsePolicy(toDocument({ ...merged, ...(description && { description }) }));
}
