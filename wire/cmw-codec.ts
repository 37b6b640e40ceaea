/**
 * The JSON serialisation of a Conceptual Message Wrapper (RFC 9999, draft-ietf-rats-msg-wrap-23;
 * SPEC-DIGEST D6): a tree whose leaves are records `[type, value, ? ind]` (§3.1) and whose inner
 * nodes are collections `{ ? "__cmwc_t": uri / oid, + label => cmw }` (§3.3). Decoding is bounded
 * over the whole tree: at most {@link MAX_CMW_ITEMS} members, collections nested at most
 * {@link MAX_CMW_DEPTH} deep, labels, media types and values of bounded length.
 *
 * Refusals, each a {@link WireError} with its own code:
 *
 * | code | when |
 * | --- | --- |
 * | `ERR_CMW_INVALID` | neither a record (an array of 2 or 3) nor a collection (an object); a record's value not a string |
 * | `ERR_CMW_EMPTY` | a collection without a member (§3.3: at least one) |
 * | `ERR_CMW_TOO_MANY_ITEMS` | more than {@link MAX_CMW_ITEMS} members in the whole tree |
 * | `ERR_CMW_TOO_DEEP` | a collection nested deeper than {@link MAX_CMW_DEPTH} |
 * | `ERR_CMW_LABEL_TOO_LONG` | a label over {@link MAX_CMW_LABEL_CHARS} characters |
 * | `ERR_CMW_TYPE_INVALID` | `__cmwc_t` neither an absolute URI (RFC 3986 §4.3) nor a dotted-decimal OID |
 * | `ERR_CMW_MEDIA_TYPE_INVALID` | a record type that is not a media type (RFC 9110 §8.3.1), e.g. a CoAP Content-Format number, which JSON does not use |
 * | `ERR_CMW_VALUE_INVALID` | a value that is not non-empty canonical unpadded base64url |
 * | `ERR_CMW_VALUE_TOO_LONG` | a value over {@link MAX_CMW_VALUE_CHARS} characters |
 * | `ERR_CMW_IND_INVALID` | `ind` not an integer from 1 to 2³²−1 |
 * | `ERR_CMW_IND_UNREGISTERED` | `ind` with a bit the CMW Indicators registry does not assign (values above 31) |
 *
 * @module
 */
import { WireError, type WireErrorCode } from './errors.js';
import { parseMediaType } from './media-types.js';

/** The collection type key reserved by CMW (§3.3). */
export const CMWC_TYPE_KEY = '__cmwc_t';

/** `ind` bit 0: Reference Values. */
export const IND_REFERENCE_VALUES = 1;
/** `ind` bit 1: Endorsements. */
export const IND_ENDORSEMENTS = 2;
/** `ind` bit 2: Evidence. */
export const IND_EVIDENCE = 4;
/** `ind` bit 3: Attestation Results. */
export const IND_ATTESTATION_RESULTS = 8;
/** `ind` bit 4: Appraisal Policy. */
export const IND_APPRAISAL_POLICY = 16;
/** Every bit the "CMW Indicators" registry assigns (draft-23 §10.4: indicator values 0–4). */
export const IND_REGISTERED = 31;

/** The conceptual messages an `ind` names. */
export type CmwIndicator =
  'reference-values' | 'endorsements' | 'evidence' | 'attestation-results' | 'appraisal-policy';

const INDICATORS: readonly (readonly [CmwIndicator, number])[] = [
  ['reference-values', IND_REFERENCE_VALUES],
  ['endorsements', IND_ENDORSEMENTS],
  ['evidence', IND_EVIDENCE],
  ['attestation-results', IND_ATTESTATION_RESULTS],
  ['appraisal-policy', IND_APPRAISAL_POLICY],
];

/** Most members (records and collections) a CMW tree may hold, all levels together. */
export const MAX_CMW_ITEMS = 16;
/** Deepest collection nesting: the outermost collection is at depth 1 (§3.3 lets us limit it). */
export const MAX_CMW_DEPTH = 4;
/** Longest record label, in characters.@internal */
export const MAX_CMW_LABEL_CHARS = 128;
/** Longest record media type, in characters.@internal */
export const MAX_CMW_MEDIA_TYPE_CHARS = 256;
/** Longest `__cmwc_t`, in characters.@internal */
export const MAX_CMW_TYPE_CHARS = 1024;
/** Longest base64url record value, in characters (far above any body the service accepts).@internal */
export const MAX_CMW_VALUE_CHARS = 4 * 1024 * 1024;

/** The JSON form of a CMW record: `[media type, base64url value, ? ind]`. */
export type CmwRecord =
  | readonly [mediaType: string, value: string]
  | readonly [mediaType: string, value: string, ind: number];

/** The JSON form of a CMW collection: labelled CMWs and an optional collection type. */
export interface CmwCollection {
  readonly [CMWC_TYPE_KEY]?: string;
  readonly [label: string]: CmwRecord | CmwCollection | string | undefined;
}

