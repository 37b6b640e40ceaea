/**
 * Keys at rest on SQLite (issue 12, item 2): the data directory is 0700 and every store file
 * 0600 whatever the umask; no private key is in the database files or the service log; a store
 * copied without its KEK yields no key; plaintext keys of older stores are sealed in place.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { newKeyPair } from '../../../common/key-pair.js';
import { generateLogKey } from '../../../provenance/tree-head.js';
import { isSealed } from '../../../service/store/kek.js';
import { openSqliteStore } from '../../../service/store/sqlite-store.js';
import { openStore } from '../../../service/store/open.js';
import { readKekFile } from '../../../service/store/kek-file.js';
import { SEALED_COLUMNS } from '../../../service/store/sealed-keys.js';
import { securePrivateDir, secureSqliteFiles } from '../../../service/store/file-modes.js';
import type { Store } from '../../../service/store/types.js';
import { found, keyNeedles, readAsNobody } from './at-rest-helpers.js';

const CHILD = fileURLToPath(new URL('./keys-at-rest-child.js', import.meta.url));

const mode = (p: string): number => statSync(p).mode & 0o777;
const pemOf = (): string =>
  newKeyPair('ec', { namedCurve: 'P-256' })
    .privateKey.export({ format: 'pem', type: 'pkcs8' })
    .toString();

/** Every private key a store holds, opened through its KEK. */
async function privateKeys(store: Store): Promise<string[]> {
  const signing = (await store.keys.list()).map((k) => k.privateKeyPem);
  const log = await store.provenance.logKeyPem(() => {
    throw new Error('the log key should exist');
  });
  const cas = (await store.caKeys.list()).map((c) => c.privateKeyPem);
  return [...signing, log, ...cas];
}

function filesOf(db: string): Buffer {
  return Buffer.concat(
    [db, db + '-wal', db + '-shm'].filter(existsSync).map((f) => readFileSync(f)),
  );
}

