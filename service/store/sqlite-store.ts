/**
 * SQLite store: the zero-set-up default, one file on local disk. Several processes on one
 * machine may open the same file (WAL mode, busy timeout); SQLite serialises writers.
 *
 * @internal
 * @module
 */

import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { unavailable } from './errors.js';
import { secureSqliteFiles } from './file-modes.js';
import { createKek, KekError, type Kek, type KekInput } from './kek.js';
import { createKekFile, KEK_FILE_NAME, readKekFile } from './kek-file.js';
import { holdsSealedKeys, sealKeysAtRest } from './sealed-keys.js';
import { createSqlStore, migrate } from './sql-store.js';
import type { SqlDatabase, SqlExecutor, SqlParam, SqlRow } from './sql-executor.js';
import type { Store } from './types.js';

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** Milliseconds a statement waits for another process's write lock. Default 5000. */
  busyTimeoutMs?: number;
  /**
   * The KEK private keys are sealed under (32 bytes). Default: the file `kek` beside the
   * database, created (mode 0600, 32 random bytes) when the store holds no sealed key yet; a
   * random KEK for `:memory:`. See `docs/store.md`, "Keys at rest".
   */
  kek?: KekInput;
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

/** The given KEK, else the one in the file beside the database (created if the store allows). */
async function sqliteKek(db: SqlDatabase, file: string, given: KekInput | undefined): Promise<Kek> {
  if (given !== undefined) return createKek(given);
  if (file === ':memory:') return createKek(randomBytes(32));
  const path = join(dirname(file), KEK_FILE_NAME);
  if (existsSync(path)) return createKek(readKekFile(path));
  if (await holdsSealedKeys(db)) {
    throw new KekError(
      'ERR_KEK_MISSING',
      `${file} holds keys sealed under a KEK, and no KEK was given nor found in ${path}`,
    );
  }
  return createKek(createKekFile(path));
}

/**
 * Seals plaintext keys left by earlier builds, then rewrites the file (VACUUM) and empties
 * the WAL, so the old plaintext does not survive in free pages or WAL frames.
 */
async function sealAtOpen(conn: Connection, db: SqlDatabase, kek: Kek): Promise<void> {
  conn.pragma('secure_delete = ON');
  try {
    if ((await sealKeysAtRest(db, kek)) === 0) return;
    conn.exec('VACUUM');
    conn.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    conn.pragma('secure_delete = OFF');
  }
}

/**
 * Open (creating and migrating if needed) a SQLite store at `file`. Missing parent directories
 * are created 0700; the database, `-wal`, `-shm` and `-journal` files are 0600 from their first
 * write (wider modes found are tightened). `:memory:` gives a private in-memory database.
 * Every private key is sealed under the KEK (`options.kek`); the open fails when the store's
 * keys do not open under it.
 *
 * @throws {StoreUnavailableError} when the file cannot be opened or migrated.
 * @throws {KekError} `ERR_KEK_MISSING`, `ERR_KEK_MISMATCH`, `ERR_KEK_CORRUPT` or
 *   `ERR_KEK_INVALID` when the KEK is absent, wrong or unusable.
 */
export async function openSqliteStore(
  file: string,
  options: SqliteStoreOptions = {},
): Promise<Store> {
  let conn: Connection | undefined;
  let db: SqlDatabase | undefined;
  try {
    if (file !== ':memory:') secureSqliteFiles(file);
    conn = new Database(file, { timeout: options.busyTimeoutMs ?? 5000 });
    if (file !== ':memory:') conn.pragma('journal_mode = WAL');
    // WAL + NORMAL is durable against process crashes; FULL also against power loss.
    conn.pragma('synchronous = FULL');
    db = sqliteDatabase(conn, file);
    await migrate(db, 'sqlite');
    const kek = await sqliteKek(db, file, options.kek);
    await sealAtOpen(conn, db, kek);
    return createSqlStore('sqlite', db, undefined, kek);
  } catch (err) {
    if (db) await db.close().catch(() => undefined);
    else conn?.close();
    throw unavailable(`opening SQLite store ${file}`, err);
  }
}
