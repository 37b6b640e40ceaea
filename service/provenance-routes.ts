/**
 * Provenance and transparency-log routes (`docs/provenance.md` "API"):
 * `GET /v1/log/key`, `GET /v1/log/tree-head`, `GET /v1/log/consistency`, `GET /v1/log/checkpoint`,
 * `GET /v1/log/note-key`, `GET /v1/log/inclusion`,
 * `GET /v1/provenance/{jti}`, `GET /v1/provenance?…`, `GET /v1/provenance/records/{digest}`;
 * admin (bearer token): `POST /v1/admin/provenance` and `POST /v1/revoke`.
 *
 * @internal
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { CORIM_UPLOAD_MEDIA_TYPES } from '../wire/media-types.js';
import { algOfHex, digestKey } from '../provenance/measurements.js';
import { ProvenanceError } from '../provenance/errors.js';
import { publishLogKey, signTreeHead, type SignedTreeHead } from '../provenance/tree-head.js';
import { logIdOfOid } from '../provenance/trans-item.js';
import {
  CHECKPOINT_MEDIA_TYPE,
  checkpointKeyOf,
  signCheckpoint,
  type CheckpointKey,
} from '../provenance/checkpoint.js';
import { recordSummary } from '../provenance/records.js';
import type { CredentialQuery, IndexEntry } from '../provenance/store-types.js';
import type { Store } from './store/types.js';
import { adminGuard } from './admin.js';
import { blockBuild } from './build-revocation.js';
import type { BundleEventData } from './events.js';
import type { ProvenanceService } from './provenance.js';

/** What the routes need. */
export interface ProvenanceRouteContext {
  readonly store: Store;
  readonly provenance: ProvenanceService;
  readonly adminToken: string | undefined;
  /** Origin line and key name of the C2SP checkpoints (`docs/provenance.md`). */
  readonly checkpointOrigin: string;
  /** The log's OID (RFC 9162 log id of the `sth` TransItems), when configured. */
  readonly logOid?: string | undefined;
  now(): Date;
  publish(): Promise<BundleEventData>;
}

const b64 = (h: Uint8Array): string => Buffer.from(h).toString('base64');
const queryError = (m: string): ProvenanceError => new ProvenanceError('ERR_PROVENANCE_QUERY', m);

async function currentHead(ctx: ProvenanceRouteContext): Promise<SignedTreeHead> {
  const { size, root } = await ctx.store.provenance.treeState();
  return signTreeHead(ctx.provenance.logKey, size, root, ctx.now().getTime(), ctx.logOid);
}

/** The RFC 9162 tree head and the C2SP checkpoint of one tree state. */
async function currentHeads(
  ctx: ProvenanceRouteContext,
  key: CheckpointKey,
): Promise<{ head: SignedTreeHead; checkpoint: string }> {
  const { size, root } = await ctx.store.provenance.treeState();
  return {
    head: signTreeHead(ctx.provenance.logKey, size, root, ctx.now().getTime(), ctx.logOid),
    checkpoint: signCheckpoint(key, size, root),
  };
}

function sizeParam(v: unknown, name: string): number {
  const n = v === undefined || !/^\d{1,16}$/.test(String(v)) ? NaN : Number(v);
  if (!Number.isSafeInteger(n))
    throw new ProvenanceError('ERR_PROVENANCE_RANGE', `${name} must be a decimal integer`);
  return n;
}

function seconds(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const d = new Date(String(v));
  if (!/^\d{4}-\d{2}-\d{2}/.test(String(v)) || Number.isNaN(d.getTime())) {
    throw queryError(`${name} must be an ISO 8601 instant`);
  }
  return Math.floor(d.getTime() / 1000);
}

