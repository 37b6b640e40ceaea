/**
 * AR4SI tiers and the claim assignment order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pickClaim, tierOf, vectorStatus, worstTier } from '../../../verifier/policy/ar4si.js';

test('tier boundaries (AR4SI §2.3.2)', () => {
  const cases: [number, string][] = [
    [0, 'none'],
    [1, 'none'],
    [-1, 'none'],
    [2, 'affirming'],
    [31, 'affirming'],
    [-2, 'affirming'],
    [-32, 'affirming'],
    [32, 'warning'],
    [95, 'warning'],
    [-33, 'warning'],
    [-96, 'warning'],
    [96, 'contraindicated'],
    [127, 'contraindicated'],
    [-97, 'contraindicated'],
    [-128, 'contraindicated'],
    [128, 'none'],
    [2.5, 'none'],
  ];
  for (const [v, tier] of cases) assert.equal(tierOf(v), tier, String(v));
});

test('assignment order: standard contraindicated > private contraindicated > warnings > affirming', () => {
  assert.equal(pickClaim([2, 32, 96]), 96);
  assert.equal(pickClaim([-100, 96]), 96);
  assert.equal(pickClaim([-100, 32]), -100);
  assert.equal(pickClaim([-40, 33]), 33);
  assert.equal(pickClaim([2, -2]), 2);
  assert.equal(pickClaim([96, 97]), 97);
  assert.equal(pickClaim([]), undefined);
});

test('status is the worst tier of the vector', () => {
  assert.equal(vectorStatus({ hardware: 2, configuration: 32 }), 'warning');
  assert.equal(vectorStatus({ hardware: 2, executables: 99 }), 'contraindicated');
  assert.equal(vectorStatus({}), 'none');
  assert.equal(worstTier(['affirming', 'none']), 'affirming');
});
