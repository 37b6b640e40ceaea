/**
 * Identity assignment (ARCHITECTURE "Workload identity"): the verified measurements select a
 * registration, whose identifier becomes `sub`; without one, `sub` is derived from the
 * measurement digest. An agent-mode request (docs/service.md "Agent mode") is taken only from an
 * agent the policy lists, and gets only the identity of a registration whose measurements and
 * selectors match. The attester only ever proposes a last segment, and only a name the
 * registration (or, for derived identifiers, the policy) allows is taken.
 *
 * @internal
 * @module
 */
import type { Policy, Registration } from '../verifier/policy/types.js';
import type { PlatformName } from '../verifier/platforms/registry.js';
import { derivedSubject, measurementDigest, type MeasuredEvidence } from './subject.js';

/** twi's top-level EAR claim naming the identity assigned (`docs/service.md`). */
export const TWI_IDENTITY_CLAIM = 'tag:twi.dev,2026:ear#identity';

/** Where each registration field is found in the verified evidence. */
const FIELD_SOURCE: Readonly<Record<string, readonly ['claims' | 'details', ...string[]]>> = {
  mrtd: ['claims', 'mrtd'],
  rtmr0: ['claims', 'rtmr0'],
  rtmr1: ['claims', 'rtmr1'],
  rtmr2: ['claims', 'rtmr2'],
  rtmr3: ['claims', 'rtmr3'],
  mrconfigid: ['claims', 'mrconfigid'],
  mrowner: ['claims', 'mrowner'],
  mrownerconfig: ['details', 'mrOwnerConfig'],
  shim: ['claims', 'shim'],
  measurement: ['claims', 'measurement'],
  host_data: ['claims', 'host_data'],
  id_key_digest: ['claims', 'id_key_digest'],
  author_key_digest: ['details', 'authorKeyDigest'],
  pcr0: ['claims', 'pcrs', '0'],
  pcr1: ['claims', 'pcrs', '1'],
  pcr2: ['claims', 'pcrs', '2'],
  pcr8: ['claims', 'pcrs', '8'],
};

function evidenceValue(evidence: MeasuredEvidence, field: string): string | undefined {
  const [source, ...path] = FIELD_SOURCE[field]!;
  let v: unknown = source === 'claims' ? evidence.claims : evidence.details;
  for (const p of path) v = (v as Record<string, unknown> | undefined)?.[p];
  return typeof v === 'string' ? v.toLowerCase() : undefined;
}

/** The claim each platform's agents are listed by (`agents:` of the policy). */
const AGENT_FIELD: Readonly<Record<PlatformName, string>> = {
  tdx: 'shim',
  'sev-snp': 'measurement',
  nitro: 'pcr0',
};

/** True when the policy lists the agent that produced `evidence`. */
export function agentTrusted(
  policy: Policy | undefined,
  platform: PlatformName,
  evidence: MeasuredEvidence,
): boolean {
  const field = AGENT_FIELD[platform];
  const listed = (policy?.agents?.[platform] as Record<string, readonly string[]> | undefined)?.[
    field
  ];
  const actual = evidenceValue(evidence, field);
  return listed !== undefined && actual !== undefined && listed.includes(actual);
}

/**
 * The registration whose every stated value the evidence matches, if any. Registrations
 * cannot overlap (checked when they are loaded), so there is at most one. With `selectors`
 * (agent mode) only entries with selectors, all among them, are candidates; without, only
 * entries without selectors.
 */
export function matchRegistration(
  registrations: readonly Registration[],
  platform: PlatformName,
  evidence: MeasuredEvidence,
  selectors?: readonly string[],
): Registration | undefined {
  return registrations.find(
    (r) =>
      r.platform === platform &&
      (selectors === undefined
        ? r.selectors === undefined
        : r.selectors !== undefined && r.selectors.every((s) => selectors.includes(s))) &&
      Object.keys(FIELD_SOURCE).every((f) => {
        const accepted = (r as unknown as Record<string, readonly string[] | undefined>)[f];
        if (accepted === undefined) return true;
        const actual = evidenceValue(evidence, f);
        return actual !== undefined && accepted.includes(actual);
      }),
  );
}

/** Why no credential can carry the identity asked for. */
export interface IdentityRefusal {
  readonly status: 403;
  readonly code:
    | 'ERR_WORKLOAD_NAME_REFUSED'
    | 'ERR_WORKLOAD_UNREGISTERED'
    | 'ERR_AGENT_NOT_TRUSTED'
    | 'ERR_NO_REGISTRATION';
  readonly detail: string;
}

