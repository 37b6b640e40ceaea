/**
 * The evidence of the load runner and the attest bench: simulated AWS Nitro attestation
 * documents bound to a fresh nonce and a workload key, from one simulated Nitro PKI whose
 * root is written to a temp directory once. Nitro is the cheapest simulation to produce per
 * request (about 2 ms, against about 5 ms for SEV-SNP and TDX on the reference machine), so
 * the client side of a load run stays small next to the verifier's work.
 *
 * @module
 */
import { randomBytes, type JsonWebKey } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNitroPki, simulateNitro, type NitroPki } from '../../simulators/index.js';
import { bindingReportData, jwkThumbprint } from '../../wire/binding.js';
import { newKeyPair } from '../../common/key-pair.js';

/** Seed of the load PKI (its keys are derived from it; test material only). */
const LOAD_PKI_SEED = 'twi-load';

/** A workload key pair's public half, as the attest request carries it. */
export interface LoadWorkloadKey {
  readonly jwk: JsonWebKey & { alg: string };
  readonly spki: Uint8Array;
  /** RFC 7638 thumbprint of `jwk`, computed once. */
  readonly jkt: Uint8Array;
}

/** The simulated Nitro PKI of a run and the directory its root is in. */
export interface LoadPki {
  readonly nitro: NitroPki;
  /** Directory holding the root PEM, for `loadAnchorStore([rootsDir])`. */
  readonly rootsDir: string;
}

/**
 * Creates the Nitro PKI (valid from a day before now) and writes its root under `dir/roots`.
 *
 * @example
 * ```ts
 * const pki = createLoadPki(mkdtempSync(join(tmpdir(), 'twi-load-')));
 * ```
 */
export function createLoadPki(dir: string): LoadPki {
  const nitro = createNitroPki({
    seed: LOAD_PKI_SEED,
    notBefore: new Date(Date.now() - 86_400_000),
  });
  const rootsDir = join(dir, 'roots');
  mkdirSync(rootsDir, { recursive: true });
  writeFileSync(join(rootsDir, 'aws-nitro-enclaves-root-g1.pem'), nitro.root.pem);
  return { nitro, rootsDir };
}

/** A fresh P-256 workload key. */
export function workloadKey(): LoadWorkloadKey {
  const { publicKey } = newKeyPair('ec', { namedCurve: 'P-256' });
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as JsonWebKey), alg: 'ES256' };
  const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  return { jwk, spki, jkt: jwkThumbprint(jwk) };
}

/**
 * The Nitro attestation document bound to `nonce` (base64url) and `key`, as of `now`: the
 * document's `nonce` is the nonce, `public_key` the key's SPKI and `user_data` the binding.
 */
export function nitroDocument(
  pki: LoadPki,
  nonce: string,
  key: LoadWorkloadKey,
  now: Date = new Date(),
): Uint8Array {
  const nonceBytes = new Uint8Array(Buffer.from(nonce, 'base64url'));
  return simulateNitro(pki.nitro, {
    now,
    seed: LOAD_PKI_SEED,
    nonce: nonceBytes,
    publicKey: key.spki,
    userData: bindingReportData(nonceBytes, key.jkt),
  }).document;
}

/** The `evidence` CMW collection of an attest request carrying `document`. */
export function evidenceCmw(document: Uint8Array): Record<string, unknown> {
  return {
    __cmwc_t: 'tag:twi.dev,2026:evidence',
    nitro: [
      'application/vnd.twi.nitro-attestation',
      Buffer.from(document).toString('base64url'),
      4,
    ],
  };
}

/** A random nonce as the service issues them (32 bytes, base64url), for in-process runs. */
export function randomNonce(): string {
  return randomBytes(32).toString('base64url');
}
