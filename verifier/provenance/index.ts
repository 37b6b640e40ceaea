/**
 * Provenance: supply-chain records (DSSE, in-toto Statement v1, SLSA provenance v1, SBOM
 * references, signed CoRIMs), the linker that binds every credential's `jti` to them at
 * issuance, and the RFC 9162 transparency log (hashing, proofs, signed tree heads). See
 * `docs/provenance.md`.
 *
 * @module
 */
export { canonicalBytes, canonicalJson } from '../canonical-json.js';
export {
  builderKey,
  decodeBase64,
  defaultKeyid,
  DSSE_LIMITS,
  IN_TOTO_PAYLOAD_TYPE,
  pae,
  parseEnvelope,
  signEnvelope,
  verifyEnvelope,
} from './dsse.js';
export type { BuilderKey, DsseEnvelope } from './dsse.js';
export { PROVENANCE_STATUS, ProvenanceError } from './errors.js';
export type { ProvenanceCode } from './errors.js';
export {
  ISSUANCE_LEAF_TYPE,
  issuanceIndex,
  linkIssuance,
  SUPPLY_CHAIN_LEAF_TYPE,
  supplyChainLeaf,
} from './linker.js';
export type { IssuanceFacts, LinkedIssuance } from './linker.js';
export {
  algOfHex,
  digestKey,
  matchingReferences,
  measurementsOf,
  referenceValuesOf,
} from './measurements.js';
export type { Measurement, ReferenceValue } from './measurements.js';
export {
  consistencyRanges,
  emptyRoot,
  foldCover,
  HASH_SIZE,
  inclusionRanges,
  leafHash,
  nodeHash,
  perfectCover,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';
export type { LeafRange, NodeId } from './merkle.js';
export {
  acceptRecord,
  MAX_RECORD_BYTES,
  recordKeys,
  recordSummary,
  storedRecordJson,
} from './records.js';
export type { RecordInput, RecordKey, RecordTrust, SupplyChainRecord } from './records.js';
export {
  ACCEPTED_DIGESTS,
  parseStatement,
  readSlsa,
  sbomFormat,
  SLSA_PROVENANCE_V1,
  STATEMENT_V1,
} from './statement.js';
export type { DigestAlg, SbomSummary, SlsaSummary, Statement, Subject } from './statement.js';
export {
  decodeHash,
  generateLogKey,
  logKeyFromPem,
  publishLogKey,
  signTreeHead,
  TREE_HEAD_ALG,
  treeHeadData,
  verifyTreeHead,
} from './tree-head.js';
export type { LogKey, PublishedLogKey, SignedTreeHead } from './tree-head.js';
export { verifyConsistencyAnswer, verifyProvenanceAnswer } from './verify-answer.js';
export type { ProvenanceAnswer, VerifiedAnswer } from './verify-answer.js';
export { parseBuilderKeys } from './builder-config.js';
