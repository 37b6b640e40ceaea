import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgresStore } from '../../../service/store/postgres-store.js';
import { dropPostgresSchema } from '../../../service/store/postgres-store.js';
import { provenanceStoreSuite } from './provenance-suite.js';
import { TEST_KEK } from '../../helpers/kek.js';

const url = process.env['TWI_TEST_PG_URL'];
const skip = url
  ? undefined
  : 'TWI_TEST_PG_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)';
const schema = `twi_prov_${randomBytes(6).toString('hex')}`;

provenanceStoreSuite(
  `postgres (schema ${schema})`,
  {
    open: () => openPostgresStore(url!, { schema, kek: TEST_KEK }),
    exec: async (sql) => {
      const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    },
    concurrentHandles: true,
    cleanup: () => dropPostgresSchema(url!, schema),
  },
  skip,
);
