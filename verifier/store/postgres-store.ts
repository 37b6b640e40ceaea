/**
 * PostgreSQL store: a connection pool shared by every request of one verifier instance;
 * any number of instances may share one database (and schema).
 *
 * @module
 */

import pg from 'pg';
import { unavailable } from './errors.js';
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
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

function executor(client: pg.Pool | pg.PoolClient): SqlExecutor {
  return {
    async query(sql: string, params: readonly SqlParam[] = []) {
      return (await client.query(sql, params as SqlParam[])).rows as Record<string, unknown>[];
    },
    async run(sql: string, params: readonly SqlParam[] = []) {
      return (await client.query(sql, params as SqlParam[])).rowCount ?? 0;
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
 * Open (and create or migrate) a PostgreSQL store.
 *
 * @param url `postgres://user[:password]@host[:port]/database[?...]`
 * @throws {StoreUnavailableError} when the database cannot be reached or migrated.
 */
export async function openPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<Store> {
  const { schema } = options;
  if (schema !== undefined && !IDENTIFIER.test(schema)) {
    throw new TypeError(`schema must match ${IDENTIFIER.source}, got ${JSON.stringify(schema)}`);
  }
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
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw unavailable(`opening PostgreSQL store`, err);
  }
  return createSqlStore('postgres', db);
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
