/**
 * The evidence upload of `POST /v1/attest` and `POST /v1/appraise`: a JSON collection CMW
 * (RFC 9999 / draft-ietf-rats-msg-wrap §3.3; SPEC-DIGEST D6) of one evidence record and the
 * endorsements the attester supplies. The shim encodes it, the service decodes it; this is the
 * one encoder and the one decoder.
 *
 * @module
 */
import { WireError } from './errors.js';
import {
  EVIDENCE_MEDIA_TYPES,
  PKIX_CERT_MEDIA_TYPE,
  SEV_SNP_CERTS_MEDIA_TYPE,
  TDX_COLLATERAL_MEDIA_TYPE,
} from './media-types.js';

/** The collection type key reserved by CMW. @internal */
export const CMWC_TYPE_KEY = '__cmwc_t';
/** The collection type of twi evidence (ARCHITECTURE "Wire contracts (v1)"). */
export const EVIDENCE_CMW_TYPE = 'tag:twi.dev,2026:evidence';
/** `ind` of evidence (bit 2). @internal */
export const IND_EVIDENCE = 4;
/** `ind` of endorsements (bit 1). @internal */
export const IND_ENDORSEMENTS = 2;

/** Largest number of records a collection may carry. @internal */
export const MAX_CMW_ITEMS = 16;
/** Longest record label, in characters. @internal */
export const MAX_CMW_LABEL_CHARS = 128;
/**
 * Longest base64url record value, in characters (far above any body the service accepts).
 *
 * @internal
 */
export const MAX_CMW_VALUE_CHARS = 4 * 1024 * 1024;

/** The JSON form of a CMW record as twi sends it: `[media type, base64url value, ind]`. */
export type CmwRecord = readonly [mediaType: string, value: string, ind: number];

/** The JSON form of a CMW collection: labelled records and an optional collection type. */
export interface CmwCollection {
  readonly [CMWC_TYPE_KEY]?: string;
  readonly [label: string]: CmwRecord | string | undefined;
}

/** One decoded record. @internal */
export interface CmwItem {
  readonly label: string;
  readonly mediaType: string;
  readonly bytes: Uint8Array;
  readonly ind: typeof IND_EVIDENCE | typeof IND_ENDORSEMENTS;
}

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
  /** The collection type (`__cmwc_t`), when given. */
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

const B64U = /^[A-Za-z0-9_-]*$/;

function invalid(detail: string): WireError {
  return new WireError('ERR_CMW_INVALID', `evidence CMW: ${detail}`);
}

function decodeRecord(label: string, value: unknown): CmwItem {
  if (label.length > MAX_CMW_LABEL_CHARS) {
    throw invalid(`a label is longer than ${MAX_CMW_LABEL_CHARS} characters`);
  }
  if (!Array.isArray(value) || value.length !== 3) {
    throw invalid(`${label} must be [media type, base64url value, ind]`);
  }
  const [mediaType, b64, ind] = value as unknown[];
  if (typeof mediaType !== 'string' || mediaType === '') {
    throw invalid(`${label}: media type must be a non-empty string`);
  }
  if (typeof b64 === 'string' && b64.length > MAX_CMW_VALUE_CHARS) {
    throw invalid(`${label}: value is longer than ${MAX_CMW_VALUE_CHARS} characters`);
  }
  if (typeof b64 !== 'string' || b64 === '' || !B64U.test(b64) || b64.length % 4 === 1) {
    throw invalid(`${label}: value must be unpadded base64url`);
  }
  if (ind !== IND_EVIDENCE && ind !== IND_ENDORSEMENTS) {
    throw invalid(`${label}: ind must be ${IND_EVIDENCE} (evidence) or ${IND_ENDORSEMENTS}`);
  }
  return { label, mediaType, bytes: new Uint8Array(Buffer.from(b64, 'base64url')), ind };
}

/**
 * Decodes a JSON collection CMW into its records, in order. Bounded: at most
 * {@link MAX_CMW_ITEMS} records, labels and values of bounded length.
 *
 * @throws {WireError} `ERR_CMW_INVALID` for anything but a non-empty collection of
 *   `[media type, unpadded base64url, 4 | 2]` records.
 *
 * @internal
 */
export function decodeCmwCollection(cmw: unknown): {
  readonly type: string | undefined;
  readonly items: readonly CmwItem[];
} {
  if (typeof cmw !== 'object' || cmw === null || Array.isArray(cmw)) {
    throw invalid('must be a JSON collection (an object)');
  }
  const type = (cmw as Record<string, unknown>)[CMWC_TYPE_KEY];
  if (type !== undefined && (typeof type !== 'string' || type === '')) {
    throw invalid(`${CMWC_TYPE_KEY} must be a non-empty string`);
  }
  const entries = Object.entries(cmw).filter(([k]) => k !== CMWC_TYPE_KEY);
  if (entries.length === 0) throw invalid('the collection is empty');
  if (entries.length > MAX_CMW_ITEMS) throw invalid(`more than ${MAX_CMW_ITEMS} items`);
  return { type, items: entries.map(([label, value]) => decodeRecord(label, value)) };
}

function endorsementsOf(items: readonly CmwItem[]): EvidenceCmw['endorsements'] {
  const out: Partial<Record<EndorsementMember, Uint8Array>> = {};
  for (const item of items) {
    const member = ENDORSEMENT_MEDIA_TYPES[item.mediaType];
    if (!member) {
      throw new WireError(
        'ERR_CMW_MEDIA_TYPE',
        `evidence CMW: ${item.label}: unsupported endorsement media type ${item.mediaType}`,
      );
    }
    if (out[member]) throw invalid(`more than one ${item.mediaType} item`);
    out[member] = item.bytes;
  }
  return out;
}

/**
 * Takes an evidence collection apart: exactly one evidence record (`ind` 4) of an accepted
 * media type, any number of endorsement records (`ind` 2) of distinct known media types.
 *
 * @throws {WireError} `ERR_CMW_INVALID` for a malformed collection, `ERR_CMW_MEDIA_TYPE` for
 *   an unknown media type.
 *
 * @example
 * ```ts
 * const { evidence, endorsements } = decodeEvidenceCmw(body.evidence);
 * ```
 */
export function decodeEvidenceCmw(cmw: unknown, options: DecodeEvidenceOptions = {}): EvidenceCmw {
  const { type, items } = decodeCmwCollection(cmw);
  const evidence = items.filter((i) => i.ind === IND_EVIDENCE);
  if (evidence.length !== 1) {
    throw invalid(`exactly one evidence item (ind ${IND_EVIDENCE}) is required`);
  }
  const item = evidence[0]!;
  const accepted = options.evidenceMediaTypes ?? Object.values(EVIDENCE_MEDIA_TYPES);
  if (!accepted.includes(item.mediaType)) {
    throw new WireError(
      'ERR_CMW_MEDIA_TYPE',
      `evidence CMW: ${item.label}: unsupported evidence media type ${item.mediaType}`,
    );
  }
  const endorsements = endorsementsOf(items.filter((i) => i.ind === IND_ENDORSEMENTS));
  return { type, evidence: item, endorsements };
}

const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

/**
 * The evidence collection of {@link EVIDENCE_CMW_TYPE}: the evidence under the label
 * `evidence`, then each endorsement under `endorsement-<i>`.
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
