/**
 * Workload registrations (`registrations:` of a policy): which workload identifier the
 * verifier assigns to evidence whose verified measurements match an entry's reference values,
 * and which names the attester may append to it. See `docs/policy.md`, "Registrations".
 *
 * Entries may never overlap: two entries of one platform whose value lists intersect in every
 * field both state could select the same evidence, and such a list is refused when it is
 * loaded, so at most one entry ever matches. Entries with `selectors` (agent mode) match only
 * agent requests and never overlap one without; two with selectors are apart when they require
 * different values of a kind a caller has once (e.g. `unix:uid:1000` and `unix:uid:1001`).
 *
 * @module
 */
import { selectorsSchema, WORKLOAD_NAME_PATTERN } from '../../wire/messages.js';
import { workloadIdProblem } from '../../wimse/identifier.js';
import { PolicyError, type PolicyIssue } from './errors.js';
import type { PolicyPlatform, Reference, Registration } from './types.js';

/** Fields each platform's entries must state. */
export const REQUIRED_FIELDS: Readonly<Record<PolicyPlatform, readonly string[]>> = {
  tdx: ['mrtd', 'rtmr0', 'rtmr1', 'rtmr2', 'rtmr3'],
  'sev-snp': ['measurement', 'host_data'],
  nitro: ['pcr0', 'pcr1', 'pcr2'],
};

/** Fields each platform's entries may state besides the required ones. */
export const OPTIONAL_FIELDS: Readonly<Record<PolicyPlatform, readonly string[]>> = {
  tdx: ['mrconfigid', 'mrowner', 'mrownerconfig', 'shim'],
  'sev-snp': ['id_key_digest', 'author_key_digest'],
  nitro: ['pcr8'],
};

/** Every reference-value field an entry can carry, in a fixed order. */
export const REGISTRATION_FIELDS: readonly string[] = (
  ['tdx', 'sev-snp', 'nitro'] as const
).flatMap((p) => [...REQUIRED_FIELDS[p], ...OPTIONAL_FIELDS[p]]);

const hexRef = (bytes: number, what: string) => {
  const one = {
    type: 'string',
    pattern: `^[0-9a-fA-F]{${bytes * 2}}$`,
    description: `${what}: ${bytes} bytes as ${bytes * 2} hex digits`,
  };
  return { anyOf: [one, { type: 'array', items: one, minItems: 1 }] };
};

const pcrRef = {
  anyOf: [
    { type: 'string', pattern: '^[0-9a-fA-F]{96}$', description: 'PCR: 48 bytes as hex' },
    {
      type: 'array',
      minItems: 1,
      items: { type: 'string', pattern: '^[0-9a-fA-F]{96}$', description: 'PCR: 48 bytes as hex' },
    },
  ],
};

/** JSON Schema of `registrations` (shapes only; the rules are checked on normalising). @internal */
export const registrationsSchema = {
  type: 'array',
  maxItems: 1000,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'identifier', 'platform'],
    properties: {
      id: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
      identifier: { type: 'string', minLength: 1, maxLength: 2048 },
      platform: { enum: ['tdx', 'sev-snp', 'nitro'] },
      workloads: {
        type: 'array',
        uniqueItems: true,
        maxItems: 100,
        items: { type: 'string', pattern: WORKLOAD_NAME_PATTERN },
      },
      mrtd: hexRef(48, 'MRTD'),
      rtmr0: hexRef(48, 'RTMR0'),
      rtmr1: hexRef(48, 'RTMR1'),
      rtmr2: hexRef(48, 'RTMR2'),
      rtmr3: hexRef(48, 'RTMR3'),
      mrconfigid: hexRef(48, 'MRCONFIGID'),
      mrowner: hexRef(48, 'MROWNER'),
      mrownerconfig: hexRef(48, 'MROWNERCONFIG'),
      shim: hexRef(48, 'shim digest'),
      measurement: hexRef(48, 'MEASUREMENT'),
      host_data: hexRef(32, 'HOST_DATA'),
      id_key_digest: hexRef(48, 'ID_KEY_DIGEST'),
      author_key_digest: hexRef(48, 'AUTHOR_KEY_DIGEST'),
      pcr0: pcrRef,
      pcr1: pcrRef,
      pcr2: pcrRef,
      pcr8: pcrRef,
      selectors: selectorsSchema,
    },
  },
} as const;

/**
 * Selector kinds (a selector up to its second `:`) a caller has exactly one value of: entries
 * requiring two different values of one of them never match the same caller.
 *
 * @internal
 */
export const SINGLE_VALUED_SELECTOR_KINDS: readonly string[] = [
  'unix:uid',
  'unix:gid',
  'unix:path',
  'unix:sha256',
  'cgroup:id',
];

/** `unix:uid:1000` → `unix:uid`. */
function selectorKind(s: string): string {
  const i = s.indexOf(':', s.indexOf(':') + 1);
  return i < 0 ? s : s.slice(0, i);
}

