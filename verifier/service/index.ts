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
export {
  derivedSubject,
  IDENTITY_FIELDS,
  identityMeasurements,
  MEASUREMENT_ID_BYTES,
  MEASUREMENT_ID_LABEL,
  measurementDigest,
} from './subject.js';
export type { IdentityMeasurement, MeasuredEvidence } from './subject.js';
export {
  assignIdentity,
  identityRecord,
  matchRegistration,
  TWI_IDENTITY_CLAIM,
} from './identity.js';
export type { AssignIdentityInput, IdentityAssignment, IdentityRefusal } from './identity.js';
export {
  checkRegistrationDomain,
  parseRegistrations,
  REGISTRATIONS_SETTING,
  withStoredRegistrations,
} from './registrations.js';
export { registerRegistrationRoutes } from './registrations-routes.js';
export type { RegistrationsContext } from './registrations-routes.js';
export { ALG_OF_CURVE, checkWorkloadKey, PRIVATE_JWK_MEMBERS } from './workload-key.js';
export type { WorkloadKey } from './workload-key.js';
