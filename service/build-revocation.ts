/**
 * Revocation by build (`docs/provenance.md` "Revocation by build"): a `POST /v1/revoke` with a
 * `commit`, `builder`, `measurement`, `repository` or `record` selector is persisted in the
 * store, and every later attestation whose issuance would be indexed under it is refused with
 * 403 `ERR_BUILD_REVOKED` until an admin lifts it (`DELETE /v1/admin/revoked-builds`). The
 * check reads the store on each attestation, so every instance sharing the store enforces a
 * revocation as soon as it is committed.
 *
 * @internal
 * @module
 */
import { issuanceIndex } from '../provenance/linker.js';
import { ProvenanceError } from '../provenance/errors.js';
import type { IndexEntry } from '../provenance/store-types.js';
import type { RevokedBuild } from './store/revoked-builds-types.js';
import type { Store } from './store/types.js';
import { ProblemError } from './problem.js';

/** The problem code of an attestation refused because its build is revoked. */
export const BUILD_REVOKED = 'ERR_BUILD_REVOKED';

/** The JSON form of a build revocation in answers. */
export function revokedBuildJson(r: RevokedBuild): Record<string, string> {
  return { field: r.field, value: r.value, revoked_at: r.revokedAt.toISOString() };
}

/**
 * Persists the build selector of a revocation unless the body says `"block": false`. Returns
 * the selector when it is (or already was) in force; `undefined` for a time-window-only
 * revocation or an opt-out.
 *
 * @throws {ProvenanceError} `ERR_PROVENANCE_QUERY` when `block` is not a boolean.
 */
export async function blockBuild(
  store: Store,
  entry: IndexEntry | undefined,
  block: unknown,
  now: Date,
): Promise<IndexEntry | undefined> {
  if (block !== undefined && typeof block !== 'boolean') {
    throw new ProvenanceError('ERR_PROVENANCE_QUERY', 'block must be true or false');
  }
  if (!entry || block === false) return undefined;
  await store.revokedBuilds.add(entry, now);
  return entry;
}

/**
 * Refuses an attestation whose appraised claims (its measurements, and the builders, commits,
 * repositories and records of the supply-chain records they match) hit a build revocation.
 *
 * @throws {ProblemError} 403 `ERR_BUILD_REVOKED` naming the revoked selectors.
 */
export async function refuseRevokedBuild(
  store: Store,
  platform: string,
  claims: Readonly<Record<string, unknown>>,
): Promise<void> {
  const hits = await store.revokedBuilds.matching(
    await issuanceIndex(store.provenance, platform, claims),
  );
  if (hits.length === 0) return;
  const named = hits.map((h) => `${h.field} ${h.value}`).join(', ');
  throw new ProblemError(403, BUILD_REVOKED, `the build is revoked (${named})`, {
    revoked_builds: hits.map(revokedBuildJson),
  });
}
