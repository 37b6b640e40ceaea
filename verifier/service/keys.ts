/**
 * The service's signing key (EAR and WIT) and the public key sets it publishes: JWKS, OIDC
 * discovery metadata and the SPIFFE bundle (SPEC-DIGEST D9, D10).
 *
 * @module
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { generateEarKey, type EarAlg } from '../ear/index.js';
import type { JsonValue, Store, StoredKey } from '../store/index.js';

/** The key EARs and WITs are signed with. */
export interface ServiceSigningKey {
  readonly privateKey: KeyObject;
  readonly alg: EarAlg;
  readonly kid: string;
}

/** Default `spiffe_refresh_hint`, seconds. */
export const BUNDLE_REFRESH_HINT_SECONDS = 300;

function usable(k: StoredKey, now: Date): boolean {
  return (
    k.revokedAt === undefined &&
    (k.notAfter === undefined || k.notAfter > now) &&
    (k.alg === 'ES256' || k.alg === 'ES384')
  );
}

/**
 * The newest usable (unrevoked, unexpired, ES256/ES384) key in the store, or a fresh ES256
 * key that is stored (PKCS#8 PEM) before it is returned.
 *
 * @example
 * ```ts
 * const key = await loadOrCreateSigningKey(store, new Date());
 * ```
 */
export async function loadOrCreateSigningKey(store: Store, now: Date): Promise<ServiceSigningKey> {
  const keys = (await store.keys.list()).filter((k) => usable(k, now));
  const newest = keys.at(-1);
  if (newest) {
    return {
      privateKey: createPrivateKey(newest.privateKeyPem),
      alg: newest.alg as EarAlg,
      kid: newest.kid,
    };
  }
  const fresh = generateEarKey('ES256');
  await store.keys.put({
    kid: fresh.kid,
    alg: fresh.alg,
    publicJwk: fresh.publicJwk as JsonValue,
    privateKeyPem: fresh.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    createdAt: now,
  });
  return { privateKey: fresh.privateKey, alg: fresh.alg, kid: fresh.kid };
}

type Jwk = Record<string, unknown>;

function publicJwkOf(k: StoredKey): Jwk {
  const jwk = { ...(k.publicJwk as Jwk) };
  delete jwk.d;
  return { ...jwk, kid: k.kid, alg: k.alg };
}

/** The JWK Set of every unrevoked key (relying parties verify EARs and WITs with it). */
export async function publicJwks(store: Store): Promise<{ keys: Jwk[] }> {
  const keys = (await store.keys.list()).filter((k) => k.revokedAt === undefined);
  return { keys: keys.map((k) => ({ ...publicJwkOf(k), use: 'sig' })) };
}

/**
 * The SPIFFE trust bundle: the unrevoked keys with `use: "wit-svid"`. `spiffe_sequence` counts
 * key additions and revocations, so it only grows while keys are never deleted.
 */
export async function spiffeBundle(
  store: Store,
): Promise<{ keys: Jwk[]; spiffe_sequence: number; spiffe_refresh_hint: number }> {
  const all = await store.keys.list();
  const keys = all
    .filter((k) => k.revokedAt === undefined)
    .map((k) => ({ ...publicJwkOf(k), use: 'wit-svid' }));
  const sequence = all.reduce((n, k) => n + (k.revokedAt === undefined ? 1 : 2), 0);
  return { keys, spiffe_sequence: sequence, spiffe_refresh_hint: BUNDLE_REFRESH_HINT_SECONDS };
}

/** Minimal OpenID provider metadata (SPEC-DIGEST D10), for EAR/WIT key discovery. */
export function openidConfiguration(
  issuer: string,
  algs: readonly string[],
): Record<string, unknown> {
  return {
    issuer,
    jwks_uri: `${issuer.replace(/\/+$/, '')}/.well-known/jwks.json`,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...algs],
  };
}
