import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../../service/store/sqlite-store.js';
import { provenanceStoreSuite } from './provenance-suite.js';

const dir = mkdtempSync(join(tmpdir(), 'twi-prov-store-'));
const file = join(dir, 'twi.db');

provenanceStoreSuite('sqlite (temp file)', {
  open: () => openSqliteStore(file),
  exec: async (sql) => {
    const raw = new Database(file);
    try {
      raw.exec(sql);
    } finally {
      raw.close();
    }
  },
  concurrentHandles: false,
  cleanup: async () => rmSync(dir, { recursive: true, force: true }),
});
