/**
 * The twi key binding (ARCHITECTURE "Data flow", step 2): the 64 bytes that tie a
 * verifier nonce and the workload's public key into TDX/SEV-SNP REPORT_DATA and Nitro
 * `user_data`: `SHA-512("twi-binding-v1" ‖ nonce ‖ jkt)`, where `jkt` is the 32-byte
 * RFC 7638 SHA-256 thumbprint of the public JWK.
 *
 * @module
 */
import { createHash, type JsonWebKey } from 'node:crypto';

/** Domain separation label of the binding, version 1. */
export const BINDING_LABEL = 'twi-binding-v1';

const THUMBPRINT_MEMBERS: Record<string, readonly string[]> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
};

/**
 * RFC 7638 JWK thumbprint (SHA-256) of a public key, as raw bytes. The one thumbprint
 * implementation of twi (the bundle-signature `kid` delegates here too).
 *
 * Kept rather than jose's `calculateJwkThumbprint`: jose's is asynchronous (WebCrypto digest)
 * and this one sits on synchronous paths (the appraisal's `public_key` binding check, the
 * evidence builders of the CLI and simulators), where switching would make the appraisal
 * checks async for a 20-line function. `test/unit/jwk-thumbprint.test.ts` checks it against
 * the RFC 7638 §3.1 vector and against jose for EC, OKP and RSA keys.
 *
 * @throws TypeError for a key type other than EC, OKP or RSA, or missing members.
 */
export function jwkThumbprint(jwk: JsonWebKey): Uint8Array {
  const members = THUMBPRINT_MEMBERS[String(jwk.kty)];
  if (!members) throw new TypeError(`unsupported JWK kty ${String(jwk.kty)}`);
  const parts = members.map((m) => {
    const v = (jwk as Record<string, unknown>)[m];
    if (typeof v !== 'string') throw new TypeError(`JWK member ${m} is missing`);
    return `${JSON.stringify(m)}:${JSON.stringify(v)}`;
  });
  return new Uint8Array(
    createHash('sha256')
      .update(`{${parts.join(',')}}`)
      .digest(),
  );
}

/**
 * The 64-byte binding of `nonce` and the key whose thumbprint is `jkt`.
 *
 * @example
 * ```ts
 * const reportData = bindingReportData(nonce, jwkThumbprint(publicJwk));
 * ```
 */
export function bindingReportData(nonce: Uint8Array, jkt: Uint8Array): Uint8Array {
  if (jkt.length !== 32) throw new TypeError('jkt must be a 32-byte SHA-256 thumbprint');
  return new Uint8Array(
    createHash('sha512').update(BINDING_LABEL).update(nonce).update(jkt).digest(),
  );
}
