/**
 * Build revocations over {@link SqlDatabase} (table `revoked_builds`, schema version 5). Each change is one statement,
 * so concurrent revocations and lifts from any number of instances never lose one another.
 *
 * @internal
 * @module
 */
import type { GuardedDatabase } from './sql-changes.js';
import { toInt, type SqlRow } from './sql-executor.js';
import type { RevokedBuild, RevokedBuildStore } from './revoked-builds-types.js';

function fromRow(row: SqlRow): RevokedBuild {
  return {
    field: String(row['field']),
    value: String(row['value']),
    revokedAt: new Date(toInt(row['revoked_at'])),
  };
}

/** Most entries {@link RevokedBuildStore.matching} looks up in one statement. */
const MATCH_CHUNK = 200;

/** The build revocations of a store. */
export function revokedBuildStore(g: GuardedDatabase): RevokedBuildStore {
  return {
    add: (entry, at) =>
      g.call('revokedBuilds.add', async (db) => {
        const n = await db.run(
          `INSERT INTO revoked_builds (field, value, revoked_at) VALUES ($1, $2, $3)
            ON CONFLICT (value, field) DO NOTHING`,
          [entry.field, entry.value, at.getTime()],
        );
        return n === 1;
      }),
    remove: (entry) =>
      g.call('revokedBuilds.remove', async (db) => {
        const n = await db.run('DELETE FROM revoked_builds WHERE field = $1 AND value = $2', [
          entry.field,
          entry.value,
        ]);
        return n === 1;
      }),
    list: () =>
      g.call('revokedBuilds.list', async (db) =>
        (
          await db.query(
            'SELECT field, value, revoked_at FROM revoked_builds ORDER BY revoked_at, field, value',
          )
        ).map(fromRow),
      ),
    matching: (entries) =>
      g.call('revokedBuilds.matching', async (db) => {
        const wanted = new Set(entries.map((e) => `${e.field}\n${e.value}`));
        const values = [...new Set(entries.map((e) => e.value))];
        const out: RevokedBuild[] = [];
        for (let i = 0; i < values.length; i += MATCH_CHUNK) {
          const chunk = values.slice(i, i + MATCH_CHUNK);
          const marks = chunk.map((_v, j) => `$${j + 1}`).join(', ');
          const rows = await db.query(
            `SELECT field, value, revoked_at FROM revoked_builds WHERE value IN (${marks})`,
            chunk,
          );
          for (const row of rows.map(fromRow)) {
            if (wanted.has(`${row.field}\n${row.value}`)) out.push(row);
          }
        }
        return out;
      }),
  };
}
