/**
 * What the admin API changes while the service runs (signing key, policy) and the bundle the
 * service publishes from it, with the recently revoked credential ids.
 *
 * @module
 */
import type { Policy } from '../appraise/index.js';
import type { Store } from '../store/index.js';
import { spiffeBundle, type ServiceSigningKey, type SpiffeBundle } from './keys.js';

/** The mutable part of a running service. */
export interface ServiceState {
  /** The key that signs new EARs and WITs. */
  key: ServiceSigningKey;
  /** The policy later appraisals use; the built-in default when `undefined`. */
  policy: Policy | undefined;
  /** Number of policy replacements since start (counted into `spiffe_sequence`). */
  policyGeneration: number;
}

/** The bundle of `GET /v1/bundle` and `GET /v1/bundle/events`. */
export interface ServiceBundle extends SpiffeBundle {
  /**
   * Credential ids (`jti`) revoked within the last WIT lifetime. Older revocations are left
   * out: every WIT they concern has expired.
   */
  revoked_jtis: string[];
}

/** Inputs of {@link serviceBundle}. */
export interface BundleSource {
  readonly store: Store;
  readonly state: ServiceState;
  readonly now: () => Date;
  readonly witLifetimeSeconds: number;
}

/**
 * The current bundle: published keys (unrevoked, not retired), `revoked_jtis`, and a
 * `spiffe_sequence` that grows with every key addition, key revocation or retirement,
 * credential revocation and policy replacement.
 */
export async function serviceBundle(src: BundleSource): Promise<ServiceBundle> {
  const now = src.now();
  const bundle = await spiffeBundle(src.store, {
    now,
    witLifetimeSeconds: src.witLifetimeSeconds,
  });
  const revocations = await src.store.credentials.revokedSince(0);
  const horizon = now.getTime() - src.witLifetimeSeconds * 1000;
  const recent = revocations.filter((r) => r.revokedAt.getTime() > horizon).map((r) => r.jti);
  return {
    ...bundle,
    spiffe_sequence: bundle.spiffe_sequence + revocations.length + src.state.policyGeneration,
    revoked_jtis: recent,
  };
}
