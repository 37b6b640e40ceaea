/**
 * Endorsement providers: the contract, the HTTP fetcher and its retry layer, the caching,
 * offline and composition layers, and persistence.
 *
 * @module
 */
export * from './types.js';
export { createHttpFetcher, FetchError } from './http-fetcher.js';
export type { FetchErrorCode, HttpFetcherOptions } from './http-fetcher.js';
export { isRetryableStatus, parseRetryAfter, withRetry } from './retry.js';
export type { RetryInfo, RetryOptions } from './retry.js';
export { createCachingProvider, isValid } from './caching.js';
export type {
  CacheCounters,
  CacheEvent,
  CachingProvider,
  CachingProviderOptions,
} from './caching.js';
export { createDirectoryStore } from './directory-store.js';
export type { DirectoryStoreOptions, EndorsementStore } from './directory-store.js';
export { createOfflineProvider } from './offline.js';
export type { OfflineProvider, OfflineProviderOptions } from './offline.js';
export { composeProviders, createStaticProvider, crlPolicyOf } from './compose.js';
export type { ComposeOptions } from './compose.js';
export { verifyIntegrity } from './codec.js';
export { sha256Hex } from '../../verifier/platforms/bytes.js';
export { createFetchGuard, EndorsementFetchLimitedError, isEvidenceChosen } from './fetch-guard.js';
export type { FetchGuardCounters, FetchGuardOptions, GuardedProvider } from './fetch-guard.js';
export { SegmentedLru } from './slru.js';
