/**
 * `GET /openapi.json`: an OpenAPI 3.1 description of the service's HTTP API, built here as a
 * plain object (no generator). Every route the service registers is described; a test holds
 * the two together (`test/service/openapi.test.ts`). Request bodies of `/v1/attest` and
 * `/v1/appraise` reuse the JSON Schemas the routes validate with; other bodies and answers are
 * described in words and loose schemas (docs/service.md has the details).
 *
 * @internal
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { appraiseRequestSchema, attestRequestSchema } from '../wire/messages.js';
import {
  CORIM_MEDIA_TYPE,
  EVENT_STREAM_MEDIA_TYPE,
  HTML_MEDIA_TYPE,
  JSON_MEDIA_TYPE,
  OCTET_STREAM_MEDIA_TYPE,
  PEM_FILE_MEDIA_TYPE,
  PROBLEM_MEDIA_TYPE,
  TEXT_MEDIA_TYPE,
  YAML_MEDIA_TYPES,
} from '../wire/media-types.js';

type Json = Record<string, unknown>;

/** One operation of the table below. */
interface Op {
  readonly method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI path template (`{kid}`, not Fastify's `:kid`). */
  readonly path: string;
  readonly tag: string;
  readonly summary: string;
  /** Needs the admin bearer token. */
  readonly admin?: boolean;
  /** Query parameters: name → description. */
  readonly query?: Readonly<Record<string, string>>;
  /** Request body: media type → schema. */
  readonly body?: Readonly<Record<string, Json>>;
  /** Media type of the 200 (or 201) answer (default JSON). */
  readonly answer?: string;
  /** Status of success (default 200). */
  readonly success?: number;
  /** Statuses of problems the operation is known to answer, besides the common ones. */
  readonly problems?: readonly number[];
}

const OBJECT: Json = { type: 'object' };
const BINARY: Json = { type: 'string', contentMediaType: OCTET_STREAM_MEDIA_TYPE };

const LIMIT_QUERY = { limit: 'at most this many entries, 1 to 500 (default 50)' };
const SELECTOR_QUERY = {
  commit: 'source commit',
  builder: 'builder id',
  measurement: 'launch measurement (hex)',
  repository: 'source repository URI',
  record: 'supply-chain record digest',
};

const OPS: readonly Op[] = [
  // Attestation (ARCHITECTURE "Wire contracts (v1)").
  {
    method: 'post',
    path: '/v1/challenge',
    tag: 'attestation',
    summary: 'a fresh single-use nonce',
  },
  {
    method: 'post',
    path: '/v1/attest',
    tag: 'attestation',
    summary: 'appraise evidence and, when it passes, issue a WIT (and an X.509 certificate)',
    query: { profile: 'EAR profile of the answer: draft or veraison' },
    body: { [JSON_MEDIA_TYPE]: attestRequestSchema as Json },
    problems: [403, 409, 413, 415],
  },
  {
    method: 'post',
    path: '/v1/appraise',
    tag: 'attestation',
    summary: 'appraise evidence and return the signed EAR only (background-check model)',
    query: { profile: 'EAR profile of the answer: draft or veraison' },
    body: { [JSON_MEDIA_TYPE]: appraiseRequestSchema as Json },
    problems: [409, 413, 415],
  },
  // Keys, discovery and the trust bundle.
  {
    method: 'get',
    path: '/.well-known/jwks.json',
    tag: 'keys',
    summary: 'published signing keys (JWK Set)',
  },
  {
    method: 'get',
    path: '/.well-known/openid-configuration',
    tag: 'keys',
    summary: 'OpenID provider metadata of the WIT issuer',
  },
  {
    method: 'get',
    path: '/oauth2/authorize',
    tag: 'keys',
    summary: 'not supported: always a problem (credentials come from /v1/attest)',
    problems: [400],
  },
  {
    method: 'post',
    path: '/oauth2/authorize',
    tag: 'keys',
    summary: 'not supported: always a problem (credentials come from /v1/attest)',
    problems: [400],
  },
  {
    method: 'get',
    path: '/v1/bundle',
    tag: 'keys',
    summary: 'SPIFFE bundle: signing keys, CAs, recently revoked jtis and serials',
  },
  {
    method: 'get',
    path: '/v1/bundle.pem',
    tag: 'keys',
    summary: 'the published X.509 CAs as PEM',
    answer: PEM_FILE_MEDIA_TYPE,
  },
  {
    method: 'get',
    path: '/v1/bundle/events',
    tag: 'keys',
    summary: 'server-sent events: the bundle each time it changes',
    answer: EVENT_STREAM_MEDIA_TYPE,
    problems: [429],
  },
  // Operations.
  { method: 'get', path: '/healthz', tag: 'operations', summary: 'liveness' },
  {
    method: 'get',
    path: '/readyz',
    tag: 'operations',
    summary: 'readiness: the store answers',
    problems: [503],
  },
  {
    method: 'get',
    path: '/metrics',
    tag: 'operations',
    summary: 'Prometheus metrics',
    answer: TEXT_MEDIA_TYPE,
  },
  {
    method: 'get',
    path: '/openapi.json',
    tag: 'operations',
    summary: 'this description (OpenAPI 3.1)',
  },
  // Landing page and operator console (docs/console.md).
  { method: 'get', path: '/', tag: 'operations', summary: 'landing page', answer: HTML_MEDIA_TYPE },
  { method: 'get', path: '/ui', tag: 'operations', summary: 'to /ui/', success: 302 },
  {
    method: 'get',
    path: '/ui/{file}',
    tag: 'operations',
    summary: 'operator console files (HTML, CSS, JavaScript); `/ui/` is its page',
    answer: HTML_MEDIA_TYPE,
    problems: [404],
  },
  // Transparency log and provenance (docs/provenance.md).
  { method: 'get', path: '/v1/log/key', tag: 'provenance', summary: "the log's public key" },
  { method: 'get', path: '/v1/log/tree-head', tag: 'provenance', summary: 'signed tree head' },
  {
    method: 'get',
    path: '/v1/log/checkpoint',
    tag: 'provenance',
    summary: 'signed checkpoint (C2SP signed note)',
    answer: TEXT_MEDIA_TYPE,
  },
  {
    method: 'get',
    path: '/v1/log/note-key',
    tag: 'provenance',
    summary: "the log's note verifier key",
    answer: TEXT_MEDIA_TYPE,
  },
  {
    method: 'get',
    path: '/v1/log/inclusion',
    tag: 'provenance',
    summary: 'RFC 9162 inclusion proof',
    query: { leaf_index: 'leaf index', tree_size: 'tree size (default: the current size)' },
  },
  {
    method: 'get',
    path: '/v1/log/consistency',
    tag: 'provenance',
    summary: 'RFC 9162 consistency proof',
    query: { first: 'older tree size', second: 'newer tree size (default: the current size)' },
  },
  {
    method: 'get',
    path: '/v1/provenance',
    tag: 'provenance',
    summary: 'credentials matching a build selector or time window',
    query: { ...SELECTOR_QUERY, since: 'issued at or after (ISO 8601)', until: 'issued before' },
  },
  {
    method: 'get',
    path: '/v1/provenance/{jti}',
    tag: 'provenance',
    summary: 'the provenance of one credential with its log inclusion',
    problems: [404],
  },
  {
    method: 'get',
    path: '/v1/provenance/records/{digest}',
    tag: 'provenance',
    summary: 'one supply-chain record',
    problems: [404],
  },
  {
    method: 'post',
    path: '/v1/revoke',
    tag: 'admin',
    admin: true,
    summary: 'revoke every credential matching a build selector or time window',
    body: { [JSON_MEDIA_TYPE]: OBJECT },
  },
  {
    method: 'post',
    path: '/v1/admin/provenance',
    tag: 'admin',
    admin: true,
    summary: 'add a supply-chain record (DSSE envelope or signed CoRIM)',
    body: { [JSON_MEDIA_TYPE]: OBJECT, [CORIM_MEDIA_TYPE]: BINARY },
    success: 201,
  },
  // Admin writes (docs/service.md "Admin API").
  {
    method: 'put',
    path: '/v1/admin/policy',
    tag: 'admin',
    admin: true,
    summary: 'replace the appraisal policy (JSON or YAML)',
    body: {
      [JSON_MEDIA_TYPE]: OBJECT,
      ...Object.fromEntries(YAML_MEDIA_TYPES.map((t) => [t, { type: 'string' }])),
    },
  },
  {
    method: 'put',
    path: '/v1/admin/reference-values',
    tag: 'admin',
    admin: true,
    summary: 'replace the reference values with one CoRIM',
    body: { [CORIM_MEDIA_TYPE]: BINARY },
  },
  {
    method: 'delete',
    path: '/v1/admin/reference-values',
    tag: 'admin',
    admin: true,
    summary: 'clear the reference values',
  },
  {
    method: 'post',
    path: '/v1/admin/keys/rotate',
    tag: 'admin',
    admin: true,
    summary: 'make a new signing key',
  },
  {
    method: 'post',
    path: '/v1/admin/keys/{kid}/revoke',
    tag: 'admin',
    admin: true,
    summary: 'revoke a signing key',
    problems: [404, 409],
  },
  {
    method: 'post',
    path: '/v1/admin/ca/rotate',
    tag: 'admin',
    admin: true,
    summary: 'make a new generated root CA',
    problems: [404, 409],
  },
  {
    method: 'post',
    path: '/v1/admin/credentials/{jti}/revoke',
    tag: 'admin',
    admin: true,
    summary: 'revoke a credential',
    problems: [404, 409],
  },
  {
    method: 'post',
    path: '/v1/admin/certificates/{serial}/revoke',
    tag: 'admin',
    admin: true,
    summary: 'revoke the credential of an X.509 certificate',
    problems: [404, 409],
  },
  {
    method: 'get',
    path: '/v1/admin/registrations',
    tag: 'admin',
    admin: true,
    summary: 'workload registrations in force and their source',
  },
  {
    method: 'put',
    path: '/v1/admin/registrations',
    tag: 'admin',
    admin: true,
    summary: 'replace the stored registrations',
    body: { [JSON_MEDIA_TYPE]: OBJECT },
  },
  {
    method: 'delete',
    path: '/v1/admin/registrations',
    tag: 'admin',
    admin: true,
    summary: "forget the stored registrations (the policy's apply)",
  },
  {
    method: 'get',
    path: '/v1/admin/revoked-builds',
    tag: 'admin',
    admin: true,
    summary: 'build revocations in force',
  },
  {
    method: 'delete',
    path: '/v1/admin/revoked-builds',
    tag: 'admin',
    admin: true,
    summary: 'lift one build revocation',
    query: SELECTOR_QUERY,
    problems: [404],
  },
  // Admin reads (docs/service.md "Admin read API").
  {
    method: 'get',
    path: '/v1/admin/policy',
    tag: 'admin',
    admin: true,
    summary: 'the policy document in force, as JSON',
  },
  {
    method: 'get',
    path: '/v1/admin/keys',
    tag: 'admin',
    admin: true,
    summary: 'signing keys and issuing CAs with their state; the bundle sequence',
  },
  {
    method: 'get',
    path: '/v1/admin/revocations',
    tag: 'admin',
    admin: true,
    summary: 'revoked credentials, certificates, keys and builds',
  },
  {
    method: 'get',
    path: '/v1/admin/appraisals',
    tag: 'admin',
    admin: true,
    summary: "this instance's recent appraisals and refusals, newest first",
    query: LIMIT_QUERY,
  },
  {
    method: 'get',
    path: '/v1/admin/credentials',
    tag: 'admin',
    admin: true,
    summary: 'issued credentials from the store, newest first',
    query: LIMIT_QUERY,
  },
];

const COMMON_PROBLEMS = [400, 429, 500];
const ADMIN_PROBLEMS = [401, 403];

function operation(op: Op): Json {
  const path = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  const query = Object.entries(op.query ?? {}).map(([name, description]) => ({
    name,
    in: 'query',
    required: false,
    description,
    schema: { type: 'string' },
  }));
  const problemRef = { $ref: '#/components/responses/Problem' };
  const statuses = [
    ...COMMON_PROBLEMS,
    ...(op.admin ? ADMIN_PROBLEMS : []),
    ...(op.problems ?? []),
  ];
  const answer = op.answer ?? JSON_MEDIA_TYPE;
  const schema = answer === JSON_MEDIA_TYPE ? OBJECT : { type: 'string' };
  return {
    operationId: `${op.method}${op.path.replace(/[^A-Za-z0-9]+(\w)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    tags: [op.tag],
    summary: op.summary,
    ...(op.admin && { security: [{ adminToken: [] }] }),
    ...(path.length + query.length > 0 && { parameters: [...path, ...query] }),
    ...(op.body && {
      requestBody: {
        required: true,
        content: Object.fromEntries(Object.entries(op.body).map(([t, s]) => [t, { schema: s }])),
      },
    }),
    responses: {
      [String(op.success ?? 200)]: {
        description: 'success',
        content: { [answer]: { schema } },
      },
      ...Object.fromEntries([...new Set(statuses)].sort().map((s) => [String(s), problemRef])),
    },
  };
}

/**
 * The OpenAPI 3.1 document of the service. `server` is the base URL to advertise (none when
 * omitted).
 */
export function openApiDocument(server?: string): Json {
  const paths: Record<string, Json> = {};
  for (const op of OPS) paths[op.path] = { ...paths[op.path], [op.method]: operation(op) };
  return {
    openapi: '3.1.0',
    info: {
      title: 'twi verifier service',
      version: '0.1.0',
      description:
        'Attestation verifier (IETF RATS) issuing workload identity tokens. Errors are RFC 9457 ' +
        'problem objects with a stable `code`. See docs/service.md.',
    },
    ...(server !== undefined && { servers: [{ url: server }] }),
    tags: [
      { name: 'attestation' },
      { name: 'keys' },
      { name: 'operations' },
      { name: 'provenance' },
      { name: 'admin', description: 'needs `Authorization: Bearer <admin token>`' },
    ],
    paths,
    components: {
      securitySchemes: {
        adminToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'the token of `twi serve --admin-token-file`',
        },
      },
      responses: {
        Problem: {
          description: 'an RFC 9457 problem',
          content: {
            [PROBLEM_MEDIA_TYPE]: {
              schema: {
                type: 'object',
                required: ['type', 'title', 'status', 'detail', 'code'],
                properties: {
                  type: { type: 'string' },
                  title: { type: 'string' },
                  status: { type: 'integer' },
                  detail: { type: 'string' },
                  code: { type: 'string', pattern: '^ERR_[A-Z0-9_]+$' },
                },
              },
            },
          },
        },
      },
    },
  };
}

/** Registers `GET /openapi.json`. */
export function registerOpenApiRoute(app: FastifyInstance, issuer: string): void {
  const document = openApiDocument(issuer);
  app.get('/openapi.json', async () => document);
}
