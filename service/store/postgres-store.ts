/**
 * PostgreSQL store: a connection pool shared by every request of one verifier instance;
 * any number of instances may share one database (and schema).
 *
 * @internal
 * @module
 */

import { createHash } from 'node:crypto';
import pg from 'pg';
import { StoreUnavailableError, unavailable } from './errors.js';
import { createKek, noKek, type Kek, type KekInput } from './kek.js';
import { SEALED_COLUMNS, sealKeysAtRest } from './sealed-keys.js';
import { CHANGE_CHANNEL, type ChangeListener } from './sql-changes.js';
import { createSqlStore, migrate } from './sql-store.js';
import type { SqlDatabase, SqlExecutor, SqlParam } from './sql-executor.js';
import type { Store } from './types.js';

/** Options of {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  /**
   * Schema holding twi's tables (created if missing). Default: the connection's
   * `search_path` (normally `public`). Tests use a fresh schema each.
   */
  schema?: string;
  /** Maximum pool size. Default 10. */
  maxConnections?: number;
  /** Milliseconds to wait for a connection before failing with `ERR_STORE_UNAVAILABLE`. Default 5000. */
  connectTimeoutMs?: number;
  /**
   * The KEK private keys are sealed under (32 bytes). There is no default: without it the
   * store opens only while it holds no private key, and storing one fails with
   * `ERR_KEK_MISSING` (`docs/store.md`, "Keys at rest").
   */
  kek?: KekInput;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

const statementNames = new Map<string, string>();

/**
 * A named prepared statement for parameterised SQL: each pooled connection parses and plans
 * it once and then only binds and executes. DDL and parameterless SQL run unnamed.
 */
function statement(sql: string, params: readonly SqlParam[]): pg.QueryConfig | string {
  if (params.length === 0) return sql;
  let name = statementNames.get(sql);
  if (!name) {
    name = 'twi_' + createHash('sha256').update(sql).digest('hex').slice(0, 24);
    statementNames.set(sql, name);
  }
  return { name, text: sql, values: params as SqlParam[] };
}

function executor(client: pg.Pool | pg.PoolClient): SqlExecutor {
  return {
    async query(sql: string, params: readonly SqlParam[] = []) {
      const r = await client.query(statement(sql, params) as pg.QueryConfig);
      return r.rows as Record<string, unknown>[];
    },
    async run(sql: string, params: readonly SqlParam[] = []) {
      return (await client.query(statement(sql, params) as pg.QueryConfig)).rowCount ?? 0;
    },
  };
}

/** Delay before a lost LISTEN connection is opened again. */
const RELISTEN_MS = 1000;

/**
 * The LISTEN side of the change log: one dedicated connection (not from the pool) listening on
 * {@link CHANGE_CHANNEL}, opened on first use, reopened after {@link RELISTEN_MS} when it
 * drops. Notifications for other schemas of the same database are ignored.
 */
