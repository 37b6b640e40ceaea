/**
 * The store suite's part for the newest TDX collateral seen per FMSPC (`store.collateral`):
 * absent, recorded, raised only by newer marks (number first, then issue date, each of TCB
 * Info and QE identity on its own), and never lowered by concurrent writers.
 *
 * @module
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TdxCollateralMarks } from '../../../verifier/verify/collateral-history.js';
import type { Store } from '../../../service/store/types.js';

const AT = new Date('2026-05-01T12:00:00.000Z');
const day = (n: number): Date => new Date(Date.UTC(2026, 3, n));

function marks(fmspc: string, tcb: [number, number], qe: [number, number]): TdxCollateralMarks {
  return {
    fmspc,
    tcbInfo: { tcbEvaluationDataNumber: tcb[0], issueDate: day(tcb[1]) },
    qeIdentity: { tcbEvaluationDataNumber: qe[0], issueDate: day(qe[1]) },
  };
}

/** Registers the collateral-history tests on the suite's store. */
export function collateralTests(get: () => Store): void {
  test('collateral history: absent, recorded, raised only by newer marks', async () => {
    const { collateral } = get();
    assert.equal(await collateral.newestTdx('00a06d080000'), undefined);
    await collateral.recordTdx(marks('00A06D080000', [17, 10], [17, 10]), AT);
    assert.deepEqual(
      await collateral.newestTdx('00a06d080000'),
      marks('00a06d080000', [17, 10], [17, 10]),
      'stored lowercase, read back exactly',
    );
    await collateral.recordTdx(marks('00a06d080000', [16, 20], [17, 9]), AT);
    assert.deepEqual(
      await collateral.newestTdx('00a06d080000'),
      marks('00a06d080000', [17, 10], [17, 10]),
      'a lower number with a later date, or an earlier date, lowers nothing',
    );
    await collateral.recordTdx(marks('00a06d080000', [17, 12], [16, 30]), AT);
    assert.deepEqual(
      await collateral.newestTdx('00a06d080000'),
      marks('00a06d080000', [17, 12], [17, 10]),
      'the same number with a later issue date raises the TCB Info mark only',
    );
    await collateral.recordTdx(marks('00a06d080000', [18, 1], [18, 1]), AT);
    assert.deepEqual(
      await collateral.newestTdx('00a06d080000'),
      marks('00a06d080000', [18, 1], [18, 1]),
    );
    assert.equal(await collateral.newestTdx('50806f000000'), undefined, 'per FMSPC');
  });

  test('collateral history: concurrent writers end at the newest marks', async () => {
    const { collateral } = get();
    const numbers = Array.from({ length: 40 }, (_, i) => 1 + ((i * 17) % 40));
    await Promise.all(
      numbers.map((n) => collateral.recordTdx(marks('123456abcdef', [n, 1], [41 - n, 1]), AT)),
    );
    assert.deepEqual(
      await collateral.newestTdx('123456abcdef'),
      marks('123456abcdef', [40, 1], [40, 1]),
    );
  });
}
