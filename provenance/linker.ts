/**
 * The provenance linker: at issuance, the appraised measurements are matched to the
 * reference values that matched (policy and CoRIM records) and to the supply-chain records
 * whose subjects they are, and the result becomes the credential's log leaf
 * (`docs/provenance.md` "Leaf records").
 *
 * @internal
 * @module
 */
import type { Policy } from '../verifier/policy/types.js';
import type { IndexEntry, ProvenanceStore, StoredRecord } from './store-types.js';
import {
  digestKey,
  matchingReferences,
  measurementsOf,
  referenceValuesOf,
  type Measurement,
} from './measurements.js';
import { recordSummary, type SupplyChainRecord } from './records.js';
import type { JsonValue } from '../common/json.js';

/** `type` of an issuance leaf. */
export const ISSUANCE_LEAF_TYPE = 'twi-issuance/v1';
/** `type` of a supply-chain record leaf. */
export const SUPPLY_CHAIN_LEAF_TYPE = 'twi-supply-chain/v1';

/** What the service knows about an issued credential. */
export interface IssuanceFacts {
  readonly jti: string;
  readonly sub: string;
  readonly iat: number;
  readonly exp: number;
  readonly platform: string;
  readonly evidenceDigest: string;
  readonly earDigest: string;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly collateral: readonly { readonly kind: string; readonly sha256: string }[];
  readonly policy?: Policy;
  /** The identity assigned: registration (or `"none"`) and measurement digest. */
  readonly identity?: JsonValue;
}

/** The leaf record and the query-index entries of one issuance. */
export interface LinkedIssuance {
  readonly leaf: JsonValue;
  readonly index: IndexEntry[];
}

interface Link {
  record: StoredRecord;
  matched: Set<string>;
}

function measurementId(m: Measurement): string {
  return `${m.platform}.${m.field}`;
}

async function linkedRecords(
  store: ProvenanceStore,
  measurements: readonly Measurement[],
): Promise<Link[]> {
  const byKey = new Map<string, Measurement[]>();
  for (const m of measurements) {
    const key = digestKey(m.alg, m.value);
    byKey.set(key, [...(byKey.get(key) ?? []), m]);
  }
  const links = new Map<string, Link>();
  for (const row of await store.recordsByKeys([...byKey.keys()])) {
    for (const m of byKey.get(row.key) ?? []) {
      if (row.field !== '*' && row.field !== measurementId(m)) continue;
      const link = links.get(row.record.digest) ?? { record: row.record, matched: new Set() };
      link.matched.add(measurementId(m));
      links.set(row.record.digest, link);
    }
  }
  return [...links.values()];
}

function provenanceEntry(link: Link): Record<string, JsonValue> {
  const r = link.record.record as Record<string, JsonValue>;
  const pick = (k: string): Record<string, JsonValue> => (r[k] === undefined ? {} : { [k]: r[k]! });
  return {
    digest: link.record.digest,
    kind: link.record.kind,
    ...pick('builder_id'),
    ...pick('build_type'),
    ...pick('source_repository'),
    ...pick('source_commit'),
    ...pick('sbom_format'),
    ...pick('corim_id'),
    matched: [...link.matched].sort(),
  };
}

function corimReferences(
  links: readonly Link[],
  measurements: readonly Measurement[],
): JsonValue[] {
  return links
    .filter((l) => l.record.kind === 'corim')
    .flatMap((l) => {
      const refs = ((l.record.record as { references?: unknown }).references ?? []) as {
        platform: string;
        field: string;
        value: string;
      }[];
      return matchingReferences(measurements, refs).map((ref) => ({
        source: l.record.digest,
        ...ref,
      }));
    });
}

function indexEntries(measurements: readonly Measurement[], links: readonly Link[]): IndexEntry[] {
  const out: IndexEntry[] = measurements.map((m) => ({
    field: 'measurement',
    value: digestKey(m.alg, m.value),
  }));
  for (const l of links) {
    const r = l.record.record as Record<string, unknown>;
    out.push({ field: 'record', value: l.record.digest });
    if (typeof r.builder_id === 'string') out.push({ field: 'builder', value: r.builder_id });
    if (typeof r.source_commit === 'string') out.push({ field: 'commit', value: r.source_commit });
    if (typeof r.source_repository === 'string') {
      out.push({ field: 'repository', value: r.source_repository });
    }
  }
  return out;
}

/**
 * Builds the leaf record of an issuance and its index entries, reading the supply-chain
 * records that match from the store.
 *
 * @example
 * ```ts
 * const { leaf, index } = await linkIssuance(store.provenance, facts);
 * await store.provenance.commitIssuance(credential, canonicalJson(leaf), index);
 * ```
 */
export async function linkIssuance(
  store: ProvenanceStore,
  facts: IssuanceFacts,
): Promise<LinkedIssuance> {
  const measurements = measurementsOf(facts.platform, facts.claims);
  const links = await linkedRecords(store, measurements);
  const policyRefs = matchingReferences(measurements, referenceValuesOf(facts.policy)).map(
    (ref) => ({ source: `policy:${facts.policy!.id}`, ...ref }),
  );
  const leaf: JsonValue = {
    type: ISSUANCE_LEAF_TYPE,
    jti: facts.jti,
    sub: facts.sub,
    iat: facts.iat,
    exp: facts.exp,
    platform: facts.platform,
    evidence_digest: facts.evidenceDigest,
    ear_digest: facts.earDigest,
    measurements: measurements.map((m) => ({ ...m })),
    reference_values: [...policyRefs, ...corimReferences(links, measurements)],
    provenance: links.map(provenanceEntry),
    collateral: facts.collateral.map((c) => ({ kind: c.kind, sha256: c.sha256 })),
    ...(facts.identity !== undefined && { identity: facts.identity }),
  };
  return { leaf, index: indexEntries(measurements, links) };
}

/**
 * The query-index entries an issuance with these claims would get — its measurements and the
 * builders, commits, repositories and records of the stored supply-chain records they match —
 * without issuing anything (the build-revocation check runs on them).
 */
export async function issuanceIndex(
  store: ProvenanceStore,
  platform: string,
  claims: Readonly<Record<string, unknown>>,
): Promise<IndexEntry[]> {
  const measurements = measurementsOf(platform, claims);
  return indexEntries(measurements, await linkedRecords(store, measurements));
}

/** The leaf record announcing an accepted supply-chain record. */
export function supplyChainLeaf(record: SupplyChainRecord): JsonValue {
  return {
    type: SUPPLY_CHAIN_LEAF_TYPE,
    ...(recordSummary(record) as Record<string, JsonValue>),
    subjects: record.subjects.map((s) => ({
      ...(s.name !== undefined && { name: s.name }),
      digests: s.digests.map((d) => ({ alg: d.alg, value: d.value })),
    })),
    references: record.references.map((r) => ({ ...r })),
  };
}
