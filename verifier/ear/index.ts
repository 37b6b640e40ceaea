/**
 * EAT Attestation Results (draft-ietf-rats-ear-03): building EAR claims-sets from
 * appraisals, signing them as `eat+jwt` JWTs and verifying them.
 *
 * @example
 * ```ts
 * import { buildEar, generateEarKey, signEar, verifyEar } from './ear/index.js';
 * const key = generateEarKey('ES256');
 * const jwt = await signEar(buildEar({ appraisals: { tdx: appraisal }, verifierId, iat }), {
 *   key: key.privateKey,
 *   alg: 'ES256',
 *   kid: key.kid,
 * });
 * const ear = await verifyEar(jwt, { keys: [key.publicJwk] }, { now: new Date() });
 * ```
 *
 * @module
 */
export {
  buildEar,
  EAR_JWT_TYP,
  EAR_MEDIA_TYPE,
  EAR_PROFILE,
  TWI_APPRAISAL_PROFILE,
  TWI_POLICY_CLAIM,
  TWI_SIMULATED_CLAIM,
  TWI_VERIFICATION_CLAIM,
} from './claims.js';
export type { BuildEarInput, EarAppraisal, EarClaims, VerifierId } from './claims.js';
export { generateEarKey, signEar, verifyEar } from './jwt.js';
export type {
  EarAlg,
  EarKeyPair,
  EarVerificationKey,
  SignEarOptions,
  VerifyEarOptions,
} from './jwt.js';
export { earProblems } from './validate.js';
export { EarError } from './errors.js';
export type { EarErrorCode } from './errors.js';
