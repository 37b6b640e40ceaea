/**
 * The read side of the admin API (docs/service.md "Admin read API"), what `twi admin` and the
 * console show: `GET /v1/admin/policy`, `/keys`, `/revocations`, `/appraisals` and
 * `/credentials`. Behind the admin token like the rest of `/v1/admin/`, unless the operator
 * made the reads public (`consoleReadOnly`, `twi serve --console-public`): then these `GET`s
 * (and `GET /v1/admin/registrations`) answer without it, and nothing that writes does.
 *
 * @internal
 * @module
 */
import { X509Certificate } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { parsePolicyYamlDocument, policyYamlToJs } from '../verifier/policy/yaml.js';
import type { Policy } from '../verifier/policy/types.js';
import type { JsonValue } from '../common/json.js';
import type { Store } from './store/types.js';
import type { ServiceState } from './admin-state.js';
import { adminGuard } from './admin.js';
import type { AppraisalLog } from './appraisal-log.js';
import { revokedBuildJson } from './build-revocation.js';
import { publishedCas } from './ca-keys.js';
import { certificatesFromPem } from './ca/asn1.js';
import { retiresAt } from './keys.js';
import { ProblemError } from './problem.js';
import { POLICY_SETTING } from './shared-settings.js';

/** Most entries one `GET /v1/admin/appraisals` or `/credentials` returns. */
export const MAX_READ_LIMIT = 500;
/** Entries returned when no `limit` is given. */
export const DEFAULT_READ_LIMIT = 50;

/** What the read routes need from the service. */
export interface AdminReadContext {
  /** The admin token; every route answers 403 `ERR_ADMIN_DISABLED` without one (unless public). */
  readonly token: string | undefined;
  /** Answer these `GET`s without the token (`--console-public`). */
  readonly publicReads?: boolean;
  readonly store: Store;
  readonly state: ServiceState;
  readonly appraisals: AppraisalLog;
  readonly witLifetimeSeconds: number;
  readonly certLifetimeSeconds: number;
  /** The policy given at start (`--policy`), used while the store holds none. */
  readonly basePolicy?: Policy;
  /** The current bundle's `spiffe_sequence`. */
  bundleSequence(): Promise<number>;
  now(): Date;
}

/**
 * `limit` of a query string: an integer from 1 to {@link MAX_READ_LIMIT}.
 *
 * @throws {ProblemError} 400 `ERR_REQUEST_INVALID`.
 */
export function readLimit(value: unknown): number {
  if (value === undefined) return DEFAULT_READ_LIMIT;
  const n = typeof value === 'string' && /^[0-9]{1,4}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_READ_LIMIT)) {
    throw new ProblemError(
      400,
      'ERR_REQUEST_INVALID',
      `limit must be an integer from 1 to ${MAX_READ_LIMIT}`,
    );
  }
  return n;
}

const iso = (d: Date | undefined): string | undefined => d?.toISOString();

/** The policy document in force as JSON: the stored one, else the configured one, else null. */
async function policyView(ctx: AdminReadContext): Promise<Record<string, unknown>> {
  const stored = await ctx.store.settings.get(POLICY_SETTING);
  const value = stored?.value as { format?: string; source?: string } | undefined;
  if (stored && typeof value?.source === 'string') {
    const policy =
      value.format === 'yaml'
        ? policyYamlToJs(parsePolicyYamlDocument(value.source))
        : (JSON.parse(value.source) as unknown);
    return {
      policy,
      source: 'store',
      format: value.format,
      updated_at: stored.updatedAt.toISOString(),
    };
  }
  if (ctx.basePolicy) {
    const policy = JSON.parse(JSON.stringify(ctx.basePolicy)) as JsonValue;
    return { policy, source: 'configuration', updated_at: null };
  }
  return { policy: null, source: 'default', updated_at: null };
}

