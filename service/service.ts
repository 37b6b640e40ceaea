/**
 * The verifier service (ARCHITECTURE "Wire contracts (v1)"): challenge, attest, appraise,
 * key discovery, health and metrics, as a Fastify instance the caller listens with.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Policy } from '../verifier/policy/types.js';
import type { Store } from './store/types.js';
import { createVerificationCache } from '../verifier/verify/cache.js';
import type { AnchorStore } from '../verifier/verify/types.js';
import { parseWorkloadId } from '../wimse/identifier.js';
import type { CorimKey } from '../endorsements/corim/cose.js';
import type { CachingProvider } from '../endorsements/provider/caching.js';
import type { FetchGuardCounters } from '../endorsements/provider/fetch-guard.js';
import type { EndorsementProvider } from '../verifier/verify/endorsement-provider.js';
import { appraiseOnly, attest, type AttestContext } from './attest.js';
import { requestedEarProfile } from './ear-profile.js';
import type { EarProfile } from '../verifier/ear/profiles.js';
import { registerAdminRoutes } from './admin.js';
import { registerAdminReadRoutes } from './admin-read.js';
import { createAppraisalLog, type AppraisalLog, type AppraisalTrace } from './appraisal-log.js';
import { registerBuildRevocationRoutes } from './build-revocation-routes.js';
import {
  nextRetirement,
  serviceBundle,
  type BundleSource,
  type ServiceState,
} from './admin-state.js';
import { createBundleEvents, type BundleEventData, type BundleEvents } from './events.js';
import { createRetirementTimer } from './retirement-timer.js';
import { loadOrCreateSigningKey, publicJwks, type ServiceSigningKey } from './keys.js';
import { registerDiscoveryRoutes } from './discovery.js';
import { registerConsoleRoutes } from './console/routes.js';
import { registerOpenApiRoute } from './openapi.js';
import { checkServiceTls, clientCertGuard, httpsOptions, type ServiceTls } from './tls.js';
import { createMetrics, type CacheSnapshot } from './metrics.js';
import { createProvenanceService, type ProvenanceOptions } from './provenance.js';
import { registerProvenanceRoutes } from './provenance-routes.js';
import { defaultCheckpointOrigin } from '../provenance/checkpoint.js';
import { registerRegistrationRoutes } from './registrations-routes.js';
import { loadSharedPolicy, type SharedPolicyOptions } from './shared-settings.js';
import { createStateSync } from './sync.js';
import {
  notFoundHandler,
  problem,
  ProblemError,
  problemErrorHandler,
  sendProblem,
} from './problem.js';
import { registerGuardMetrics } from './guard-metrics.js';
import { resolveLimits, serverTimeoutOptions, type ServiceLimits } from './limits.js';
import { registerRequestGuard, requestLogView, type GuardCounters } from './request-guard.js';
import {
  appraiseRequestSchema,
  attestRequestSchema,
  NONCE_BYTES,
  type AppraiseRequest,
  type AttestRequest,
  type ChallengeResponse,
} from '../wire/messages.js';
import { PEM_FILE_MEDIA_TYPE, TEXT_MEDIA_TYPE } from '../wire/media-types.js';
import {
  bundlePem,
  caNeedsReload,
  createCa,
  certLifetimeOf,
  loadOrCreateCa,
  publishedCas,
  type ServiceCa,
  type ServiceCaOptions,
} from './ca-keys.js';

/** Default request body limit: 256 KiB. @internal */
export const DEFAULT_BODY_LIMIT = 256 * 1024;

/** Log paths never written: evidence, keys, tokens. @internal */
export const REDACTED_LOG_PATHS: readonly string[] = [
  'req.body',
  'req.headers.authorization',
  'req.headers["workload-identity-token"]',
  'req.headers["workload-proof-token"]',
  'res.body',
  'body',
  'evidence',
  'key',
];

/** How often the issuing path asks the store whether the CA is due for renewal. */
const CA_CHECK_INTERVAL_MS = 60_000;