function entryOf(q: Record<string, unknown>): IndexEntry | undefined {
  const given = ['commit', 'builder', 'measurement', 'repository', 'record'].filter(
    (k) => q[k] !== undefined,
  );
  if (given.length > 1) throw queryError(`give one of ${given.join(', ')}, not several`);
  const field = given[0];
  if (field === undefined) return undefined;
  const value = String(q[field]).trim();
  if (value === '' || value.length > 1024) throw queryError(`${field} must be 1..1024 characters`);
  if (field === 'commit' && !/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(value)) {
    throw queryError('commit must be 40 or 64 lowercase hex digits');
  }
  if (field === 'measurement') {
    const m = /^(sha256|sha384|sha512):([0-9a-f]+)$/.exec(value);
    const hex = m ? m[2]! : value.toLowerCase();
    const alg = algOfHex(hex);
    if (!alg || (m && m[1] !== alg))
      throw queryError('measurement must be 32, 48 or 64 bytes of hex');
    return { field, value: digestKey(alg, hex) };
  }
  return { field, value };
}

/** The credential query of a selector (query string or revocation body). */
export function selectorQuery(q: Record<string, unknown>, now: Date): CredentialQuery {
  const entry = entryOf(q);
  const since = seconds(q.since, 'since');
  const until = seconds(q.until, 'until');
  const live = q.live === true || q.live === 'true';
  const limit = q.limit === undefined ? 1000 : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw queryError('limit must be 1..1000');
  return {
    ...(entry && { entry }),
    ...(since !== undefined && { since }),
    ...(until !== undefined && { until }),
    ...(live && { liveAt: now }),
    limit,
  };
}

async function provenanceOf(
  ctx: ProvenanceRouteContext,
  key: CheckpointKey,
  jti: string,
): Promise<Record<string, unknown>> {
  const leaf = await ctx.store.provenance.leafOf(jti);
  if (!leaf)
    throw new ProvenanceError('ERR_PROVENANCE_NOT_FOUND', 'no provenance record for this jti');
  const { head, checkpoint } = await currentHeads(ctx, key);
  const proof = await ctx.store.provenance.inclusionProof(leaf.index, head.tree_size);
  const credential = await ctx.store.credentials.get(jti);
  return {
    jti,
    leaf_index: leaf.index,
    record: JSON.parse(leaf.data) as unknown,
    tree_head: head,
    inclusion_proof: proof.map(b64),
    checkpoint,
    ...(credential?.revokedAt && { revoked_at: credential.revokedAt.toISOString() }),
  };
}

async function revokeMatching(
  ctx: ProvenanceRouteContext,
  body: unknown,
): Promise<Record<string, unknown>> {
  const q = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const now = ctx.now();
  const query = selectorQuery({ ...q, live: true, limit: 1000 }, now);
  if (!query.entry && query.since === undefined && query.until === undefined) {
    throw queryError(
      'a revocation needs a selector: commit, builder, measurement, repository, record or since/until',
    );
  }
  // Persisted before the sweep, so the build cannot obtain a credential the sweep misses.
  const blocked = await blockBuild(ctx.store, query.entry, q.block, now);
  const revoked: string[] = [];
  for (;;) {
    const batch = await ctx.store.provenance.findCredentials(query);
    let changed = 0;
    for (const c of batch) {
      if (await ctx.store.credentials.revoke(c.jti, now)) {
        revoked.push(c.jti);
        changed += 1;
      }
    }
    if (batch.length < 1000 || changed === 0) break;
  }
  const bundle = revoked.length > 0 ? await ctx.publish() : undefined;
  return {
    revoked,
    count: revoked.length,
    ...(blocked && { blocked: { field: blocked.field, value: blocked.value } }),
    ...(bundle && { spiffe_sequence: bundle.spiffe_sequence }),
  };
}

function registerCheckpoint(
  app: FastifyInstance,
  ctx: ProvenanceRouteContext,
  key: CheckpointKey,
): void {
  app.get('/v1/log/checkpoint', async (_request, reply) =>
    reply.type(CHECKPOINT_MEDIA_TYPE).send((await currentHeads(ctx, key)).checkpoint),
  );
  app.get('/v1/log/note-key', async (_request, reply) =>
    reply.type(CHECKPOINT_MEDIA_TYPE).send(key.verifierKey),
  );
  app.get<{ Querystring: Record<string, string> }>('/v1/log/inclusion', async (request) => {
    const { size } = await ctx.store.provenance.treeState();
    const index = sizeParam(request.query.leaf_index, 'leaf_index');
    const treeSize = sizeParam(request.query.tree_size ?? String(size), 'tree_size');
    if (index >= treeSize || treeSize > size) {
      throw new ProvenanceError(
        'ERR_PROVENANCE_RANGE',
        `need 0 ≤ leaf_index < tree_size ≤ ${size}`,
      );
    }
    const proof = await ctx.store.provenance.inclusionProof(index, treeSize);
    return { leaf_index: index, tree_size: treeSize, inclusion_proof: proof.map(b64) };
  });
}

