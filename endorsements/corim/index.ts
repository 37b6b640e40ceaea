/**
 * CoRIM reference values (draft-ietf-rats-corim-11): decode and verify signed or unsigned
 * CoRIMs, map their reference triples to twi policy reference values (AMD SEV-SNP CoRIM
 * profile; twi's TDX and Nitro conventions), merge them into a policy, and build or sign
 * CoRIMs. See `docs/corim.md`.
 *
 * @example
 * ```ts
 * import { decodeCorim, corimToPolicy, mergePolicies } from './endorsements/corim/index.js';
 * const decoded = decodeCorim(bytes, { now: new Date(), trustedKeys: [vendorJwk] });
 * const policy = mergePolicies(loadPolicy('policy.yaml'), corimToPolicy(decoded));
 * ```
 *
 * @module
 */
export type * from './types.js';
export { FLAG_NAMES } from './types.js';
export { CorimError } from './errors.js';
export type { CorimErrorCode } from './errors.js';
export { DEFAULT_CBOR_LIMITS } from './cbor.js';
export type { CborLimits } from './cbor.js';
export { decodeCorim } from './decode-corim.js';
export type { DecodeCorimOptions } from './decode-corim.js';
export { CORIM_CONTENT_TYPE } from './cose.js';
export type { CorimKey, SignCorimOptions } from './cose.js';
export { buildComid, buildCorim, signCorim } from './encode.js';
export { corimIdText, corimToPolicy, mergePolicies, referencePlatforms } from './policy.js';
export type { CorimReferences } from './policy.js';
export { applyCorimFiles, loadCorimKeys, loadCorimPolicies } from './load.js';
export type { ApplyCorimOptions, LoadCorimOptions } from './load.js';
export { describeCorim, describeCorimText } from './describe.js';
export type { CorimDescription, TripleDescription } from './describe.js';
export { nitroReferenceTriple, snpReferenceTriple, tdxReferenceTriple } from './templates.js';
export type { SnpTemplate, TdxTemplate } from './templates.js';
export {
  NITRO_ENCLAVE_CLASS_UUID,
  NITRO_PCR_MKEY,
  platformEnvironment,
  SNP_CLASS_BY_CHIP,
  SNP_CLASS_BY_CSP,
  SNP_MKEY,
  SNP_PROFILE,
  TDX_MKEYS,
  TDX_TD_CLASS_UUID,
  TWI_PROFILE,
} from './profiles.js';
export type { CorimPlatform, TdxMkey } from './profiles.js';
