/** `nextBackoff`: the ceiling doubles up to the cap, and each jitter stays in its range. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextBackoff } from '../../common/backoff.js';

describe('nextBackoff', { timeout: 10_000 }, () => {
  const base = { baseMs: 250, maxMs: 3000 };

  it('doubles from baseMs and stops at maxMs (no jitter)', () => {
    const waits = [0, 1, 2, 3, 4, 5, 60].map((n) => nextBackoff(n, { ...base, jitter: 'none' }));
    assert.deepEqual(waits, [250, 500, 1000, 2000, 3000, 3000, 3000]);
  });

  it('full jitter is floor(random · ceiling), in [0, ceiling)', () => {
    assert.equal(nextBackoff(2, { ...base, jitter: 'full', random: () => 0 }), 0);
    assert.equal(nextBackoff(2, { ...base, jitter: 'full', random: () => 0.5 }), 500);
    assert.equal(nextBackoff(2, { ...base, jitter: 'full', random: () => 0.9999 }), 999);
  });

  it('half jitter is round(ceiling · (0.5 + random / 2)), in [ceiling / 2, ceiling]', () => {
    assert.equal(nextBackoff(1, { ...base, jitter: 'half', random: () => 0 }), 250);
    assert.equal(nextBackoff(1, { ...base, jitter: 'half', random: () => 0.5 }), 375);
    assert.equal(nextBackoff(9, { ...base, jitter: 'half', random: () => 0.999 }), 2999);
    for (let i = 0; i < 200; i++) {
      const w = nextBackoff(3, { ...base, jitter: 'half' });
      assert.ok(w >= 1000 && w <= 2000, String(w));
    }
  });
});
