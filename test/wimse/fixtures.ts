/** Keys, WITs and signers shared by the WIMSE tests. */
import { sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { issueWit, staticJwks, verifyWit, WimseError } from '../../wimse/rp.js';
import type { JwsAlg, RawSigner, VerifiedWit } from '../../wimse/rp.js';
import { newKeyPair } from '../../common/key-pair.js';

export const NOW = new Date('2026-03-01T12:00:00Z');
export const NOW_S = Math.floor(NOW.getTime() / 1000);
export const SUB = 'wimse://example.com/payments/api';
export const AUD = 'https://orders.example.com/v1/orders';

const CURVES = { ES256: 'prime256v1', ES384: 'secp384r1' } as const;
const HASHES = { ES256: 'sha256', ES384: 'sha384' } as const;

export interface TestKey {
  readonly alg: 'ES256' | 'ES384';
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly kid: string;
  readonly publicJwk: Record<string, unknown> & { alg: JwsAlg };
}

export function newKey(alg: 'ES256' | 'ES384' = 'ES256', kid = `k-${alg}`): TestKey {
  const { privateKey, publicKey } = newKeyPair('ec', { namedCurve: CURVES[alg] });
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  return { alg, privateKey, publicKey, kid, publicJwk: { ...jwk, alg, kid, use: 'wit-svid' } };
}

/** A signer that only ever sees the signing input, as a native key store would. */
export function rawSigner(key: TestKey): RawSigner & { calls: number } {
  const signer = {
    calls: 0,
    sign: async (input: Uint8Array) => {
      signer.calls++;
      const sig = sign(HASHES[key.alg], input, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
      return new Uint8Array(sig);
    },
  };
  return signer;
}

export interface Setup {
  readonly issuer: TestKey;
  readonly workload: TestKey;
  readonly wit: string;
  readonly jti: string;
  readonly verified: VerifiedWit;
}

/** An issuer, a workload key of `alg`, a WIT for it, and that WIT verified. */
export async function setup(alg: 'ES256' | 'ES384' = 'ES256', sub = SUB): Promise<Setup> {
  const issuer = newKey('ES256', 'issuer-1');
  const workload = newKey(alg, 'workload');
  const { wit, jti } = await issueWit({
    sub,
    cnfJwk: {
      kty: 'EC',
      crv: workload.publicJwk.crv,
      x: workload.publicJwk.x,
      y: workload.publicJwk.y,
      alg,
    },
    key: issuer,
    lifetimeSeconds: 3600,
    now: NOW,
  });
  const verified = await verifyWit(wit, {
    jwks: staticJwks({ keys: [issuer.publicJwk] }),
    now: NOW,
  });
  return { issuer, workload, wit, jti, verified };
}

/** An `assert.rejects`/`throws` matcher for a WimseError with `code`. */
export function rejects(code: string): (err: unknown) => boolean {
  return (err: unknown) => err instanceof WimseError && err.code === code;
}
