/**
 * The change log and the shared settings, over {@link SqlDatabase}: every change other
 * instances must apply (a key added or revoked, a credential revoked, a setting replaced) is
 * appended to `changes` in the same transaction, under one advisory lock, so `seq` order is
 * commit order. On PostgreSQL the transaction also sends a NOTIFY (delivered on commit) that
 * {@link ChangeListener}s in other processes turn into push hints.
 *
 * @internal
 * @module
 */
import type { Dialect } from './dialect.js';
import { toInt, type SqlDatabase, type SqlExecutor, type SqlRow } from './sql-executor.js';
import type { ChangeEvent, ChangeFeed, ChangeKind, SettingsStore, StoredSetting } from './types.js';
import type { JsonValue } from '../../common/json.js';

/**
 * Advisory-lock key serialising every transaction that appends to the change log (and to the
 * revocation stream), so a reader never sees `seq` n+1 committed before n.
 */
export const CHANGE_LOCK = 0x7477_6902;

/** PostgreSQL NOTIFY channel of the change log; the payload is the store's schema name. */
export const CHANGE_CHANNEL = 'twi_changes';

/** Default page size of {@link ChangeFeed.since}. */
export const CHANGE_PAGE = 1000;

/** How a store hears of changes committed by other processes (PostgreSQL LISTEN). */
export interface ChangeListener {
  /** Starts delivering hints to `listener`; resolves with its remover once listening. */
  listen(listener: () => void): Promise<() => void>;
  /** Stops listening and releases the connection. */
  close(): Promise<void>;
}

/** What the change and settings operations need of the store's guarded database. */
export interface GuardedDatabase {
  call<T>(what: string, body: (db: SqlDatabase) => Promise<T>): Promise<T>;
}

/** Local listeners of one store handle, told after each of its own change commits. */
export class LocalHints {
  readonly #listeners = new Set<() => void>();

  add(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  fire(): void {
    for (const listener of this.#listeners) queueMicrotask(listener);
  }
}

/**
 * Appends one change inside `tx` (which must hold {@link CHANGE_LOCK}) and, on PostgreSQL,
 * queues the NOTIFY that goes out on commit. Returns the new `seq`.
 */
export async function appendChange(
  tx: SqlExecutor,
  dialect: Dialect,
  kind: ChangeKind,
  id: string,
  at: number,
): Promise<number> {
  const rows = await tx.query(
    'INSERT INTO changes (kind, id, at) VALUES ($1, $2, $3) RETURNING seq',
    [kind, id, at],
  );
  if (dialect === 'postgres') {
    await tx.query('SELECT pg_notify($1, current_schema())', [CHANGE_CHANNEL]);
  }
  return toInt(rows[0]!['seq']);
}

function changeFromRow(row: SqlRow): ChangeEvent {
  return {
    seq: toInt(row['seq']),
    kind: String(row['kind']) as ChangeKind,
    id: String(row['id']),
    at: new Date(toInt(row['at'])),
  };
}

/** The change feed of a store. */
export function changeFeed(
  g: GuardedDatabase,
  local: LocalHints,
  remote: ChangeListener | undefined,
): ChangeFeed {
  return {
    latest: () =>
      g.call('changes.latest', async (db) => {
        const rows = await db.query('SELECT MAX(seq) AS seq FROM changes');
        return rows[0]?.['seq'] == null ? 0 : toInt(rows[0]['seq']);
      }),
    since: (since, limit = CHANGE_PAGE) => {
      if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be ≥ 1');
      return g.call('changes.since', async (db) =>
        (
          await db.query(
            'SELECT seq, kind, id, at FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2',
            [since, limit],
          )
        ).map(changeFromRow),
      );
    },
    async watch(listener) {
      const removeLocal = local.add(listener);
      if (!remote) return removeLocal;
      try {
        const removeRemote = await remote.listen(listener);
        return () => {
          removeLocal();
          removeRemote();
        };
      } catch (err) {
        removeLocal();
        throw err;
      }
    },
  };
}

/** The shared settings of a store. */
export function settingsStore(
  g: GuardedDatabase,
  dialect: Dialect,
  local: LocalHints,
): SettingsStore {
  return {
    get: (name) =>
      g.call('settings.get', async (db) => {
        const rows = await db.query(
          'SELECT name, value, updated_at FROM settings WHERE name = $1',
          [name],
        );
        const row = rows[0];
        if (!row) return undefined;
        const setting: StoredSetting = {
          name: String(row['name']),
          value: JSON.parse(String(row['value'])) as JsonValue,
          updatedAt: new Date(toInt(row['updated_at'])),
        };
        return setting;
      }),
    put: async (name, value, at) => {
      if (typeof name !== 'string' || name === '') throw new TypeError('setting name is required');
      const text = JSON.stringify(value);
      const seq = await g.call('settings.put', (db) =>
        db.transaction(async (tx) => {
          // Portable upsert: both dialects know ON CONFLICT ... DO UPDATE.
          await tx.run(
            `INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3)
              ON CONFLICT (name) DO UPDATE SET value = $2, updated_at = $3`,
            [name, text, at.getTime()],
          );
          return appendChange(tx, dialect, 'setting', name, at.getTime());
        }, CHANGE_LOCK),
      );
      local.fire();
      return seq;
    },
  };
}
