import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openPostgresStore } from '../../../service/store/postgres-store.js';
import { dropPostgresSchema } from '../../../service/store/postgres-store.js';
import { storeSuite } from './store-suite.js';
import { raceAnomalies, twoProcessRace } from './race.js';
import { TEST_KEK } from '../../helpers/kek.js';

const url = process.env['TWI_TEST_PG_URL'];
const skip = url
  ? undefined
  : 'TWI_TEST_PG_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)';
const freshSchema = (): string => `twi_test_${randomBytes(6).toString('hex')}`;
const schema = freshSchema();

storeSuite(
  `postgres (schema ${schema})`,
  {
    open: () => openPostgresStore(url!, { schema, kek: TEST_KEK }),
    cleanup: () => dropPostgresSchema(url!, schema),
    crossHandleHints: true,
  },
  skip,
);

test(
  'two processes race for 500 nonces on one PostgreSQL: each accepted once',
  { skip: skip ?? false, timeout: 20_000 },
  async (t) => {
    const own = freshSchema();
    const store = await openPostgresStore(url!, { schema: own });
    try {
      const started = performance.now();
      const results = await twoProcessRace(store, url!, own, 500);
      t.diagnostic(`accepted per process: ${results.map((r) => r.ok.length).join(' + ')}`);
      t.diagnostic(`race took ${Math.round(performance.now() - started)} ms`);
      assert.deepEqual(raceAnomalies(results, 500), { missing: [], twice: [] });
      assert.equal(results[0].refused + results[1].refused, 500);
    } finally {
      await store.close();
      await dropPostgresSchema(url!, own);
    }
  },
);

test('concurrent opens of a fresh schema migrate once', { skip: skip ?? false }, async () => {
  const own = freshSchema();
  try {
    const stores = await Promise.all([1, 2, 3].map(() => openPostgresStore(url!, { schema: own })));
    await stores[0]!.nonces.issue('n', new Date(Date.now() + 60_000));
    assert.equal(await stores[2]!.nonces.consume('n', new Date()), 'ok');
    await Promise.all(stores.map((s) => s.close()));
  } finally {
    await dropPostgresSchema(url!, own);
  }
});

test('an unreachable server fails with ERR_STORE_UNAVAILABLE', async () => {
  await assert.rejects(
    openPostgresStore('postgres://postgres@127.0.0.1:1/test', { connectTimeoutMs: 2000 }),
    { code: 'ERR_STORE_UNAVAILABLE' },
  );
});

test('schema names are validated', async () => {
  await assert.rejects(openPostgresStore('postgres://h/db', { schema: 'x; DROP' }), TypeError);
});
