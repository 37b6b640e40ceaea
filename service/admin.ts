/**
 * The admin API under `/v1/admin/`: replace the appraisal policy or the reference values
 * (both kept in the store's shared settings, so every instance applies them), rotate the
 * signing key or the generated root CA, revoke a key, a credential (by `jti`) or a certificate
 * (by serial). Every call needs `Authorization: Bearer <admin token>`; the token is checked
 * before the body is read, so a refused call writes nothing. Without a configured token every
 * admin route answers 403 `ERR_ADMIN_DISABLED`.
 *
 * @internal
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CORIM_MEDIA_TYPE, mediaTypeEssence, YAML_MEDIA_TYPES } from '../wire/media-types.js';
import { referencePlatforms } from '../endorsements/corim/policy.js';
import { loadPolicy, parsePolicy } from '../verifier/policy/loader.js';
import { PolicyError } from '../verifier/policy/errors.js';
import type { Policy } from '../verifier/policy/types.js';
import type { Store } from './store/types.js';
import type { ServiceState } from './admin-state.js';
import type { BundleEventData } from './events.js';
import { createSigningKey, retiresAt } from './keys.js';
import type { ServiceCa } from './ca-keys.js';
import { problem, ProblemError, sendProblem } from './problem.js';
import { checkRegistrationDomain } from './registrations.js';
import {
  decodeReferenceValues,
  POLICY_SETTING,
  REFERENCE_VALUES_SETTING,
  type SharedPolicyOptions,
  type StoredPolicy,
} from './shared-settings.js';

/** What the admin routes need from the service. */
export interface AdminContext {
  /** The configured admin token; the API is disabled when `undefined`. */
  readonly token: string | undefined;
  readonly store: Store;
  readonly state: ServiceState;
  readonly witLifetimeSeconds: number;
  /** Keys reference-value CoRIMs must be signed with (none: any CoRIM is accepted). */
  readonly policy?: SharedPolicyOptions;
  now(): Date;
  /**
   * Makes and stores a new generated root CA (`ca-keys.ts` `createCa`); refuses with a
   * ProblemError when the CA is the operator's. Without it the CA route answers 404.
   */
  rotateCa?(): Promise<ServiceCa>;
  /** Lifetime of issued certificates: how long a replaced CA stays published. */
  readonly certLifetimeSeconds?: number;
  /**
   * Applies the changes just written to the store to this instance's state and publishes the
   * new bundle to every subscriber; resolves with it once written.
   */
  publish(): Promise<BundleEventData>;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * True when `header` is `Bearer <token>`. Both sides are hashed first, so the comparison is
 * constant-time whatever their lengths.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  const presented = match?.[1] ?? '';
  const same = timingSafeEqual(digest(presented), digest(token));
  return same && match !== null;
}

/**
 * The `onRequest` hook of every admin route (also guards `POST /v1/revoke`). With
 * `publicReads` (`twi serve --console-public`), `GET` and `HEAD` pass without a token.
 */
export function adminGuard(ctx: Pick<AdminContext, 'token'> & { readonly publicReads?: boolean }) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    if (ctx.publicReads && (request.method === 'GET' || request.method === 'HEAD')) {
      return undefined;
    }
    if (ctx.token === undefined) {
      return sendProblem(reply, problem(403, 'ERR_ADMIN_DISABLED', 'the admin API is disabled'));
    }
    if (!bearerMatches(request.headers.authorization, ctx.token)) {
      request.log.info({ code: 'ERR_ADMIN_UNAUTHENTICATED' }, 'admin call refused');
      reply.header('www-authenticate', 'Bearer realm="twi-admin"');
      const p = problem(401, 'ERR_ADMIN_UNAUTHENTICATED', 'a valid admin bearer token is required');
      return sendProblem(reply, p);
    }
    return undefined;
  };
}

/**
 * Parses a policy body: YAML text for a {@link YAML_MEDIA_TYPES} content type, else the parsed
 * JSON. Never reads a file.
 *
 * @throws {ProblemError} 400 `ERR_POLICY_INVALID` with the `issues`.
 */
export function policyFromBody(body: unknown, contentType: string | undefined): Policy {
  return storedPolicyFromBody(body, contentType).policy;
}

/**
 * Like {@link policyFromBody}, and also the form the store keeps: the YAML text, or the JSON
 * re-serialised.
 *
 * @throws {ProblemError} 400 `ERR_POLICY_INVALID` with the `issues`.
 */
