/**
 * The newest TDX collateral seen per FMSPC, over the shared SQL surface (SQLite and
 * PostgreSQL). The record only rises: one upsert replaces each mark (TCB Info, QE identity)
 * only when the new one is newer — a higher `tcbEvaluationDataNumber`, or the same number and
 * a later `issueDate` — so concurrent instances cannot lower it.
 *
 * @internal
 * @module
 */
import type {
  CollateralHistory,
  TdxCollateralMarks,
} from '../../verifier/verify/collateral-history.js';
import { toInt, type SqlRow } from './sql-executor.js';
import type { Guarded } from './sql-guard.js';

const T = 'tdx_collateral_seen';

/** SQL that is true when the inserted `prefix` mark is newer than the stored one. */
function newer(prefix: 'tcb_info' | 'qe_identity'): string {
  const n = `${prefix}_number`;
  const d = `${prefix}_issued`;
  return `(excluded.${n} > ${T}.${n} OR (excluded.${n} = ${T}.${n} AND excluded.${d} > ${T}.${d}))`;
}

function pick(prefix: 'tcb_info' | 'qe_identity', column: string): string {
  return `CASE WHEN ${newer(prefix)} THEN excluded.${column} ELSE ${T}.${column} END`;
}

const UPSERT = `INSERT INTO ${T}
  (fmspc, tcb_info_number, tcb_info_issued, qe_identity_number, qe_identity_issued, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT (fmspc) DO UPDATE SET
    tcb_info_number = ${pick('tcb_info', 'tcb_info_number')},
    tcb_info_issued = ${pick('tcb_info', 'tcb_info_issued')},
    qe_identity_number = ${pick('qe_identity', 'qe_identity_number')},
    qe_identity_issued = ${pick('qe_identity', 'qe_identity_issued')},
    updated_at = excluded.updated_at
  WHERE ${newer('tcb_info')} OR ${newer('qe_identity')}`;

function marksFromRow(row: SqlRow): TdxCollateralMarks {
  return {
    fmspc: String(row['fmspc']),
    tcbInfo: {
      tcbEvaluationDataNumber: toInt(row['tcb_info_number']),
      issueDate: new Date(toInt(row['tcb_info_issued'])),
    },
    qeIdentity: {
      tcbEvaluationDataNumber: toInt(row['qe_identity_number']),
      issueDate: new Date(toInt(row['qe_identity_issued'])),
    },
  };
}

/** The {@link CollateralHistory} of a SQL store. */
export function collateralHistory(g: Guarded): CollateralHistory {
  return {
    newestTdx: (fmspc) =>
      g.call('collateral.newestTdx', async (db) => {
        const rows = await db.query(`SELECT * FROM ${T} WHERE fmspc = $1`, [fmspc.toLowerCase()]);
        return rows[0] ? marksFromRow(rows[0]) : undefined;
      }),
    recordTdx: (m, at) =>
      g
        .call('collateral.recordTdx', (db) =>
          db.run(UPSERT, [
            m.fmspc.toLowerCase(),
            m.tcbInfo.tcbEvaluationDataNumber,
            m.tcbInfo.issueDate.getTime(),
            m.qeIdentity.tcbEvaluationDataNumber,
            m.qeIdentity.issueDate.getTime(),
            at.getTime(),
          ]),
        )
        .then(() => undefined),
  };
}
