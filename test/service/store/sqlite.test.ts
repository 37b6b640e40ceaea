import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../../service/store/sqlite-store.js';
import { openStore, parseStoreUrl } from '../../../service/store/open.js';
import { SCHEMA_VERSION } from '../../../service/store/schema.js';
import { CREATE_MIGRATIONS_TABLE, MIGRATIONS } from '../../../service/store/schema.js';
import { storeSuite } from './store-suite.js';
import { raceAnomalies, twoProcessRace } from './race.js';

const dir = mkdtempSync(join(tmpdir(), 'twi-store-'));
const file = join(dir, 'nested', 'twi.db');
let cleaned = false;

storeSuite('sqlite (temp file)', {
  open: () => openStore(`sqlite:${file}`),
  cleanup: async () => {
    if (!cleaned) rmSync(dir, { recursive: true, force: true });
    cleaned = true;
  },
  crossHandleHints: false,
});

test('sqlite file is in WAL mode and records its schema version', async () => {
  const own = join(mkdtempSync(join(tmpdir(), 'twi-store-')), 'wal.db');
  const store = await openSqliteStore(own);
  await store.close();
  const raw = new Database(own, { readonly: true });
  try {
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    const row = raw.prepare('SELECT MAX(version) AS v FROM twi_schema_migrations').get() as {
      v: number;
    };
    assert.equal(row.v, SCHEMA_VERSION);
  } finally {
    raw.close();
    rmSync(join(own, '..'), { recursive: true, force: true });
  }
});

test('a newer schema than this build is refused', async () => {
  const own = join(mkdtempSync(join(tmpdir(), 'twi-store-')), 'future.db');
  await (await openSqliteStore(own)).close();
  const raw = new Database(own);
  raw
    .prepare('INSERT INTO twi_schema_migrations VALUES (?, ?, ?)')
    .run(SCHEMA_VERSION + 1, 'future', 0);
  raw.close();
  await assert.rejects(openSqliteStore(own), { code: 'ERR_STORE_SCHEMA' });
  rmSync(join(own, '..'), { recursive: true, force: true });
});

test('an unopenable path fails with ERR_STORE_UNAVAILABLE', async () => {
  await assert.rejects(openSqliteStore(tmpdir()), { code: 'ERR_STORE_UNAVAILABLE' });
});

test(
  'two processes race for 500 nonces in one SQLite file: each accepted once',
  { timeout: 20_000 },
  async (t) => {
    const own = join(mkdtempSync(join(tmpdir(), 'twi-store-')), 'race.db');
    const store = await openSqliteStore(own);
    try {
      const results = await twoProcessRace(store, `sqlite:${own}`, '-', 500);
      t.diagnostic(`accepted per process: ${results.map((r) => r.ok.length).join(' + ')}`);
      assert.deepEqual(raceAnomalies(results, 500), { missing: [], twice: [] });
    } finally {
      await store.close();
      rmSync(join(own, '..'), { recursive: true, force: true });
    }
  },
);

test('openStore chooses the implementation by URL', () => {
  assert.deepEqual(parseStoreUrl('postgres://u@h/db'), {
    kind: 'postgres',
    url: 'postgres://u@h/db',
  });
  assert.deepEqual(parseStoreUrl('postgresql://h/db'), {
    kind: 'postgres',
    url: 'postgresql://h/db',
  });
  assert.deepEqual(parseStoreUrl('sqlite:data/twi.db'), { kind: 'sqlite', file: 'data/twi.db' });
  assert.deepEqual(parseStoreUrl('sqlite:///var/twi.db'), { kind: 'sqlite', file: '/var/twi.db' });
  assert.deepEqual(parseStoreUrl('./twi.db'), { kind: 'sqlite', file: './twi.db' });
  assert.throws(() => parseStoreUrl('mysql://h/db'), TypeError);
  assert.throws(() => parseStoreUrl(''), TypeError);
});

test('migration 2 back-fills the change log from a version-1 database', async () => {
  const own = join(mkdtempSync(join(tmpdir(), 'twi-store-')), 'v1.db');
  const raw = new Database(own);
  try {
    raw.exec(CREATE_MIGRATIONS_TABLE);
    for (const sql of MIGRATIONS[0]!.statements('sqlite')) raw.exec(sql);
    raw.prepare('INSERT INTO twi_schema_migrations VALUES (1, ?, 0)').run('v1');
    const insertKey = raw.prepare(
      `INSERT INTO signing_keys (kid, alg, public_jwk, private_key_pem, created_at, revoked_at)
        VALUES (?, 'ES256', '{}', 'pem', ?, ?)`,
    );
    insertKey.run('k-old', 1000, 3000);
    insertKey.run('k-new', 2000, null);
    raw
      .prepare("INSERT INTO revocations (kind, id, revoked_at) VALUES ('key', 'k-old', 3000)")
      .run();
    raw
      .prepare("INSERT INTO revocations (kind, id, revoked_at) VALUES ('credential', 'j-1', 4000)")
      .run();
  } finally {
    raw.close();
  }
  const store = await openSqliteStore(own);
  try {
    const log = await store.changes.since(0);
    assert.deepEqual(
      log.map((c) => [c.seq, c.kind, c.id, c.at.getTime()]),
      [
        [1, 'key-added', 'k-old', 1000],
        [2, 'key-added', 'k-new', 2000],
        [3, 'key-revoked', 'k-old', 3000],
        [4, 'credential-revoked', 'j-1', 4000],
      ],
    );
    await store.settings.put('after', true, new Date(5000));
    assert.equal(await store.changes.latest(), 5);
  } finally {
    await store.close();
    rmSync(join(own, '..'), { recursive: true, force: true });
  }
});
