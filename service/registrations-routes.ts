/**
 * The admin API of workload registrations, `/v1/admin/registrations` (same bearer token and
 * guard as the rest of the admin API):
 *
 * - `GET`: the registrations in force and where they come from (`store` or `policy`);
 * - `PUT` `{ "registrations": [...] }`: replaces the stored list (validated first: 400
 *   `ERR_REGISTRATIONS_INVALID` with `issues`, nothing stored);
 * - `DELETE`: forgets the stored list, so the policy's registrations apply again.
 *
 * @internal
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { PolicyError } from '../verifier/policy/errors.js';
import type { Registration } from '../verifier/policy/types.js';
import type { Store } from './store/types.js';
import { adminGuard } from './admin.js';
import type { ServiceState } from './admin-state.js';
import type { BundleEventData } from './events.js';
import { ProblemError } from './problem.js';
import {
  checkRegistrationDomain,
  parseRegistrations,
  REGISTRATIONS_SETTING,
  storedRegistrationDocs,
} from './registrations.js';
import type { JsonValue } from '../common/json.js';

/** What the registration routes need from the service. */
export interface RegistrationsContext {
  /** The configured admin token; the routes are disabled when `undefined`. */
  readonly token: string | undefined;
  /** `GET` answers without the token (`twi serve --console-public`). */
  readonly publicReads?: boolean;
  readonly store: Store;
  readonly state: ServiceState;
  readonly trustDomain: string;
  now(): Date;
  /** Applies the change just written and publishes the bundle (see `AdminContext.publish`). */
  publish(): Promise<BundleEventData>;
}

function invalid(err: PolicyError): ProblemError {
  const detail = err.message.replace(/^policy /, 'registrations: ');
  return new ProblemError(400, 'ERR_REGISTRATIONS_INVALID', detail, { issues: err.issues });
}

/** Validates a `PUT` body; the normalised list. */
function registrationsFromBody(body: unknown, trustDomain: string): readonly Registration[] {
  const docs = (body as { registrations?: unknown } | null)?.registrations;
  const keys = typeof body === 'object' && body !== null ? Object.keys(body) : [];
  if (keys.length !== 1 || docs === undefined) {
    throw new ProblemError(
      400,
      'ERR_REGISTRATIONS_INVALID',
      'the body must be {"registrations": [...]}',
    );
  }
  try {
    const list = parseRegistrations(docs);
    checkRegistrationDomain(list, trustDomain);
    return list;
  } catch (err) {
    if (err instanceof PolicyError) throw invalid(err);
    throw err;
  }
}

async function current(ctx: RegistrationsContext): Promise<Record<string, unknown>> {
  const stored = await ctx.store.settings.get(REGISTRATIONS_SETTING);
  const fromStore = storedRegistrationDocs(stored?.value) !== undefined;
  return {
    source: fromStore ? 'store' : 'policy',
    registrations: ctx.state.policy?.registrations ?? [],
  };
}

async function replace(
  ctx: RegistrationsContext,
  list: readonly Registration[] | null,
): Promise<Record<string, unknown>> {
  const value = {
    registrations: list === null ? null : (JSON.parse(JSON.stringify(list)) as JsonValue),
  };
  await ctx.store.settings.put(REGISTRATIONS_SETTING, value, ctx.now());
  const bundle = await ctx.publish();
  return {
    source: list === null ? 'policy' : 'store',
    ids: (ctx.state.policy?.registrations ?? []).map((r) => r.id),
    spiffe_sequence: bundle.spiffe_sequence,
  };
}

/**
 * Registers `GET`, `PUT` and `DELETE /v1/admin/registrations` in an encapsulated plugin
 * guarded by {@link adminGuard}.
 *
 * @example
 * ```ts
 * await registerRegistrationRoutes(app, { token, store, state, trustDomain: 'example.org',
 *   now: () => new Date(), publish: () => events.publish() });
 * ```
 */
export async function registerRegistrationRoutes(
  app: FastifyInstance,
  ctx: RegistrationsContext,
): Promise<void> {
  await app.register(
    async (admin) => {
      admin.addHook('onRequest', adminGuard(ctx));
      admin.get('/', async () => current(ctx));
      admin.put('/', async (request) =>
        replace(ctx, registrationsFromBody(request.body, ctx.trustDomain)),
      );
      admin.delete('/', async () => replace(ctx, null));
    },
    { prefix: '/v1/admin/registrations' },
  );
}
