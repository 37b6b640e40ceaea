/**
 * Claim extraction and a JSON-safe format description of parsed Nitro documents.
 *
 * @module
 */
import { subjectCnOrNull } from '../../../common/x509/certificate.js';
import { toHex } from '../../../common/bytes.js';
import type { HeadWidth } from './cbor.js';
import type { NitroDocument, NitroPayloadKey } from './types.js';

const MAX_DATE_MS = 8.64e15;

function hexOrNull(value: Uint8Array | null | undefined): string | null {
  return value === undefined || value === null ? null : toHex(value);
}

/**
 * The claims of a Nitro document, as {@link nitroClaims} returns them (a type alias, so that
 * it is assignable to `Record<string, unknown>`).
 */
export type NitroClaims = {
  /** PCR index (decimal) → lowercase hex, in index order. */
  pcrs: Record<string, string>;
  nonce: string | null;
  user_data: string | null;
  public_key: string | null;
};

/** What the Nitro verify stage records about verified evidence besides its claims. */
export type NitroDetails = {
  moduleId: string;
  digest: string;
  /** ISO 8601. */
  timestamp: string;
  pcrCount: number;
  /** PCR0, PCR1 and PCR2 all zero: an enclave started in debug mode. */
  debug: boolean;
  hasNonce: boolean;
  hasUserData: boolean;
  hasPublicKey: boolean;
};

/**
 * The document's measurements in the shape of the real-vector manifest: `pcrs` as
 * `{"0": hex, "1": hex, …}` in index order, and `nonce`, `user_data`, `public_key` as
 * lowercase hex, or `null` when absent or null. No other keys.
 *
 * @example
 * ```ts
 * nitroClaims(doc).pcrs['0']; // '5cb70295…'
 * ```
 */
export function nitroClaims(doc: NitroDocument): NitroClaims {
  const pcrs: Record<string, string> = {};
  const indexes = [...doc.payload.pcrs.keys()].sort((a, b) => a - b);
  for (const i of indexes) pcrs[String(i)] = toHex(doc.payload.pcrs.get(i) as Uint8Array);
  return {
    pcrs,
    nonce: hexOrNull(doc.payload.nonce),
    user_data: hexOrNull(doc.payload.userData),
    public_key: hexOrNull(doc.payload.publicKey),
  };
}

/** How an optional field was encoded: absent, null, or its length in bytes. */
export type NitroOptionalShape = 'absent' | 'null' | number;

/** JSON-safe summary of a document's format, from {@link describeNitroFormat}. */
export type NitroFormatDescription = {
  format: 'aws-nitro-attestation';
  tagged: boolean;
  alg: 'ES384';
  algId: number;
  payloadMap: 'definite' | 'indefinite';
  keyOrder: NitroPayloadKey[];
  /** Heads not encoded minimally, by item path (empty for NSM output). */
  nonMinimalHeads: Record<string, HeadWidth>;
  moduleId: string;
  digest: string;
  timestampMs: number;
  /** ISO 8601 form of the timestamp; null when outside the Date range. */
  timestampIso: string | null;
  pcrCount: number;
  pcrLengths: number[];
  certificateBytes: number;
  /** Subject CN of the leaf certificate; null when it cannot be read. */
  certificateCn: string | null;
  cabundleLength: number;
  cabundleCns: (string | null)[];
  publicKey: NitroOptionalShape;
  userData: NitroOptionalShape;
  nonce: NitroOptionalShape;
  sizes: { protectedHeader: number; payload: number; signature: number };
  trailingBytes: number;
};

function shape(value: Uint8Array | null | undefined): NitroOptionalShape {
  if (value === undefined) return 'absent';
  return value === null ? 'null' : value.length;
}

/**
 * Describes a parsed document's format as plain JSON data: envelope and map encoding,
 * identity fields, timestamp (ms and ISO), PCR and certificate counts, subject CNs (read with
 * node's X509Certificate, null when unreadable) and the number of trailing bytes.
 */
export function describeNitroFormat(doc: NitroDocument): NitroFormatDescription {
  const p = doc.payload;
  return {
    format: 'aws-nitro-attestation',
    tagged: doc.encoding.tagged,
    alg: 'ES384',
    algId: doc.alg,
    payloadMap: doc.encoding.payloadMap,
    keyOrder: [...doc.encoding.keyOrder],
    nonMinimalHeads: { ...doc.encoding.heads },
    moduleId: p.moduleId,
    digest: p.digest,
    timestampMs: p.timestamp,
    timestampIso: p.timestamp <= MAX_DATE_MS ? new Date(p.timestamp).toISOString() : null,
    pcrCount: p.pcrs.size,
    pcrLengths: [...new Set([...p.pcrs.values()].map((v) => v.length))].sort((a, b) => a - b),
    certificateBytes: p.certificate.length,
    certificateCn: subjectCnOrNull(p.certificate),
    cabundleLength: p.cabundle.length,
    cabundleCns: p.cabundle.map(subjectCnOrNull),
    publicKey: shape(p.publicKey),
    userData: shape(p.userData),
    nonce: shape(p.nonce),
    sizes: {
      protectedHeader: doc.protectedHeader.length,
      payload: doc.payloadBytes.length,
      signature: doc.signature.length,
    },
    trailingBytes: doc.trailing.length,
  };
}
