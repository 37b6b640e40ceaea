/**
 * The appraisal policy and the reference values, kept in the store's shared settings so every
 * instance on one store appraises alike: the admin API writes them, each instance reads them
 * at start and again when the change log says they changed.
 *
 * - `policy`: `{ format: 'json' | 'yaml', source }`, the document exactly as the admin sent it
 *   (re-parsed by each instance, so nothing but the text has to round-trip).
 * - `reference-values`: `{ corims: [base64url CoRIM, ...] }`, merged into the policy
 *   (`mergePolicies`), re-decoded by each instance at its own clock.
 * - `registrations`: `{ registrations: [...] | null }` (`registrations.ts`).
 *
 * @internal
 * @module
 */
import type { CorimKey } from '../endorsements/corim/cose.js';
import type { CorimReferences } from '../endorsements/corim/policy.js';
import { CorimError } from '../endorsements/corim/errors.js';
import {
  corimIdText,
  corimToPolicy,
  mergePolicies,
  referencePlatforms,
} from '../endorsements/corim/policy.js';
import { decodeCorim } from '../endorsements/corim/decode-corim.js';
import { loadPolicy } from '../verifier/policy/loader.js';
import type { Policy } from '../verifier/policy/types.js';
import type { Store } from './store/types.js';
import { REGISTRATIONS_SETTING, withStoredRegistrations } from './registrations.js';
import type { JsonValue } from '../common/json.js';

/** Setting holding the policy document. */
export const POLICY_SETTING = 'policy';
/** Setting holding the reference-value CoRIMs. */
export const REFERENCE_VALUES_SETTING = 'reference-values';

/** The stored form of a policy: its text and how to read it. */
export interface StoredPolicy {
  readonly format: 'json' | 'yaml';
  readonly source: string;
}

/** What decides the policy in force besides the store. */
export interface SharedPolicyOptions {
  /** The policy used while the store holds none (`--policy`; the built-in one when absent). */
  readonly base?: Policy;
  /** Keys reference-value CoRIMs must be signed with; any CoRIM is accepted when empty. */
  readonly corimKeys?: readonly CorimKey[];
  /** The service's trust domain: every registration's identifier must be in it. */
  readonly trustDomain?: string;
}

/** Parses a stored policy (throws `PolicyError` when it does not validate). */
export function parseStoredPolicy(stored: StoredPolicy): Policy {
  return loadPolicy(stored.source, { source: 'text', format: stored.format });
}

/**
 * Decodes one reference-value CoRIM at `now` (signature required when `keys` are given) and
 * maps it to policy references.
 *
 * @throws {CorimError} for a malformed, unsigned, expired or reference-free CoRIM.
 */
export function decodeReferenceValues(
  bytes: Uint8Array,
  now: Date,
  keys: readonly CorimKey[] = [],
): CorimReferences {
  const decoded = decodeCorim(bytes, {
    now,
    trustedKeys: keys,
    requireSignature: keys.length > 0,
  });
  const refs = corimToPolicy(decoded);
  if (referencePlatforms([refs]).length === 0) {
    throw new CorimError(
      'ERR_CORIM_UNSUPPORTED',
      'corim',
      `${corimIdText(decoded.corim)} states no reference values for TDX, SEV-SNP or Nitro`,
    );
  }
  return refs;
}

function storedPolicyOf(value: JsonValue): StoredPolicy {
  const v = value as Partial<StoredPolicy> | null;
  if (!v || (v.format !== 'json' && v.format !== 'yaml') || typeof v.source !== 'string') {
    throw new TypeError(`setting ${POLICY_SETTING} is not a stored policy`);
  }
  return { format: v.format, source: v.source };
}

/** The stored reference-value CoRIMs (base64url). */
export function storedCorims(value: JsonValue | undefined): string[] {
  const corims = (value as { corims?: unknown } | null | undefined)?.corims;
  if (value === undefined) return [];
  if (!Array.isArray(corims) || !corims.every((c) => typeof c === 'string')) {
    throw new TypeError(`setting ${REFERENCE_VALUES_SETTING} is not a list of CoRIMs`);
  }
  return corims as string[];
}

/**
 * The policy in force: the stored policy (or `options.base` when none is stored) with the
 * stored reference values merged in and the stored registrations (`registrations.ts`), when
 * there are, in place of its own. `undefined` means the built-in default.
 *
 * @throws `PolicyError`, `CorimError` or `TypeError` for a stored value this build cannot
 *   use; `StoreError` when the store cannot be read.
 */
export async function loadSharedPolicy(
  store: Store,
  now: Date,
  options: SharedPolicyOptions = {},
): Promise<Policy | undefined> {
  const stored = await store.settings.get(POLICY_SETTING);
  const refs = await store.settings.get(REFERENCE_VALUES_SETTING);
  const base = stored ? parseStoredPolicy(storedPolicyOf(stored.value)) : options.base;
  const corims = storedCorims(refs?.value);
  const partials = corims.map((c) =>
    decodeReferenceValues(new Uint8Array(Buffer.from(c, 'base64url')), now, options.corimKeys),
  );
  const merged = partials.length === 0 ? base : mergePolicies(base, ...partials);
  const registrations = await store.settings.get(REGISTRATIONS_SETTING);
  return withStoredRegistrations(merged, registrations?.value, options.trustDomain);
}