function changeListener(url: string, schema: () => string): ChangeListener {
  const listeners = new Set<() => void>();
  let client: pg.Client | undefined;
  let connecting: Promise<void> | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  const lost = (c: pg.Client): void => {
    if (client !== c) return;
    client = undefined;
    c.end().catch(() => undefined);
    if (closed || listeners.size === 0) return;
    // Hints sent while no connection listened are lost: tell listeners to catch up by reading.
    for (const l of listeners) queueMicrotask(l);
    retry = setTimeout(() => void connect().catch(() => undefined), RELISTEN_MS);
    retry.unref();
  };

  const connect = (): Promise<void> => {
    connecting ??= (async () => {
      const c = new pg.Client({ connectionString: url });
      c.on('error', () => lost(c));
      c.on('end', () => lost(c));
      c.on('notification', (n) => {
        if (n.channel !== CHANGE_CHANNEL || n.payload !== schema()) return;
        for (const l of listeners) l();
      });
      try {
        await c.connect();
        await c.query(`LISTEN ${CHANGE_CHANNEL}`);
      } catch (err) {
        await c.end().catch(() => undefined);
        throw err;
      }
      if (closed) {
        await c.end().catch(() => undefined);
        return;
      }
      client = c;
    })().finally(() => (connecting = undefined));
    return connecting;
  };

  return {
    async listen(listener) {
      if (closed) throw new StoreUnavailableError('changes.watch: store is closed');
      listeners.add(listener);
      try {
        if (!client) await connect();
      } catch (err) {
        listeners.delete(listener);
        throw unavailable('changes.watch', err);
      }
      return () => void listeners.delete(listener);
    },
    async close() {
      closed = true;
      listeners.clear();
      clearTimeout(retry);
      await connecting?.catch(() => undefined);
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}

async function inTransaction<T>(
  pool: pg.Pool,
  body: (tx: SqlExecutor) => Promise<T>,
  lockKey?: number,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    if (lockKey !== undefined) await client.query('SELECT pg_advisory_xact_lock($1)', [lockKey]);
    const result = await body(executor(client));
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackErr) {
      broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
    }
    throw err;
  } finally {
    client.release(broken);
  }
}

function postgresDatabase(pool: pg.Pool): SqlDatabase {
  return {
    ...executor(pool),
    transaction: (body, lockKey) => inTransaction(pool, body, lockKey),
    isUniqueViolation: (err) =>
      typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505',
    close: () => pool.end(),
  };
}

/**
 * Checks the store's keys open under `kek` and seals plaintext ones left by earlier builds;
 * `VACUUM FULL` then rewrites the key tables so the old row versions leave the table files.
 */
async function sealAtOpen(db: SqlDatabase, kek: Kek): Promise<void> {
  if ((await sealKeysAtRest(db, kek)) === 0) return;
  await db.run(`VACUUM FULL ${SEALED_COLUMNS.map((c) => c.table).join(', ')}`);
}

/**
 * Open (and create or migrate) a PostgreSQL store. Private keys are sealed under
 * `options.kek`; the open fails when the stored keys do not open under it.
 *
 * @param url `postgres://user[:password]@host[:port]/database[?...]`
 * @throws {StoreUnavailableError} when the database cannot be reached or migrated.
 * @throws {KekError} `ERR_KEK_MISSING`, `ERR_KEK_MISMATCH`, `ERR_KEK_CORRUPT` or
 *   `ERR_KEK_INVALID` when the KEK is absent (and keys are stored), wrong or unusable.
 */
export async function openPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<Store> {
  const { schema } = options;
  if (schema !== undefined && !IDENTIFIER.test(schema)) {
    throw new TypeError(`schema must match ${IDENTIFIER.source}, got ${JSON.stringify(schema)}`);
  }
  const kek =
    options.kek === undefined
      ? noKek('a PostgreSQL store needs one given explicitly')
      : createKek(options.kek);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client losing its connection must not crash the process; the next query fails typed.
  pool.on('error', () => undefined);
  const db = postgresDatabase(pool);
  try {
    await migrate(db, 'postgres', schema ? [`CREATE SCHEMA IF NOT EXISTS ${schema}`] : []);
    await sealAtOpen(db, kek);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw unavailable(`opening PostgreSQL store`, err);
  }
  // NOTIFY payloads name the schema the change was made in (`current_schema()`).
  let current = schema ?? 'public';
  if (schema === undefined) {
    const rows = await db.query('SELECT current_schema() AS s').catch(() => []);
    current = String(rows[0]?.['s'] ?? current);
  }
  return createSqlStore(
    'postgres',
    db,
    changeListener(url, () => current),
    kek,
  );
}

/**
 * Drop a schema and everything in it (test clean-up).
 *
 * @internal
 */
export async function dropPostgresSchema(url: string, schema: string): Promise<void> {
  if (!IDENTIFIER.test(schema)) throw new TypeError(`bad schema name ${JSON.stringify(schema)}`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
