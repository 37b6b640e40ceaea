/**
 * The service side of the provenance linker: the trusted builder and CoRIM keys and the
 * Sigstore trust (trusted root and builder identities), the log key (kept in the store,
 * shared by every instance), accepting records (admin API or the attester's
 * `supply_chain`), and the issuance commit that writes the credential, its log
 * leaf and its index entries in one transaction before the WIT is returned.
 *
 * @internal
 * @module
 */
import type { CorimKey } from '../endorsements/corim/cose.js';
import {
  acceptRecord,
  recordKeys,
  storedRecordJson,
  type RecordInput,
  type RecordTrust,
  type SupplyChainRecord,
} from '../provenance/records.js';
import { canonicalJson } from '../common/canonical-json.js';
import { generateLogKey, logKeyFromPem, type LogKey } from '../provenance/tree-head.js';
import { linkIssuance, supplyChainLeaf, type IssuanceFacts } from '../provenance/linker.js';
import { ProvenanceError } from '../provenance/errors.js';
import type { BuilderKey } from '../provenance/dsse.js';
import type { SigstoreTrust } from '../provenance/sigstore.js';
import { StoreDuplicateError } from './store/errors.js';
import type { CredentialRecord } from '../provenance/ledger-record.js';
import type { Store } from './store/types.js';
import type { JsonValue } from '../common/json.js';

/** Provenance settings of the service. */
export interface ProvenanceOptions {
  /** Keys builders sign DSSE envelopes with, and the builder ids each may speak for. */
  readonly builders?: readonly BuilderKey[];
  /** Keys signed CoRIMs must verify with. */
  readonly corimKeys?: readonly CorimKey[];
  /** Trusted root and builder identities for Sigstore bundles. */
  readonly sigstore?: SigstoreTrust;
  /**
   * Origin line and key name of the log's C2SP checkpoints (a schema-less URL, no spaces or
   * `+`); unset: the issuer's host and path then `/twi/provenance`.
   */
  readonly checkpointOrigin?: string;
  /**
   * The log's OID (dotted, allocated by the operator): tree heads then also carry the RFC 9162
   * `signed_tree_head_v2` TransItem with it as log id.
   */
  readonly logOid?: string;
  /**
   * Called right after the issuance commit, before the response is sent. For crash tests
   * (a test kills the process here); leave unset otherwise.
   */
  readonly afterCommit?: (jti: string) => void;
}

/** The outcome of storing a record. */
export interface StoredOutcome {
  readonly record: SupplyChainRecord;
  readonly leafIndex: number;
}

/** What the request handlers use. */
export interface ProvenanceService {
  readonly trust: RecordTrust;
  readonly logKey: LogKey;
  /** Checks a record without storing it. */
  check(input: RecordInput, now: Date): SupplyChainRecord;
  /**
   * Stores a checked record and logs it.
   *
   * @throws {ProvenanceError} `ERR_PROVENANCE_DUPLICATE` unless `ignoreDuplicate`.
   */
  store(
    record: SupplyChainRecord,
    now: Date,
    ignoreDuplicate?: boolean,
  ): Promise<StoredOutcome | undefined>;
  /** Checks the attester's `supply_chain` (an array of DSSE envelopes or `{ corim }`). */
  checkSupplied(value: unknown, now: Date): SupplyChainRecord[];
  /** Links and commits an issued credential (durable on return). */
  commit(credential: CredentialRecord, facts: IssuanceFacts): Promise<number>;
}

/** Most records an attester may send with one attestation. */
export const MAX_SUPPLIED_RECORDS = 8;

function suppliedInput(item: unknown, i: number): RecordInput {
  if (typeof item === 'object' && item !== null && 'corim' in item) {
    const b64 = (item as { corim: unknown }).corim;
    if (typeof b64 !== 'string' || !/^[A-Za-z0-9_-]*$/.test(b64)) {
      throw new ProvenanceError(
        'ERR_PROVENANCE_MALFORMED',
        `supply_chain[${i}].corim must be base64url`,
      );
    }
    return { kind: 'corim', bytes: new Uint8Array(Buffer.from(b64, 'base64url')) };
  }
  return { kind: 'dsse', envelope: item };
}

/**
 * Builds the provenance service: loads (or creates and stores) the log key.
 *
 * @example
 * ```ts
 * const provenance = await createProvenanceService(store, { builders: [builderKey(pem, [id])] });
 * ```
 */
export async function createProvenanceService(
  store: Store,
  options: ProvenanceOptions = {},
): Promise<ProvenanceService> {
  const logKey = logKeyFromPem(await store.provenance.logKeyPem(() => generateLogKey().pem));
  const trust: RecordTrust = {
    builders: options.builders ?? [],
    corimKeys: options.corimKeys ?? [],
    ...(options.sigstore && { sigstore: options.sigstore }),
  };
  const service: ProvenanceService = {
    trust,
    logKey,
    check: (input, now) => acceptRecord(input, trust, now),
    async store(record, now, ignoreDuplicate = false) {
      try {
        const { leafIndex } = await store.provenance.putRecord({
          digest: record.digest,
          kind: record.kind,
          record: storedRecordJson(record) as JsonValue,
          keys: recordKeys(record),
          leafData: canonicalJson(supplyChainLeaf(record)),
          createdAt: now,
        });
        return { record, leafIndex };
      } catch (err) {
        if (!(err instanceof StoreDuplicateError)) throw err;
        if (ignoreDuplicate) return undefined;
        throw new ProvenanceError(
          'ERR_PROVENANCE_DUPLICATE',
          `record ${record.digest} is already stored`,
          {
            cause: err,
          },
        );
      }
    },
    checkSupplied(value, now) {
      if (value === undefined) return [];
      if (!Array.isArray(value)) {
        throw new ProvenanceError('ERR_PROVENANCE_MALFORMED', 'supply_chain must be an array');
      }
      if (value.length > MAX_SUPPLIED_RECORDS) {
        throw new ProvenanceError(
          'ERR_PROVENANCE_OVERSIZED',
          `more than ${MAX_SUPPLIED_RECORDS} supply-chain records`,
        );
      }
      return value.map((item, i) => acceptRecord(suppliedInput(item, i), trust, now));
    },
    async commit(credential, facts) {
      const { leaf, index } = await linkIssuance(store.provenance, facts);
      const { leafIndex } = await store.provenance.commitIssuance(
        credential,
        canonicalJson(leaf),
        index,
      );
      options.afterCommit?.(credential.jti);
      return leafIndex;
    },
  };
  return service;
}
