/**
 * The COSE_Sign1 envelope of signed CoRIMs (draft-ietf-rats-corim-11 §4.2, RFC 9052 §4):
 * protected header (`alg`, content type `application/rim+cbor`, `corim-meta`), the
 * `Sig_structure`, verification against trusted keys and signing.
 *
 * @internal
 * @module
 */
import { createPublicKey, KeyObject, sign, verify } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { CORIM_MEDIA_TYPE } from '../../wire/media-types.js';
import { decodeCbor, encodeCbor, tag } from './cbor.js';
import type { CborLimits } from './cbor.js';
import { CorimError, invalid, unsupported } from './errors.js';
import { asArray, asBytes, asMap, asText, asUri, at, defined, need, optional } from './read-kit.js';
import type { CorimAlg, CorimSignature, Validity } from './types.js';
import { encodeValidity, readValidity } from './validity.js';

/** A trusted CoRIM signing key: a public (or private) `KeyObject`, or a JWK. */
export type CorimKey = KeyObject | JsonWebKey;

interface AlgInfo {
  readonly name: CorimAlg;
  readonly cose: number;
  readonly hash: string | null;
  readonly keyType: string;
  readonly curve?: string;
  readonly sigLength: number;
}

const ALGS: readonly AlgInfo[] = [
  { name: 'ES256', cose: -7, hash: 'sha256', keyType: 'ec', curve: 'prime256v1', sigLength: 64 },
  { name: 'ES384', cose: -35, hash: 'sha384', keyType: 'ec', curve: 'secp384r1', sigLength: 96 },
  { name: 'ES512', cose: -36, hash: 'sha512', keyType: 'ec', curve: 'secp521r1', sigLength: 132 },
  { name: 'EdDSA', cose: -8, hash: null, keyType: 'ed25519', sigLength: 64 },
];

/** The payload of an opened COSE_Sign1 and what its headers say. */
export interface OpenedCoseSign1 {
  readonly payload: Uint8Array;
  readonly signature: CorimSignature;
}

function sigStructure(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  return encodeCbor(['Signature1', protectedBytes, new Uint8Array(0), payload]);
}

function readMeta(v: unknown, path: string, limits: CborLimits) {
  const m = asMap(decodeCbor(asBytes(v, path), path, limits), path);
  const signerPath = at(path, 'signer');
  const s = asMap(need(m, 0, signerPath), signerPath);
  return defined({
    signer: defined({
      name: asText(need(s, 0, at(signerPath, 'signer-name')), at(signerPath, 'signer-name')),
      uri: optional(s, 1, at(signerPath, 'signer-uri'), asUri),
    }),
    signatureValidity: optional(m, 1, at(path, 'signature-validity'), readValidity),
  });
}

function readProtected(bytes: Uint8Array, limits: CborLimits) {
  const path = 'cose.protected';
  const h = asMap(decodeCbor(bytes, path, limits), path);
  const algId = need(h, 1, at(path, 'alg'));
  const alg = ALGS.find((a) => a.cose === algId);
  if (!alg) throw unsupported(at(path, 'alg'), `COSE algorithm ${String(algId)} is not supported`);
  if (h.has(258) || h.has(259)) throw unsupported(path, 'hash-envelope CoRIMs are not supported');
  const ct = need(h, 3, at(path, 'content-type'));
  if (ct !== CORIM_MEDIA_TYPE) {
    throw invalid(
      at(path, 'content-type'),
      `expected "${CORIM_MEDIA_TYPE}", got ${JSON.stringify(ct)}`,
    );
  }
  if (!h.has(8) && !h.has(15)) throw invalid(path, 'needs corim-meta (8) or CWT-Claims (15)');
  const meta: Pick<CorimSignature, 'signer' | 'signatureValidity'> = h.has(8)
    ? readMeta(h.get(8), at(path, 'corim-meta'), limits)
    : {};
  const kid = optional(h, 4, at(path, 'kid'), asBytes);
  return { alg, meta, kid };
}

function toPublicKey(key: CorimKey): KeyObject {
  if (key instanceof KeyObject) return key.type === 'private' ? createPublicKey(key) : key;
  try {
    return createPublicKey({ key, format: 'jwk' });
  } catch (err) {
    throw new TypeError(`not a usable JWK: ${(err as Error).message}`);
  }
}

function fits(key: KeyObject, alg: AlgInfo): boolean {
  if (key.asymmetricKeyType !== alg.keyType) return false;
  return alg.curve === undefined || key.asymmetricKeyDetails?.namedCurve === alg.curve;
}

