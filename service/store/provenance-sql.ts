/**
 * {@link ProvenanceStore} over the shared SQL surface. Appends run in one transaction under
 * the log lock (PostgreSQL: a transaction-scoped advisory lock, so two instances on one
 * database append one after the other; SQLite: the `BEGIN IMMEDIATE` write lock). Each
 * append reads the one-row tree state (size + compact range), writes the leaf, the interior
 * nodes it completes (one on average) and the new state: O(1) rows, O(log n) hashing.
 *
 * @internal
 * @module
 */
import {
  appendNodes,
  consistencyRanges,
  emptyRoot,
  foldCover,
  inclusionRanges,
  leafHash,
  perfectCover,
  type LeafRange,
  type NodeId,
} from '../../provenance/merkle.js';
import { StoreUnavailableError } from './errors.js';
import { LOG_KEYS } from './sealed-keys.js';
import type {
  CredentialMatch,
  CredentialQuery,
  IndexEntry,
  LeafKind,
  ProvenanceStore,
  StoredLeaf,
  StoredRecord,
  TreeState,
} from '../../provenance/store-types.js';
import { insertCredential, type Guarded } from './sql-guard.js';
import { toDate, toInt, type SqlExecutor, type SqlParam, type SqlRow } from './sql-executor.js';
import type { JsonValue } from '../../common/json.js';

/** Advisory-lock key serialising log appends. */
const LOG_LOCK = 0x7477_6903;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

interface State {
  size: number;
  frontier: Uint8Array[];
}

async function readState(tx: SqlExecutor): Promise<State> {
  const rows = await tx.query('SELECT size, frontier FROM log_state WHERE id = 1');
  if (!rows[0]) throw new StoreUnavailableError('log_state row is missing');
  const frontier = String(rows[0]['frontier']);
  return { size: toInt(rows[0]['size']), frontier: frontier ? frontier.split(',').map(bytes) : [] };
}

function multiInsert(table: string, columns: string[], rows: SqlParam[][]): [string, SqlParam[]] {
  const params: SqlParam[] = [];
  const groups = rows.map((row) => {
    const marks = row.map((v) => {
      params.push(v);
      return `$${params.length}`;
    });
    return `(${marks.join(', ')})`;
  });
  return [`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${groups.join(', ')}`, params];
}

/** Appends leaves inside a transaction holding the log lock; returns the first index. */
async function appendInTx(
  tx: SqlExecutor,
  leaves: readonly { kind: LeafKind; ref: string; data: string }[],
  now: number,
): Promise<number> {
  const state = await readState(tx);
  const first = state.size;
  const leafRows: SqlParam[][] = [];
  const nodeRows: SqlParam[][] = [];
  for (const leaf of leaves) {
    const index = state.size;
    const hash = leafHash(Buffer.from(leaf.data, 'utf8'));
    const f = state.frontier;
    const made = appendNodes(index, hash, (level) => f[f.length - 1 - level]!);
    leafRows.push([index, leaf.kind, leaf.ref, hex(hash), leaf.data, now]);
    for (const n of made.slice(1)) nodeRows.push([n.id.level, n.id.index, hex(n.hash)]);
    state.frontier = [...f.slice(0, f.length - (made.length - 1)), made[made.length - 1]!.hash];
    state.size += 1;
  }
  const cols = ['idx', 'kind', 'ref', 'leaf_hash', 'data', 'created_at'];
  for (let i = 0; i < leafRows.length; i += 500) {
    await tx.run(...multiInsert('log_leaves', cols, leafRows.slice(i, i + 500)));
  }
  for (let i = 0; i < nodeRows.length; i += 500) {
    await tx.run(...multiInsert('log_nodes', ['level', 'idx', 'hash'], nodeRows.slice(i, i + 500)));
  }
  await tx.run('UPDATE log_state SET size = $1, frontier = $2 WHERE id = 1', [
    state.size,
    state.frontier.map(hex).join(','),
  ]);
  return first;
}

/** Fetches the hashes of perfect nodes; level 0 comes from the leaves. */
async function fetchNodes(
  db: SqlExecutor,
  ids: readonly NodeId[],
): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const leaves = [...new Set(ids.filter((n) => n.level === 0).map((n) => n.index))];
  const inner = ids.filter((n) => n.level > 0);
  if (leaves.length > 0) {
    const marks = leaves.map((_, i) => `$${i + 1}`).join(', ');
    const rows = await db.query(
      `SELECT idx, leaf_hash FROM log_leaves WHERE idx IN (${marks})`,
      leaves,
    );
    for (const r of rows) out.set(`0/${toInt(r['idx'])}`, bytes(String(r['leaf_hash'])));
  }
  if (inner.length > 0) {
    const params: SqlParam[] = [];
    const where = inner.map((n) => {
      params.push(n.level, n.index);
      return `(level = $${params.length - 1} AND idx = $${params.length})`;
    });
    const rows = await db.query(
      `SELECT level, idx, hash FROM log_nodes WHERE ${where.join(' OR ')}`,
      params,
    );
    for (const r of rows)
      out.set(`${toInt(r['level'])}/${toInt(r['idx'])}`, bytes(String(r['hash'])));
  }
  return out;
}

