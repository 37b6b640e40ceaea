/** Shared fixtures of the PCS and KDS client tests: a URL-recording fetcher, a rejection. */
import assert from 'node:assert/strict';
import type { Fetcher } from '../../endorsements/provider/types.js';

/** What the clients reject with: the error code and, when HTTP failed, its details. */
export interface ClientRejection {
  readonly code: string;
  readonly message: string;
  readonly status?: number;
  readonly retryAfterMs?: number;
}

/** Wraps `inner` so that every URL asked for is appended to `urls`. */
export function recording(inner: Fetcher): { urls: string[]; fetcher: Fetcher } {
  const urls: string[] = [];
  return { urls, fetcher: (url, init) => (urls.push(url), inner(url, init)) };
}

/** The error `p` rejects with; fails the test when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<ClientRejection> {
  try {
    await p;
  } catch (err) {
    return err as ClientRejection;
  }
  assert.fail('expected a rejection');
}
