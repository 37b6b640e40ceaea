/**
 * Transparency-log benchmark (issue 8): append and proof throughput on SQLite and PostgreSQL,
 * each as a ratio to a plain reference measured in the same run on the same database:
 *
 * - batched appends (`appendLeaves`, B leaves per transaction) vs plain multi-row inserts of
 *   the same rows (same columns, same batch size, one transaction per batch);
 * - single appends (one transaction per leaf, as at issuance) vs single plain inserts;
 * - inclusion and consistency proofs at the final size vs plain primary-key SELECTs of one
 *   random row.
 *
 * Phases of one store alternate (plain, log, plain, log …) in rounds; medians are reported.
 * The PostgreSQL part runs when `TWI_BENCH_PG_URL` or `TWI_TEST_PG_URL` is set.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { canonicalJson } from '../../common/canonical-json.js';
import { leafHash, verifyConsistency, verifyInclusion } from '../../provenance/merkle.js';
import { openPostgresStore } from '../../service/store/postgres-store.js';
import { openSqliteStore } from '../../service/store/sqlite-store.js';
import type { Store } from '../../service/store/types.js';
import { dropPostgresSchema } from '../../service/store/postgres-store.js';
import { TEST_KEK } from '../helpers/kek.js';

/** Sizes of one run. */
export interface ProvenancePlan {
  readonly records: number;
  readonly batch: number;
  readonly single: number;
  readonly proofs: number;
  readonly rounds: number;
}

/** Full: 100,000 records. */
export const FULL_PROVENANCE_PLAN: ProvenancePlan = {
  records: 100_000,
  batch: 100,
  single: 1_000,
  proofs: 2_000,
  rounds: 3,
};
/** Quick (smoke test). */
export const QUICK_PROVENANCE_PLAN: ProvenancePlan = {
  records: 1_000,
  batch: 100,
  single: 50,
  proofs: 100,
  rounds: 1,
};

/** A rate and its reference. */
export interface PairRate {
  readonly opsPerSec: number;
  readonly referencePerSec: number;
  /** ops / reference. */
  readonly ratio: number;
}

/** Results for one store. */
export interface ProvenanceStoreResult {
  readonly store: 'sqlite' | 'postgres';
  readonly records: number;
  readonly batchedAppends: PairRate;
  readonly singleAppends: PairRate;
  readonly inclusionProofs: PairRate;
  readonly consistencyProofs: PairRate;
  readonly proofLength: number;
  readonly durationMs: number;
}

/** The `provenance` section of the bench JSON. */
export interface ProvenanceBenchResults {
  readonly plan: ProvenancePlan;
  readonly stores: ProvenanceStoreResult[];
  readonly skipped: string[];
}

/** Plain inserts and selects on the same database, bypassing the log. */
interface Plain {
  insert(rows: readonly Row[]): Promise<void>;
  select(idx: number): Promise<void>;
  close(): Promise<void>;
}

type Row = [number, string, string, string, string, number];

const COLUMNS = '(idx, kind, ref, leaf_hash, data, created_at)';
const TABLE = `CREATE TABLE bench_plain (idx BIGINT PRIMARY KEY, kind TEXT NOT NULL, ref TEXT NOT NULL,
  leaf_hash TEXT NOT NULL, data TEXT NOT NULL, created_at BIGINT NOT NULL)`;

function placeholders(n: number, positional: boolean): string {
  return Array.from(
    { length: n },
    (_, r) =>
      `(${Array.from({ length: 6 }, (_, c) => (positional ? '?' : `$${r * 6 + c + 1}`)).join(', ')})`,
  ).join(', ');
}

function sqlitePlain(file: string): Plain {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(TABLE);
  const select = db.prepare('SELECT * FROM bench_plain WHERE idx = ?');
  return {
    insert: async (rows) => {
      db.exec('BEGIN IMMEDIATE');
      db.prepare(
        `INSERT INTO bench_plain ${COLUMNS} VALUES ${placeholders(rows.length, true)}`,
      ).run(...rows.flat());
      db.exec('COMMIT');
    },
    select: async (idx) => void select.get(idx),
    close: async () => void db.close(),
  };
}

