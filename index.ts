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
export * from './common/errors.js';
export { appraiseEvidence } from './verifier/pipeline.js';
export type { AppraiseEvidenceInput, EvidenceReport, ReportError } from './verifier/pipeline.js';
export {
  detectPlatform,
  getPlatform,
  isPlatformName,
  platformForMediaType,
  platforms,
} from './verifier/platforms/registry.js';
export type {
  PlatformCodec,
  PlatformEvidence,
  PlatformName,
} from './verifier/platforms/registry.js';
export * as tdx from './verifier/platforms/tdx/index.js';
export * as sevSnp from './verifier/platforms/sev-snp/index.js';
export * as nitro from './verifier/platforms/nitro/index.js';
export { createVerificationCache } from './verifier/verify/cache.js';
export type { VerificationCache } from './verifier/verify/cache.js';
export { isVerified } from './verifier/verify/mint.js';
export type {
  AnchorInfo,
  AnchorStore,
  ClaimsOf,
  CollateralRef,
  DetailsOf,
  SuppliedEndorsements,
  TcbStatus,
  VerifiedEvidence,
  VerifyContext,
} from './verifier/verify/types.js';
export { appraise } from './verifier/appraise/appraise.js';
export type {
  Appraisal,
  Expectations,
  JsonValue,
  Platform,
  VerificationFailure,
  VerificationSummary,
  Violation,
  ViolationCode,
} from './verifier/appraise/types.js';
export { loadPolicy, parsePolicy, type LoadPolicyOptions } from './verifier/policy/loader.js';
export {
  defaultPolicy,
  DEFAULT_POLICY_ID,
  DEFAULT_TCB_TIERS,
} from './verifier/policy/normalize.js';
export { policySchema } from './verifier/policy/schema.js';
export {
  normalizeRegistrations,
  OPTIONAL_FIELDS,
  REGISTRATION_FIELDS,
  registrationsOverlap,
  REQUIRED_FIELDS,
} from './verifier/policy/registrations.js';
export { PolicyError, type PolicyErrorCode, type PolicyIssue } from './verifier/policy/errors.js';
export {
  AR4SI,
  pickClaim,
  TIER_CBOR,
  tierOf,
  VECTOR_KEYS,
  vectorStatus,
  worstTier,
  type Tier,
  type TrustVector,
  type VectorKey,
} from './verifier/policy/ar4si.js';
export type {
  PolicyPlatform,
  TcbTier,
  Reference,
  TdAttributeFlag,
  TdAttributesRule,
  TdxReferences,
  SnpPolicyFlag,
  SnpPolicyRule,
  SnpTcbComponent,
  VmplRule,
  SnpReferences,
  NitroReferences,
  AgentReferences,
  Registration,
  Policy,
} from './verifier/policy/types.js';
export {
  buildEar,
  EAR_JWT_TYP,
  TWI_APPRAISAL_PROFILE,
  TWI_POLICY_CLAIM,
  TWI_SIMULATED_CLAIM,
  TWI_VERIFICATION_CLAIM,
  type BuildEarInput,
  type EarRawEvidenceRecord,
  type EarAppraisal,
  type EarClaims,
  type VerifierId,
} from './verifier/ear/claims.js';
export {
  acceptedEatProfile,
  DEFAULT_EAR_PROFILE,
  DRAFT_03_EAR_PROFILE,
  earMediaType,
  earProfileOfUri,
  earProfileOption,
  EAR_PROFILE_NAMES,
  EAR_PROFILE_URIS,
  parseEarProfile,
  TRUSTEE_EAR_PROFILE,
  VERAISON_EAR_PROFILE,
  type EarProfile,
} from './verifier/ear/profiles.js';
export {
  fromVeraisonEar,
  toVeraisonEar,
  veraisonTier,
  type VeraisonEarAppraisal,
  type VeraisonEarClaims,
} from './verifier/ear/veraison.js';
export { veraisonEarProblems } from './verifier/ear/veraison-rules.js';
export {
  generateEarKey,
  signEar,
  verifyEar,
  type EarAlg,
  type EarKeyPair,
  type EarVerificationKey,
  type SignEarOptions,
  type VerifyEarOptions,
} from './verifier/ear/jwt.js';
export { draftEarProblems, earProblems } from './verifier/ear/validate.js';
export { EarError, type EarErrorCode } from './verifier/ear/errors.js';
// The v1 wire contract (ARCHITECTURE "Wire contracts"): media types, the evidence CMW and
// the messages of the verifier's HTTP API.
export * from './wire/media-types.js';
export { bindingReportData, jwkThumbprint, BINDING_LABEL } from './wire/binding.js';
export { decodeEvidenceCmw, encodeEvidenceCmw, EVIDENCE_CMW_TYPE } from './wire/cmw.js';
export type { EvidenceCmw, EvidenceCmwInput } from './wire/cmw.js';
export {
  cmwRecords,
  CMWC_TYPE_KEY,
  decodeCmw,
  encodeCmw,
  IND_APPRAISAL_POLICY,
  IND_ATTESTATION_RESULTS,
  IND_ENDORSEMENTS,
  IND_EVIDENCE,
  IND_REFERENCE_VALUES,
  IND_REGISTERED,
  indicatorsOf,
  isCmwCollectionType,
  MAX_CMW_DEPTH,
  MAX_CMW_ITEMS,
} from './wire/cmw-codec.js';
export type {
  CmwCollection,
  CmwCollectionNode,
  CmwIndicator,
  CmwItem,
  CmwNode,
  CmwRecord,
} from './wire/cmw-codec.js';
export { WireError } from './wire/errors.js';
export type { WireErrorCode } from './wire/errors.js';
export type {
  AppraiseRequest,
  AppraiseResponse,
  AttestRequest,
  AttestResponse,
  ChallengeResponse,
  X509Credential,
} from './wire/messages.js';
export { loadAnchorStore, TrustAnchorError } from './endorsements/anchors.js';
export * as wimse from './wimse/rp.js';
export { openStore } from './service/store/open.js';
export type { Store } from './service/store/types.js';
export { createService } from './service/service.js';
