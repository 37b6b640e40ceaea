/**
 * X.501 distinguished names as far as path building needs them: the exact DER (issuer
 * and subject are matched byte for byte, which is what the Intel, AMD and AWS PKIs
 * produce) and the common name for messages and CA selection.
 *
 * @internal
 * @module
 */
import {
  childrenOf,
  expectTag,
  isStringTag,
  readOid,
  readSequence,
  readString,
  Tag,
  tagOf,
  tlvOf,
} from './decode.js';
import type { Block } from './decode.js';

/** A parsed Name. */
export interface Name {
  /** The DER of the whole Name. */
  readonly der: Uint8Array;
  /** The first commonName (2.5.4.3), if any. */
  readonly cn: string | undefined;
  /** Every attribute as `[oid, text]` in encoding order (non-string values are skipped). */
  readonly attributes: readonly (readonly [string, string])[];
}

const OID_COMMON_NAME = '2.5.4.3';

/** Parses a Name (SEQUENCE OF SET OF AttributeTypeAndValue). */
export function parseName(block: Block | undefined, field: string): Name {
  const attributes: [string, string][] = [];
  for (const rdn of readSequence(block, field)) {
    for (const atv of childrenOf(expectTag(rdn, Tag.SET, field), field)) {
      const [type, value] = readSequence(atv, field);
      const oid = readOid(type, `${field}.type`);
      if (value !== undefined && isStringTag(tagOf(value))) {
        attributes.push([oid, readString(value, `${field}.${oid}`)]);
      }
    }
  }
  const cn = attributes.find(([oid]) => oid === OID_COMMON_NAME)?.[1];
  return { der: tlvOf(block!), cn, attributes };
}

/** A short label for messages: the CN, else the attributes joined. */
export function describeName(name: Name): string {
  return name.cn ?? (name.attributes.map(([, v]) => v).join(', ') || '(empty name)');
}
