/**
 * Signature algorithm identifiers of the vendor PKIs twi accepts, and signature
 * verification over raw signed bytes (used for CRLs; certificates go through
 * `X509Certificate.verify`, which handles the same algorithms).
 *
 * Intel and AWS sign with ECDSA (P-256/SHA-256, P-384/SHA-384); AMD signs ARK, ASK, ASVK,
 * VCEK, VLEK and its CRLs with RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48 (spec digest C2.2).
 *
 * @internal
 * @module
 */
import { constants, verify as cryptoVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { EvidenceMalformedError } from '../errors.js';
import {
  childrenOf,
  contextTag,
  offsetOf,
  readOid,
  readSequence,
  readSmallInt,
  tagOf,
  tlvOf,
} from './decode.js';
import type { Block } from './decode.js';

/** Digest names as Node's crypto module spells them. */
export type HashName = 'sha256' | 'sha384' | 'sha512';

/** RSASSA-PSS parameters (RFC 4055 §3.1). */
export interface RsaPssParams {
  readonly hash: HashName;
  readonly mgfHash: HashName;
  readonly saltLength: number;
}

/** A parsed AlgorithmIdentifier of a signature. */
export interface SignatureAlgorithm {
  /** Dotted OID. */
  readonly oid: string;
  /** `ecdsa` or `rsa-pss` for the accepted algorithms, `unsupported` otherwise. */
  readonly kind: 'ecdsa' | 'rsa-pss' | 'unsupported';
  /** Digest, for the accepted algorithms. */
  readonly hash: HashName | undefined;
  /** RSASSA-PSS parameters, for `rsa-pss`. */
  readonly pss: RsaPssParams | undefined;
  /** The DER of the whole AlgorithmIdentifier (to compare the outer and TBS copies). */
  readonly der: Uint8Array;
}

/** id-RSASSA-PSS (RFC 4055). */
export const OID_RSASSA_PSS = '1.2.840.113549.1.1.10';
const OID_MGF1 = '1.2.840.113549.1.1.8';

const ECDSA: Readonly<Record<string, HashName>> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};

const HASHES: Readonly<Record<string, HashName>> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** Parses an AlgorithmIdentifier; unknown algorithms parse as `unsupported`. */
export function parseSignatureAlgorithm(
  node: Block | undefined,
  field: string,
): SignatureAlgorithm {
  const [oidNode, params, ...rest] = readSequence(node, field);
  const oid = readOid(oidNode, `${field}.algorithm`);
  const der = tlvOf(node!);
  const ecdsaHash = ECDSA[oid];
  if (ecdsaHash !== undefined) {
    // RFC 5758 §3.2: the parameters field MUST be absent for ecdsa-with-SHA*.
    if (params !== undefined) throw malformed('ECDSA parameters must be absent', field, node!);
    return { oid, kind: 'ecdsa', hash: ecdsaHash, pss: undefined, der };
  }
  if (oid === OID_RSASSA_PSS && rest.length === 0) {
    const pss = parsePssParams(params, `${field}.parameters`);
    return { oid, kind: 'rsa-pss', hash: pss.hash, pss, der };
  }
  return { oid, kind: 'unsupported', hash: undefined, pss: undefined, der };
}

function malformed(message: string, field: string, node: Block): EvidenceMalformedError {
  return new EvidenceMalformedError(message, { field, offset: offsetOf(node) });
}

function hashOf(node: Block | undefined, field: string): HashName {
  const [oidNode] = readSequence(node, field);
  const oid = readOid(oidNode, field);
  const hash = HASHES[oid];
  if (hash === undefined) throw malformed(`unsupported digest ${oid}`, field, node!);
  return hash;
}

/**
 * RSASSA-PSS-params. The SHA-1 defaults of RFC 4055 are refused: every field the
 * accepted profile needs must be present.
 */
function parsePssParams(node: Block | undefined, field: string): RsaPssParams {
  let hash: HashName | undefined;
  let mgfHash: HashName | undefined;
  let saltLength: number | undefined;
  for (const item of readSequence(node, field)) {
    const [inner] = childrenOf(item, field);
    const tag = tagOf(item);
    if (tag === contextTag(0, true)) hash = hashOf(inner, `${field}.hashAlgorithm`);
    else if (tag === contextTag(1, true)) {
      const [mgfOid, mgfParams] = readSequence(inner, `${field}.maskGenAlgorithm`);
      if (readOid(mgfOid, `${field}.maskGenAlgorithm`) !== OID_MGF1) {
        throw malformed('mask generation function is not MGF1', field, item);
      }
      mgfHash = hashOf(mgfParams, `${field}.maskGenAlgorithm.hash`);
    } else if (tag === contextTag(2, true)) {
      saltLength = readSmallInt(inner, `${field}.saltLength`, 0, 1024);
    } else if (tag === contextTag(3, true)) {
      readSmallInt(inner, `${field}.trailerField`, 1, 1);
    } else throw malformed('unknown RSASSA-PSS parameter', field, item);
  }
  if (hash === undefined || mgfHash === undefined || saltLength === undefined) {
    throw malformed('RSASSA-PSS parameters must name hash, MGF1 hash and salt', field, node!);
  }
  return { hash, mgfHash, saltLength };
}

/**
 * Verifies `signature` over `data` with `key` under `alg`. Returns false (never throws)
 * for a wrong key type, an unsupported algorithm, or a bad signature.
 */
export function verifySignature(
  alg: SignatureAlgorithm,
  data: Uint8Array,
  signature: Uint8Array,
  key: KeyObject,
): boolean {
  try {
    if (alg.kind === 'ecdsa' && key.asymmetricKeyType === 'ec') {
      return cryptoVerify(alg.hash!, data, key, signature);
    }
    if (alg.kind === 'rsa-pss' && alg.pss !== undefined) {
      const { hash, mgfHash, saltLength } = alg.pss;
      // Node's PSS verification uses MGF1 with the message digest; refuse anything else.
      if (mgfHash !== hash) return false;
      if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') return false;
      return cryptoVerify(
        hash,
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength },
        signature,
      );
    }
    return false;
  } catch {
    return false;
  }
}

/** True for an algorithm `verifySignature` can check. */
export function isSupportedAlgorithm(alg: SignatureAlgorithm): boolean {
  return alg.kind === 'ecdsa' || (alg.kind === 'rsa-pss' && alg.pss?.mgfHash === alg.pss?.hash);
}
