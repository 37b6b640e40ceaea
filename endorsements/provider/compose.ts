/**
 * Combinators: the first provider with a valid copy wins; a static provider for tests; the
 * CRL policy a stack of layers publishes.
 *
 * @internal
 * @module
 */
import { EndorsementInvalidError, EndorsementUnavailableError } from '../../common/errors.js';
import {
  requestKey,
  type CrlPolicy,
  type Endorsement,
  type EndorsementProvider,
} from '../../verifier/verify/endorsement-provider.js';

/** Options of {@link composeProviders}. */
export interface ComposeOptions {
  /** The composed provider's CRL policy. Default: see {@link composeProviders}. */
  readonly crlPolicy?: CrlPolicy;
}

/**
 * Asks each provider in turn and returns the first endorsement one of them has. When none
 * has one: the first `EndorsementInvalidError` is rethrown (something answered with bad
 * collateral), else the first `TypeError` if every failure was one (misuse), else an
 * `EndorsementUnavailableError` naming the request, with every failure as its cause. The
 * caller's abort stops the walk. Unless `options.crlPolicy` says otherwise, the result
 * publishes `'allow-missing'` only when some layer sets it and none sets `'require'`.
 *
 * @example
 * ```ts
 * const offline = createOfflineProvider(await importBundle(bytes, { expectedSha256, verify }));
 * const provider = composeProviders([offline, createCachingProvider(createPcsProvider(fetcher))]);
 * const tcb = await provider.get({ kind: 'tdx-tcb-info', fmspc: '00906ed50000' }, { now });
 * ```
 */
export function composeProviders(
  providers: readonly EndorsementProvider[],
  options: ComposeOptions = {},
): EndorsementProvider {
  if (providers.length === 0) throw new TypeError('composeProviders needs at least one provider');
  const layers = [...providers];
  return {
    crlPolicy: options.crlPolicy ?? composedPolicy(layers),
    async get(request, getOptions) {
      const failures: unknown[] = [];
      for (const p of layers) {
        try {
          return await p.get(request, getOptions);
        } catch (err) {
          if (getOptions.signal?.aborted) throw err;
          failures.push(err);
        }
      }
      const invalid = failures.find((e) => e instanceof EndorsementInvalidError);
      if (invalid) throw invalid;
      if (failures.every((e) => e instanceof TypeError)) throw failures[0];
      const why = failures.map((e) => (e instanceof Error ? e.message : String(e))).join('; ');
      throw new EndorsementUnavailableError(`${requestKey(request)}: no valid copy (${why})`, {
        cause: new AggregateError(failures),
      });
    },
  };
}

function composedPolicy(layers: readonly EndorsementProvider[]): CrlPolicy {
  const declared = layers.map((p) => p.crlPolicy).filter((p) => p !== undefined);
  return declared.length > 0 && declared.every((p) => p === 'allow-missing')
    ? 'allow-missing'
    : 'require';
}

/**
 * A provider over fixed endorsements, keyed by {@link requestKey} (tests, fixtures). It
 * returns an entry as given, whatever `now` is, and `EndorsementUnavailableError` for any
 * other request.
 *
 * @example
 * ```ts
 * const provider = createStaticProvider([vcekEndorsement, certChainEndorsement]);
 * ```
 */
export function createStaticProvider(
  entries: Iterable<Endorsement> | ReadonlyMap<string, Endorsement>,
): EndorsementProvider {
  const map = new Map<string, Endorsement>();
  if (entries instanceof Map) {
    for (const [k, e] of entries as ReadonlyMap<string, Endorsement>) map.set(k, e);
  } else {
    for (const e of entries as Iterable<Endorsement>) map.set(requestKey(e.request), e);
  }
  return {
    async get(request) {
      const key = requestKey(request);
      const e = map.get(key);
      if (!e) throw new EndorsementUnavailableError(`${key}: not in the static provider`);
      return e;
    },
  };
}
