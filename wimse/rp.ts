/**
 * WIMSE workload credentials: workload identifiers, WIT issuance and verification, WPT signing
 * and verification, issuer JWKS caching, replay protection and the relying-party middleware.
 *
 * @module
 */
export * from './bundle-poll.js';
export * from './bundle-watch.js';
export * from './errors.js';
export * from './identifier.js';
export { b64u, decodeCompact, importPublicJwk, isJwsAlg, signCompact, tokenHash } from './jws.js';
export type { DecodedJws, JwsAlg, RawSigner } from './jws.js';
export * from './jwks.js';
export * from './replay.js';
export * from './request.js';
export * from './wit.js';
export * from './wpt.js';