/** Options of {@link createService}. @internal */
export interface ServiceOptions {
  readonly store: Store;
  readonly anchors: AnchorStore;
  /** Appraisal policy; the built-in default when omitted. */
  readonly policy?: Policy;
  /** Where endorsements the CMW does not carry come from; only the CMW's when omitted. */
  readonly provider?: EndorsementProvider;
  /** Signing key; default: the newest usable key in `store.keys`, or a new stored ES256 key. */
  readonly signingKey?: ServiceSigningKey;
  /** The issuer URL published in the OpenID configuration (e.g. `https://verifier.example`). */
  readonly issuer: string;
  /** SPIFFE trust domain of issued identifiers, e.g. `example.org`. */
  readonly trustDomain: string;
  /** WIT lifetime (default 3600 s). */
  readonly witLifetimeSeconds?: number;
  /** Nonce lifetime (default 120 s). */
  readonly nonceTtlSeconds?: number;
  /** Issue a WIT for a `warning` appraisal too (default false: 403). */
  readonly issueOnWarning?: boolean;
  /** EAR profile of answers whose request names none (default `draft`; `docs/service.md`). */
  readonly earProfile?: EarProfile;
  /** Clock (default `new Date()`). */
  readonly now?: () => Date;
  /** Log level (`info` default, `silent` in tests). */
  readonly logLevel?: string;
  /** Request body limit in bytes (default {@link DEFAULT_BODY_LIMIT}). */
  readonly bodyLimit?: number;
  /**
   * Bearer token of the admin API (`/v1/admin/*`); the API answers 403 `ERR_ADMIN_DISABLED`
   * when omitted.
   */
  readonly adminToken?: string;
  /** Interval of heartbeat comments on `GET /v1/bundle/events` (default 15 000 ms). */
  readonly heartbeatMs?: number;
  /** Builder and CoRIM keys of supply-chain records (`docs/provenance.md`). */
  readonly provenance?: ProvenanceOptions;
  /**
   * `spiffe_refresh_hint` of the bundle, seconds (default 300): how often a relying party that
   * does not subscribe to events should fetch the bundle, and so its time to revocation.
   */
  readonly bundleRefreshHintSeconds?: number;
  /**
   * How often the instance reads the store's change log to pick up what other instances
   * changed (default 2000 ms; `0`: only on PostgreSQL push hints and its own admin calls).
   */
  readonly syncIntervalMs?: number;
  /** How often expired nonces are deleted (default 60 000 ms; `0`: never). */
  readonly noncePurgeIntervalMs?: number;
  /** Keys reference-value CoRIMs must be signed with (default none: any CoRIM is accepted). */
  readonly referenceValueKeys?: readonly CorimKey[];
  /** Rate limits, timeouts and caps against hostile clients (docs/service.md "Hostile traffic"). */
  readonly limits?: ServiceLimits;
  /** Where the log goes (default stdout); tests capture it here. */
  readonly logStream?: { write(line: string): void };
  /**
   * The CA of X.509 workload certificates and their lifetime (docs/x509.md): by default a
   * self-signed ES256 root made at first start and stored sealed like the signing keys.
   */
  readonly ca?: ServiceCaOptions;
  /**
   * Serve HTTPS with this certificate and key; with `clientCa`, the admin API also needs a
   * verified client certificate (docs/service.md "TLS"). Plain HTTP when omitted.
   */
  readonly tls?: ServiceTls;
  /**
   * Answer the admin API's `GET`s (policy, keys, revocations, appraisals, credentials,
   * registrations) without the token, for a read-only console (`twi serve --console-public`).
   */
  readonly consoleReadOnly?: boolean;
  /** Capacity of the in-memory ring of recent appraisals (default 500). */
  readonly appraisalLogSize?: number;
}

function checkOptions(o: ServiceOptions): void {
  parseWorkloadId(`spiffe://${o.trustDomain}/x`);
  const url = new URL(o.issuer);
  if (url.search || url.hash) throw new TypeError('issuer must have no query or fragment');
  for (const [name, v] of [
    ['witLifetimeSeconds', o.witLifetimeSeconds],
    ['nonceTtlSeconds', o.nonceTtlSeconds],
    ['bundleRefreshHintSeconds', o.bundleRefreshHintSeconds],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v <= 0)) {
      throw new RangeError(`${name} must be a positive integer`);
    }
  }
  for (const [name, v] of [
    ['syncIntervalMs', o.syncIntervalMs],
    ['noncePurgeIntervalMs', o.noncePurgeIntervalMs],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) {
      throw new RangeError(`${name} must be a non-negative integer`);
    }
  }
  if (o.adminToken !== undefined && o.adminToken.trim() === '') {
    throw new TypeError('adminToken must not be empty');
  }
  certLifetimeOf(o.ca);
  if (o.tls) checkServiceTls(o.tls);
}