function registerPublic(app: FastifyInstance, ctx: ProvenanceRouteContext): void {
  const key = checkpointKeyOf(ctx.provenance.logKey, ctx.checkpointOrigin);
  if (ctx.logOid !== undefined) logIdOfOid(ctx.logOid);
  registerCheckpoint(app, ctx, key);
  app.get('/v1/log/key', async () => ({
    ...publishLogKey(ctx.provenance.logKey, ctx.logOid),
    checkpoint_origin: ctx.checkpointOrigin,
    note_key: key.verifierKey,
  }));
  app.get('/v1/log/tree-head', async () => currentHead(ctx));
  app.get<{ Querystring: Record<string, string> }>('/v1/log/consistency', async (request) => {
    const { size } = await ctx.store.provenance.treeState();
    const first = Number(request.query.first);
    const second = request.query.second === undefined ? size : Number(request.query.second);
    if (
      !Number.isInteger(first) ||
      !Number.isInteger(second) ||
      first < 0 ||
      first > second ||
      second > size
    ) {
      throw new ProvenanceError('ERR_PROVENANCE_RANGE', `need 0 ≤ first ≤ second ≤ ${size}`);
    }
    const proof = await ctx.store.provenance.consistencyProof(first, second);
    return { first, second, proof: proof.map(b64) };
  });
  app.get<{ Params: { digest: string } }>('/v1/provenance/records/:digest', async (request) => {
    const r = await ctx.store.provenance.getRecord(request.params.digest);
    if (!r) throw new ProvenanceError('ERR_PROVENANCE_NOT_FOUND', 'no record with this digest');
    return {
      ...(r.record as object),
      leaf_index: r.leafIndex,
      created_at: r.createdAt.toISOString(),
    };
  });
  app.get<{ Params: { jti: string } }>('/v1/provenance/:jti', async (request) =>
    provenanceOf(ctx, key, request.params.jti),
  );
  app.get<{ Querystring: Record<string, string> }>('/v1/provenance', async (request) => {
    const now = ctx.now();
    const matches = await ctx.store.provenance.findCredentials(selectorQuery(request.query, now));
    return {
      credentials: matches.map((m) => ({
        jti: m.jti,
        sub: m.sub,
        iat: m.iat,
        exp: m.exp,
        leaf_index: m.leafIndex,
        live: m.revokedAt === undefined && m.exp > now.getTime() / 1000,
        ...(m.revokedAt && { revoked_at: m.revokedAt.toISOString() }),
      })),
    };
  });
}

async function registerAdmin(app: FastifyInstance, ctx: ProvenanceRouteContext): Promise<void> {
  const guard = adminGuard({ token: ctx.adminToken });
  app.post('/v1/revoke', { onRequest: guard }, async (request) =>
    revokeMatching(ctx, request.body),
  );
  await app.register(async (admin) => {
    admin.addHook('onRequest', guard);
    admin.addContentTypeParser(
      [...CORIM_UPLOAD_MEDIA_TYPES],
      { parseAs: 'buffer' },
      (_r, body, done) => done(null, body),
    );
    admin.post('/v1/admin/provenance', async (request, reply) => {
      const now = ctx.now();
      const input = Buffer.isBuffer(request.body)
        ? { kind: 'corim' as const, bytes: new Uint8Array(request.body) }
        : { kind: 'dsse' as const, envelope: request.body };
      const stored = await ctx.provenance.store(ctx.provenance.check(input, now), now);
      return reply
        .code(201)
        .send({ ...recordSummary(stored!.record), leaf_index: stored!.leafIndex });
    });
  });
}

/** Registers the provenance and log routes. */
export async function registerProvenanceRoutes(
  app: FastifyInstance,
  ctx: ProvenanceRouteContext,
): Promise<void> {
  registerPublic(app, ctx);
  await registerAdmin(app, ctx);
}
