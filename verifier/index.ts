/**
 * twi's public library API: the appraisal pipeline, the evidence codecs and verify stage per
 * platform, appraisal policy, EAR, trust anchors and errors.
 *
 * @example
 * ```ts
 * import { appraiseEvidence, createVerificationCache, loadAnchorStore } from 'twi';
 * const report = appraiseEvidence({
 *   evidence, endorsements: { tdxCollateral }, now: new Date(),
 *   anchors: loadAnchorStore(), cache: createVerificationCache(),
 * });
 * ```
 *
 * @module
 */
export * from './errors.js';
export { appraiseEvidence } from './pipeline.js';
export type { AppraiseEvidenceInput, EvidenceReport, ReportError } from './pipeline.js';
export {
  detectPlatform,
  getPlatform,
  isPlatformName,
  platformForMediaType,
  platforms,
} from './platforms/registry.js';
export type { PlatformCodec, PlatformName } from './platforms/registry.js';
export * as tdx from './platforms/tdx/index.js';
export * as sevSnp from './platforms/sev-snp/index.js';
export * as nitro from './platforms/nitro/index.js';
export { createVerificationCache } from './verify/cache.js';
export type { VerificationCache } from './verify/cache.js';
export { isVerified } from './verify/mint.js';
export type {
  AnchorInfo,
  AnchorStore,
  CollateralRef,
  SuppliedEndorsements,
  TcbStatus,
  VerifiedEvidence,
  VerifyContext,
} from './verify/types.js';
export * from './appraise/index.js';
export * from './ear/index.js';
export { bindingReportData, jwkThumbprint, BINDING_LABEL } from './binding.js';
export { loadAnchorStore, TrustAnchorError } from '../endorsements/anchors.js';
export * as wimse from './wimse/index.js';
export { openStore } from './store/index.js';
export type { Store } from './store/index.js';
export { createService } from './service/index.js';