function fastifyOptions(o: ServiceOptions): FastifyServerOptions {
  return {
    ...serverTimeoutOptions(resolveLimits(o.limits)),
    bodyLimit: o.bodyLimit ?? DEFAULT_BODY_LIMIT,
    logger: {
      level: o.logLevel ?? 'info',
      redact: { paths: [...REDACTED_LOG_PATHS], censor: '[redacted]' },
      // Never the query string (it may carry a token) nor any header.
      serializers: { req: requestLogView },
      ...(o.logStream && { stream: o.logStream }),
    },
    // Router failures (a malformed percent-escape in the path) answer a problem too.
    frameworkErrors: (_err, _request, reply) =>
      sendProblem(reply, problem(400, 'ERR_REQUEST_INVALID', 'the request URL is malformed')),
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    ...(o.tls && { https: httpsOptions(o.tls) }),
  } as FastifyServerOptions;
}

/** Runs `handler` with a fresh trace and records the outcome, refusals included, in `log`. */
async function recorded<T>(
  log: AppraisalLog,
  route: 'attest' | 'appraise',
  handler: (trace: AppraisalTrace) => Promise<T>,
): Promise<T> {
  const trace: AppraisalTrace = {};
  try {
    const answer = await handler(trace);
    log.record(route, trace);
    return answer;
  } catch (err) {
    log.record(route, trace, err);
    throw err;
  }
}

function registerCoreRoutes(
  app: FastifyInstance,
  ctx: AttestContext,
  ttlSeconds: number,
  appraisals: AppraisalLog,
): void {
  app.post('/v1/challenge', async (): Promise<ChallengeResponse> => {
    const nonce = randomBytes(NONCE_BYTES).toString('base64url');
    const expiresAt = new Date(ctx.now().getTime() + ttlSeconds * 1000);
    await ctx.store.nonces.issue(nonce, expiresAt);
    return { nonce, expires_at: expiresAt.toISOString() };
  });
  app.post<{ Body: AttestRequest }>(
    '/v1/attest',
    { schema: { body: attestRequestSchema } },
    async (request) => {
      const started = process.hrtime.bigint();
      try {
        return await recorded(appraisals, 'attest', (trace) => {
          const profile = requestedEarProfile(request.query, request.headers.accept);
          return attest(ctx, request.body, profile ?? ctx.earProfile, trace);
        });
      } finally {
        ctx.metrics.observeAttest(Number(process.hrtime.bigint() - started) / 1e9);
      }
    },
  );
  app.post<{ Body: AppraiseRequest }>(
    '/v1/appraise',
    { schema: { body: appraiseRequestSchema } },
    async (request) =>
      recorded(appraisals, 'appraise', (trace) =>
        appraiseOnly(
          ctx,
          request.body,
          requestedEarProfile(request.query, request.headers.accept) ?? ctx.earProfile,
          trace,
        ),
      ),
  );
}

function registerPublicRoutes(
  app: FastifyInstance,
  ctx: AttestContext,
  issuer: string,
  bundle: { source: BundleSource; events: BundleEvents },
  guard: { provider: EndorsementProvider | undefined; counters: GuardCounters },
): void {
  const view = (): { now: Date; witLifetimeSeconds: number } => ({
    now: ctx.now(),
    witLifetimeSeconds: ctx.witLifetimeSeconds,
  });
  app.get('/.well-known/jwks.json', async () => publicJwks(ctx.store, view()));
  registerDiscoveryRoutes(app, issuer, async () => [
    ctx.key.alg,
    ...(await publicJwks(ctx.store, view())).keys.map((k) => String(k.alg)),
  ]);
  app.get('/v1/bundle', async () => serviceBundle(bundle.source));
  app.get('/v1/bundle.pem', async (_request, reply) => {
    const cas = publishedCas(await ctx.store.caKeys.list(), ctx.now(), ctx.certLifetimeSeconds);
    return reply.type(PEM_FILE_MEDIA_TYPE).send(bundlePem(cas));
  });
  app.get('/v1/bundle/events', (request, reply) => bundle.events.handle(request, reply));
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await ctx.store.nonces.count();
      return { status: 'ready' };
    } catch {
      return sendProblem(reply, problem(503, 'ERR_NOT_READY', 'the store is not reachable'));
    }
  });
  ctx.metrics.watch({
    nonces: () => ctx.store.nonces.count(),
    caches: () => cacheSnapshot(ctx, guard.provider),
  });
  registerGuardMetrics(
    ctx.metrics.registry,
    guard.counters,
    () => bundle.events.size(),
    () => (guard.provider as { guardCounters?: FetchGuardCounters } | undefined)?.guardCounters,
  );
  app.get('/metrics', async (_request, reply) =>
    reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.render()),
  );
}