/** One decoded record. */
export interface CmwItem {
  readonly kind: 'record';
  /** Its label in the collection holding it (`''` for a record on its own). */
  readonly label: string;
  /** The labels from the outermost collection down to this record. */
  readonly path: readonly string[];
  /** The media type as sent, parameters and case kept. */
  readonly mediaType: string;
  /** Type/subtype in lower case: what known-type checks compare. */
  readonly essence: string;
  /** The media type's parameters by lower-case name. */
  readonly parameters: ReadonlyMap<string, string>;
  readonly bytes: Uint8Array;
  /** The `ind` bitmap, undefined when the record has none. */
  readonly ind: number | undefined;
  /** The conceptual messages `ind` names (empty without `ind`). */
  readonly indicators: ReadonlySet<CmwIndicator>;
}

/** One decoded collection. */
export interface CmwCollectionNode {
  readonly kind: 'collection';
  readonly path: readonly string[];
  /** `__cmwc_t`, when given. */
  readonly type: string | undefined;
  /** The members by label, in the order given. */
  readonly members: ReadonlyMap<string, CmwNode>;
}

/** A decoded CMW: a record or a collection. */
export type CmwNode = CmwItem | CmwCollectionNode;

function fail(code: WireErrorCode, path: readonly string[], detail: string): WireError {
  const where = path.length === 0 ? 'CMW' : `CMW ${path.join('/')}`;
  return new WireError(code, `${where}: ${detail}`);
}

/** The indicator names of an `ind` bitmap. */
export function indicatorsOf(ind: number | undefined): ReadonlySet<CmwIndicator> {
  const set = new Set<CmwIndicator>();
  if (ind !== undefined) for (const [name, bit] of INDICATORS) if (ind & bit) set.add(name);
  return set;
}

// RFC 3986 §3 productions, assembled into absolute-URI (§4.3: no fragment).
const PCT = '%[0-9A-Fa-f]{2}';
const UNRESERVED = 'A-Za-z0-9\\-._~';
const SUB_DELIMS = "!$&'()*+,;=";
const PCHAR = `(?:[${UNRESERVED}${SUB_DELIMS}:@]|${PCT})`;
const SEGMENT_NZ = `${PCHAR}+`;
const PATH_TAIL = `(?:/${PCHAR}*)*`;
const USERINFO = `(?:[${UNRESERVED}${SUB_DELIMS}:]|${PCT})*`;
const REG_NAME = `(?:[${UNRESERVED}${SUB_DELIMS}]|${PCT})*`;
const IP_LITERAL = `\\[(?:[0-9A-Fa-f:.]+|v[0-9A-Fa-f]+\\.[${UNRESERVED}${SUB_DELIMS}:]+)\\]`;
const AUTHORITY = `(?:${USERINFO}@)?(?:${IP_LITERAL}|${REG_NAME})(?::[0-9]*)?`;
const HIER_PART = `(?://${AUTHORITY}${PATH_TAIL}|/(?:${SEGMENT_NZ}${PATH_TAIL})?|${SEGMENT_NZ}${PATH_TAIL}|)`;
const ABSOLUTE_URI = new RegExp(`^[A-Za-z][A-Za-z0-9+.-]*:${HIER_PART}(?:\\?(?:${PCHAR}|[/?])*)?$`);
// The draft's `oid` rule (§3.3 CDDL): dotted decimal, first arc 0–2, no leading zeros.
const OID = /^[0-2](?:\.(?:0|[1-9][0-9]*))*$/;

/** Whether `text` is a valid `__cmwc_t`: an absolute URI or a dotted-decimal OID. */
export function isCmwCollectionType(text: string): boolean {
  return text.length <= MAX_CMW_TYPE_CHARS && (ABSOLUTE_URI.test(text) || OID.test(text));
}

const B64U = /^[A-Za-z0-9_-]+$/;

function decodeValue(value: unknown, path: readonly string[]): Uint8Array {
  if (typeof value !== 'string') throw fail('ERR_CMW_INVALID', path, 'the value must be a string');
  if (value.length > MAX_CMW_VALUE_CHARS) {
    throw fail('ERR_CMW_VALUE_TOO_LONG', path, `value over ${MAX_CMW_VALUE_CHARS} characters`);
  }
  const bytes = B64U.test(value) ? Buffer.from(value, 'base64url') : undefined;
  // Canonical only: one spelling per byte string (no padding, no stray trailing bits).
  if (!bytes || bytes.toString('base64url') !== value) {
    throw fail('ERR_CMW_VALUE_INVALID', path, 'the value must be unpadded base64url');
  }
  return new Uint8Array(bytes);
}

