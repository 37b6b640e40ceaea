/**
 * Keys at rest on PostgreSQL: the rows hold only sealed envelopes (read raw with `pg`), the
 * store opens only with its KEK, plaintext keys of older stores are sealed on open, and
 * `twi serve` refuses a PostgreSQL store without a KEK.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { newKeyPair } from '../../../common/key-pair.js';
import { generateLogKey } from '../../../provenance/tree-head.js';
import { isSealed } from '../../../service/store/kek.js';
import { openPostgresStore } from '../../../service/store/postgres-store.js';
import { dropPostgresSchema } from '../../../service/store/postgres-store.js';
import { runCli } from '../../helpers/cli.js';
import { TEST_KEK } from '../../helpers/kek.js';
import { found, keyNeedles } from './at-rest-helpers.js';

const url = process.env['TWI_TEST_PG_URL'];
const skip = url
  ? false
  : 'TWI_TEST_PG_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)';
const pemOf = (): string =>
  newKeyPair('ec', { namedCurve: 'P-256' })
    .privateKey.export({ format: 'pem', type: 'pkcs8' })
    .toString();

/** Runs `body` with a client whose search_path is `schema`. */
async function raw<T>(schema: string, body: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  await c.connect();
  try {
    return await body(c);
  } finally {
    await c.end();
  }
}

async function rawKeyValues(schema: string): Promise<string[]> {
  return raw(schema, async (c) =>
    [
      ...(await c.query('SELECT private_key_pem AS v FROM signing_keys')).rows,
      ...(await c.query('SELECT private_key_pem AS v FROM log_keys')).rows,
    ].map((r: { v: string }) => r.v),
  );
}

describe('keys at rest (PostgreSQL)', { skip, timeout: 120_000 }, () => {
  test('rows hold only sealed keys, and the store opens only with its KEK', async () => {
    const schema = `twi_kek_${randomBytes(5).toString('hex')}`;
    try {
      const store = await openPostgresStore(url!, { schema, kek: TEST_KEK });
      const pem = pemOf();
      await store.keys.put({
        kid: 'k1',
        alg: 'ES256',
        publicJwk: {},
        privateKeyPem: pem,
        createdAt: new Date(),
      });
      const log = await store.provenance.logKeyPem(() => generateLogKey().pem);
      assert.equal((await store.keys.list())[0]!.privateKeyPem, pem);
      await store.close();

      const values = await rawKeyValues(schema);
      assert.equal(values.length, 2);
      assert.ok(values.every(isSealed), 'every stored key is an envelope');
      const needles = [pem, log].flatMap(keyNeedles);
      assert.deepEqual(found(Buffer.from(values.join('\n')), needles), []);

      await assert.rejects(openPostgresStore(url!, { schema }), { code: 'ERR_KEK_MISSING' });
      await assert.rejects(openPostgresStore(url!, { schema, kek: randomBytes(32) }), {
        code: 'ERR_KEK_MISMATCH',
      });
    } finally {
      await dropPostgresSchema(url!, schema);
    }
  });

  test('without a KEK a fresh store opens but refuses to store a key', async () => {
    const schema = `twi_kek_${randomBytes(5).toString('hex')}`;
    try {
      const store = await openPostgresStore(url!, { schema });
      await assert.rejects(
        store.keys.put({
          kid: 'k',
          alg: 'ES256',
          publicJwk: {},
          privateKeyPem: pemOf(),
          createdAt: new Date(),
        }),
        { code: 'ERR_KEK_MISSING' },
      );
      await assert.rejects(
        store.provenance.logKeyPem(() => generateLogKey().pem),
        {
          code: 'ERR_KEK_MISSING',
        },
      );
      assert.deepEqual(await store.keys.list(), []);
      await store.close();
    } finally {
      await dropPostgresSchema(url!, schema);
    }
  });

  test('plaintext keys of an older store are sealed when it opens with a KEK', async () => {
    const schema = `twi_kek_${randomBytes(5).toString('hex')}`;
    try {
      await (await openPostgresStore(url!, { schema })).close(); // schema only
      const pem = pemOf();
      await raw(schema, (c) =>
        c.query(
          `INSERT INTO signing_keys (kid, alg, public_jwk, private_key_pem, created_at)
            VALUES ('old', 'ES256', '{}', $1, 1)`,
          [pem],
        ),
      );
      await assert.rejects(openPostgresStore(url!, { schema }), { code: 'ERR_KEK_MISSING' });
      const store = await openPostgresStore(url!, { schema, kek: TEST_KEK });
      assert.equal((await store.keys.list())[0]!.privateKeyPem, pem);
      await store.close();
      const values = await rawKeyValues(schema);
      assert.ok(values.every(isSealed));
      assert.deepEqual(found(Buffer.from(values.join('\n')), keyNeedles(pem)), []);
    } finally {
      await dropPostgresSchema(url!, schema);
    }
  });

  test('twi serve refuses a PostgreSQL store without a KEK', () => {
    const r = runCli(['serve', '--store', url!, '--port', '0'], { timeoutMs: 60_000 });
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /ERR_KEK_MISSING: a PostgreSQL store needs a KEK/);
  });
});
