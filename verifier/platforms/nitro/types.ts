/**
 * Types and limits of the AWS Nitro Enclaves attestation document (SPEC-DIGEST B4).
 *
 * @module
 */
import type { HeadWidth } from './cbor.js';

/** COSE algorithm identifier of ES384 (ECDSA P-384 with SHA-384), the only one Nitro uses. */
export const COSE_ALG_ES384 = -35;

/** CBOR tag of COSE_Sign1 (RFC 9052 §4.2). */
export const COSE_SIGN1_TAG = 18;

/** Length of an ES384 COSE signature: r‖s, 48 bytes each (RFC 9053 §2.1). */
export const ES384_SIGNATURE_BYTES = 96;

/**
 * Size limits checked before and while decoding. The payload limit is the CDDL's
 * `bstr .size (1..16384)`; the document limit leaves room for the envelope and some trailing
 * bytes (the NSM itself answers with at most 12 KiB).
 */
export const NITRO_LIMITS = {
  document: 32 * 1024,
  payload: 16 * 1024,
  protectedHeader: 256,
  moduleId: 256,
  digest: 16,
  pcrs: 32,
  certificate: 1024,
  cabundle: 32,
  publicKey: 1024,
  userData: 512,
  nonce: 512,
} as const;

/** PCR value lengths admitted by B4.2 (SHA-256, SHA-384, SHA-512 sized). */
export const NITRO_PCR_LENGTHS: readonly number[] = [32, 48, 64];

/** The payload's text keys, in the order the NSM writes them. */
export const NITRO_PAYLOAD_KEYS = [
  'module_id',
  'digest',
  'timestamp',
  'pcrs',
  'certificate',
  'cabundle',
  'public_key',
  'user_data',
  'nonce',
] as const;

/** One key of the attestation document map. */
export type NitroPayloadKey = (typeof NITRO_PAYLOAD_KEYS)[number];

/**
 * The decoded AttestationDocument map (B4.2). Optional fields distinguish absent
 * (`undefined`) from an explicit CBOR `null`, because real NSM documents carry both.
 */
export interface NitroPayload {
  /** `module_id`: the enclave's module identifier, e.g. `i-0123…-enc0123…`. */
  moduleId: string;
  /** `digest`: always `"SHA384"`. */
  digest: 'SHA384';
  /** `timestamp`: milliseconds since the UNIX epoch. */
  timestamp: number;
  /** `pcrs`: PCR index → value, in the order they were encoded. */
  pcrs: ReadonlyMap<number, Uint8Array>;
  /** `certificate`: DER of the enclave's leaf certificate. */
  certificate: Uint8Array;
  /** `cabundle`: DER certificates, root first, then intermediates. */
  cabundle: readonly Uint8Array[];
  /** `public_key`: absent (`undefined`), `null`, or bytes. */
  publicKey?: Uint8Array | null;
  /** `user_data`: absent (`undefined`), `null`, or bytes. */
  userData?: Uint8Array | null;
  /** `nonce`: absent (`undefined`), `null`, or bytes. */
  nonce?: Uint8Array | null;
}

/**
 * Head widths that differ from the minimal encoding, keyed by item path
 * (`COSE_Sign1`, `protected`, `alg`, `payload`, `key.module_id`, `timestamp`, `pcrs[3]`,
 * `cabundle[0]`, …). Real documents need none; they let any accepted encoding round-trip.
 */
export type NitroHeadWidths = Readonly<Record<string, HeadWidth>>;

/** The encoding choices needed, together with the decoded fields, to re-create the exact bytes. */
export interface NitroEncoding {
  /** Whether the COSE_Sign1 was wrapped in CBOR tag 18 (the NSM does not tag). */
  tagged: boolean;
  /** Payload map encoding: `definite` (0xa9 …) or `indefinite` (0xbf … 0xff). */
  payloadMap: 'definite' | 'indefinite';
  /** Payload keys in the order they were encoded (null-valued keys included). */
  keyOrder: readonly NitroPayloadKey[];
  /** Non-minimal or indefinite heads other than the tag and the payload map. */
  heads: NitroHeadWidths;
}

/** A parsed Nitro attestation document. */
export interface NitroDocument {
  /** COSE `alg` from the protected header; always ES384 (-35). */
  alg: typeof COSE_ALG_ES384;
  /** The protected header bytes exactly as received (signed). */
  protectedHeader: Uint8Array;
  /** The payload bytes exactly as received (signed). */
  payloadBytes: Uint8Array;
  /** ES384 signature, r‖s (96 bytes). */
  signature: Uint8Array;
  /** The decoded AttestationDocument. */
  payload: NitroPayload;
  /** How the document was encoded. */
  encoding: NitroEncoding;
  /** Bytes after the COSE structure (not signed, reported, not fatal). */
  trailing: Uint8Array;
}
