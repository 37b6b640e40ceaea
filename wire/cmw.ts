/**
 * The evidence upload of `POST /v1/attest` and `POST /v1/appraise`: a JSON collection CMW
 * (RFC 9999 / draft-ietf-rats-msg-wrap-23 §3.3; SPEC-DIGEST D6) of one evidence record and the
 * endorsements the attester supplies. The shim encodes it, the service decodes it; this is the
 * one encoder and the one decoder. The CMW itself (records, collections, `ind`, bounds) is read
 * by `wire/cmw-codec.ts`; this module picks the records the verifier uses out of it.
 *
 * Records may sit in nested collections. A record's role comes from its `ind` when it has one
 * (the evidence bit, else the endorsements bit; a record whose `ind` names neither is refused),
 * else from its media type. Media types compare by essence (type/subtype, case-insensitive);
 * parameters are kept on the record and do not change the match.
 *
 * Refusals beyond those of `wire/cmw-codec.ts`:
 *
 * | code | when |
 * | --- | --- |
 * | `ERR_CMW_INVALID` | the evidence is not a collection |
 * | `ERR_CMW_RECORD_UNUSED` | a record whose `ind` names neither evidence nor endorsements |
 * | `ERR_CMW_MEDIA_TYPE` | an evidence or endorsement record of a media type twi does not take |
 * | `ERR_CMW_EVIDENCE_COUNT` | not exactly one evidence record in the whole tree |
 * | `ERR_CMW_ENDORSEMENT_DUPLICATE` | two endorsement records filling the same member |
 *
 * @module
 */
import {
  CMWC_TYPE_KEY,
  cmwRecords,
  decodeCmw,
  IND_ENDORSEMENTS,
  IND_EVIDENCE,
  MAX_CMW_ITEMS,
  type CmwCollection,
  type CmwCollectionNode,
  type CmwItem,
  type CmwRecord,
} from './cmw-codec.js';
import { WireError } from './errors.js';
import {
  EVIDENCE_MEDIA_TYPES,
  PKIX_CERT_MEDIA_TYPE,
  SEV_SNP_CERTS_MEDIA_TYPE,
  TDX_COLLATERAL_MEDIA_TYPE,
} from './media-types.js';

export {
  CMWC_TYPE_KEY,
  IND_ENDORSEMENTS,
  IND_EVIDENCE,
  MAX_CMW_DEPTH,
  MAX_CMW_ITEMS,
  MAX_CMW_LABEL_CHARS,
  MAX_CMW_VALUE_CHARS,
} from './cmw-codec.js';
export type { CmwCollection, CmwItem, CmwRecord } from './cmw-codec.js';

/** The collection type of twi evidence (ARCHITECTURE "Wire contracts (v1)"). */
export const EVIDENCE_CMW_TYPE = 'tag:twi.dev,2026:evidence';

/**
 * The names under which the verifier takes supplied endorsements (`SuppliedEndorsements`).
 *
 * @internal
 */
export type EndorsementMember = 'tdxCollateral' | 'snpKeyCert' | 'snpCertTable';

/** Endorsement media types and the supplied-endorsements member each fills. @internal */
export const ENDORSEMENT_MEDIA_TYPES: Readonly<Record<string, EndorsementMember>> = {
  [TDX_COLLATERAL_MEDIA_TYPE]: 'tdxCollateral',
  [PKIX_CERT_MEDIA_TYPE]: 'snpKeyCert',
  [SEV_SNP_CERTS_MEDIA_TYPE]: 'snpCertTable',
};

/** What an evidence collection carries. */
export interface EvidenceCmw {
  /** The collection type (`__cmwc_t`) of the outermost collection, when given. */
  readonly type: string | undefined;
  /** The one evidence record. */
  readonly evidence: CmwItem;
  /** The endorsement records, by the member each fills. */
  readonly endorsements: Readonly<Partial<Record<EndorsementMember, Uint8Array>>>;
}

/** Options of {@link decodeEvidenceCmw}. @internal */
export interface DecodeEvidenceOptions {
  /** Evidence media types accepted (default: every one of `EVIDENCE_MEDIA_TYPES`). */
  readonly evidenceMediaTypes?: readonly string[];
}

/** What {@link encodeEvidenceCmw} wraps: evidence and the endorsements to send with it. */
export interface EvidenceCmwInput {
  readonly mediaType: string;
  readonly evidence: Uint8Array;
  readonly endorsements?: readonly { readonly mediaType: string; readonly bytes: Uint8Array }[];
}

const where = (item: CmwItem): string => `CMW ${item.path.join('/')}`;

/**
 * Decodes a JSON collection CMW (nested collections included) into its records, depth first.
 *
 * @throws {WireError} `ERR_CMW_INVALID` when `cmw` is not a collection, else any code of
 *   `wire/cmw-codec.ts`.
 *
 * @internal
 */