/** The identity assigned to verified evidence. */
export interface IdentityAssignment {
  /** The `sub` to issue; absent when refused. */
  readonly sub?: string;
  /** The registration the measurements selected. */
  readonly registration?: { readonly id: string; readonly identifier: string };
  /** {@link measurementDigest} of the evidence (32 hex digits). */
  readonly measurementDigest: string;
  /** The attester's name, when it was taken. */
  readonly workload?: string;
  /** Agent mode: the caller's selectors the agent sent. */
  readonly selectors?: readonly string[];
  readonly refused?: IdentityRefusal;
}

/** Inputs of {@link assignIdentity}. */
export interface AssignIdentityInput {
  readonly trustDomain: string;
  /** The policy in force (`undefined`: the built-in default, which registers nothing). */
  readonly policy: Policy | undefined;
  readonly platform: PlatformName;
  /** The verified evidence (never unverified claims). */
  readonly evidence: MeasuredEvidence;
  /** The attester's `workload` name, if it sent one. */
  readonly workload?: string;
  /** Agent mode: the selectors of the caller the agent asks for. */
  readonly agent?: { readonly selectors: readonly string[] };
}

function refuse(code: IdentityRefusal['code'], detail: string): { refused: IdentityRefusal } {
  return { refused: { status: 403, code, detail } };
}

/**
 * Assigns the identity: the matching registration's identifier (plus `/<workload>` only when
 * the entry lists that name), else the derived `spiffe://<td>/<platform>/m/<digest>` (plus
 * `/<workload>` only when the policy sets `allow_unregistered_workload_names`). A name that is
 * not allowed, or unregistered evidence under `require_registration`, yields `refused`.
 *
 * @example
 * ```ts
 * const a = assignIdentity({ trustDomain: 'example.org', policy, platform: 'tdx',
 *   evidence: report.verifiedEvidence!, workload: 'api' });
 * if (a.refused) throw new ProblemError(a.refused.status, a.refused.code, a.refused.detail);
 * ```
 */
export function assignIdentity(input: AssignIdentityInput): IdentityAssignment {
  const { policy, platform, evidence, workload, agent } = input;
  const digest = measurementDigest(platform, evidence);
  const selectors = agent && { selectors: [...agent.selectors].sort() };
  if (agent && !agentTrusted(policy, platform, evidence)) {
    return {
      measurementDigest: digest,
      ...selectors,
      ...refuse('ERR_AGENT_NOT_TRUSTED', `the policy lists no ${platform} agent so measured`),
    };
  }
  const entry = matchRegistration(
    policy?.registrations ?? [],
    platform,
    evidence,
    selectors?.selectors,
  );
  const named = workload === undefined ? {} : { workload };
  if (agent && !entry) {
    return {
      measurementDigest: digest,
      ...selectors,
      ...refuse('ERR_NO_REGISTRATION', 'no registration matches the agent and these selectors'),
    };
  }
  if (entry) {
    const registration = { id: entry.id, identifier: entry.identifier };
    const base = { registration, measurementDigest: digest, ...selectors };
    if (workload === undefined) return { ...base, sub: entry.identifier };
    if (entry.workloads.includes(workload)) {
      return { ...base, ...named, sub: `${entry.identifier}/${workload}` };
    }
    return {
      ...base,
      ...refuse(
        'ERR_WORKLOAD_NAME_REFUSED',
        `registration ${entry.id} does not allow the workload name ${JSON.stringify(workload)}`,
      ),
    };
  }
  const base = { measurementDigest: digest };
  if (policy?.require_registration) {
    return { ...base, ...refuse('ERR_WORKLOAD_UNREGISTERED', 'no registration matches') };
  }
  if (workload !== undefined && !policy?.allow_unregistered_workload_names) {
    return {
      ...base,
      ...refuse(
        'ERR_WORKLOAD_NAME_REFUSED',
        'no registration matches this evidence, and the policy allows no workload name for it',
      ),
    };
  }
  return { ...base, ...named, sub: derivedSubject(input.trustDomain, platform, digest, workload) };
}

/**
 * The JSON form of an assignment for the EAR ({@link TWI_IDENTITY_CLAIM}) and the ledger:
 * `registration` is `{ id, identifier }` or `"none"`; `agent` is `{ selectors }` in agent mode.
 */
export function identityRecord(a: IdentityAssignment): Record<string, unknown> {
  return {
    registration: a.registration ? { ...a.registration } : 'none',
    measurement_digest: a.measurementDigest,
    ...(a.sub !== undefined && { sub: a.sub }),
    ...(a.workload !== undefined && { workload: a.workload }),
    ...(a.selectors && { agent: { selectors: [...a.selectors] } }),
    ...(a.refused && { refused: a.refused.code }),
  };
}
