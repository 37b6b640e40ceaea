/**
 * Supply-chain records: what a reference-value provider (a builder, an SBOM generator, a
 * vendor publishing a CoRIM) hands the verifier, checked before anything is stored. A DSSE
 * envelope carrying an in-toto Statement v1 (SLSA provenance v1 or an SBOM reference), or a
 * COSE-signed CoRIM. Every refusal is a {@link ProvenanceError} with its own code.
 *
 * A record is named by its digest: `sha256:<hex>` of the DSSE payload (the Statement bytes,
 * so re-signing the same Statement, or sending it in a Sigstore bundle, is a duplicate) or of
 * the CoRIM bytes.
 *
 * @internal
 * @module
 */
import { IN_TOTO_MEDIA_TYPE } from '../wire/media-types.js';
import { corimIdText, corimToPolicy } from '../endorsements/corim/policy.js';
import { CorimError } from '../endorsements/corim/errors.js';
import { decodeCorim } from '../endorsements/corim/decode-corim.js';
import type { CorimKey } from '../endorsements/corim/cose.js';
import { sha256Hex } from '../common/bytes.js';
import { canonicalJson } from '../common/canonical-json.js';
import { DSSE_LIMITS, parseEnvelope, verifyEnvelope, type BuilderKey } from './dsse.js';
import { isSigstoreBundle, verifySigstoreBundle, type SigstoreTrust } from './sigstore.js';
import { ProvenanceError, type ProvenanceCode } from './errors.js';
import { algOfHex, digestKey, referenceValuesOf, type ReferenceValue } from './measurements.js';
import {
  parseStatement,
  readSlsa,
  readSlsaV02,
  sbomFormat,
  SLSA_PROVENANCE_V02,
  SLSA_PROVENANCE_V1,
  type Subject,
} from './statement.js';

/** Largest record accepted (envelope JSON text or CoRIM bytes). */
export const MAX_RECORD_BYTES = 256 * 1024;

/** Keys records must be signed with. */
export interface RecordTrust {
  /** Builder keys for DSSE envelopes. */
  readonly builders: readonly BuilderKey[];
  /** Keys signed CoRIMs must verify with. */
  readonly corimKeys: readonly CorimKey[];
  /** Trust root and builder identities for Sigstore bundles (none: bundles are refused). */
  readonly sigstore?: SigstoreTrust;
}

/**
 * A record as submitted. A `dsse` input whose JSON is a Sigstore bundle (its `mediaType` is
 * `application/vnd.dev.sigstore.bundle…`) is checked as one.
 */
export type RecordInput =
  | { readonly kind: 'dsse'; readonly envelope: unknown }
  | { readonly kind: 'corim'; readonly bytes: Uint8Array };

/** A checked supply-chain record. */
export interface SupplyChainRecord {
  /** `sha256:<hex>` of the Statement or CoRIM bytes. */
  readonly digest: string;
  readonly kind: 'slsa-provenance' | 'sbom' | 'corim';
  /** The in-toto predicate type (DSSE records). */
  readonly predicateType?: string;
  /**
   * keyids of the builder keys that verified (DSSE), the certificate's subject alternative
   * name (Sigstore bundle) or `cose` (CoRIM).
   */
  readonly signers: readonly string[];
  /** The OIDC issuer of the Fulcio certificate (Sigstore bundles). */
  readonly signerIssuer?: string;
  readonly builderId?: string;
  readonly buildType?: string;
  readonly sourceRepository?: string;
  readonly sourceCommit?: string;
  readonly sbomFormat?: 'spdx' | 'cyclonedx';
  /** The CoRIM id (CoRIM records). */
  readonly corimId?: string;
  readonly subjects: readonly Subject[];
  /** Measurement reference values a CoRIM states. */
  readonly references: readonly ReferenceValue[];
  /** base64 of the record as stored: envelope JSON (canonical) or CoRIM bytes. */
  readonly raw: string;
}

/** One index entry of a record: which measurement field (`*` = any) and digest key. */
export interface RecordKey {
  readonly field: string;
  readonly key: string;
}