function decodeInd(ind: unknown, path: readonly string[]): number {
  if (typeof ind !== 'number' || !Number.isInteger(ind) || ind < 1 || ind > 0xffffffff) {
    throw fail('ERR_CMW_IND_INVALID', path, 'ind must be an integer from 1 to 2^32-1');
  }
  if (ind > IND_REGISTERED) {
    throw fail('ERR_CMW_IND_UNREGISTERED', path, `ind ${ind} sets a bit no registry entry names`);
  }
  return ind;
}

function decodeRecord(value: readonly unknown[], path: readonly string[]): CmwItem {
  if (value.length !== 2 && value.length !== 3) {
    throw fail('ERR_CMW_INVALID', path, 'a record is [media type, base64url value, ? ind]');
  }
  const [mediaType, b64, rawInd] = value;
  const parsed =
    typeof mediaType === 'string' && mediaType.length <= MAX_CMW_MEDIA_TYPE_CHARS
      ? parseMediaType(mediaType)
      : undefined;
  if (!parsed) {
    throw fail('ERR_CMW_MEDIA_TYPE_INVALID', path, 'the type must be a media type (RFC 9110)');
  }
  const bytes = decodeValue(b64, path);
  const ind = value.length === 3 ? decodeInd(rawInd, path) : undefined;
  return {
    kind: 'record',
    label: path[path.length - 1] ?? '',
    path,
    mediaType: mediaType as string,
    essence: parsed.essence,
    parameters: parsed.parameters,
    bytes,
    ind,
    indicators: indicatorsOf(ind),
  };
}

interface Budget {
  items: number;
}

function decodeCollection(
  value: object,
  path: readonly string[],
  depth: number,
  budget: Budget,
): CmwCollectionNode {
  if (depth > MAX_CMW_DEPTH) {
    throw fail('ERR_CMW_TOO_DEEP', path, `collections nest at most ${MAX_CMW_DEPTH} deep`);
  }
  const type = (value as Record<string, unknown>)[CMWC_TYPE_KEY];
  if (type !== undefined && (typeof type !== 'string' || !isCmwCollectionType(type))) {
    throw fail('ERR_CMW_TYPE_INVALID', path, `${CMWC_TYPE_KEY} must be an absolute URI or an OID`);
  }
  const entries = Object.entries(value).filter(([label]) => label !== CMWC_TYPE_KEY);
  if (entries.length === 0) throw fail('ERR_CMW_EMPTY', path, 'a collection needs a member');
  budget.items += entries.length;
  if (budget.items > MAX_CMW_ITEMS) {
    throw fail('ERR_CMW_TOO_MANY_ITEMS', path, `more than ${MAX_CMW_ITEMS} items in all`);
  }
  const members = new Map<string, CmwNode>();
  for (const [label, member] of entries) {
    const at = [...path, label];
    if (label.length > MAX_CMW_LABEL_CHARS) {
      throw fail('ERR_CMW_LABEL_TOO_LONG', path, `a label over ${MAX_CMW_LABEL_CHARS} characters`);
    }
    members.set(label, decodeNode(member, at, depth + 1, budget));
  }
  return { kind: 'collection', path, type, members };
}

function decodeNode(
  value: unknown,
  path: readonly string[],
  depth: number,
  budget: Budget,
): CmwNode {
  if (Array.isArray(value)) return decodeRecord(value, path);
  if (typeof value === 'object' && value !== null) {
    return decodeCollection(value, path, depth, budget);
  }
  throw fail('ERR_CMW_INVALID', path, 'must be a record (array) or a collection (object)');
}

/**
 * Decodes a JSON CMW, record or collection, checking the whole tree.
 *
 * @throws {WireError} with one of the codes of the module table.
 *
 * @example
 * ```ts
 * const node = decodeCmw(JSON.parse(body));
 * for (const record of cmwRecords(node)) console.log(record.path, record.essence, record.indicators);
 * ```
 */
export function decodeCmw(json: unknown): CmwNode {
  return decodeNode(json, [], 1, { items: 0 });
}

/** The records of a decoded CMW, depth first, in the order given. */
export function cmwRecords(node: CmwNode): CmwItem[] {
  if (node.kind === 'record') return [node];
  return [...node.members.values()].flatMap(cmwRecords);
}

/**
 * The JSON form of a decoded CMW: what {@link decodeCmw} read, media types and labels as sent.
 *
 * @example
 * ```ts
 * assert.deepEqual(encodeCmw(decodeCmw(json)), json);
 * ```
 */
export function encodeCmw(node: CmwNode): CmwRecord | CmwCollection {
  if (node.kind === 'record') {
    const value = Buffer.from(node.bytes).toString('base64url');
    return node.ind === undefined ? [node.mediaType, value] : [node.mediaType, value, node.ind];
  }
  const out: Record<string, CmwRecord | CmwCollection | string> = {};
  if (node.type !== undefined) out[CMWC_TYPE_KEY] = node.type;
  for (const [label, member] of node.members) out[label] = encodeCmw(member);
  return out;
}