export function storedPolicyFromBody(
  body: unknown,
  contentType: string | undefined,
): { policy: Policy; stored: StoredPolicy } {
  const yaml = YAML_MEDIA_TYPES.includes(mediaTypeEssence(contentType ?? ''));
  try {
    if (yaml) {
      const source = String(body);
      return {
        policy: loadPolicy(source, { source: 'text', format: 'yaml' }),
        stored: { format: 'yaml', source },
      };
    }
    return { policy: parsePolicy(body), stored: { format: 'json', source: JSON.stringify(body) } };
  } catch (err) {
    if (err instanceof PolicyError) {
      throw new ProblemError(400, err.code, err.message, { issues: err.issues });
    }
    throw err;
  }
}

async function rotate(ctx: AdminContext): Promise<Record<string, unknown>> {
  const previous = ctx.state.key;
  const now = ctx.now();
  ctx.state.key = await createSigningKey(ctx.store, now);
  const keys = await ctx.store.keys.list();
  const index = keys.findIndex((k) => k.kid === previous.kid);
  const retires = index < 0 ? undefined : retiresAt(keys, index, ctx.witLifetimeSeconds);
  const bundle = await ctx.publish();
  return {
    kid: ctx.state.key.kid,
    previous_kid: previous.kid,
    ...(retires && { previous_retires_at: retires.toISOString() }),
    spiffe_sequence: bundle.spiffe_sequence,
  };
}

async function rotateCa(ctx: AdminContext): Promise<Record<string, unknown>> {
  if (!ctx.rotateCa) throw new ProblemError(404, 'ERR_NOT_FOUND', 'no CA to rotate');
  const previous = ctx.state.ca;
  ctx.state.ca = await ctx.rotateCa();
  const created = (await ctx.store.caKeys.list()).find((c) => c.kid === ctx.state.ca.kid);
  const retires =
    created && new Date(created.createdAt.getTime() + (ctx.certLifetimeSeconds ?? 3600) * 1000);
  const bundle = await ctx.publish();
  return {
    ca: ctx.state.ca.kid,
    previous_ca: previous.kid,
    ...(retires && { previous_retires_at: retires.toISOString() }),
    spiffe_sequence: bundle.spiffe_sequence,
  };
}

async function revokeKey(ctx: AdminContext, kid: string): Promise<Record<string, unknown>> {
  const known = (await ctx.store.keys.list()).find((k) => k.kid === kid);
  if (!known) throw new ProblemError(404, 'ERR_KEY_UNKNOWN', 'no signing key with this kid');
  const conflict = (): ProblemError =>
    new ProblemError(409, 'ERR_KEY_REVOKED', 'the key is already revoked');
  if (known.revokedAt) throw conflict();
  // The service must not go on signing with a revoked key: a fresh key takes over. It is stored
  // before the revocation, so an instance that reads the revocation from the change log has
  // already seen its successor (and does not make a key of its own).
  const newest = (await ctx.store.keys.list()).at(-1);
  const successor =
    ctx.state.key.kid === kid || newest?.kid === kid
      ? await createSigningKey(ctx.store, ctx.now())
      : undefined;
  if (!(await ctx.store.keys.revoke(kid, ctx.now()))) throw conflict();
  if (successor) ctx.state.key = successor;
  const bundle = await ctx.publish();
  return {
    kid,
    revoked: true,
    signing_kid: ctx.state.key.kid,
    spiffe_sequence: bundle.spiffe_sequence,
  };
}

async function revokeCredential(ctx: AdminContext, jti: string): Promise<Record<string, unknown>> {
  const record = await ctx.store.credentials.get(jti);
  if (!record) throw new ProblemError(404, 'ERR_CREDENTIAL_UNKNOWN', 'no credential with this jti');
  if (!(await ctx.store.credentials.revoke(jti, ctx.now()))) {
    throw new ProblemError(409, 'ERR_CREDENTIAL_REVOKED', 'the credential is already revoked');
  }
  const bundle = await ctx.publish();
  return { jti, revoked: true, spiffe_sequence: bundle.spiffe_sequence };
}

/** Most octets of a certificate serial (RFC 5280 §4.1.2.2). */
const MAX_SERIAL_OCTETS = 20;

/**
 * The serial of a route path in the form the ledger and the bundle use: hex digits (either
 * case, folded to lowercase), an even number of them, no leading zero byte, at most 20 octets.
 * Colons, a `0x` prefix and padding are refused rather than guessed at, so one certificate has
 * one spelling.
 *
 * @throws {ProblemError} 400 `ERR_SERIAL_INVALID`.
 */
export function certificateSerial(text: string): string {
  const hex = text.toLowerCase();
  const octets = hex.length / 2;
  if (!/^(?:[0-9a-f]{2})+$/.test(hex) || hex.startsWith('00') || octets > MAX_SERIAL_OCTETS) {
    throw new ProblemError(
      400,
      'ERR_SERIAL_INVALID',
      `a serial is 1 to ${MAX_SERIAL_OCTETS} octets of hex, an even number of digits, ` +
        'without colons or a leading zero byte',
    );
  }
  return hex;
}