/** The tree hashes of `ranges`, from the stored perfect nodes covering them. */
async function rangeHashes(db: SqlExecutor, ranges: readonly LeafRange[]): Promise<Uint8Array[]> {
  const covers = ranges.map(perfectCover);
  const nodes = await fetchNodes(db, covers.flat());
  return covers.map((cover) =>
    foldCover(
      cover.map((n) => {
        const h = nodes.get(`${n.level}/${n.index}`);
        if (!h) throw new StoreUnavailableError(`log node ${n.level}/${n.index} is missing`);
        return h;
      }),
    ),
  );
}

function leafFromRow(r: SqlRow): StoredLeaf {
  return {
    index: toInt(r['idx']),
    kind: String(r['kind']) as LeafKind,
    ref: String(r['ref']),
    data: String(r['data']),
    leafHash: String(r['leaf_hash']),
    createdAt: new Date(toInt(r['created_at'])),
  };
}

function recordFromRow(r: SqlRow): StoredRecord {
  return {
    digest: String(r['digest']),
    kind: String(r['kind']),
    record: JSON.parse(String(r['record'])) as JsonValue,
    leafIndex: toInt(r['leaf_idx']),
    createdAt: new Date(toInt(r['created_at'])),
  };
}

/** Runs `body` once `size` is known to be within the log (RangeError otherwise, not wrapped). */
async function withinLog<T>(
  g: Guarded,
  what: string,
  size: number,
  body: (db: SqlExecutor) => Promise<T>,
): Promise<T> {
  const current = await g.call(what, async (db) => (await readState(db)).size);
  if (!Number.isSafeInteger(size) || size < 0 || size > current) {
    throw new RangeError(`tree size ${size} is outside the log (size ${current})`);
  }
  return g.call(what, body);
}

function findSql(q: CredentialQuery): [string, SqlParam[]] {
  const params: SqlParam[] = [];
  const p = (v: SqlParam): string => {
    params.push(v);
    return `$${params.length}`;
  };
  let sql = `SELECT c.jti, c.sub, c.iat, c.exp, c.revoked_at, l.idx FROM log_leaves l
    JOIN credentials c ON c.jti = l.ref`;
  if (q.entry) {
    sql += ` JOIN provenance_index p ON p.jti = l.ref AND p.field = ${p(q.entry.field)} AND p.value = ${p(q.entry.value)}`;
  }
  sql += ` WHERE l.kind = 'issuance'`;
  if (q.since !== undefined) sql += ` AND c.iat >= ${p(q.since)}`;
  if (q.until !== undefined) sql += ` AND c.iat < ${p(q.until)}`;
  if (q.liveAt) {
    sql += ` AND c.revoked_at IS NULL AND c.exp > ${p(Math.floor(q.liveAt.getTime() / 1000))}`;
  }
  sql += ` ORDER BY l.idx${q.newestFirst ? ' DESC' : ''} LIMIT ${p(q.limit ?? 1000)}`;
  return [sql, params];
}

function matchFromRow(r: SqlRow): CredentialMatch {
  const revokedAt = toDate(r['revoked_at']);
  return {
    jti: String(r['jti']),
    sub: String(r['sub']),
    iat: toInt(r['iat']),
    exp: toInt(r['exp']),
    leafIndex: toInt(r['idx']),
    ...(revokedAt && { revokedAt }),
  };
}

async function insertIndex(
  tx: SqlExecutor,
  jti: string,
  index: readonly IndexEntry[],
): Promise<void> {
  const unique = [...new Map(index.map((e) => [`${e.field}\n${e.value}`, e])).values()];
  if (unique.length === 0) return;
  await tx.run(
    ...multiInsert(
      'provenance_index',
      ['field', 'value', 'jti'],
      unique.map((e) => [e.field, e.value, jti]),
    ),
  );
}

