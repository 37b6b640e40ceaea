/**
 * Decoding of CoRIMs: unsigned `#6.501(corim-map)` and signed `#6.18(COSE_Sign1)` whose
 * payload is the unsigned CoRIM, with signature and validity checks at an injected instant.
 *
 * @internal
 * @module
 */
import { decodeCbor, DEFAULT_CBOR_LIMITS, Tag } from './cbor.js';
import type { CborLimits } from './cbor.js';
import { decodeComid, readEntity, readTextOrUuid } from './decode-comid.js';
import { CorimError, invalid } from './errors.js';
import { checkValidity, readValidity } from './validity.js';
import { oidToString } from './ids.js';
import { openCoseSign1 } from './cose.js';
import type { CorimKey } from './cose.js';
import {
  asArray,
  asBytes,
  asMap,
  asTag,
  asText,
  at,
  defined,
  need,
  nth,
  optional,
} from './read-kit.js';
import type { Comid, Corim, DecodedCorim, OtherTag, Profile } from './types.js';

/** Options of {@link decodeCorim}. */
export interface DecodeCorimOptions {
  /** The instant `rim-validity` and the signature validity are checked at. Required. */
  readonly now: Date;
  /**
   * Keys a signed CoRIM must verify with (`KeyObject`s or public JWKs). When given, a signed
   * CoRIM that none of them verifies is `ERR_CORIM_SIGNATURE`; when omitted, the signature is
   * not checked and the result says `verified: false`.
   */
  readonly trustedKeys?: readonly CorimKey[];
  /** Refuse unsigned CoRIMs (`ERR_CORIM_SIGNATURE`). Default false. */
  readonly requireSignature?: boolean;
  /** Size limits; see {@link DEFAULT_CBOR_LIMITS}. */
  readonly limits?: Partial<CborLimits>;
}

function readProfile(v: unknown, path: string): Profile {
  // The AMD SEV-SNP profile's examples wrap the profile in a one-element array.
  const one = Array.isArray(v) && v.length === 1 ? v[0] : v;
  const t = asTag(one, path, 32, 111);
  if (t.tag === 32) return { uri: asText(t.value, path) };
  return { oid: oidToString(asBytes(t.value, path), path) };
}

function readTags(v: unknown, path: string, limits: CborLimits) {
  const comids: Comid[] = [];
  const otherTags: OtherTag[] = [];
  asArray(v, path, 1).forEach((item, i) => {
    const p = nth(path, i);
    const t = asTag(item, p, 505, 506, 508);
    if (t.tag === 506) comids.push(decodeComid(t.value, p, limits));
    else otherTags.push({ type: t.tag === 505 ? 'coswid' : 'cotl', bytes: asBytes(t.value, p) });
  });
  return { comids, otherTags };
}

/** The content of a `#6.501` tag at `path`. */
export function readCorimMap(v: unknown, path: string, limits: CborLimits): Corim {
  const m = asMap(asTag(v, path, 501).value, path);
  const { comids, otherTags } = readTags(need(m, 1, at(path, 'tags')), at(path, 'tags'), limits);
  const entPath = at(path, 'entities');
  return defined({
    id: readTextOrUuid(need(m, 0, at(path, 'id')), at(path, 'id')),
    comids,
    otherTags: otherTags.length > 0 ? otherTags : undefined,
    profile: optional(m, 3, at(path, 'profile'), readProfile),
    validity: optional(m, 4, at(path, 'rim-validity'), readValidity),
    entities: m.has(5)
      ? asArray(m.get(5), entPath, 1).map((e, i) => readEntity(e, nth(entPath, i)))
      : undefined,
  });
}

function limitsOf(options: DecodeCorimOptions): CborLimits {
  return { ...DEFAULT_CBOR_LIMITS, ...options.limits };
}

/**
 * Decodes a CoRIM, signed (`#6.18` COSE_Sign1, content type `application/rim+cbor`) or
 * unsigned (`#6.501`), verifies its signature against `trustedKeys` and checks
 * `rim-validity` (and the signature validity) at `now`.
 *
 * @throws CorimError `ERR_CORIM_INVALID` (naming the path, e.g.
 *   `corim.tags[0].triples.reference-triples[1].environment`), `ERR_CORIM_SIGNATURE`,
 *   `ERR_CORIM_EXPIRED`, `ERR_CORIM_NOT_YET_VALID`.
 *
 * @example
 * ```ts
 * const { corim, signature } = decodeCorim(bytes, { now: new Date(), trustedKeys: [jwk] });
 * console.log(corim.id, signature?.verified, corim.comids.length);
 * ```
 */
export function decodeCorim(bytes: Uint8Array, options: DecodeCorimOptions): DecodedCorim {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('decodeCorim expects a Uint8Array');
  if (!(options?.now instanceof Date) || Number.isNaN(options.now.getTime())) {
    throw new TypeError('decodeCorim needs options.now, a valid Date');
  }
  const limits = limitsOf(options);
  const top = decodeCbor(bytes, 'corim', limits);
  if (top instanceof Tag && top.tag === 18) {
    const opened = openCoseSign1(top.value, limits, options.trustedKeys);
    const corim = readCorimMap(decodeCbor(opened.payload, 'corim', limits), 'corim', limits);
    checkValidity(
      opened.signature.signatureValidity,
      options.now,
      'cose.corim-meta.signature-validity',
    );
    checkValidity(corim.validity, options.now, 'corim.rim-validity');
    return { corim, signature: opened.signature };
  }
  if (!(top instanceof Tag) || top.tag !== 501) {
    throw invalid('corim', 'expected a signed (#6.18) or unsigned (#6.501) CoRIM');
  }
  if (options.requireSignature) {
    throw new CorimError('ERR_CORIM_SIGNATURE', 'corim', 'the CoRIM is not signed');
  }
  const corim = readCorimMap(top, 'corim', limits);
  checkValidity(corim.validity, options.now, 'corim.rim-validity');
  return { corim };
}