async function postgresPlain(url: string, schema: string): Promise<Plain> {
  const pool = new pg.Pool({ connectionString: url, max: 2, options: `-c search_path=${schema}` });
  await pool.query(TABLE);
  return {
    insert: async (rows) => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await c.query(
          `INSERT INTO bench_plain ${COLUMNS} VALUES ${placeholders(rows.length, false)}`,
          rows.flat(),
        );
        await c.query('COMMIT');
      } finally {
        c.release();
      }
    },
    select: async (idx) =>
      void (await pool.query('SELECT * FROM bench_plain WHERE idx = $1', [idx])),
    close: () => pool.end(),
  };
}

/** A leaf of the size of an issuance record. */
function leafData(i: number): string {
  return canonicalJson({
    type: 'twi-issuance/v1',
    jti: `bench-${i}-${'x'.repeat(16)}`,
    sub: `spiffe://example.org/tdx/${((i * 2654435761) >>> 0).toString(16).padStart(16, '0')}`,
    iat: 1_800_000_000 + i,
    exp: 1_800_003_600 + i,
    measurements: [{ alg: 'sha384', field: 'mrtd', platform: 'tdx', value: 'a1'.repeat(48) }],
    provenance: [
      {
        digest: `sha256:${'ab'.repeat(32)}`,
        kind: 'slsa-provenance',
        source_commit: '1'.repeat(40),
      },
    ],
  });
}

