/**
 * A workload key of the native addon (non-exportable P-256) in the shim's `WorkloadKey` shape,
 * for shim tests that run without a device.
 */
import { generateKey } from '../../native/keys.js';
import type { WorkloadKey } from '../../shim/attester.js';

/** A fresh native ES256 workload key. */
export function nativeWorkloadKey(): WorkloadKey {
  const key = generateKey('P-256');
  const { jwk, spki } = key.publicKey();
  return {
    alg: 'ES256',
    publicJwk: { ...jwk, alg: 'ES256' },
    spki,
    sign: (d) => key.sign(d),
    dispose: () => key.dispose(),
  };
}
