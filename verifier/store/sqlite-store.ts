/**
 * SQLite store: the zero-set-up default, one file on local disk. Several processes on one
 * machine may open the same file (WAL mode, busy timeout); SQLite serialises writers.
 *
 * @module
 */

import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { unavailable } from './errors.js';
import { createSqlStore, migrate } from './sql-store.js';
import {
  toPositional,
  type SqlDatabase,
  type SqlExecutor,
  type SqlParam,
  type SqlRow,
} from './sql-executor.js';
import type { Store } from './types.js';

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** Milliseconds a statement waits for another process's write lock. Default 5000. */
  busyTimeoutMs?: number;
}

type Connection = Database.Database;

function run(conn: Connection, sql: string, params: readonly SqlParam[]): number {
  const p = toPositional(sql, params);
  return conn.prepare(p.sql).run(...p.params).changes;
}

function query(conn: Connection, sql: string, params: readonly SqlParam[]): SqlRow[] {
  const p = toPositional(sql, params);
  const statement = conn.prepare(p.sql);
  return statement.reader
    ? (statement.all(...p.params) as SqlRow[])
    : (statement.run(...p.params), []);
}

function executor(conn: Connection): SqlExecutor {
  return {
    query: async (sql, params = []) => query(conn, sql, params),
    run: async (sql, params = []) => run(conn, sql, params),
  };
}

/**
 * Connection-level serialisation: the driver is synchronous, but a transaction body is
 * async, so statements from other callers must not slip in between BEGIN and COMMIT.
 */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  next<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

function sqliteDatabase(conn: Connection): SqlDatabase {
  const serial = new Serial();
  const direct = executor(conn);
  return {
    query: (sql, params) => serial.next(() => direct.query(sql, params)),
    run: (sql, params) => serial.next(() => direct.run(sql, params)),
    transaction: (body) =>
      serial.next(async () => {
        // IMMEDIATE takes the write lock up front, so two processes cannot deadlock upgrading.
        conn.exec('BEGIN IMMEDIATE');
        try {
          const result = await body(direct);
          conn.exec('COMMIT');
          return result;
        } catch (err) {
          if (conn.inTransaction) conn.exec('ROLLBACK');
          throw err;
        }
      }),
    isUniqueViolation: (err) =>
      typeof err === 'object' &&
      err !== null &&
      /^SQLITE_CONSTRAINT_(PRIMARYKEY|UNIQUE)$/.test(String((err as { code?: unknown }).code)),
    close: () => serial.next(async () => void conn.close()),
  };
}

/**
 * Open (creating and migrating if needed) a SQLite store at `file`; parent directories
 * are created. `:memory:` gives a private in-memory database.
 *
 * @throws {StoreUnavailableError} when the file cannot be opened or migrated.
 */
export async function openSqliteStore(
  file: string,
  options: SqliteStoreOptions = {},
): Promise<Store> {
  let conn: Connection | undefined;
  try {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    conn = new Database(file, { timeout: options.busyTimeoutMs ?? 5000 });
    if (file !== ':memory:') conn.pragma('journal_mode = WAL');
    // WAL + NORMAL is durable against process crashes; FULL also against power loss.
    conn.pragma('synchronous = FULL');
    const db = sqliteDatabase(conn);
    await migrate(db, 'sqlite');
    return createSqlStore('sqlite', db);
  } catch (err) {
    conn?.close();
    throw unavailable(`opening SQLite store ${file}`, err);
  }
}
