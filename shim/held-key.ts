/**
 * The workload's own TLS key for the X.509 mode (docs/shim.md "X.509 mode"): an ECDSA key
 * generated inside the TEE by the shim (node:crypto, in guest memory) whose private key the
 * shim hands to the workload (`svid-key.pem`, `GET /v1/x509`), as the SPIFFE Workload API does.
 * It is attested in its own challenge, bound into its own evidence like the TEE key, so the
 * certificate for it is issued only to this TEE. The non-exportable TEE key stays the WIT/WPT
 * key.
 *
 * @internal
 * @module
 */
import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import type { WorkloadKey } from './attester.js';
import { newKeyPair } from '../common/key-pair.js';

/** A workload key whose private half the shim may hand out. */
export interface HeldKey extends WorkloadKey {
  /** The private key, PKCS#8 PEM. */
  readonly privatePem: string;
}

/** Generates a P-256 (`ES256`) or P-384 (`ES384`) key the workload will hold. */
export function createHeldKey(alg: 'ES256' | 'ES384'): HeldKey {
  const { privateKey } = newKeyPair('ec', {
    namedCurve: alg === 'ES256' ? 'P-256' : 'P-384',
  });
  let key: KeyObject | undefined = privateKey;
  const pub = createPublicKey(privateKey);
  const jwk = pub.export({ format: 'jwk' });
  const hash = alg === 'ES256' ? 'sha256' : 'sha384';
  return {
    alg,
    publicJwk: { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, y: jwk.y!, alg },
    spki: new Uint8Array(pub.export({ type: 'spki', format: 'der' })),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    sign: (data) => {
      if (!key) return Promise.reject(new Error('the key has been disposed'));
      return Promise.resolve(new Uint8Array(sign(hash, data, { key, dsaEncoding: 'ieee-p1363' })));
    },
    dispose: () => {
      key = undefined;
    },
  };
}