const sha256 = (b: Uint8Array): string => 'sha256:' + sha256Hex(b);

/** Who signed a verified envelope, and the builder ids they may speak for. */
interface VerifiedSigners {
  readonly signers: readonly string[];
  readonly builderIds: ReadonlySet<string>;
  readonly issuer?: string;
}

function acceptJson(json: unknown, trust: RecordTrust): SupplyChainRecord {
  const text = canonicalJsonSafe(json);
  if (Buffer.byteLength(text) > MAX_RECORD_BYTES) {
    throw new ProvenanceError('ERR_PROVENANCE_OVERSIZED', `record over ${MAX_RECORD_BYTES} bytes`);
  }
  const raw = Buffer.from(text).toString('base64');
  if (isSigstoreBundle(json)) {
    const v = verifySigstoreBundle(json, trust.sigstore);
    if (v.payload.length > DSSE_LIMITS.maxPayloadBytes) {
      throw new ProvenanceError('ERR_PROVENANCE_OVERSIZED', 'payload is too large');
    }
    const signed: VerifiedSigners = {
      signers: [v.subject],
      builderIds: new Set(v.identities.flatMap((id) => id.builderIds)),
      issuer: v.issuer,
    };
    return acceptStatement(v.payloadType, v.payload, signed, raw);
  }
  const env = parseEnvelope(json);
  checkPayloadType(env.payloadType);
  const keys = verifyEnvelope(env, trust.builders);
  const signed: VerifiedSigners = {
    signers: keys.map((k) => k.keyid),
    builderIds: new Set(keys.flatMap((k) => k.builderIds)),
  };
  return acceptStatement(env.payloadType, env.payload, signed, raw);
}

function checkPayloadType(payloadType: string): void {
  if (payloadType !== IN_TOTO_MEDIA_TYPE) {
    throw new ProvenanceError(
      'ERR_PROVENANCE_UNSUPPORTED',
      `payloadType ${JSON.stringify(payloadType)} is not ${IN_TOTO_MEDIA_TYPE}`,
    );
  }
}

function acceptStatement(
  payloadType: string,
  payload: Uint8Array,
  signed: VerifiedSigners,
  raw: string,
): SupplyChainRecord {
  checkPayloadType(payloadType);
  const statement = parseStatement(payload);
  const base = {
    digest: sha256(payload),
    predicateType: statement.predicateType,
    signers: [...signed.signers],
    ...(signed.issuer !== undefined && { signerIssuer: signed.issuer }),
    subjects: statement.subjects,
    references: [],
    raw,
  };
  const reader =
    statement.predicateType === SLSA_PROVENANCE_V1
      ? readSlsa
      : statement.predicateType === SLSA_PROVENANCE_V02
        ? readSlsaV02
        : undefined;
  if (reader) {
    const slsa = reader(statement.predicate);
    if (!signed.builderIds.has(slsa.builderId)) {
      throw new ProvenanceError(
        'ERR_PROVENANCE_UNKNOWN_BUILDER',
        `builder ${JSON.stringify(slsa.builderId)} is not configured for the signer`,
      );
    }
    return { ...base, kind: 'slsa-provenance', ...slsa };
  }
  const format = sbomFormat(statement.predicateType);
  if (format) return { ...base, kind: 'sbom', sbomFormat: format };
  throw new ProvenanceError(
    'ERR_PROVENANCE_UNSUPPORTED',
    `predicateType ${JSON.stringify(statement.predicateType)} is not SLSA provenance v1 / v0.2 or an SBOM`,
  );
}

function canonicalJsonSafe(v: unknown): string {
  try {
    return canonicalJson(v);
  } catch (err) {
    throw new ProvenanceError('ERR_PROVENANCE_MALFORMED', 'the record is not plain JSON', {
      cause: err,
    });
  }
}

const CORIM_CODES: Readonly<Record<string, ProvenanceCode>> = {
  ERR_CORIM_INVALID: 'ERR_PROVENANCE_MALFORMED',
  ERR_CORIM_UNSUPPORTED: 'ERR_PROVENANCE_UNSUPPORTED',
};