/** Revokes the credential an X.509 certificate was issued with (and so its `jti` too). */
async function revokeCertificate(
  ctx: AdminContext,
  param: string,
): Promise<Record<string, unknown>> {
  const serial = certificateSerial(param);
  const record = await ctx.store.credentials.bySerial(serial);
  if (!record) {
    throw new ProblemError(404, 'ERR_CERTIFICATE_UNKNOWN', 'no certificate with this serial');
  }
  if (!(await ctx.store.credentials.revoke(record.jti, ctx.now()))) {
    throw new ProblemError(409, 'ERR_CREDENTIAL_REVOKED', 'the credential is already revoked');
  }
  const bundle = await ctx.publish();
  return { serial, jti: record.jti, revoked: true, spiffe_sequence: bundle.spiffe_sequence };
}

async function putPolicy(
  ctx: AdminContext,
  body: unknown,
  contentType: string | undefined,
): Promise<Record<string, unknown>> {
  const { policy, stored } = storedPolicyFromBody(body, contentType);
  try {
    checkRegistrationDomain(policy.registrations, ctx.policy?.trustDomain);
  } catch (err) {
    if (err instanceof PolicyError) {
      throw new ProblemError(400, err.code, err.message, { issues: err.issues });
    }
    throw err;
  }
  await ctx.store.settings.put(POLICY_SETTING, { ...stored }, ctx.now());
  const bundle = await ctx.publish();
  return { policy_id: policy.id, spiffe_sequence: bundle.spiffe_sequence };
}

/**
 * Replaces the reference values with one CoRIM (`application/rim+cbor`), or clears them
 * (`DELETE`). The CoRIM is decoded and mapped before anything is stored.
 */
async function putReferenceValues(
  ctx: AdminContext,
  body: Buffer | undefined,
): Promise<Record<string, unknown>> {
  const corims: string[] = [];
  let platforms: string[] = [];
  let sources: string[] = [];
  if (body !== undefined) {
    if (body.length === 0) {
      throw new ProblemError(
        400,
        'ERR_BODY_INVALID',
        `the body must be a CoRIM (${CORIM_MEDIA_TYPE})`,
      );
    }
    const refs = decodeReferenceValues(new Uint8Array(body), ctx.now(), ctx.policy?.corimKeys);
    platforms = referencePlatforms([refs]);
    sources = [...refs.sources];
    corims.push(body.toString('base64url'));
  }
  await ctx.store.settings.put(REFERENCE_VALUES_SETTING, { corims }, ctx.now());
  const bundle = await ctx.publish();
  return { sources, platforms, spiffe_sequence: bundle.spiffe_sequence };
}

/**
 * Registers `/v1/admin/*` in an encapsulated plugin (its YAML body parser and auth hook do not
 * leak to the public routes).
 *
 * @example
 * ```ts
 * await registerAdminRoutes(app, { token, store, state, witLifetimeSeconds: 3600,
 *   now: () => new Date(), publish: () => events.publish() });
 * ```
 */
export async function registerAdminRoutes(app: FastifyInstance, ctx: AdminContext): Promise<void> {
  await app.register(
    async (admin) => {
      admin.addHook('onRequest', adminGuard(ctx));
      admin.addContentTypeParser([...YAML_MEDIA_TYPES], { parseAs: 'string' }, (_r, body, done) =>
        done(null, body),
      );
      admin.addContentTypeParser(CORIM_MEDIA_TYPE, { parseAs: 'buffer' }, (_r, body, done) =>
        done(null, body),
      );
      admin.put('/policy', async (request) =>
        putPolicy(ctx, request.body, request.headers['content-type']),
      );
      admin.put('/reference-values', async (request) => {
        if (!Buffer.isBuffer(request.body)) {
          throw new ProblemError(
            415,
            'ERR_UNSUPPORTED_MEDIA_TYPE',
            `send a ${CORIM_MEDIA_TYPE} body`,
          );
        }
        return putReferenceValues(ctx, request.body);
      });
      admin.delete('/reference-values', async () => putReferenceValues(ctx, undefined));
      admin.post('/keys/rotate', async () => rotate(ctx));
      admin.post('/ca/rotate', async () => rotateCa(ctx));
      admin.post<{ Params: { kid: string } }>('/keys/:kid/revoke', async (request) =>
        revokeKey(ctx, request.params.kid),
      );
      admin.post<{ Params: { jti: string } }>('/credentials/:jti/revoke', async (request) =>
        revokeCredential(ctx, request.params.jti),
      );
      admin.post<{ Params: { serial: string } }>('/certificates/:serial/revoke', async (request) =>
        revokeCertificate(ctx, request.params.serial),
      );
    },
    { prefix: '/v1/admin' },
  );
}