function verifyWith(keys: readonly CorimKey[], alg: AlgInfo, data: Uint8Array, sig: Uint8Array) {
  for (const [i, k] of keys.entries()) {
    const jwkAlg = k instanceof KeyObject ? undefined : (k as { alg?: string }).alg;
    if (jwkAlg !== undefined && jwkAlg !== alg.name) continue;
    const key = toPublicKey(k);
    if (!fits(key, alg)) continue;
    if (verify(alg.hash, data, { key, dsaEncoding: 'ieee-p1363' }, sig)) return i;
  }
  return undefined;
}

/**
 * Checks a `COSE_Sign1` array (the content of `#6.18`) and returns its payload; with
 * `trustedKeys`, one of them must verify the signature.
 */
export function openCoseSign1(
  v: unknown,
  limits: CborLimits,
  trustedKeys: readonly CorimKey[] | undefined,
): OpenedCoseSign1 {
  const parts = asArray(v, 'cose');
  if (parts.length !== 4)
    throw invalid('cose', 'COSE_Sign1 is [protected, unprotected, payload, signature]');
  const protectedBytes = asBytes(parts[0], 'cose.protected');
  const { alg, meta, kid: protectedKid } = readProtected(protectedBytes, limits);
  const unprotected = asMap(parts[1], 'cose.unprotected');
  const kid = protectedKid ?? optional(unprotected, 4, 'cose.unprotected.kid', asBytes);
  if (parts[2] === null) throw unsupported('cose.payload', 'detached payloads are not supported');
  const payload = asBytes(parts[2], 'cose.payload');
  const sig = asBytes(parts[3], 'cose.signature', alg.sigLength);
  const base = defined({ alg: alg.name, kid: kid && Buffer.from(kid).toString('hex'), ...meta });
  if (trustedKeys === undefined) return { payload, signature: { ...base, verified: false } };
  if (trustedKeys.length === 0) {
    throw new CorimError(
      'ERR_CORIM_SIGNATURE',
      'cose',
      'signed CoRIM, but no trusted key is configured',
    );
  }
  const keyIndex = verifyWith(trustedKeys, alg, sigStructure(protectedBytes, payload), sig);
  if (keyIndex === undefined) {
    const who = meta.signer ? ` (signer "${meta.signer.name}")` : '';
    throw new CorimError(
      'ERR_CORIM_SIGNATURE',
      'cose.signature',
      `no trusted key verifies the signature${who}`,
    );
  }
  return { payload, signature: { ...base, verified: true, keyIndex } };
}

/** Options of {@link signCoseSign1} (and `signCorim`). */
export interface SignCorimOptions {
  /** Private key: EC P-256 / P-384 / P-521 or Ed25519. */
  readonly key: KeyObject;
  /** Defaults to the algorithm of the key's curve. */
  readonly alg?: CorimAlg;
  /** Key identifier put in the protected header (bytes, or text taken as UTF-8). */
  readonly kid?: Uint8Array | string;
  /** The `corim-meta` signer. */
  readonly signer: { readonly name: string; readonly uri?: string };
  readonly signatureValidity?: Validity;
}

function algFor(key: KeyObject, wanted: CorimAlg | undefined): AlgInfo {
  if (!(key instanceof KeyObject) || key.type !== 'private') {
    throw new TypeError('signCorim needs a private KeyObject');
  }
  const alg = ALGS.find((a) => (wanted ? a.name === wanted : fits(key, a)));
  if (!alg || !fits(key, alg))
    throw new TypeError(`the key cannot sign ${wanted ?? 'any supported COSE algorithm'}`);
  return alg;
}

function encodeMeta(o: SignCorimOptions): Uint8Array {
  if (typeof o.signer?.name !== 'string') throw new TypeError('signCorim needs signer.name');
  const signer = new Map<number, unknown>([[0, o.signer.name]]);
  if (o.signer.uri !== undefined) signer.set(1, tag(32, o.signer.uri));
  const meta = new Map<number, unknown>([[0, signer]]);
  if (o.signatureValidity) meta.set(1, encodeValidity(o.signatureValidity));
  return encodeCbor(meta);
}

/** Signs `payload` (the bytes of a tagged unsigned CoRIM) into a `#6.18` COSE_Sign1. */
export function signCoseSign1(payload: Uint8Array, options: SignCorimOptions): Uint8Array {
  const alg = algFor(options.key, options.alg);
  const header = new Map<number, unknown>([
    [1, alg.cose],
    [3, CORIM_MEDIA_TYPE],
  ]);
  if (options.kid !== undefined) {
    const kid = typeof options.kid === 'string' ? Buffer.from(options.kid, 'utf8') : options.kid;
    header.set(4, new Uint8Array(kid));
  }
  header.set(8, encodeMeta(options));
  const protectedBytes = encodeCbor(header);
  const data = sigStructure(protectedBytes, payload);
  const signature = sign(alg.hash, data, { key: options.key, dsaEncoding: 'ieee-p1363' });
  return encodeCbor(tag(18, [protectedBytes, new Map(), payload, new Uint8Array(signature)]));
}
