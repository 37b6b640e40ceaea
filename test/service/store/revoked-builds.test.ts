/**
 * Build revocations in the store (schema version 5), on SQLite and — with `TWI_TEST_PG_URL` —
 * PostgreSQL: persisted per (field, value), the first instant kept, matched on field and value
 * together, lifted once, and seen at once by a second handle on the same database; of two
 * handles revoking the same selector concurrently, exactly one reports it new.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore } from '../../../service/store/postgres-store.js';
import { openSqliteStore } from '../../../service/store/sqlite-store.js';
import type { Store } from '../../../service/store/types.js';
import { dropPostgresSchema } from '../../../service/store/postgres-store.js';

const url = process.env['TWI_TEST_PG_URL'];
const T0 = new Date('2025-06-01T00:00:00Z');
const T1 = new Date('2025-06-01T00:00:05Z');
const COMMIT = { field: 'commit', value: '1'.repeat(40) };
const MEASUREMENT = { field: 'measurement', value: `sha384:${'ab'.repeat(48)}` };

interface Target {
  open(): Promise<Store>;
  cleanup(): Promise<void>;
}

function sqliteTarget(): Target {
  const dir = mkdtempSync(join(tmpdir(), 'twi-revoked-builds-'));
  return {
    open: () => openSqliteStore(join(dir, 'twi.db')),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

function postgresTarget(): Target {
  const schema = `twi_test_${randomBytes(6).toString('hex')}`;
  return {
    open: () => openPostgresStore(url!, { schema }),
    cleanup: () => dropPostgresSchema(url!, schema),
  };
}

function suite(name: string, make: () => Target, skip?: string): void {
  describe(`revoked builds (${name})`, { timeout: 60_000, skip: skip ?? false }, () => {
    test('add, match, list and remove; a second handle sees every change', async () => {
      const target = make();
      const a = await target.open();
      const b = await target.open();
      try {
        assert.deepEqual(await a.revokedBuilds.list(), []);
        assert.equal(await a.revokedBuilds.add(COMMIT, T0), true);
        assert.equal(await b.revokedBuilds.add(COMMIT, T1), false, 'already revoked');
        assert.equal(await b.revokedBuilds.add(MEASUREMENT, T1), true);
        const listed = await b.revokedBuilds.list();
        assert.deepEqual(
          listed.map((r) => [r.field, r.value, r.revokedAt.getTime()]),
          [
            [COMMIT.field, COMMIT.value, T0.getTime()],
            [MEASUREMENT.field, MEASUREMENT.value, T1.getTime()],
          ],
        );
        const hits = await b.revokedBuilds.matching([
          { field: 'builder', value: COMMIT.value },
          { field: 'measurement', value: 'sha384:' + 'cd'.repeat(48) },
          COMMIT,
        ]);
        assert.deepEqual(
          hits.map((h) => [h.field, h.value]),
          [[COMMIT.field, COMMIT.value]],
          'same value under another field does not match',
        );
        assert.deepEqual(await a.revokedBuilds.matching([]), []);
        assert.equal(await b.revokedBuilds.remove(COMMIT), true);
        assert.equal(await a.revokedBuilds.remove(COMMIT), false);
        assert.deepEqual(await a.revokedBuilds.matching([COMMIT]), []);
        assert.equal((await a.revokedBuilds.matching([MEASUREMENT])).length, 1);
      } finally {
        await a.close();
        await b.close();
        await target.cleanup();
      }
    });

    test('two handles revoking the same selector at once: exactly one reports it new', async () => {
      const target = make();
      const a = await target.open();
      const b = await target.open();
      try {
        for (let i = 0; i < 20; i++) {
          const entry = { field: 'record', value: `sha256:${i.toString(16).padStart(64, '0')}` };
          const results = await Promise.all([
            a.revokedBuilds.add(entry, T0),
            b.revokedBuilds.add(entry, T0),
          ]);
          assert.equal(results.filter(Boolean).length, 1, `round ${i}: ${results.join(', ')}`);
        }
        assert.equal((await a.revokedBuilds.list()).length, 20);
      } finally {
        await a.close();
        await b.close();
        await target.cleanup();
      }
    });
  });
}

suite('sqlite', sqliteTarget);
suite(
  'postgres',
  postgresTarget,
  url ? undefined : 'TWI_TEST_PG_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)',
);