/** Observes every answered request in the HTTP duration histogram, by route pattern. */
function observeRequests(app: FastifyInstance, ctx: AttestContext): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    ctx.metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });
}

/** The verification cache's counters and, for a caching provider, the endorsement cache's. */
function cacheSnapshot(
  ctx: AttestContext,
  provider: EndorsementProvider | undefined,
): CacheSnapshot {
  const counters = (provider as Partial<CachingProvider> | undefined)?.counters;
  return {
    verification: { ...ctx.cache.stats },
    ...(counters && { endorsements: { ...counters } }),
  };
}

/** Deletes expired nonces every `intervalMs` until the app closes (one purge at a time). */
function startNoncePurge(app: FastifyInstance, ctx: AttestContext, intervalMs: number): void {
  if (intervalMs === 0) return;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    ctx.store.nonces
      .purgeExpired(ctx.now())
      .then((n) => ctx.metrics.recordPurge(n))
      .catch((err: unknown) => app.log.warn({ err }, 'nonce purge failed'))
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
}

/** Loads the shared state; the change `seq` is read first, so nothing after it is missed. */
async function loadState(
  o: ServiceOptions,
  now: () => Date,
  policy: SharedPolicyOptions,
): Promise<{ state: ServiceState; fromSeq: number }> {
  const fromSeq = await o.store.changes.latest();
  const state: ServiceState = {
    key: o.signingKey ?? (await loadOrCreateSigningKey(o.store, now())),
    policy: await loadSharedPolicy(o.store, now(), policy),
    ca: await loadOrCreateCa(o.store, now(), o.trustDomain, o.ca),
  };
  return { state, fromSeq };
}

/**
 * Builds the verifier service. The instance is ready to `listen`; closing it does not close
 * the store (the caller owns it).
 *
 * @throws TypeError or RangeError for a bad trust domain, issuer or lifetime.
 *
 * @example
 * ```ts
 * const app = await createService({ store: await openStore('sqlite:.twi/twi.db'),
 *   anchors: loadAnchorStore(), issuer: 'https://verifier.example', trustDomain: 'example.org' });
 * await app.listen({ host: '127.0.0.1', port: 8443 });
 * ```
 */
