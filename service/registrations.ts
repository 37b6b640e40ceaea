/**
 * Workload registrations kept in the store's shared settings (setting `registrations`,
 * value `{ registrations: [...] | null }`), written by the admin API and applied by every
 * instance. A stored list (even an empty one) replaces the registrations of the policy in
 * force; `null` (after `DELETE`) hands them back to the policy.
 *
 * @internal
 * @module
 */
import { defaultPolicy } from '../verifier/policy/normalize.js';
import { parsePolicy } from '../verifier/policy/loader.js';
import { PolicyError, type PolicyIssue } from '../verifier/policy/errors.js';
import type { Policy, Registration } from '../verifier/policy/types.js';
import { parseWorkloadId } from '../wimse/identifier.js';
import type { JsonValue } from '../common/json.js';

/** Setting holding the stored registrations. */
export const REGISTRATIONS_SETTING = 'registrations';

/**
 * Validates and normalises a list of registration documents with the policy schema and rules
 * (issue paths read `registrations[i].…`).
 *
 * @throws PolicyError `ERR_POLICY_INVALID` listing every problem.
 */
export function parseRegistrations(docs: unknown): readonly Registration[] {
  if (!Array.isArray(docs)) {
    throw new PolicyError('ERR_POLICY_INVALID', [
      { path: 'registrations', message: 'must be a list of registrations' },
    ]);
  }
  return parsePolicy({ id: 'registrations', registrations: docs }).registrations;
}

/**
 * Refuses registrations whose identifier is outside `trustDomain`: the service only issues
 * identifiers of its own trust domain, for either scheme.
 *
 * @throws PolicyError `ERR_POLICY_INVALID` naming each such entry.
 */
export function checkRegistrationDomain(
  registrations: readonly Registration[],
  trustDomain: string | undefined,
): void {
  if (trustDomain === undefined) return;
  const issues: PolicyIssue[] = [];
  registrations.forEach((r, i) => {
    const domain = parseWorkloadId(r.identifier).trustDomain;
    if (domain !== trustDomain) {
      issues.push({
        path: `registrations[${i}].identifier`,
        message: `is in trust domain ${domain}, not this service's ${trustDomain}`,
      });
    }
  });
  if (issues.length > 0) throw new PolicyError('ERR_POLICY_INVALID', issues);
}

/** The stored list, or `undefined` when none is stored (or it was deleted). */
export function storedRegistrationDocs(value: JsonValue | undefined): unknown[] | undefined {
  if (value === undefined) return undefined;
  const list = (value as { registrations?: unknown } | null)?.registrations;
  if (list === null) return undefined;
  if (!Array.isArray(list)) {
    throw new TypeError(`setting ${REGISTRATIONS_SETTING} is not a list of registrations`);
  }
  return list;
}

/**
 * The policy in force with the stored registrations (when there are) in place of its own,
 * checked against the trust domain.
 *
 * @throws PolicyError for stored registrations that do not validate or are out of the trust
 *   domain; `TypeError` for a malformed setting.
 */
export function withStoredRegistrations(
  policy: Policy | undefined,
  stored: JsonValue | undefined,
  trustDomain: string | undefined,
): Policy | undefined {
  const docs = storedRegistrationDocs(stored);
  if (docs === undefined) {
    checkRegistrationDomain(policy?.registrations ?? [], trustDomain);
    return policy;
  }
  const registrations = parseRegistrations(docs);
  checkRegistrationDomain(registrations, trustDomain);
  return Object.freeze({ ...(policy ?? defaultPolicy()), registrations });
}
