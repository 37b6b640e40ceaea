/**
 * DSSE v1.0.0 (secure-systems-lab/dsse `protocol.md`, `envelope.md`): the JSON envelope
 * `{ payload, payloadType, signatures: [{ keyid, sig }] }`, signatures over
 * `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body` with LEN the ASCII
 * decimal byte length. Base64 fields may use the standard or the URL-safe alphabet.
 *
 * Builder keys are ECDSA P-256 (SHA-256), ECDSA P-384 (SHA-384) or Ed25519; ECDSA signatures
 * may be DER or `r ‖ s`. The `keyid` is only a hint that narrows which configured keys are
 * tried (DSSE: it MUST NOT be used for security decisions).
 *
 * @internal
 * @module
 */
import { createHash, createPublicKey, KeyObject, sign, verify, type JsonWebKey } from 'node:crypto';
import { malformed, ProvenanceError } from './errors.js';

/** Limits on one envelope. */
export const DSSE_LIMITS = { maxPayloadBytes: 192 * 1024, maxSignatures: 8 } as const;

/** A key a builder signs provenance with, and what it may speak for. */
export interface BuilderKey {
  /** The `keyid` signatures name (default: hex SHA-256 of the SPKI DER). */
  readonly keyid: string;
  readonly key: KeyObject;
  /** SLSA `runDetails.builder.id` values this key may sign for (SBOMs need none). */
  readonly builderIds: readonly string[];
}

/** A decoded envelope. */
export interface DsseEnvelope {
  readonly payloadType: string;
  readonly payload: Uint8Array;
  readonly signatures: readonly { readonly keyid: string; readonly sig: Uint8Array }[];
}

