/**
 * Bundle signatures: a compact JWS (ES256 or ES384) whose payload binds the bundle's format,
 * creation time and entries hash. `kid` is the RFC 7638 thumbprint of the signing key.
 *
 * @internal
 * @module
 */
import { createPublicKey, KeyObject, type JsonWebKey } from 'node:crypto';
import { CompactSign, compactVerify } from 'jose';
import { jwkThumbprint } from '../wire/binding.js';
import { canonicalJson } from '../common/canonical-json.js';

/** `typ` of a bundle signature's protected header. */
export const BUNDLE_JWS_TYP = 'twi-endorsements-bundle+jws';

/** What a bundle signature signs. */
export interface SignedSummary {
  readonly format: string;
  readonly created: string;
  readonly sha256: string;
}

/** The JWS algorithm for an EC key (P-256 → ES256, P-384 → ES384); TypeError otherwise. */
export function algorithmOf(key: KeyObject): 'ES256' | 'ES384' {
  const curve = key.asymmetricKeyType === 'ec' ? key.asymmetricKeyDetails?.namedCurve : undefined;
  if (curve === 'prime256v1') return 'ES256';
  if (curve === 'secp384r1') return 'ES384';
  throw new TypeError('bundle keys must be EC P-256 (ES256) or P-384 (ES384)');
}

/** RFC 7638 thumbprint (SHA-256, base64url) of a key's public part ({@link jwkThumbprint}). */
export async function keyId(key: KeyObject): Promise<string> {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return Promise.resolve(
    Buffer.from(jwkThumbprint(pub.export({ format: 'jwk' }))).toString('base64url'),
  );
}

/** Signs a summary with a private key; returns the compact JWS and its `kid`. */
export async function signSummary(
  summary: SignedSummary,
  privateKey: KeyObject,
): Promise<{ jws: string; kid: string }> {
  if (privateKey.type !== 'private') throw new TypeError('signingKey must be a private key');
  const alg = algorithmOf(privateKey);
  const kid = await keyId(privateKey);
  const jws = await new CompactSign(new TextEncoder().encode(canonicalJson(summary)))
    .setProtectedHeader({ alg, typ: BUNDLE_JWS_TYP, kid })
    .sign(privateKey);
  return { jws, kid };
}

/** A trusted key as given: a public KeyObject or a public JWK. */
export type TrustedKey = KeyObject | JsonWebKey;

/**
 * Verifies a bundle signature against trusted keys (the one whose thumbprint is the header's
 * `kid` first, then the rest) and returns the signed summary and the key's `kid`.
 * Throws a plain Error describing the failure.
 */
export async function verifySummary(
  jws: string,
  trusted: readonly TrustedKey[],
): Promise<{ summary: SignedSummary; kid: string }> {
  const keys = await Promise.all(
    trusted.map(async (k) => {
      const key = k instanceof KeyObject ? k : createPublicKey({ key: k, format: 'jwk' });
      if (key.type !== 'public') throw new TypeError('trustedKeys must be public keys');
      algorithmOf(key);
      return { key, kid: await keyId(key) };
    }),
  );
  const headerKid = protectedKid(jws);
  keys.sort((a, b) => Number(b.kid === headerKid) - Number(a.kid === headerKid));
  for (const { key, kid } of keys) {
    try {
      const { payload, protectedHeader } = await compactVerify(jws, key, {
        algorithms: [algorithmOf(key)],
      });
      if (protectedHeader.typ !== BUNDLE_JWS_TYP) throw new Error(`typ is not ${BUNDLE_JWS_TYP}`);
      return { summary: JSON.parse(new TextDecoder().decode(payload)) as SignedSummary, kid };
    } catch {
      continue;
    }
  }
  throw new Error(
    `signature does not verify under any of the ${keys.length} trusted key(s)` +
      (headerKid ? ` (kid ${headerKid})` : ''),
  );
}

function protectedKid(jws: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(jws.split('.')[0] ?? '', 'base64url').toString('utf8'));
    return typeof header?.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}