function acceptCorim(bytes: Uint8Array, trust: RecordTrust, now: Date): SupplyChainRecord {
  if (bytes.length > MAX_RECORD_BYTES) {
    throw new ProvenanceError('ERR_PROVENANCE_OVERSIZED', `CoRIM over ${MAX_RECORD_BYTES} bytes`);
  }
  if (trust.corimKeys.length === 0) {
    throw new ProvenanceError('ERR_PROVENANCE_UNVERIFIABLE', 'no CoRIM signing key is configured');
  }
  try {
    const decoded = decodeCorim(bytes, {
      now,
      trustedKeys: trust.corimKeys,
      requireSignature: true,
    });
    const references = referenceValuesOf(corimToPolicy(decoded));
    if (references.length === 0) {
      throw new ProvenanceError('ERR_PROVENANCE_UNSUPPORTED', 'the CoRIM states no measurement');
    }
    return {
      digest: sha256(bytes),
      kind: 'corim',
      signers: ['cose'],
      corimId: corimIdText(decoded.corim),
      subjects: [],
      references,
      raw: Buffer.from(bytes).toString('base64'),
    };
  } catch (err) {
    if (!(err instanceof CorimError)) throw err;
    const code = CORIM_CODES[err.code] ?? 'ERR_PROVENANCE_UNVERIFIABLE';
    throw new ProvenanceError(code, `CoRIM: ${err.message}`, { cause: err });
  }
}

/**
 * Checks a submitted record: signature against the configured keys, structure, digests,
 * builder. Nothing is stored here.
 *
 * @throws {ProvenanceError} with the code of the first problem found.
 *
 * @example
 * ```ts
 * const record = acceptRecord({ kind: 'dsse', envelope }, { builders, corimKeys: [] }, new Date());
 * record.sourceCommit; // 'c27d339e…'
 * ```
 */
export function acceptRecord(input: RecordInput, trust: RecordTrust, now: Date): SupplyChainRecord {
  return input.kind === 'dsse'
    ? acceptJson(input.envelope, trust)
    : acceptCorim(input.bytes, trust, now);
}

/**
 * The index entries of a record: each subject digest for any measurement field (`*`), each
 * CoRIM reference value for its own `platform.field`.
 */
export function recordKeys(record: SupplyChainRecord): RecordKey[] {
  const keys = new Map<string, RecordKey>();
  for (const s of record.subjects) {
    for (const d of s.digests)
      keys.set(`*|${d.alg}|${d.value}`, { field: '*', key: digestKey(d.alg, d.value) });
  }
  for (const r of record.references) {
    const alg = algOfHex(r.value);
    if (!alg) continue;
    const field = `${r.platform}.${r.field}`;
    keys.set(`${field}|${r.value}`, { field, key: digestKey(alg, r.value) });
  }
  return [...keys.values()];
}

/** The summary of a record the ledger and the API show (no raw bytes). */
export function recordSummary(r: SupplyChainRecord): Record<string, unknown> {
  return {
    digest: r.digest,
    kind: r.kind,
    ...(r.predicateType && { predicate_type: r.predicateType }),
    ...(r.builderId && { builder_id: r.builderId }),
    ...(r.buildType && { build_type: r.buildType }),
    ...(r.sourceRepository && { source_repository: r.sourceRepository }),
    ...(r.sourceCommit && { source_commit: r.sourceCommit }),
    ...(r.sbomFormat && { sbom_format: r.sbomFormat }),
    ...(r.signerIssuer && { signer_issuer: r.signerIssuer }),
    ...(r.corimId && { corim_id: r.corimId }),
    signers: [...r.signers],
  };
}

/** The JSON the store keeps for a record: its summary, subjects, references and raw bytes. */
export function storedRecordJson(r: SupplyChainRecord): Record<string, unknown> {
  return {
    ...recordSummary(r),
    subjects: r.subjects.map((s) => ({
      ...(s.name !== undefined && { name: s.name }),
      digests: s.digests.map((d) => ({ alg: d.alg, value: d.value })),
    })),
    references: r.references.map((x) => ({ ...x })),
    raw: r.raw,
  };
}
