/**
 * Schema version 7 (certificate serials) on a database left at version 6, on SQLite and — with
 * `TWI_TEST_PG_URL` — PostgreSQL: the serial is back-filled from each ledger record's
 * `record.x509.serial`, so certificates issued before the upgrade can be revoked by serial;
 * records without one (or with a non-string one) keep none.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openSqliteStore } from '../../../service/store/sqlite-store.js';
import { dropPostgresSchema, openPostgresStore } from '../../../service/store/postgres-store.js';
import {
  CREATE_MIGRATIONS_TABLE,
  MIGRATIONS,
  MIGRATIONS_TABLE,
  type Dialect,
} from '../../../service/store/schema.js';
import type { Store } from '../../../service/store/types.js';
import { TEST_KEK } from '../../helpers/kek.js';

const url = process.env['TWI_TEST_PG_URL'];
const SERIAL = '4e0c9a7d5b3f1e2d8c6a4b2f0e1d3c5b';

/** Rows of a version-6 ledger: one with a certificate, one without, one with a bad serial. */
const ROWS: [string, unknown][] = [
  ['with-cert', { status: 'affirming', x509: { serial: SERIAL, ca: 'ab', not_after: 'x' } }],
  ['wit-only', { status: 'affirming' }],
  ['odd', { x509: { serial: 42 } }],
];

const INSERT = `INSERT INTO credentials
  (jti, sub, iat, exp, kid, platform, ear_digest, evidence_digest, record)
  VALUES ($1, 'spiffe://example.org/w', 1, 2, 'k', 'tdx', 'e', 'v', $2)`;

/** Statements that build a version-6 database holding {@link ROWS}. */
function version6(dialect: Dialect): { sql: string; params?: unknown[] }[] {
  const out: { sql: string; params?: unknown[] }[] = [{ sql: CREATE_MIGRATIONS_TABLE }];
  for (const step of MIGRATIONS.filter((m) => m.version <= 6)) {
    for (const sql of step.statements(dialect)) out.push({ sql });
    out.push({
      sql: `INSERT INTO ${MIGRATIONS_TABLE} VALUES ($1, $2, 0)`,
      params: [step.version, step.description],
    });
  }
  for (const [jti, record] of ROWS)
    out.push({ sql: INSERT, params: [jti, JSON.stringify(record)] });
  return out;
}

async function checkUpgraded(store: Store): Promise<void> {
  assert.equal((await store.credentials.bySerial(SERIAL))?.jti, 'with-cert');
  assert.equal((await store.credentials.get('with-cert'))?.serial, SERIAL);
  assert.equal((await store.credentials.get('wit-only'))?.serial, undefined);
  assert.equal((await store.credentials.get('odd'))?.serial, undefined);
}

describe('schema version 7 back-fills certificate serials', { timeout: 60_000 }, () => {
  test('SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twi-serial-'));
    const file = join(dir, 'v6.db');
    const raw = new Database(file);
    try {
      for (const { sql, params } of version6('sqlite')) {
        raw.prepare(sql.replace(/\$\d+/g, '?')).run(...(params ?? []));
      }
    } finally {
      raw.close();
    }
    const store = await openSqliteStore(file);
    try {
      await checkUpgraded(store);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('PostgreSQL', { skip: url ? false : 'TWI_TEST_PG_URL is not set' }, async () => {
    const schema = `twi_test_${randomBytes(6).toString('hex')}`;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA ${schema}`);
      await client.query(`SET search_path TO ${schema}`);
      for (const { sql, params } of version6('postgres')) await client.query(sql, params);
    } finally {
      await client.end();
    }
    try {
      const store = await openPostgresStore(url!, { schema, kek: TEST_KEK });
      try {
        await checkUpgraded(store);
      } finally {
        await store.close();
      }
    } finally {
      await dropPostgresSchema(url!, schema);
    }
  });
});
