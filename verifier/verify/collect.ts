/**
 * Deciding the endorsements of one piece of evidence (docs/endorsements.md "Collateral
 * precedence"). Each platform wing states what it needs as {@link EndorsementNeed}s
 * (`needs`) and how the answers become the endorsements its verify stage takes
 * (`assemble`); this module asks the {@link EndorsementProvider} for them and applies the
 * rules every wing shares:
 *
 * - what the provider (offline bundles → cache → Intel PCS / AMD KDS) has wins over what the
 *   attester supplied;
 * - a wing may allow the attester's endorsements when the provider has none to give
 *   (`attesterFallback`, TDX): a note says so, and the rollback check applies downstream;
 * - a revocation list the provider cannot supply fails the appraisal unless the CRL policy is
 *   `allow-missing` (then the wing says what it checks instead).
 *
 * @internal
 * @module
 */
import { EndorsementUnavailableError } from '../../common/errors.js';
import {
  crlPolicyOf,
  type CrlPolicy,
  type Endorsement,
  type EndorsementProvider,
  type EndorsementRequest,
} from './endorsement-provider.js';
import type { CollateralSource, SuppliedEndorsements } from './types.js';

/** Options of {@link collectEndorsements}. */
export interface CollectOptions {
  readonly provider: EndorsementProvider;
  /** The instant freshness is judged at. */
  readonly now: Date;
  readonly signal?: AbortSignal;
  /**
   * `require`: a missing CRL fails the appraisal; `allow-missing`: it is skipped and noted.
   * Default: the provider's own `crlPolicy`, else `require`.
   */
  readonly crlPolicy?: CrlPolicy;
}

/** What was collected, and from where. */
export interface CollectedEndorsements {
  readonly endorsements: SuppliedEndorsements;
  /** The endorsements the provider returned (request, sha256, source), for EARs and logs. */
  readonly used: readonly Endorsement[];
  /** Things worth knowing, e.g. a CRL skipped under `allow-missing`. */
  readonly notes: readonly string[];
  /**
   * Where each piece the verify stage reports came from, by collateral kind (`tcb-info`,
   * `vcek`, `ask`, `amd-crl`, …). A kind absent here has no single known source.
   */
  readonly sources: Readonly<Record<string, CollateralSource>>;
}

/** One endorsement a wing needs, named by the collateral kind its verify stage reports. */
export interface EndorsementNeed {
  /** The collateral kind (`tcb-info`, `vcek`, `amd-crl`, …). */
  readonly kind: string;
  readonly request: EndorsementRequest;
  /** A revocation list: under `allow-missing` an unavailable one is skipped. */
  readonly revocation?: boolean;
}

/** What a wing needs for one piece of evidence. */
export interface EndorsementPlan {
  readonly needs: readonly EndorsementNeed[];
  /** Sources of the pieces that do not come from the provider (`pck-chain`: attester). */
  readonly fixedSources?: Readonly<Record<string, CollateralSource>>;
  /**
   * When the provider cannot supply a need (`EndorsementUnavailableError`), the supplied
   * endorsements are used as they are, with this note; absent: the failure stands.
   */
  readonly attesterFallback?: (reason: string) => string;
  /** Notes to add whenever the plan is carried out (`the attester's … was ignored`). */
  readonly notes?: readonly string[];
}

/** The provider's answers, by need kind; a revocation need skipped is absent. */
export type Answers = ReadonlyMap<string, Endorsement>;

/** The endorsement-collection part of a platform wing. */
export interface EndorsementWing<E> {
  /** Sources of endorsements used as supplied (no provider, or the attester fallback). */
  readonly suppliedSources: Readonly<Record<string, CollateralSource>>;
  /** What this evidence needs; undefined: nothing to fetch, the supplied ones are used. */
  needs?(evidence: E, supplied: SuppliedEndorsements): EndorsementPlan | undefined;
  /**
   * The endorsements the verify stage takes, from the answers (and the supplied ones where
   * the wing's rules allow), with notes on revocation needs that were skipped.
   */
  assemble?(evidence: E, supplied: SuppliedEndorsements, answers: Answers): AssembledEndorsements;
}

