/**
 * WIMSE workload credentials: workload identifiers, WIT issuance and verification, WPT signing
 * and verification, issuer JWKS caching and discovery from the issuer URL, replay protection, the relying-party middleware, and
 * mutual TLS with X.509 workload certificates.
 *
 * @module
 */
export * from './bundle-poll.js';
export * from './bundle-watch.js';
export * from './discovery.js';
export * from './errors.js';
export * from './identifier.js';
export { b64u, decodeCompact, importPublicJwk, isJwsAlg, signCompact, tokenHash } from './jws.js';
export type { DecodedJws, JwsAlg, RawSigner } from './jws.js';
export * from './jwks.js';
export * from './mtls.js';
export * from './replay.js';
export * from './request.js';
export * from './wit.js';
export * from './wpt.js';
export * from './x509-peer.js';
export {
  hasTwiExtension,
  MAX_JTI_BYTES,
  readTwiExtension,
  TWI_EXTENSION_OID,
} from '../common/x509/twi-extension.js';
export type { TwiExtension } from '../common/x509/twi-extension.js';
