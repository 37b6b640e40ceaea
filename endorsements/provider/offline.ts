/**
 * The offline layer: endorsements from an imported bundle (or any fixed set), served while
 * they are fresh, never fetched.
 *
 * @internal
 * @module
 */
import { EndorsementInvalidError, EndorsementUnavailableError } from '../../common/errors.js';
import { type EndorsementVerifier } from './types.js';
import {
  requestKey,
  type CrlPolicy,
  type Endorsement,
  type EndorsementProvider,
} from '../../verifier/verify/endorsement-provider.js';

/** Options of {@link createOfflineProvider}. */
export interface OfflineProviderOptions {
  /**
   * Re-verifies an entry on its first use (success is remembered per entry; freshness is
   * checked on every call). Default none: `importBundle` has already run its mandatory hook.
   */
  readonly verify?: EndorsementVerifier;
  /** Published as {@link EndorsementProvider.crlPolicy}. Default unset (read as `'require'`). */
  readonly crlPolicy?: CrlPolicy;
}

/** The offline provider, with what it holds. */
export interface OfflineProvider extends EndorsementProvider {
  /** The request keys it can answer, sorted. */
  keys(): string[];
}

/**
 * Serves endorsements from a bundle (`importBundle`'s result, or a plain list): an entry is
 * returned (source `'offline'`) while `now < nextUpdate`; a missing or expired one is
 * `EndorsementUnavailableError`, one that fails `verify` is `EndorsementInvalidError`. Where
 * a list names a key twice, the entry with the later `nextUpdate` is kept.
 *
 * @example
 * ```ts
 * const bundle = await importBundle(readFileSync('endorsements.json'), {
 *   expectedSha256: pinned,
 *   verify: verifyCollateral,
 * });
 * const provider = composeProviders([createOfflineProvider(bundle), network]);
 * ```
 */
export function createOfflineProvider(
  bundle: { readonly entries: readonly Endorsement[] } | readonly Endorsement[],
  options: OfflineProviderOptions = {},
): OfflineProvider {
  const list = Array.isArray(bundle)
    ? (bundle as readonly Endorsement[])
    : (bundle as { readonly entries: readonly Endorsement[] }).entries;
  const map = new Map<string, Endorsement>();
  for (const e of list) {
    const key = requestKey(e.request);
    const had = map.get(key);
    if (!had || had.nextUpdate.getTime() < e.nextUpdate.getTime()) map.set(key, e);
  }
  const verified = new WeakSet<Endorsement>();
  return {
    ...(options.crlPolicy === undefined ? {} : { crlPolicy: options.crlPolicy }),
    keys: () => [...map.keys()].sort(),
    async get(request, { now }) {
      const key = requestKey(request);
      const e = map.get(key);
      if (!e) throw new EndorsementUnavailableError(`${key}: not in the offline bundle`);
      if (now.getTime() >= e.nextUpdate.getTime()) {
        throw new EndorsementUnavailableError(
          `${key}: offline copy expired at ${e.nextUpdate.toISOString()} (now ${now.toISOString()})`,
        );
      }
      if (options.verify && !verified.has(e)) {
        try {
          await options.verify(e, now);
        } catch (err) {
          const why = err instanceof Error ? err.message : String(err);
          throw new EndorsementInvalidError(`${key}: offline copy does not verify: ${why}`, {
            cause: err,
          });
        }
        verified.add(e);
      }
      return { ...e, source: 'offline' };
    },
  };
}
