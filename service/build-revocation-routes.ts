/**
 * Admin routes of build revocations (`docs/provenance.md` "Revocation by build"):
 * `GET /v1/admin/revoked-builds` lists them, `DELETE /v1/admin/revoked-builds?commit=…` (or
 * `builder`, `measurement`, `repository`, `record`) lifts one, so the build can attest again.
 * Credentials revoked with it stay revoked.
 *
 * @internal
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { ProvenanceError } from '../provenance/errors.js';
import type { Store } from './store/types.js';
import { adminGuard } from './admin.js';
import { revokedBuildJson } from './build-revocation.js';
import { ProblemError } from './problem.js';
import { selectorQuery } from './provenance-routes.js';

/** What the routes need. */
export interface BuildRevocationRouteContext {
  readonly store: Store;
  readonly adminToken: string | undefined;
  now(): Date;
}

/** Registers `GET` and `DELETE /v1/admin/revoked-builds` behind the admin token. */
export async function registerBuildRevocationRoutes(
  app: FastifyInstance,
  ctx: BuildRevocationRouteContext,
): Promise<void> {
  await app.register(async (admin) => {
    admin.addHook('onRequest', adminGuard({ token: ctx.adminToken }));
    admin.get('/v1/admin/revoked-builds', async () => ({
      revoked_builds: (await ctx.store.revokedBuilds.list()).map(revokedBuildJson),
    }));
    admin.delete<{ Querystring: Record<string, string> }>(
      '/v1/admin/revoked-builds',
      async (request) => {
        const { since, until } = request.query;
        const entry = selectorQuery(request.query, ctx.now()).entry;
        if (!entry || since !== undefined || until !== undefined) {
          throw new ProvenanceError(
            'ERR_PROVENANCE_QUERY',
            'give one of commit, builder, measurement, repository or record',
          );
        }
        if (!(await ctx.store.revokedBuilds.remove(entry))) {
          throw new ProblemError(
            404,
            'ERR_BUILD_REVOCATION_UNKNOWN',
            `no revocation of ${entry.field} ${entry.value}`,
          );
        }
        return { field: entry.field, value: entry.value, lifted: true };
      },
    );
  });
}
