/**
 * What the provider layers share beyond the verifier's contract
 * (`verifier/verify/endorsement-provider.ts`): the re-verification hook of stored copies and
 * the narrow HTTP boundary of the network layer.
 *
 * @internal
 * @module
 */
import type { Endorsement } from '../../verifier/verify/endorsement-provider.js';

/**
 * Re-verifies an endorsement taken from somewhere other than its vendor (a directory cache,
 * an offline bundle) at `now`. Throws (`EndorsementInvalidError`) when it does not verify.
 */
export type EndorsementVerifier = (endorsement: Endorsement, now: Date) => void | Promise<void>;

/** The narrow HTTP boundary the network layer uses (inject a fake in tests). */
export interface HttpResponse {
  readonly status: number;
  /** Lowercase header names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

/** Performs one GET; rejects on network errors and on `signal` abort. */
export type Fetcher = (
  url: string,
  init: { readonly headers?: Readonly<Record<string, string>>; readonly signal: AbortSignal },
) => Promise<HttpResponse>;