export async function createService(options: ServiceOptions): Promise<FastifyInstance> {
  checkOptions(options);
  const now = options.now ?? (() => new Date());
  const witLifetimeSeconds = options.witLifetimeSeconds ?? 3600;
  const policyOptions: SharedPolicyOptions = {
    ...(options.policy && { base: options.policy }),
    ...(options.referenceValueKeys && { corimKeys: options.referenceValueKeys }),
    trustDomain: options.trustDomain,
  };
  const { state, fromSeq } = await loadState(options, now, policyOptions);
  const limits = resolveLimits(options.limits);
  const certLifetimeSeconds = certLifetimeOf(options.ca);
  const reloadCa = (): Promise<ServiceCa> =>
    loadOrCreateCa(options.store, now(), options.trustDomain, options.ca);
  // Set below: a CA renewed on the issuing path is announced like any other change.
  let refreshSync: () => Promise<unknown> = async () => undefined;
  // The store is asked at most once a minute (of the service's clock) whether the CA is due
  // for renewal; CAs added elsewhere arrive through the change log in between.
  let nextCaCheck = 0;
  const currentCa = async (): Promise<ServiceCa> => {
    // The operator's intermediate is replaced by the operator (configuration and restart).
    const t = now();
    if (options.ca?.intermediate !== undefined || t.getTime() < nextCaCheck) return state.ca;
    if (await caNeedsReload(options.store, state.ca, t, certLifetimeSeconds)) {
      state.ca = await reloadCa();
      await refreshSync();
    }
    nextCaCheck = t.getTime() + CA_CHECK_INTERVAL_MS;
    return state.ca;
  };
  const ctx: AttestContext = {
    store: options.store,
    anchors: options.anchors,
    cache: createVerificationCache(),
    get policy() {
      return state.policy;
    },
    ...(options.provider && { provider: options.provider }),
    get key() {
      return state.key;
    },
    trustDomain: options.trustDomain,
    issuer: options.issuer,
    witLifetimeSeconds,
    issueOnWarning: options.issueOnWarning ?? false,
    ...(options.earProfile && { earProfile: options.earProfile }),
    metrics: createMetrics(),
    provenance: await createProvenanceService(options.store, options.provenance),
    certLifetimeSeconds,
    currentCa,
    now,
  };
  const source: BundleSource = {
    store: options.store,
    now,
    witLifetimeSeconds,
    certLifetimeSeconds,
    ...(options.bundleRefreshHintSeconds && {
      refreshHintSeconds: options.bundleRefreshHintSeconds,
    }),
  };
  const events = createBundleEvents({
    build: () => serviceBundle(source),
    ...(options.heartbeatMs !== undefined && { heartbeatMs: options.heartbeatMs }),
    maxSubscribers: limits.maxSubscribers,
    maxSubscribersPerClient: limits.maxSubscribersPerClient,
  });
  const app = Fastify(fastifyOptions(options));
  app.server.maxConnections = limits.maxConnections;
  // Every publication re-arms the timer of the next key or CA retirement (which it announces).
  const retirements = createRetirementTimer({
    next: () => nextRetirement(source),
    now,
    publish: () => publish(),
    onError: (err) => app.log.warn({ err }, 'retirement event failed'),
  });
  const publish = async (): Promise<BundleEventData> => {
    try {
      return await events.publish();
    } finally {
      retirements.arm();
    }
  };
  const sync = createStateSync({
    store: options.store,
    state,
    fromSeq,
    policy: policyOptions,
    now,
    publish,
    ...(options.syncIntervalMs !== undefined && { intervalMs: options.syncIntervalMs }),
    onError: (err, what) => app.log.warn({ err }, what),
    reloadCa,
  });
  refreshSync = () => sync.refresh();
  app.setErrorHandler(problemErrorHandler);
  app.setNotFoundHandler(notFoundHandler);
  const guardCounters = registerRequestGuard(app, limits);
  observeRequests(app, ctx);
  if (options.tls?.clientCa !== undefined) app.addHook('onRequest', clientCertGuard());
  // Only JSON bodies are accepted (the admin policy route adds YAML); else 415 from Fastify.
  app.removeContentTypeParser(TEXT_MEDIA_TYPE);
  // Event streams never go idle: end them first, or closing would wait for them.
  app.addHook('preClose', async () => {
    sync.close();
    retirements.close();
    events.close();
  });
  const appraisals = createAppraisalLog({
    now,
    ...(options.appraisalLogSize !== undefined && { capacity: options.appraisalLogSize }),
  });
  registerCoreRoutes(app, ctx, options.nonceTtlSeconds ?? 120, appraisals);
  registerOpenApiRoute(app, options.issuer);
  registerPublicRoutes(
    app,
    ctx,
    options.issuer,
    { source, events },
    { provider: options.provider, counters: guardCounters },
  );
  await registerAdminRoutes(app, {
    token: options.adminToken,
    store: options.store,
    state,
    witLifetimeSeconds,
    certLifetimeSeconds,
    rotateCa: async () => {
      if (options.ca?.intermediate) {
        throw new ProblemError(
          409,
          'ERR_CA_OPERATOR',
          "the CA is the operator's intermediate: replace it in the configuration",
        );
      }
      return createCa(options.store, now(), options.trustDomain, options.ca);
    },
    policy: policyOptions,
    now,
    // Apply the change just written (and anything before it), or send the bundle as it is.
    publish: async () => (await sync.refresh()) ?? (await publish()),
  });
  await registerAdminReadRoutes(app, {
    token: options.adminToken,
    ...(options.consoleReadOnly && { publicReads: true }),
    store: options.store,
    state,
    appraisals,
    witLifetimeSeconds,
    certLifetimeSeconds,
    ...(options.policy && { basePolicy: options.policy }),
    bundleSequence: async () => (await serviceBundle(source)).spiffe_sequence,
    now,
  });
  await registerProvenanceRoutes(app, {
    store: options.store,
    provenance: ctx.provenance,
    adminToken: options.adminToken,
    checkpointOrigin:
      options.provenance?.checkpointOrigin ?? defaultCheckpointOrigin(options.issuer),
    logOid: options.provenance?.logOid,
    now,
    publish: async () => (await sync.refresh()) ?? (await publish()),
  });
  await registerBuildRevocationRoutes(app, {
    store: options.store,
    adminToken: options.adminToken,
    now,
  });
  await registerRegistrationRoutes(app, {
    token: options.adminToken,
    ...(options.consoleReadOnly && { publicReads: true }),
    store: options.store,
    state,
    trustDomain: options.trustDomain,
    now,
    publish: async () => (await sync.refresh()) ?? (await publish()),
  });
  registerConsoleRoutes(app);
  startNoncePurge(app, ctx, options.noncePurgeIntervalMs ?? 60_000);
  await sync.start();
  retirements.arm();
  return app;
}
