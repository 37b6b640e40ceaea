/**
 * Post-run checks of a load run read straight from the store: how many credentials were
 * issued, how many distinct nonces they were issued for (every Nitro ledger record carries
 * its document's `nonce` claim) and how many nonces were consumed.
 *
 * @module
 */
import Database from 'better-sqlite3';
import pg from 'pg';

/** What the store holds after a run. */
export interface LedgerCounts {
  /** Rows of the credential ledger. */
  readonly credentials: number;
  /** Distinct nonce claims among them. */
  readonly distinctNonces: number;
  /** Nonces marked used. */
  readonly usedNonces: number;
}

const SQLITE_COUNTS = `SELECT
  (SELECT count(*) FROM credentials) AS credentials,
  (SELECT count(DISTINCT json_extract(record, '$.claims.nonce')) FROM credentials) AS distinct_nonces,
  (SELECT count(*) FROM nonces WHERE used_at IS NOT NULL) AS used_nonces`;

const POSTGRES_COUNTS = `SELECT
  (SELECT count(*) FROM credentials) AS credentials,
  (SELECT count(DISTINCT (record::json -> 'claims' ->> 'nonce')) FROM credentials) AS distinct_nonces,
  (SELECT count(*) FROM nonces WHERE used_at IS NOT NULL) AS used_nonces`;

interface CountRow {
  credentials: number | string;
  distinct_nonces: number | string;
  used_nonces: number | string;
}

function counts(row: CountRow): LedgerCounts {
  return {
    credentials: Number(row.credentials),
    distinctNonces: Number(row.distinct_nonces),
    usedNonces: Number(row.used_nonces),
  };
}

/** Counts of the SQLite store in `file` (opened read-only). */
export function sqliteLedger(file: string): LedgerCounts {
  const db = new Database(file, { readonly: true });
  try {
    return counts(db.prepare(SQLITE_COUNTS).get() as CountRow);
  } finally {
    db.close();
  }
}

/** Opens one connection to `url` with `schema` first on the search path. */
async function connect(url: string, schema: string): Promise<pg.Client> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new TypeError(`bad schema name ${schema}`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`SET search_path TO ${schema}`);
  return client;
}

/** Counts of the PostgreSQL store in `schema`. */
export async function postgresLedger(url: string, schema: string): Promise<LedgerCounts> {
  const client = await connect(url, schema);
  try {
    return counts((await client.query<CountRow>(POSTGRES_COUNTS)).rows[0]!);
  } finally {
    await client.end();
  }
}

/** Drops `schema` and everything in it. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = await connect(url, schema);
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