/** True when no caller can have both entries' selectors (see the module notes). */
function selectorsApart(a: readonly string[], b: readonly string[]): boolean {
  return SINGLE_VALUED_SELECTOR_KINDS.some((kind) => {
    const x = a.filter((s) => selectorKind(s) === kind);
    const y = b.filter((s) => selectorKind(s) === kind);
    return x.length > 0 && y.length > 0 && !x.some((v) => y.includes(v));
  });
}

type Doc = Record<string, unknown>;

const hexList = (v: unknown): string[] =>
  (Array.isArray(v) ? v : [v]).map((s) => String(s).toLowerCase());

/** Identifier paths the derived (unregistered) identifiers use: `/<platform>/m/…`. */
const RESERVED_PATH = /^[a-z]+:\/\/[^/]+\/(tdx|sev-snp|nitro)\/m(\/|$)/;

function entryIssues(doc: Doc, i: number): PolicyIssue[] {
  const at = (f: string): string => `registrations[${i}].${f}`;
  const platform = doc.platform as PolicyPlatform;
  const issues: PolicyIssue[] = [];
  const problem = workloadIdProblem(doc.identifier);
  if (problem) issues.push({ path: at('identifier'), message: problem });
  else if (RESERVED_PATH.test(String(doc.identifier))) {
    issues.push({
      path: at('identifier'),
      message: `paths /${platform}/m/… are reserved for identifiers derived from measurements`,
    });
  }
  for (const f of REQUIRED_FIELDS[platform]) {
    if (doc[f] === undefined) issues.push({ path: at(f), message: `is required for ${platform}` });
  }
  const allowed = new Set([...REQUIRED_FIELDS[platform], ...OPTIONAL_FIELDS[platform]]);
  for (const f of REGISTRATION_FIELDS) {
    if (doc[f] !== undefined && !allowed.has(f)) {
      issues.push({ path: at(f), message: `is not a ${platform} reference value` });
    }
  }
  return issues;
}

function normalizeEntry(doc: Doc): Registration {
  const out: Record<string, unknown> = {
    id: doc.id,
    identifier: doc.identifier,
    platform: doc.platform,
    workloads: [...((doc.workloads as string[] | undefined) ?? [])],
  };
  for (const f of REGISTRATION_FIELDS) if (doc[f] !== undefined) out[f] = hexList(doc[f]);
  if (doc.selectors !== undefined) out.selectors = [...(doc.selectors as string[])].sort();
  return out as unknown as Registration;
}

/** True when some evidence could match both entries (see the module notes). */
export function registrationsOverlap(a: Registration, b: Registration): boolean {
  if (a.platform !== b.platform) return false;
  if ((a.selectors === undefined) !== (b.selectors === undefined)) return false;
  if (a.selectors && b.selectors && selectorsApart(a.selectors, b.selectors)) return false;
  const fields = a as unknown as Record<string, Reference | undefined>;
  const other = b as unknown as Record<string, Reference | undefined>;
  return REGISTRATION_FIELDS.every((f) => {
    const x = fields[f];
    const y = other[f];
    return x === undefined || y === undefined || x.some((v) => y.includes(v));
  });
}

/** Overlapping entries, duplicate ids, and identifiers that another entry's names would reach. */
function setIssues(entries: readonly Registration[]): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  entries.forEach((a, i) => {
    entries.forEach((b, j) => {
      if (j <= i) return;
      const path = `registrations[${j}]`;
      if (a.id === b.id) issues.push({ path: `${path}.id`, message: `duplicates ${i}'s id` });
      if (registrationsOverlap(a, b)) {
        issues.push({
          path,
          message: `can match the same evidence as registrations[${i}] (${a.id}); state a value that tells them apart`,
        });
      }
    });
    for (const [k, b] of entries.entries()) {
      const reached = a.workloads.find((n) => `${a.identifier}/${n}` === b.identifier);
      if (reached !== undefined && a.identifier !== b.identifier) {
        issues.push({
          path: `registrations[${k}].identifier`,
          message: `is what registrations[${i}] (${a.id}) gives with the name ${reached}`,
        });
      }
    }
  });
  return issues;
}

/**
 * Normalises a schema-valid `registrations` list and checks its rules: required and foreign
 * fields per platform, identifiers (draft-ietf-wimse-identifier / SPIFFE ID, not under a
 * reserved `/<platform>/m/` path), unique ids, no two entries that can match the same evidence,
 * no identifier that another entry yields with an appended name.
 *
 * @throws PolicyError `ERR_POLICY_INVALID` listing every problem.
 *
 * @example
 * ```ts
 * normalizeRegistrations([{ id: 'api', identifier: 'spiffe://example.org/api', platform: 'nitro',
 *   pcr0: '…', pcr1: '…', pcr2: '…' }]);
 * ```
 */
export function normalizeRegistrations(docs: unknown): readonly Registration[] {
  if (docs === undefined) return [];
  const list = docs as Doc[];
  const issues = list.flatMap(entryIssues);
  if (issues.length > 0) throw new PolicyError('ERR_POLICY_INVALID', issues);
  const entries = list.map(normalizeEntry);
  const more = setIssues(entries);
  if (more.length > 0) throw new PolicyError('ERR_POLICY_INVALID', more);
  return entries;
}
