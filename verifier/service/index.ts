/**
 * The verifier service: {@link createService} builds the HTTP API of ARCHITECTURE
 * "Wire contracts (v1)" over a verifier store.
 *
 * @module
 */
export { createService, DEFAULT_BODY_LIMIT, REDACTED_LOG_PATHS } from './service.js';
export type { ServiceOptions } from './service.js';
export { appraiseOnly, attest, SERVICE_VERIFIER_ID } from './attest.js';
export type { AppraiseRequest, AttestRequest, AttestResponse } from './attest.js';
export {
  CMWC_TYPE_KEY,
  ENDORSEMENT_MEDIA_TYPES,
  IND_ENDORSEMENTS,
  IND_EVIDENCE,
  parseEvidenceCmw,
} from './cmw.js';
export type { ParsedCmw } from './cmw.js';
export {
  BUNDLE_REFRESH_HINT_SECONDS,
  bundleKeys,
  createSigningKey,
  loadOrCreateSigningKey,
  openidConfiguration,
  publicJwks,
  publishedKeys,
  retiresAt,
  spiffeBundle,
} from './keys.js';
export type { KeyView, ServiceSigningKey, SpiffeBundle } from './keys.js';
export {
  bearerMatches,
  policyFromBody,
  registerAdminRoutes,
  storedPolicyFromBody,
  YAML_MEDIA_TYPES,
} from './admin.js';
export type { AdminContext } from './admin.js';
export { serviceBundle } from './admin-state.js';
export type { BundleSource, ServiceBundle, ServiceState } from './admin-state.js';
export { bundleFrame, createBundleEvents, EVENT_STREAM_TYPE, HEARTBEAT_MS } from './events.js';
export type { BundleEventData, BundleEvents, BundleEventsOptions } from './events.js';
export { createMetrics, LATENCY_BUCKETS } from './metrics.js';
export type { CacheSnapshot, ServiceMetrics } from './metrics.js';
export {
  decodeReferenceValues,
  loadSharedPolicy,
  parseStoredPolicy,
  POLICY_SETTING,
  REFERENCE_VALUES_SETTING,
} from './shared-settings.js';
export type { SharedPolicyOptions, StoredPolicy } from './shared-settings.js';
export { createStateSync, SYNC_INTERVAL_MS } from './sync.js';
export type { StateSync, StateSyncOptions } from './sync.js';
export { PROBLEM_MEDIA_TYPE, problem, ProblemError } from './problem.js';
export type { Problem } from './problem.js';
export { MEASUREMENT_PREFIX_HEX, workloadSubject } from './subject.js';