/** Runs the service child until READY; resolves with its log and a stop function. */
async function startChild(db: string, token: string) {
  const child = spawn(process.execPath, [CHILD, db, token], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (b: Buffer) => out.push(b));
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      if (err.includes('READY\n')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`child exited ${code}: ${err}`)));
  });
  return {
    log: () => Buffer.concat(out),
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

describe('keys at rest (SQLite)', { timeout: 120_000 }, () => {
  test('under umask 022 the service keeps 0700/0600 modes and no key in its files or log', async () => {
    const old = process.umask(0o022);
    const root = mkdtempSync(join(tmpdir(), 'twi-at-rest-'));
    chmodSync(root, 0o755);
    const data = join(root, 'data');
    const db = join(data, 'twi.db');
    const token = randomBytes(16).toString('hex');
    const child = await startChild(db, token);
    try {
      assert.equal(mode(data), 0o700, 'data directory');
      for (const f of [db, db + '-wal', db + '-shm', join(data, 'kek')]) {
        assert.equal(mode(f), 0o600, f);
      }
      const store = await openSqliteStore(db);
      const keys = await privateKeys(store);
      await store.close();
      assert.equal(keys.length, 4, 'two signing keys (one rotated), the log key and the CA key');
      const needles = keys.flatMap(keyNeedles);
      assert.ok(statSync(db + '-wal').size > 0, 'the WAL holds the writes');
      assert.deepEqual(found(filesOf(db), needles), [], 'no key material in db, -wal, -shm');
      const raw = new Database(db, { readonly: true });
      const stored = raw.prepare('SELECT private_key_pem AS v FROM signing_keys').all();
      raw.close();
      assert.ok(stored.every((r) => isSealed(String((r as { v: unknown }).v))));
      const log = child.log();
      assert.ok(log.toString().split('\n').length > 6, 'the debug log has entries');
      assert.deepEqual(found(log, needles), [], 'no key material in the log');
      assert.ok(!log.includes(token), 'no admin token in the log');
    } finally {
      await child.stop();
      process.umask(old);
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('an unprivileged user cannot read the store files', async (t) => {
    const old = process.umask(0o022);
    const root = mkdtempSync(join(tmpdir(), 'twi-nobody-'));
    chmodSync(root, 0o755);
    const db = join(root, 'data', 'twi.db');
    try {
      const store = await openStore(`sqlite:${db}`);
      await store.provenance.logKeyPem(() => generateLogKey().pem);
      const control = join(root, 'control.txt');
      writeFileSync(control, 'x', { mode: 0o644 });
      const probe = readAsNobody(control);
      if (probe?.ok !== true) {
        await store.close();
        t.skip('cannot run a command as nobody (setpriv / su unavailable or not root)');
        return;
      }
      for (const f of [db, db + '-wal', db + '-shm', join(root, 'data', 'kek')]) {
        const r = readAsNobody(f)!;
        assert.equal(r.ok, false, `nobody read ${f}`);
        assert.match(r.stderr, /denied/i);
      }
      // Even with the directory opened up, the files themselves stay closed.
      chmodSync(join(root, 'data'), 0o755);
      assert.match(readAsNobody(db)!.stderr, /denied/i);
      await store.close();
    } finally {
      process.umask(old);
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('a store copied without its KEK, or with another, yields no key', async () => {
    const root = mkdtempSync(join(tmpdir(), 'twi-copy-'));
    const db = join(root, 'a', 'twi.db');
    const store = await openStore(`sqlite:${db}`);
    for (const kid of ['k1', 'k2']) {
      await store.keys.put({
        kid,
        alg: 'ES256',
        publicJwk: {},
        privateKeyPem: pemOf(),
        createdAt: new Date(),
      });
    }
    const keys = await store.provenance
      .logKeyPem(() => generateLogKey().pem)
      .then(async (log) => [...(await store.keys.list()).map((k) => k.privateKeyPem), log]);
    await store.close();
    const copy = join(root, 'b', 'twi.db');
    mkdirSync(join(root, 'b'));
    copyFileSync(db, copy);
    try {
      await assert.rejects(openSqliteStore(copy), { code: 'ERR_KEK_MISSING' });
      assert.ok(!existsSync(join(root, 'b', 'kek')), 'no KEK generated for a store with keys');
      await assert.rejects(openSqliteStore(copy, { kek: randomBytes(32) }), {
        code: 'ERR_KEK_MISMATCH',
      });
      writeFileSync(join(root, 'b', 'kek'), randomBytes(32).toString('base64url'));
      await assert.rejects(openSqliteStore(copy), { code: 'ERR_KEK_MISMATCH' });
      await assert.rejects(openSqliteStore(copy, { kek: randomBytes(16) }), {
        code: 'ERR_KEK_INVALID',
      });
      const right = await openSqliteStore(copy, { kek: readKekFile(join(root, 'a', 'kek')) });
      assert.deepEqual(await privateKeys(right), keys);
      await right.close();

      // Moving one key's sealed value onto another kid fails authentication (kid is the AAD).
      const raw = new Database(copy);
      const k1 = raw
        .prepare("SELECT private_key_pem AS v FROM signing_keys WHERE kid = 'k1'")
        .get();
      raw
        .prepare("UPDATE signing_keys SET private_key_pem = ? WHERE kid = 'k2'")
        .run((k1 as { v: string }).v);
      raw.close();
      await assert.rejects(openSqliteStore(copy, { kek: readKekFile(join(root, 'a', 'kek')) }), {
        code: 'ERR_KEK_CORRUPT',
      });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('plaintext keys of an older store are sealed in place and purged from its files', async () => {
    const root = mkdtempSync(join(tmpdir(), 'twi-legacy-'));
    const db = join(root, 'twi.db');
    await (await openSqliteStore(db)).close(); // schema only
    rmSync(join(root, 'kek'));
    const pems = [pemOf(), pemOf()];
    const raw = new Database(db);
    raw
      .prepare(
        `INSERT INTO signing_keys (kid, alg, public_jwk, private_key_pem, created_at)
        VALUES ('old', 'ES256', '{}', ?, 1)`,
      )
      .run(pems[0]);
    raw
      .prepare('INSERT INTO log_keys (id, private_key_pem, created_at) VALUES (1, ?, 1)')
      .run(pems[1]);
    raw.close();
    chmodSync(db, 0o644);
    const needles = pems.flatMap(keyNeedles);
    try {
      assert.notDeepEqual(found(filesOf(db), needles), [], 'the old store holds plaintext');
      const store = await openSqliteStore(db);
      assert.equal(mode(db), 0o600, 'mode tightened');
      assert.deepEqual(await privateKeys(store), pems);
      assert.deepEqual(found(filesOf(db), needles), [], 'plaintext purged from db and WAL');
      await store.close();
      assert.deepEqual(found(filesOf(db), needles), []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('too-open data directory and store files are tightened and reported', () => {
    const root = mkdtempSync(join(tmpdir(), 'twi-modes-'));
    const data = join(root, 'data');
    const db = join(data, 'twi.db');
    try {
      mkdirSync(data, { mode: 0o755 });
      chmodSync(data, 0o755);
      for (const f of [db, db + '-wal']) writeFileSync(f, '', { mode: 0o644 });
      chmodSync(db, 0o664);
      const fixes = [...securePrivateDir(data), ...secureSqliteFiles(db)];
      assert.deepEqual(
        fixes.map((f) => [f.path, f.was, f.now]),
        [
          [data, 0o755, 0o700],
          [db, 0o664, 0o600],
          [db + '-wal', 0o644, 0o600],
        ],
      );
      assert.deepEqual(secureSqliteFiles(db), [], 'nothing left to fix');
      const before = mode(root);
      assert.deepEqual(secureSqliteFiles(root), [], 'a directory is never chmodded as a file');
      assert.equal(mode(root), before);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('every private-key column of the schema is sealed', async () => {
    const store = await openSqliteStore(':memory:');
    await store.close();
    const root = mkdtempSync(join(tmpdir(), 'twi-schema-'));
    const db = join(root, 'twi.db');
    await (await openSqliteStore(db)).close();
    const raw = new Database(db, { readonly: true });
    const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
      name: string;
    }[];
    const secretColumns = tables.flatMap(({ name }) =>
      raw
        .prepare(`SELECT name FROM pragma_table_info(?)`)
        .all(name)
        .map((c) => `${String(name)}.${String((c as { name: unknown }).name)}`)
        .filter((c) => /private|secret|_pem$|password/i.test(c)),
    );
    raw.close();
    rmSync(root, { recursive: true, force: true });
    assert.deepEqual(
      secretColumns.sort(),
      SEALED_COLUMNS.map((c) => `${c.table}.${c.column}`).sort(),
    );
  });
});
