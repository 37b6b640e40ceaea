/**
 * The standard endorsement stack: offline bundle → cache (memory, optionally a directory) →
 * Intel PCS / AMD KDS over HTTP with timeouts and retries. Everything served from disk or a
 * bundle is re-verified against the pinned roots before use.
 *
 * @internal
 * @module
 */
import type { AnchorStore } from '../verifier/verify/types.js';
import { EndorsementUnavailableError } from '../common/errors.js';
import { createKdsClient, isKdsRequest, verifyKdsEndorsement } from './kds.js';
import { createPcsClient, verifyPcsEndorsement } from './pcs.js';
import {
  createFetchGuard,
  type FetchGuardCounters,
  type FetchGuardOptions,
} from './provider/fetch-guard.js';
import { composeProviders } from './provider/compose.js';
import { createCachingProvider, type CachingProvider } from './provider/caching.js';
import { createDirectoryStore } from './provider/directory-store.js';
import { createHttpFetcher } from './provider/http-fetcher.js';
import { withRetry } from './provider/retry.js';
import type { Fetcher } from './provider/types.js';
import type {
  CrlPolicy,
  Endorsement,
  EndorsementProvider,
  EndorsementRequest,
} from '../verifier/verify/endorsement-provider.js';

/** Options of {@link createEndorsementStack}. */
export interface EndorsementStackOptions {
  readonly anchors: AnchorStore;
  /** Intel PCS (or PCCS) base URL; default Intel's public PCS. */
  readonly pcsUrl?: string;
  /** The PCS URL is a PCCS. */
  readonly pccs?: boolean;
  /** AMD KDS base URL; default AMD's public KDS. */
  readonly kdsUrl?: string;
  /** Directory to persist verified endorsements in (survives restarts, feeds bundles). */
  readonly cacheDir?: string;
  /** Never use the network: only the cache directory (and bundles imported into it). */
  readonly offline?: boolean;
  /** `require` (default) or `allow-missing` for AMD CRLs that cannot be had. */
  readonly crlPolicy?: CrlPolicy;
  /** HTTP layer override (tests); default node fetch with a 10 s timeout and 4 retries. */
  readonly fetcher?: Fetcher;
  /** Caps and negative cache of fetches chosen by evidence (VCEK, TCB Info); defaults apply. */
  readonly fetchGuard?: FetchGuardOptions;
  /** Endorsements kept in memory (default 1024). */
  readonly cacheEntries?: number;
}

/** The stack: a caching provider, with the counters of its fetch guard. */
export type EndorsementStack = CachingProvider & {
  readonly guardCounters: Readonly<FetchGuardCounters>;
};

/** Re-verifies a stored or bundled endorsement against the pinned roots at `now`. */
export function endorsementVerifier(anchors: AnchorStore): (e: Endorsement, now: Date) => void {
  return (e, now) =>
    isKdsRequest(e.request)
      ? verifyKdsEndorsement(e, anchors, now)
      : verifyPcsEndorsement(e, anchors, now);
}

function offlineUpstream(): EndorsementProvider {
  return {
    get(request: EndorsementRequest): Promise<Endorsement> {
      return Promise.reject(
        new EndorsementUnavailableError(
          `${request.kind} is not in the offline cache (import a bundle with twi endorsements import)`,
        ),
      );
    },
  };
}

/**
 * Builds the provider stack the CLI and the service use.
 *
 * @example
 * ```ts
 * const provider = createEndorsementStack({ anchors: loadAnchorStore(), cacheDir: '.twi/endorsements' });
 * const report = await appraiseEvidenceWithProvider({ evidence, provider, now, anchors, cache });
 * ```
 */
export function createEndorsementStack(o: EndorsementStackOptions): EndorsementStack {
  const verify = endorsementVerifier(o.anchors);
  const fetcher = o.fetcher ?? withRetry(createHttpFetcher({}), {});
  const network = o.offline
    ? offlineUpstream()
    : composeProviders([
        createPcsClient({
          fetcher,
          anchors: o.anchors,
          ...(o.pcsUrl !== undefined && { baseUrl: o.pcsUrl }),
          ...(o.pccs !== undefined && { pccs: o.pccs }),
        }),
        createKdsClient({
          fetcher,
          anchors: o.anchors,
          ...(o.kdsUrl !== undefined && { baseUrl: o.kdsUrl }),
        }),
      ]);
  const upstream = createFetchGuard(network, o.fetchGuard);
  const cache = createCachingProvider(upstream, {
    verify,
    ...(o.cacheEntries !== undefined && { maxEntries: o.cacheEntries }),
    ...(o.cacheDir !== undefined && { store: createDirectoryStore(o.cacheDir, { verify }) }),
    ...(o.crlPolicy !== undefined && { crlPolicy: o.crlPolicy }),
  });
  return Object.defineProperty(cache, 'guardCounters', {
    get: () => ({ ...upstream.guardCounters }),
    enumerable: true,
  }) as EndorsementStack;
}
