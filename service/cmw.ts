/**
 * The evidence upload: a JSON collection CMW (RFC 9999 / draft-ietf-rats-msg-wrap; SPEC-DIGEST
 * D6) mapped to the evidence bytes, its platform and the endorsements the attester supplied.
 *
 * @module
 */
import { platformForMediaType, type PlatformCodec } from '../verifier/platforms/registry.js';
import type { SuppliedEndorsements } from '../verifier/verify/types.js';
import { ProblemError } from './problem.js';

/** The collection type key reserved by CMW. */
export const CMWC_TYPE_KEY = '__cmwc_t';
/** `ind` of evidence (bit 2). */
export const IND_EVIDENCE = 4;
/** `ind` of endorsements (bit 1). */
export const IND_ENDORSEMENTS = 2;

/** Endorsement media types and the {@link SuppliedEndorsements} member each fills. */
export const ENDORSEMENT_MEDIA_TYPES: Readonly<Record<string, keyof SuppliedEndorsements>> = {
  'application/vnd.twi.tdx-collateral+json': 'tdxCollateral',
  'application/pkix-cert': 'snpKeyCert',
  'application/vnd.twi.sev-snp-certs': 'snpCertTable',
};

/** Largest number of items a collection may carry. */
export const MAX_CMW_ITEMS = 16;

/** What a CMW collection carries. */
export interface ParsedCmw {
  readonly codec: PlatformCodec;
  readonly evidence: Uint8Array;
  readonly endorsements: SuppliedEndorsements;
}

const B64U = /^[A-Za-z0-9_-]*$/;

function invalid(detail: string): ProblemError {
  return new ProblemError(400, 'ERR_CMW_INVALID', `evidence CMW: ${detail}`);
}

interface RecordItem {
  readonly label: string;
  readonly mediaType: string;
  readonly bytes: Uint8Array;
  readonly ind: number;
}

function parseRecord(label: string, value: unknown): RecordItem {
  if (!Array.isArray(value) || value.length !== 3) {
    throw invalid(`${label} must be [media type, base64url value, ind]`);
  }
  const [mediaType, b64, ind] = value as unknown[];
  if (typeof mediaType !== 'string' || mediaType === '') {
    throw invalid(`${label}: media type must be a non-empty string`);
  }
  if (typeof b64 !== 'string' || b64 === '' || !B64U.test(b64) || b64.length % 4 === 1) {
    throw invalid(`${label}: value must be unpadded base64url`);
  }
  if (ind !== IND_EVIDENCE && ind !== IND_ENDORSEMENTS) {
    throw invalid(`${label}: ind must be ${IND_EVIDENCE} (evidence) or ${IND_ENDORSEMENTS}`);
  }
  return { label, mediaType, bytes: new Uint8Array(Buffer.from(b64, 'base64url')), ind };
}

function records(cmw: unknown): RecordItem[] {
  if (typeof cmw !== 'object' || cmw === null || Array.isArray(cmw)) {
    throw invalid('must be a JSON collection (an object)');
  }
  const entries = Object.entries(cmw).filter(([k]) => k !== CMWC_TYPE_KEY);
  const type = (cmw as Record<string, unknown>)[CMWC_TYPE_KEY];
  if (type !== undefined && (typeof type !== 'string' || type === '')) {
    throw invalid(`${CMWC_TYPE_KEY} must be a non-empty string`);
  }
  if (entries.length === 0) throw invalid('the collection is empty');
  if (entries.length > MAX_CMW_ITEMS) throw invalid(`more than ${MAX_CMW_ITEMS} items`);
  return entries.map(([label, value]) => parseRecord(label, value));
}

function endorsementsOf(items: readonly RecordItem[]): SuppliedEndorsements {
  const out: Partial<Record<keyof SuppliedEndorsements, Uint8Array>> = {};
  for (const item of items) {
    const member = ENDORSEMENT_MEDIA_TYPES[item.mediaType];
    if (!member) {
      throw new ProblemError(
        400,
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
 * Takes a JSON collection CMW apart: exactly one evidence item (`ind` 4) of a known media type,
 * any number of endorsement items (`ind` 2) of distinct known media types.
 *
 * @throws {ProblemError} 400 `ERR_CMW_INVALID` for a malformed collection, `ERR_CMW_MEDIA_TYPE`
 *   for an unknown media type.
 *
 * @example
 * ```ts
 * const { codec, evidence } = parseEvidenceCmw({ tdx: ['application/vnd.twi.tdx-quote', b64, 4] });
 * ```
 */
export function parseEvidenceCmw(cmw: unknown): ParsedCmw {
  const items = records(cmw);
  const evidence = items.filter((i) => i.ind === IND_EVIDENCE);
  if (evidence.length !== 1) {
    throw invalid(`exactly one evidence item (ind ${IND_EVIDENCE}) is required`);
  }
  const item = evidence[0]!;
  const codec = platformForMediaType(item.mediaType);
  if (!codec) {
    throw new ProblemError(
      400,
      'ERR_CMW_MEDIA_TYPE',
      `evidence CMW: ${item.label}: unsupported evidence media type ${item.mediaType}`,
    );
  }
  const endorsements = endorsementsOf(items.filter((i) => i.ind === IND_ENDORSEMENTS));
  return { codec, evidence: item.bytes, endorsements };
}