function plainRow(i: number, offset: number): Row {
  const data = leafData(i);
  return [
    offset + i,
    'supply-chain',
    `bench-${i}`,
    Buffer.from(leafHash(Buffer.from(data))).toString('hex'),
    data,
    Date.now(),
  ];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;

async function timed(fn: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return seconds(start);
}

function pair(ops: number, logTimes: number[], plainTimes: number[]): PairRate {
  const opsPerSec = ops / median(logTimes);
  const referencePerSec = ops / median(plainTimes);
  return { opsPerSec, referencePerSec, ratio: opsPerSec / referencePerSec };
}

async function appendPhases(
  store: Store,
  plain: Plain,
  plan: ProvenancePlan,
): Promise<[PairRate, PairRate]> {
  const perRound = Math.floor(plan.records / plan.rounds);
  const logT: number[] = [];
  const plainT: number[] = [];
  let next = 0;
  for (let r = 0; r < plan.rounds; r += 1) {
    const base = next;
    plainT.push(
      await timed(async () => {
        for (let i = 0; i < perRound; i += plan.batch) {
          await plain.insert(
            Array.from({ length: Math.min(plan.batch, perRound - i) }, (_, k) =>
              plainRow(base + i + k, 0),
            ),
          );
        }
      }),
    );
    logT.push(
      await timed(async () => {
        for (let i = 0; i < perRound; i += plan.batch) {
          const n = Math.min(plan.batch, perRound - i);
          await store.provenance.appendLeaves(
            Array.from({ length: n }, (_, k) => ({
              ref: `bench-${base + i + k}`,
              data: leafData(base + i + k),
            })),
          );
        }
      }),
    );
    next += perRound;
  }
  const singleLog: number[] = [];
  const singlePlain: number[] = [];
  const offset = 10_000_000;
  for (let r = 0; r < plan.rounds; r += 1) {
    const base = next;
    singlePlain.push(
      await timed(async () => {
        for (let i = 0; i < plan.single; i += 1) await plain.insert([plainRow(base + i, offset)]);
      }),
    );
    singleLog.push(
      await timed(async () => {
        for (let i = 0; i < plan.single; i += 1) {
          await store.provenance.appendLeaves([
            { ref: `bench-${base + i}`, data: leafData(base + i) },
          ]);
        }
      }),
    );
    next += plan.single;
  }
  return [pair(perRound, logT, plainT), pair(plan.single, singleLog, singlePlain)];
}

async function proofPhases(
  store: Store,
  plain: Plain,
  plan: ProvenancePlan,
): Promise<{ inclusion: PairRate; consistency: PairRate; length: number }> {
  const { size, root } = await store.provenance.treeState();
  const plainRows = Math.floor(plan.records / plan.rounds) * plan.rounds;
  const pick = (n: number): number => Math.floor(Math.random() * n);
  const incl: number[] = [];
  const cons: number[] = [];
  const sel: number[] = [];
  let length = 0;
  for (let r = 0; r < plan.rounds; r += 1) {
    sel.push(
      await timed(async () => {
        for (let i = 0; i < plan.proofs; i += 1) await plain.select(pick(plainRows));
      }),
    );
    incl.push(
      await timed(async () => {
        for (let i = 0; i < plan.proofs; i += 1)
          length = (await store.provenance.inclusionProof(pick(size), size)).length;
      }),
    );
    cons.push(
      await timed(async () => {
        for (let i = 0; i < plan.proofs; i += 1)
          await store.provenance.consistencyProof(1 + pick(size - 1), size);
      }),
    );
  }
  // Not timed: the proofs are real.
  const index = pick(size);
  const leaf = (await store.provenance.leaf(index))!;
  if (
    !verifyInclusion(
      index,
      size,
      leafHash(Buffer.from(leaf.data)),
      await store.provenance.inclusionProof(index, size),
      root,
    )
  ) {
    throw new Error('bench: an inclusion proof did not verify');
  }
  const first = 1 + pick(size - 1);
  if (
    !verifyConsistency(
      first,
      size,
      await store.provenance.consistencyProof(first, size),
      await store.provenance.rootAt(first),
      root,
    )
  ) {
    throw new Error('bench: a consistency proof did not verify');
  }
  return {
    inclusion: pair(plan.proofs, incl, sel),
    consistency: pair(plan.proofs, cons, sel),
    length,
  };
}

async function benchStore(
  kind: 'sqlite' | 'postgres',
  store: Store,
  plain: Plain,
  plan: ProvenancePlan,
): Promise<ProvenanceStoreResult> {
  const started = Date.now();
  const [batchedAppends, singleAppends] = await appendPhases(store, plain, plan);
  const proofs = await proofPhases(store, plain, plan);
  return {
    store: kind,
    records: (await store.provenance.treeState()).size,
    batchedAppends,
    singleAppends,
    inclusionProofs: proofs.inclusion,
    consistencyProofs: proofs.consistency,
    proofLength: proofs.length,
    durationMs: Date.now() - started,
  };
}

/** Runs the benchmark on SQLite and (when configured) PostgreSQL. */
export async function runProvenanceBench(
  plan: ProvenancePlan,
  progress: (s: string) => void = () => {},
): Promise<ProvenanceBenchResults> {
  const stores: ProvenanceStoreResult[] = [];
  const skipped: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'twi-prov-bench-'));
  try {
    const file = join(dir, 'bench.db');
    const store = await openSqliteStore(file);
    const plain = sqlitePlain(file);
    try {
      stores.push(await benchStore('sqlite', store, plain, plan));
      progress('  provenance: sqlite');
    } finally {
      await plain.close();
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const url = process.env['TWI_BENCH_PG_URL'] ?? process.env['TWI_TEST_PG_URL'];
  if (!url) {
    skipped.push('postgres: TWI_BENCH_PG_URL / TWI_TEST_PG_URL not set');
    return { plan, stores, skipped };
  }
  const schema = `twi_bench_${randomBytes(6).toString('hex')}`;
  const store = await openPostgresStore(url, { schema, kek: TEST_KEK });
  const plain = await postgresPlain(url, schema);
  try {
    stores.push(await benchStore('postgres', store, plain, plan));
    progress('  provenance: postgres');
  } finally {
    await plain.close();
    await store.close();
    await dropPostgresSchema(url, schema);
  }
  return { plan, stores, skipped };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** The provenance table of the bench report. */
export function formatProvenanceReport(r: ProvenanceBenchResults): string {
  const lines = [
    `Transparency log (${fmt(r.plan.records)} records, batches of ${r.plan.batch}; ${r.plan.single} single appends; ${r.plan.proofs} proofs; median of ${r.plan.rounds})`,
    '| store | batched appends/s | plain inserts/s | ratio | single appends/s | single inserts/s | ratio | inclusion proofs/s | consistency proofs/s | PK selects/s | ratios |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const s of r.stores) {
    lines.push(
      `| ${s.store} | ${fmt(s.batchedAppends.opsPerSec)} | ${fmt(s.batchedAppends.referencePerSec)} | ${s.batchedAppends.ratio.toFixed(2)} | ${fmt(s.singleAppends.opsPerSec)} | ${fmt(s.singleAppends.referencePerSec)} | ${s.singleAppends.ratio.toFixed(2)} | ${fmt(s.inclusionProofs.opsPerSec)} | ${fmt(s.consistencyProofs.opsPerSec)} | ${fmt(s.inclusionProofs.referencePerSec)} | ${s.inclusionProofs.ratio.toFixed(2)} / ${s.consistencyProofs.ratio.toFixed(2)} |`,
    );
  }
  for (const s of r.skipped) lines.push(`skipped ${s}`);
  return lines.join('\n');
}
