/**
 * The service's signing key (EAR and WIT) and the public key sets it publishes: JWKS, OIDC
 * discovery metadata and the SPIFFE bundle (SPEC-DIGEST D9, D10).
 *
 * @internal
 * @module
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { generateEarKey, type EarAlg } from '../verifier/ear/jwt.js';
import type { Store, StoredKey } from './store/types.js';
import type { JsonValue } from '../common/json.js';

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
 * Generates an ES256 key and stores it (PKCS#8 PEM) before returning it. It becomes the newest
 * key (created at `now`, or 1 ms after the newest stored key if that is not earlier), so
 * {@link loadOrCreateSigningKey} picks it after a restart.
 */
export async function createSigningKey(store: Store, now: Date): Promise<ServiceSigningKey> {
  const fresh = generateEarKey('ES256');
  // Keys are ordered by creation: make the new one strictly the newest even on a coarse clock.
  const newest = (await store.keys.list()).at(-1);
  const createdAt =
    newest && newest.createdAt >= now ? new Date(newest.createdAt.getTime() + 1) : now;
  await store.keys.put({
    kid: fresh.kid,
    alg: fresh.alg,
    publicJwk: fresh.publicJwk as JsonValue,
    privateKeyPem: fresh.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    createdAt,
  });
  return { privateKey: fresh.privateKey, alg: fresh.alg, kid: fresh.kid };
}

/**
 * The newest key in the store when it is usable (unrevoked, unexpired, ES256/ES384), or a fresh
 * ES256 key that is stored before it is returned. Older keys are retired by their successor
 * (see {@link retiresAt}) and never sign again.
 *
 * @example
 * ```ts
 * const key = await loadOrCreateSigningKey(store, new Date());
 * ```
 */
export async function loadOrCreateSigningKey(store: Store, now: Date): Promise<ServiceSigningKey> {
  const newest = (await store.keys.list()).at(-1);
  if (newest && usable(newest, now)) {
    return {
      privateKey: createPrivateKey(newest.privateKeyPem),
      alg: newest.alg as EarAlg,
      kid: newest.kid,
    };
  }
  return createSigningKey(store, now);
}

/** What decides whether a rotated-out key is still published. */
export interface KeyView {
  readonly now: Date;
  /** WIT lifetime: a key stays published this long after its successor was created. */
  readonly witLifetimeSeconds: number;
}

/**
 * When the key at `index` of `keys` (ordered as `store.keys.list()`) stops being published:
 * its successor's creation + the WIT lifetime, after which every WIT it signed has expired.
 * `undefined` for the newest key.
 */
export function retiresAt(
  keys: readonly StoredKey[],
  index: number,
  witLifetimeSeconds: number,
): Date | undefined {
  const next = keys[index + 1];
  return next && new Date(next.createdAt.getTime() + witLifetimeSeconds * 1000);
}

/** Keys to publish: unrevoked, and (with a view) not retired at `view.now`. */
export function publishedKeys(keys: readonly StoredKey[], view: KeyView | undefined): StoredKey[] {
  return keys.filter((k, i) => {
    if (k.revokedAt !== undefined) return false;
    const end = view && retiresAt(keys, i, view.witLifetimeSeconds);
    return end === undefined || end > view!.now;
  });
}

type Jwk = Record<string, unknown>;

function publicJwkOf(k: StoredKey): Jwk {
  const jwk = { ...(k.publicJwk as Jwk) };
  delete jwk.d;
  return { ...jwk, kid: k.kid, alg: k.alg };
}

/**
 * The JWK Set of every published key (relying parties verify EARs and WITs with it): unrevoked
 * and, when `view` is given, not retired.
 */
export async function publicJwks(store: Store, view?: KeyView): Promise<{ keys: Jwk[] }> {
  const keys = publishedKeys(await store.keys.list(), view);
  return { keys: keys.map((k) => ({ ...publicJwkOf(k), use: 'sig' })) };
}

/** A SPIFFE trust bundle as served. */
export interface SpiffeBundle {
  keys: Jwk[];
  spiffe_sequence: number;
  spiffe_refresh_hint: number;
}

/** The public members of each key type (RFC 7518 §6.2.1, §6.3.1; RFC 8037 §2). */
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['kty', 'crv', 'x', 'y'],
  RSA: ['kty', 'n', 'e'],
  OKP: ['kty', 'crv', 'x'],
};

/**
 * A signing key as a SPIFFE bundle entry (Trust Domain and Bundle §4.2, WIT-SVID §6.1): `kty`
 * and the public members of its type, `kid`, `use: "wit-svid"`; nothing else (no `alg`: §4.2
 * asks for no parameter defined neither there nor by the SVID specification).
 */
function bundleJwkOf(k: StoredKey): Jwk {
  const jwk = k.publicJwk as Jwk;
  const out: Jwk = {};
  for (const m of PUBLIC_MEMBERS[String(jwk.kty)] ?? []) out[m] = jwk[m];
  return { ...out, kid: k.kid, use: 'wit-svid' };
}

/** The bundle's keys: the published ones as `wit-svid` entries (`kty`, key, `kid`, `use`). */
export function bundleKeys(keys: readonly StoredKey[], view?: KeyView): Jwk[] {
  return publishedKeys(keys, view).map(bundleJwkOf);
}

/**
 * The SPIFFE trust bundle: the published keys as `wit-svid` entries ({@link bundleKeys}). `spiffe_sequence` counts
 * key additions, and revocations or retirements (one each per key), so it only grows while keys
 * are never deleted. `refreshHintSeconds` defaults to {@link BUNDLE_REFRESH_HINT_SECONDS}.
 */
export async function spiffeBundle(
  store: Store,
  view?: KeyView,
  refreshHintSeconds: number = BUNDLE_REFRESH_HINT_SECONDS,
): Promise<SpiffeBundle> {
  const all = await store.keys.list();
  const live = new Set(publishedKeys(all, view));
  const keys = [...live].map(bundleJwkOf);
  const sequence = all.reduce((n, k) => n + (live.has(k) ? 1 : 2), 0);
  return { keys, spiffe_sequence: sequence, spiffe_refresh_hint: refreshHintSeconds };
}

/** Path of the authorization endpoint the discovery document names (it answers an OAuth error). */
export const AUTHORIZATION_PATH = '/oauth2/authorize';

/**
 * OpenID provider metadata for an issuer of JWTs that is not an authorization server
 * (SPEC-DIGEST D10; the profile is described in docs/service.md "Discovery"): every member
 * OpenID Connect Discovery 1.0 §3 requires, and nothing more. The issuer runs no OAuth flow, so
 * it declares the implicit grant with `id_token` responses only (no token endpoint is then
 * required, OIDC Discovery §3 and RFC 8414 §2) and its authorization endpoint refuses every
 * request with `unsupported_response_type`. `id_token_signing_alg_values_supported` lists the
 * algorithms of the published keys, which are ECDSA: RS256 is not claimed.
 */
export function openidConfiguration(
  issuer: string,
  algs: readonly string[],
): Record<string, unknown> {
  const base = issuer.replace(/\/+$/, '');
  return {
    issuer,
    authorization_endpoint: `${base}${AUTHORIZATION_PATH}`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    response_types_supported: ['id_token'],
    grant_types_supported: ['implicit'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...new Set(algs)],
  };
}