/** `PAE(UTF8(type), body)`. */
export function pae(payloadType: string, body: Uint8Array): Uint8Array {
  const type = Buffer.from(payloadType, 'utf8');
  return new Uint8Array(
    Buffer.concat([
      Buffer.from(`DSSEv1 ${type.length} `),
      type,
      Buffer.from(` ${body.length} `),
      body,
    ]),
  );
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Decodes standard or URL-safe base64 strictly (alphabet and length checked). */
export function decodeBase64(value: unknown, what: string, max: number): Uint8Array {
  if (typeof value !== 'string') throw malformed(`${what} must be a base64 string`);
  if (value.length > Math.ceil((max * 4) / 3) + 4) {
    throw new ProvenanceError('ERR_PROVENANCE_OVERSIZED', `${what} is over ${max} bytes`);
  }
  const bare = value.replace(/=+$/, '');
  const mixed = /[+/]/.test(bare) && /[-_]/.test(bare);
  if (!BASE64.test(value) || bare.length % 4 === 1 || mixed) {
    throw malformed(`${what} is not base64`);
  }
  return new Uint8Array(Buffer.from(bare.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads a JSON envelope (already parsed). Unknown members are ignored (DSSE parsing rules).
 *
 * @throws {ProvenanceError} `ERR_PROVENANCE_MALFORMED` or `ERR_PROVENANCE_OVERSIZED`.
 */
export function parseEnvelope(json: unknown): DsseEnvelope {
  if (!isObject(json)) throw malformed('a DSSE envelope must be a JSON object');
  const { payloadType, payload, signatures } = json;
  if (typeof payloadType !== 'string' || payloadType.length === 0 || payloadType.length > 256) {
    throw malformed('payloadType must be a non-empty string of at most 256 characters');
  }
  const body = decodeBase64(payload, 'payload', DSSE_LIMITS.maxPayloadBytes);
  if (body.length > DSSE_LIMITS.maxPayloadBytes) {
    throw new ProvenanceError('ERR_PROVENANCE_OVERSIZED', 'payload is too large');
  }
  if (!Array.isArray(signatures)) throw malformed('signatures must be an array');
  if (signatures.length > DSSE_LIMITS.maxSignatures) {
    throw new ProvenanceError('ERR_PROVENANCE_OVERSIZED', 'too many signatures');
  }
  const sigs = signatures.map((s, i) => {
    if (!isObject(s)) throw malformed(`signatures[${i}] must be an object`);
    if (s.keyid !== undefined && typeof s.keyid !== 'string') {
      throw malformed(`signatures[${i}].keyid must be a string`);
    }
    return {
      keyid: (s.keyid as string | undefined) ?? '',
      sig: decodeBase64(s.sig, `signatures[${i}].sig`, 1024),
    };
  });
  return { payloadType, payload: body, signatures: sigs };
}

function keyAlgorithm(key: KeyObject): { hash: string | null; size: number } {
  if (key.asymmetricKeyType === 'ed25519') return { hash: null, size: 64 };
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType === 'ec' && curve === 'prime256v1') return { hash: 'sha256', size: 64 };
  if (key.asymmetricKeyType === 'ec' && curve === 'secp384r1') return { hash: 'sha384', size: 96 };
  throw new TypeError('builder keys must be ECDSA P-256, ECDSA P-384 or Ed25519');
}

function signatureVerifies(key: KeyObject, data: Uint8Array, sig: Uint8Array): boolean {
  const { hash, size } = keyAlgorithm(key);
  try {
    if (hash === null) return verify(null, data, key, sig);
    // An r ‖ s signature may begin with 0x30 like DER does: the length decides, and a
    // signature of exactly that length that is not r ‖ s is tried as DER.
    if (sig.length === size && verify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, sig)) {
      return true;
    }
    return verify(hash, data, { key, dsaEncoding: 'der' }, sig);
  } catch {
    return false;
  }
}

/**
 * The configured keys that signed the envelope (at least one).
 *
 * @throws {ProvenanceError} `ERR_PROVENANCE_UNVERIFIABLE` when the envelope is unsigned or no
 *   signature verifies with a configured key.
 */
export function verifyEnvelope(env: DsseEnvelope, keys: readonly BuilderKey[]): BuilderKey[] {
  if (env.signatures.length === 0) {
    throw new ProvenanceError('ERR_PROVENANCE_UNVERIFIABLE', 'the envelope is not signed');
  }
  const data = pae(env.payloadType, env.payload);
  const accepted = new Set<BuilderKey>();
  for (const s of env.signatures) {
    const candidates = s.keyid === '' ? keys : keys.filter((k) => k.keyid === s.keyid);
    for (const k of candidates) if (signatureVerifies(k.key, data, s.sig)) accepted.add(k);
  }
  if (accepted.size === 0) {
    throw new ProvenanceError(
      'ERR_PROVENANCE_UNVERIFIABLE',
      'no signature verifies with a configured builder key',
    );
  }
  return [...accepted];
}

/** The default keyid of a public key: lowercase hex SHA-256 of its SPKI DER. */
export function defaultKeyid(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ format: 'der', type: 'spki' }))
    .digest('hex');
}

/**
 * A {@link BuilderKey} from a public key (KeyObject, SPKI PEM or JWK).
 *
 * @throws TypeError for a key of another type or curve.
 */
export function builderKey(
  key: KeyObject | JsonWebKey | string,
  builderIds: readonly string[],
  keyid?: string,
): BuilderKey {
  const pub =
    key instanceof KeyObject
      ? key.type === 'public'
        ? key
        : createPublicKey(key)
      : typeof key === 'string'
        ? createPublicKey(key)
        : createPublicKey({ key, format: 'jwk' });
  keyAlgorithm(pub);
  return { keyid: keyid ?? defaultKeyid(pub), key: pub, builderIds: [...builderIds] };
}

/**
 * Signs `payload` into a JSON envelope (what a builder does; used by the simulators and
 * tests). ECDSA signatures are DER, as Sigstore and in-toto tooling write them.
 */
export function signEnvelope(
  payloadType: string,
  payload: Uint8Array,
  signers: readonly { key: KeyObject; keyid?: string }[],
): { payloadType: string; payload: string; signatures: { keyid: string; sig: string }[] } {
  const data = pae(payloadType, payload);
  return {
    payloadType,
    payload: Buffer.from(payload).toString('base64'),
    signatures: signers.map(({ key, keyid }) => {
      const pub = createPublicKey(key);
      const { hash } = keyAlgorithm(pub);
      return {
        keyid: keyid ?? defaultKeyid(pub),
        sig: sign(hash, data, key).toString('base64'),
      };
    }),
  };
}