/** What a wing's `assemble` gives. */
export interface AssembledEndorsements {
  readonly endorsements: SuppliedEndorsements;
  readonly notes?: readonly string[];
  /** Sources that differ from the answers' (a skipped CRL replaced by the attester's). */
  readonly sources?: Readonly<Record<string, CollateralSource>>;
}

/** The {@link CollateralSource} of an endorsement the provider returned. */
export function collateralSourceOf(e: Endorsement): CollateralSource {
  if (e.source === 'offline') return 'bundle';
  if (e.source === 'cache') return 'cache';
  return e.request.kind.startsWith('amd-') ? 'kds' : 'pcs';
}

/** The supplied endorsements, used as they are. */
export function asSupplied<E>(
  wing: EndorsementWing<E>,
  supplied: SuppliedEndorsements,
  notes: readonly string[] = [],
): CollectedEndorsements {
  return { endorsements: supplied, used: [], notes, sources: wing.suppliedSources };
}

async function ask(
  plan: EndorsementPlan,
  o: CollectOptions,
): Promise<{ answers: Map<string, Endorsement>; used: Endorsement[] }> {
  const policy = o.crlPolicy ?? crlPolicyOf(o.provider);
  const answers = new Map<string, Endorsement>();
  const results = await Promise.all(
    plan.needs.map(async (need) => {
      try {
        return await o.provider.get(need.request, { now: o.now, signal: o.signal });
      } catch (err) {
        const skip = need.revocation && policy === 'allow-missing';
        if (skip && err instanceof EndorsementUnavailableError) return undefined;
        throw err;
      }
    }),
  );
  const used: Endorsement[] = [];
  plan.needs.forEach((need, i) => {
    const e = results[i];
    if (e === undefined) return;
    answers.set(need.kind, e);
    used.push(e);
  });
  return { answers, used };
}

/**
 * Decides the endorsements of one piece of evidence: the provider's, or, where the wing's
 * rules allow, what the attester supplied (see the module comment).
 *
 * @throws {EndorsementUnavailableError} (`ERR_ENDORSEMENT_UNAVAILABLE`, retryable) when a
 *   needed endorsement cannot be had and the wing has no fallback;
 *   `ERR_ENDORSEMENT_INVALID` when what came back does not verify; the wing's errors for
 *   supplied endorsements it cannot read.
 * @example
 * ```ts
 * const collected = await collectEndorsements(getPlatform('tdx'), quote, {}, { provider, now });
 * verifyTdx(quote, collected.endorsements, ctx);
 * ```
 */
export async function collectEndorsements<E>(
  wing: EndorsementWing<E>,
  evidence: E,
  supplied: SuppliedEndorsements,
  o: CollectOptions,
): Promise<CollectedEndorsements> {
  const plan = wing.needs?.(evidence, supplied);
  if (plan === undefined || wing.assemble === undefined) return asSupplied(wing, supplied);
  let asked: Awaited<ReturnType<typeof ask>>;
  try {
    asked = await ask(plan, o);
  } catch (err) {
    if (plan.attesterFallback === undefined || !(err instanceof EndorsementUnavailableError)) {
      throw err;
    }
    return asSupplied(wing, supplied, [plan.attesterFallback(err.message)]);
  }
  const assembled = wing.assemble(evidence, supplied, asked.answers);
  const sources: Record<string, CollateralSource> = { ...plan.fixedSources };
  for (const [kind, e] of asked.answers) sources[kind] = collateralSourceOf(e);
  Object.assign(sources, assembled.sources);
  return {
    endorsements: assembled.endorsements,
    used: asked.used,
    notes: [...(plan.notes ?? []), ...(assembled.notes ?? [])],
    sources,
  };
}