/** Signing keys with their state, the issuing CAs, the bundle sequence. */
async function keysView(ctx: AdminReadContext): Promise<Record<string, unknown>> {
  const now = ctx.now();
  const keys = await ctx.store.keys.list();
  const cas = await ctx.store.caKeys.list();
  const published = new Set(publishedCas(cas, now, ctx.certLifetimeSeconds).map((c) => c.kid));
  return {
    keys: keys.map((k, i) => {
      const retires = retiresAt(keys, i, ctx.witLifetimeSeconds);
      let state: string;
      if (k.revokedAt !== undefined) state = 'revoked';
      else if (k.kid === ctx.state.key.kid) state = 'active';
      else if (retires === undefined || retires > now) state = 'published';
      else state = 'retired';
      return {
        kid: k.kid,
        alg: k.alg,
        created_at: k.createdAt.toISOString(),
        state,
        ...(k.revokedAt && { revoked_at: iso(k.revokedAt) }),
        ...(state !== 'revoked' && retires && { retired_at: iso(retires) }),
      };
    }),
    ca: cas.map((rec) => {
      const cert = new X509Certificate(certificatesFromPem(rec.chainPem)[0]!);
      let state = 'retired';
      if (rec.kid === ctx.state.ca.kid) state = 'active';
      else if (published.has(rec.kid)) state = 'published';
      return {
        kid: rec.kid,
        serial: cert.serialNumber.toLowerCase(),
        subject: cert.subject,
        not_before: new Date(cert.validFrom).toISOString(),
        not_after: new Date(cert.validTo).toISOString(),
        source: rec.source,
        state,
      };
    }),
    bundle_sequence: await ctx.bundleSequence(),
  };
}

/** Every revocation the store holds: credentials, certificates, signing keys, builds. */
async function revocationsView(ctx: AdminReadContext): Promise<Record<string, unknown>> {
  const events = await ctx.store.credentials.revokedSince(0);
  const keys = await ctx.store.keys.list();
  return {
    credentials: events.map((e) => ({
      jti: e.jti,
      revoked_at: e.revokedAt.toISOString(),
      ...(e.serial !== undefined && { serial: e.serial }),
    })),
    certificates: events.flatMap((e) =>
      e.serial === undefined
        ? []
        : [{ serial: e.serial, jti: e.jti, revoked_at: e.revokedAt.toISOString() }],
    ),
    keys: keys.flatMap((k) =>
      k.revokedAt === undefined ? [] : [{ kid: k.kid, revoked_at: k.revokedAt.toISOString() }],
    ),
    builds: (await ctx.store.revokedBuilds.list()).map(revokedBuildJson),
  };
}

/** The newest issued credentials, from the store's ledger (every instance's). */
async function credentialsView(
  ctx: AdminReadContext,
  limit: number,
): Promise<Record<string, unknown>> {
  const matches = await ctx.store.provenance.findCredentials({ limit, newestFirst: true });
  const credentials = [];
  for (const m of matches) {
    const record = await ctx.store.credentials.get(m.jti);
    credentials.push({
      jti: m.jti,
      workload_id: m.sub,
      issued_at: new Date(m.iat * 1000).toISOString(),
      expires_at: new Date(m.exp * 1000).toISOString(),
      revoked: m.revokedAt !== undefined,
      ...(m.revokedAt && { revoked_at: m.revokedAt.toISOString() }),
      ...(record?.platform !== undefined && { platform: record.platform }),
      ...(record?.serial !== undefined && { serial: record.serial }),
    });
  }
  return { credentials };
}

/**
 * Registers the read routes in an encapsulated plugin guarded by {@link adminGuard}.
 *
 * @example
 * ```ts
 * await registerAdminReadRoutes(app, { token, store, state, appraisals: createAppraisalLog(),
 *   witLifetimeSeconds: 3600, certLifetimeSeconds: 3600, bundleSequence: async () => 1,
 *   now: () => new Date() });
 * ```
 */
export async function registerAdminReadRoutes(
  app: FastifyInstance,
  ctx: AdminReadContext,
): Promise<void> {
  await app.register(
    async (admin) => {
      admin.addHook(
        'onRequest',
        adminGuard({ token: ctx.token, ...(ctx.publicReads && { publicReads: true }) }),
      );
      admin.get('/policy', async () => policyView(ctx));
      admin.get('/keys', async () => keysView(ctx));
      admin.get('/revocations', async () => revocationsView(ctx));
      admin.get<{ Querystring: Record<string, string> }>('/appraisals', async (request) => ({
        appraisals: ctx.appraisals.recent(readLimit(request.query.limit)),
      }));
      admin.get<{ Querystring: Record<string, string> }>('/credentials', async (request) =>
        credentialsView(ctx, readLimit(request.query.limit)),
      );
    },
    { prefix: '/v1/admin' },
  );
}
