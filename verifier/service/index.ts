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
  loadOrCreateSigningKey,
  openidConfiguration,
  publicJwks,
  spiffeBundle,
} from './keys.js';
export type { ServiceSigningKey } from './keys.js';
export { createMetrics, LATENCY_BUCKETS } from './metrics.js';
export type { ServiceMetrics } from './metrics.js';
export { PROBLEM_MEDIA_TYPE, problem, ProblemError } from './problem.js';
export type { Problem } from './problem.js';
export { MEASUREMENT_PREFIX_HEX, workloadSubject } from './subject.js';
