/**
 * What the admin API changes while the service runs (signing key, policy) and the bundle the
 * service publishes, with the recently revoked credential ids.
 *
 * @internal
 * @module
 */
import type { Policy } from '../verifier/policy/types.js';
import type { Store } from './store/types.js';
import {
  BUNDLE_REFRESH_HINT_SECONDS,
  bundleKeys,
  retiresAt,
  type ServiceSigningKey,
  type SpiffeBundle,
} from './keys.js';
import { publishedCas, x509SvidJwk, type ServiceCa } from './ca-keys.js';
import { DEFAULT_CERT_LIFETIME_SECONDS } from './ca/profile.js';

/**
 * The mutable part of a running service, loaded from the store and kept in step with it by
 * the change-log follower (`sync.ts`).
 */
export interface ServiceState {
  /** The key that signs new EARs and WITs. */
  key: ServiceSigningKey;
  /** The policy later appraisals use; the built-in default when `undefined`. */
  policy: Policy | undefined;
  /** The CA that signs X.509 workload certificates. */
  ca: ServiceCa;
}

/** The bundle of `GET /v1/bundle` and `GET /v1/bundle/events`. */
export interface ServiceBundle extends SpiffeBundle {
  /**
   * Credential ids (`jti`) revoked within the last WIT or certificate lifetime (the longer).
   * Older revocations are left out: every WIT and certificate they concern has expired.
   */
  revoked_jtis: string[];
  /**
   * Serial numbers (lowercase hex, no leading zero byte) of the X.509 certificates of those
   * credentials, for TLS relying parties that match the certificate rather than its `jti`.
   */
  revoked_serials: string[];
}

/** Inputs of {@link serviceBundle}. */
export interface BundleSource {
  readonly store: Store;
  readonly now: () => Date;
  readonly witLifetimeSeconds: number;
  /** `spiffe_refresh_hint`, seconds (default {@link BUNDLE_REFRESH_HINT_SECONDS}). */
  readonly refreshHintSeconds?: number;
  /** Lifetime of issued certificates: how long a replaced CA stays published (default 3600). */
  readonly certLifetimeSeconds?: number;
}

/**
 * The current bundle: published signing keys (unrevoked, not retired) with `use: "wit-svid"`,
 * the published issuing CAs (`ca-keys.ts`) with `use: "x509-svid"` and `x5c`, `revoked_jtis`
 * and `revoked_serials`, and a `spiffe_sequence` that every instance on the store computes
 * alike: the store's change `seq` (one per key or CA added, key revoked, credential revoked,
 * setting replaced) plus the number of keys and CAs retired since (retirement is a matter of
 * time, not a change; {@link nextRetirement} says when the next one falls). The sequence is
 * read first, so the content is never older than the number it carries.
 */
export async function serviceBundle(src: BundleSource): Promise<ServiceBundle> {
  const now = src.now();
  const seq = await src.store.changes.latest();
  const all = await src.store.keys.list();
  const view = { now, witLifetimeSeconds: src.witLifetimeSeconds };
  const keys = bundleKeys(all, view);
  const cas = await src.store.caKeys.list();
  const certLifetime = src.certLifetimeSeconds ?? DEFAULT_CERT_LIFETIME_SECONDS;
  const liveCas = publishedCas(cas, now, certLifetime);
  const retired =
    all.filter((k) => k.revokedAt === undefined).length - keys.length + cas.length - liveCas.length;
  const revocations = await src.store.credentials.revokedSince(0);
  // A revoked jti stays listed while its WIT or its certificate may still be valid.
  const lifetime = Math.max(src.witLifetimeSeconds, certLifetime);
  const horizon = now.getTime() - lifetime * 1000;
  const recent = revocations.filter((r) => r.revokedAt.getTime() > horizon);
  return {
    keys: [...keys, ...liveCas.map(x509SvidJwk)],
    spiffe_sequence: seq + retired,
    spiffe_refresh_hint: src.refreshHintSeconds ?? BUNDLE_REFRESH_HINT_SECONDS,
    revoked_jtis: recent.map((r) => r.jti),
    revoked_serials: recent.flatMap((r) => (r.serial === undefined ? [] : [r.serial])),
  };
}

/**
 * The next instant after `now` at which a published signing key or CA leaves the bundle by time
 * (and so `spiffe_sequence` moves without a change in the store): a rotated-out key one WIT
 * lifetime after its successor was created, a replaced CA one certificate lifetime after its
 * successor was created, a CA at its notAfter. `undefined` when nothing published will retire.
 */
export async function nextRetirement(src: BundleSource): Promise<Date | undefined> {
  const now = src.now().getTime();
  const keys = await src.store.keys.list();
  const cas = await src.store.caKeys.list();
  const certLifetimeMs = (src.certLifetimeSeconds ?? DEFAULT_CERT_LIFETIME_SECONDS) * 1000;
  // Each entry leaves at its first end; one whose end is past is no longer published.
  const instants: number[] = [];
  keys.forEach((k, i) => {
    const end = k.revokedAt === undefined && retiresAt(keys, i, src.witLifetimeSeconds);
    if (end) instants.push(end.getTime());
  });
  cas.forEach((rec, i) => {
    const next = cas[i + 1];
    const replaced = next ? next.createdAt.getTime() + certLifetimeMs : Infinity;
    instants.push(Math.min(rec.notAfter.getTime(), replaced));
  });
  const future = instants.filter((t) => t > now);
  return future.length === 0 ? undefined : new Date(Math.min(...future));
}
