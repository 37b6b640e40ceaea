/**
 * SQLite store: the zero-set-up default, one file on local disk. Several processes on one
 * machine may open the same file (WAL mode, busy timeout); SQLite serialises writers.
 *
 * @module
 */

import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { unavailable } from './errors.js';
import { createSqlStore, migrate } from './sql-store.js';
import type { SqlDatabase, SqlExecutor, SqlParam, SqlRow } from './sql-executor.js';
import type { Store } from './types.js';

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** Milliseconds a statement waits for another process's write lock. Default 5000. */
  busyTimeoutMs?: number;
}

type Connection = Database.Database;

/** Most statements cached per connection (the store's SQL texts are a small fixed set). */
const STATEMENT_CACHE = 128;

interface Prepared {
  readonly statement: Database.Statement;
  /** For each `?` in order, the index of the `$n` parameter it takes. */
  readonly order: readonly number[];
}

/**
 * Prepares each SQL text once per connection: `prepare` parses and plans the statement, which
 * cost about as much as running the one-row statements the hot path uses.
 */
function statementCache(conn: Connection): (sql: string) => Prepared {
  const cache = new Map<string, Prepared>();
  return (sql) => {
    let hit = cache.get(sql);
    if (!hit) {
      const order: number[] = [];
      const text = sql.replace(/\$(\d+)/g, (_m, digits: string) => {
        order.push(Number(digits) - 1);
        return '?';
      });
      hit = { statement: conn.prepare(text), order };
      if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value as string);
      cache.set(sql, hit);
    }
    return hit;
  };
}

function bind(p: Prepared, params: readonly SqlParam[]): SqlParam[] {
  return p.order.map((i) => {
    if (i < 0 || i >= params.length) throw new TypeError(`placeholder $${i + 1} has no parameter`);
    return params[i]!;
  });
}

function executor(prepare: (sql: string) => Prepared): SqlExecutor {
  return {
    query: async (sql, params = []) => {
      const p = prepare(sql);
      return p.statement.reader
        ? (p.statement.all(...bind(p, params)) as SqlRow[])
        : (p.statement.run(...bind(p, params)), []);
    },
    run: async (sql, params = []) => {
      const p = prepare(sql);
      return p.statement.run(...bind(p, params)).changes;
    },
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

/**
 * One queue per database file in this process. Handles of one process on one file must not
 * interleave: while one holds the write lock across an `await`, another's statement would
 * wait in the driver's synchronous busy loop on the same thread, which can never let the first
 * finish (a self-deadlock until the busy timeout). Other processes keep the busy timeout.
 */
const fileQueues = new Map<string, { serial: Serial; handles: number }>();

function queueFor(file: string): { serial: Serial; release(): void } {
  if (file === ':memory:') return { serial: new Serial(), release: () => undefined };
  const key = resolve(file);
  let entry = fileQueues.get(key);
  if (!entry) fileQueues.set(key, (entry = { serial: new Serial(), handles: 0 }));
  entry.handles++;
  const owned = entry;
  return {
    serial: owned.serial,
    release() {
      if (--owned.handles === 0 && fileQueues.get(key) === owned) fileQueues.delete(key);
    },
  };
}

function sqliteDatabase(conn: Connection, file: string): SqlDatabase {
  const { serial, release } = queueFor(file);
  const direct = executor(statementCache(conn));
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
    close: () =>
      serial.next(async () => {
        conn.close();
        release();
      }),
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
    const db = sqliteDatabase(conn, file);
    await migrate(db, 'sqlite');
    return createSqlStore('sqlite', db);
  } catch (err) {
    conn?.close();
    throw unavailable(`opening SQLite store ${file}`, err);
  }
}