/** Builds the provenance store over a guarded database. */
export function provenanceStore(g: Guarded): ProvenanceStore {
  return {
    putRecord: (r) =>
      g.call(
        'provenance.putRecord',
        (db) =>
          db.transaction(async (tx) => {
            const at = r.createdAt.getTime();
            const leafIndex = await appendInTx(
              tx,
              [{ kind: 'supply-chain', ref: r.digest, data: r.leafData }],
              at,
            );
            await tx.run(
              'INSERT INTO supply_chain_records (digest, kind, record, leaf_idx, created_at) VALUES ($1, $2, $3, $4, $5)',
              [r.digest, r.kind, JSON.stringify(r.record), leafIndex, at],
            );
            const keys = [...new Map(r.keys.map((k) => [`${k.key}\n${k.field}`, k])).values()];
            if (keys.length > 0) {
              await tx.run(
                ...multiInsert(
                  'supply_chain_keys',
                  ['digest_key', 'field', 'digest'],
                  keys.map((k) => [k.key, k.field, r.digest]),
                ),
              );
            }
            return { leafIndex };
          }, LOG_LOCK),
        ['supply-chain record', r.digest],
      ),
    getRecord: (digest) =>
      g.call('provenance.getRecord', async (db) => {
        const rows = await db.query('SELECT * FROM supply_chain_records WHERE digest = $1', [
          digest,
        ]);
        return rows[0] ? recordFromRow(rows[0]) : undefined;
      }),
    recordsByKeys: (keys) =>
      g.call('provenance.recordsByKeys', async (db) => {
        if (keys.length === 0) return [];
        const marks = keys.map((_, i) => `$${i + 1}`).join(', ');
        const rows = await db.query(
          `SELECT r.*, k.field, k.digest_key FROM supply_chain_keys k
            JOIN supply_chain_records r ON r.digest = k.digest
            WHERE k.digest_key IN (${marks}) ORDER BY r.leaf_idx`,
          [...keys],
        );
        return rows.map((row) => ({
          record: recordFromRow(row),
          field: String(row['field']),
          key: String(row['digest_key']),
        }));
      }),
    commitIssuance: (credential, leafData, index) =>
      g.call(
        'provenance.commitIssuance',
        (db) =>
          db.transaction(async (tx) => {
            await insertCredential(tx, credential);
            const leafIndex = await appendInTx(
              tx,
              [{ kind: 'issuance', ref: credential.jti, data: leafData }],
              Date.now(),
            );
            await insertIndex(tx, credential.jti, index);
            return { leafIndex };
          }, LOG_LOCK),
        ['credential', credential.jti],
      ),
    appendLeaves: (leaves) =>
      g.call('provenance.appendLeaves', (db) =>
        db.transaction(
          (tx) =>
            appendInTx(
              tx,
              leaves.map((l) => ({ kind: 'supply-chain' as const, ...l })),
              Date.now(),
            ),
          LOG_LOCK,
        ),
      ),
    leaf: (index) =>
      g.call('provenance.leaf', async (db) => {
        const rows = await db.query('SELECT * FROM log_leaves WHERE idx = $1', [index]);
        return rows[0] ? leafFromRow(rows[0]) : undefined;
      }),
    leafOf: (jti) =>
      g.call('provenance.leafOf', async (db) => {
        const rows = await db.query(
          `SELECT * FROM log_leaves WHERE ref = $1 AND kind = 'issuance'`,
          [jti],
        );
        return rows[0] ? leafFromRow(rows[0]) : undefined;
      }),
    treeState: () =>
      g.call('provenance.treeState', async (db): Promise<TreeState> => {
        const s = await readState(db);
        return { size: s.size, root: s.size === 0 ? emptyRoot() : foldCover(s.frontier) };
      }),
    rootAt: (size) =>
      withinLog(g, 'provenance.rootAt', size, async (db) =>
        size === 0 ? emptyRoot() : (await rangeHashes(db, [{ start: 0, end: size }]))[0]!,
      ),
    inclusionProof: (index, size) => {
      const ranges = inclusionRanges(index, size);
      return withinLog(g, 'provenance.inclusionProof', size, (db) => rangeHashes(db, ranges));
    },
    consistencyProof: (first, second) => {
      const ranges = consistencyRanges(first, second);
      return withinLog(g, 'provenance.consistencyProof', second, (db) => rangeHashes(db, ranges));
    },
    findCredentials: (q) =>
      g.call('provenance.findCredentials', async (db) =>
        (await db.query(...findSql(q))).map(matchFromRow),
      ),
    logKeyPem: (create) =>
      g.call('provenance.logKeyPem', async (db) => {
        const read = async (): Promise<string | undefined> => {
          const rows = await db.query('SELECT private_key_pem FROM log_keys WHERE id = 1');
          const sealed = rows[0] && String(rows[0]['private_key_pem']);
          return sealed && g.kek.open(LOG_KEYS.purpose, '1', sealed);
        };
        const existing = await read();
        if (existing) return existing;
        await db.run(
          'INSERT INTO log_keys (id, private_key_pem, created_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING',
          [g.kek.seal(LOG_KEYS.purpose, '1', create()), Date.now()],
        );
        return (await read())!;
      }),
  };
}