export function decodeCmwCollection(cmw: unknown): {
  readonly type: string | undefined;
  readonly items: readonly CmwItem[];
  readonly tree: CmwCollectionNode;
} {
  if (typeof cmw !== 'object' || cmw === null || Array.isArray(cmw)) {
    throw new WireError('ERR_CMW_INVALID', 'evidence CMW: must be a JSON collection (an object)');
  }
  const tree = decodeCmw(cmw) as CmwCollectionNode;
  return { type: tree.type, items: cmwRecords(tree), tree };
}

function isEvidence(item: CmwItem, accepted: readonly string[]): boolean {
  if (item.ind !== undefined) {
    if (item.ind & IND_EVIDENCE) return true;
    if (item.ind & IND_ENDORSEMENTS) return false;
    throw new WireError(
      'ERR_CMW_RECORD_UNUSED',
      `${where(item)}: ind ${item.ind} names neither evidence nor endorsements`,
    );
  }
  if (ENDORSEMENT_MEDIA_TYPES[item.essence]) return false;
  if (accepted.includes(item.essence)) return true;
  if ((Object.values(EVIDENCE_MEDIA_TYPES) as string[]).includes(item.essence)) return true;
  throw new WireError(
    'ERR_CMW_MEDIA_TYPE',
    `${where(item)}: unsupported media type ${item.essence}`,
  );
}

function endorsementsOf(items: readonly CmwItem[]): EvidenceCmw['endorsements'] {
  const out: Partial<Record<EndorsementMember, Uint8Array>> = {};
  for (const item of items) {
    const member = ENDORSEMENT_MEDIA_TYPES[item.essence];
    if (!member) {
      throw new WireError(
        'ERR_CMW_MEDIA_TYPE',
        `${where(item)}: unsupported endorsement media type ${item.essence}`,
      );
    }
    if (out[member]) {
      throw new WireError(
        'ERR_CMW_ENDORSEMENT_DUPLICATE',
        `${where(item)}: more than one ${item.essence} record`,
      );
    }
    out[member] = item.bytes;
  }
  return out;
}

/**
 * Takes an evidence collection apart: exactly one evidence record of an accepted media type,
 * any number of endorsement records of distinct known media types, anywhere in the tree.
 *
 * @throws {WireError} a code of the module table or of `wire/cmw-codec.ts`.
 *
 * @example
 * ```ts
 * const { evidence, endorsements } = decodeEvidenceCmw(body.evidence);
 * ```
 */
export function decodeEvidenceCmw(cmw: unknown, options: DecodeEvidenceOptions = {}): EvidenceCmw {
  const { type, items } = decodeCmwCollection(cmw);
  const accepted = options.evidenceMediaTypes ?? Object.values(EVIDENCE_MEDIA_TYPES);
  const roles = items.map((item) => isEvidence(item, accepted));
  const evidence = items.filter((_, i) => roles[i]);
  if (evidence.length !== 1) {
    throw new WireError(
      'ERR_CMW_EVIDENCE_COUNT',
      `evidence CMW: exactly one evidence record is required, found ${evidence.length}`,
    );
  }
  const item = evidence[0]!;
  if (!accepted.includes(item.essence)) {
    throw new WireError(
      'ERR_CMW_MEDIA_TYPE',
      `${where(item)}: unsupported evidence media type ${item.essence}`,
    );
  }
  const endorsements = endorsementsOf(items.filter((_, i) => !roles[i]));
  return { type, evidence: item, endorsements };
}

const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

/**
 * The evidence collection of {@link EVIDENCE_CMW_TYPE}: the evidence under the label
 * `evidence`, then each endorsement under `endorsement-<i>`, every record with its `ind`.
 *
 * @throws TypeError for empty bytes or more records than {@link MAX_CMW_ITEMS}.
 *
 * @example
 * ```ts
 * const cmw = encodeEvidenceCmw({ mediaType: TDX_QUOTE_MEDIA_TYPE, evidence: quote });
 * ```
 */
export function encodeEvidenceCmw(input: EvidenceCmwInput): CmwCollection {
  const endorsements = input.endorsements ?? [];
  if (1 + endorsements.length > MAX_CMW_ITEMS) {
    throw new TypeError(`a CMW collection holds at most ${MAX_CMW_ITEMS} records`);
  }
  if ([input.evidence, ...endorsements.map((e) => e.bytes)].some((b) => b.length === 0)) {
    throw new TypeError('CMW record values must not be empty');
  }
  const cmw: Record<string, CmwRecord | string> = {
    [CMWC_TYPE_KEY]: EVIDENCE_CMW_TYPE,
    evidence: [input.mediaType, b64u(input.evidence), IND_EVIDENCE],
  };
  endorsements.forEach((e, i) => {
    cmw[`endorsement-${i}`] = [e.mediaType, b64u(e.bytes), IND_ENDORSEMENTS];
  });
  return cmw;
}
