/**
 * Ties the endorsement cache to verification outcomes: the endorsements one attestation used
 * are recorded through an async context and, when it issues a WIT, confirmed in the cache, so
 * collateral fetched for evidence that never verified cannot evict them.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { CachingProvider } from '../../endorsements/provider/caching.js';
import type { EndorsementProvider, EndorsementRequest } from '../../endorsements/provider/types.js';
import { attest, type AttestContext, type AttestRequest } from './attest.js';

/** The endorsement requests one attestation made, recorded through an async context. */
const usedEndorsements = new AsyncLocalStorage<EndorsementRequest[]>();

/** `provider`, recording each request into the current attestation's list. */
export function recordingProvider(provider: EndorsementProvider): EndorsementProvider {
  return {
    ...(provider.crlPolicy !== undefined && { crlPolicy: provider.crlPolicy }),
    get(request, options) {
      usedEndorsements.getStore()?.push(request);
      return provider.get(request, options);
    },
  };
}

/**
 * Runs one attestation; when it succeeds, the endorsements it used are confirmed in the
 * provider's cache, so entries fetched for evidence that never verified cannot evict them.
 */
export async function attestConfirming(
  ctx: AttestContext,
  provider: EndorsementProvider | undefined,
  body: AttestRequest,
): Promise<Awaited<ReturnType<typeof attest>>> {
  const confirm = (provider as Partial<CachingProvider> | undefined)?.confirm;
  if (!confirm) return attest(ctx, body);
  const used: EndorsementRequest[] = [];
  const out = await usedEndorsements.run(used, () => attest(ctx, body));
  confirm.call(provider, used);
  return out;
}
