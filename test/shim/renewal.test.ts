/**
 * The renewal loop, driven by a stand-in attestation round (a function returning credentials
 * or failing as told): schedule at the fraction with jitter, backoff while unavailable, and
 * an expired credential never served.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Credential } from '../../shim/credential.js';
import { ShimError } from '../../shim/errors.js';
import { createRenewal, renewalDelay } from '../../shim/renewal.js';

function credential(issuedAt: number, lifetimeMs: number, jti: string): Credential {
  return {
    wit: `w.${jti}.s`,
    ear: 'e.a.r',
    sub: 'spiffe://example.org/x',
    jti,
    issuedAt: new Date(issuedAt),
    expiresAt: new Date(issuedAt + lifetimeMs),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('renewal schedule', () => {
  it('renews at the fraction of the lifetime, jitter within bounds', () => {
    const c = credential(0, 1000_000, 'a');
    assert.equal(
      renewalDelay(c, 0, 0.5, 0.1, () => 0.5),
      500_000,
    );
    assert.equal(
      renewalDelay(c, 0, 0.5, 0.1, () => 0),
      450_000,
    );
    assert.equal(
      renewalDelay(c, 0, 0.5, 0.1, () => 1),
      550_000,
    );
    assert.equal(
      renewalDelay(c, 100_000, 0.8, 0, () => 0.5),
      700_000,
    );
    // Received late (clock skew): never past 90 % of what is left.
    assert.equal(
      renewalDelay(c, 900_000, 0.99, 0, () => 0.5),
      90_000,
    );
    assert.equal(
      renewalDelay(c, 2000_000, 0.5, 0, () => 0.5),
      0,
    );
  });

  it('rejects fractions outside (0, 1)', () => {
    for (const f of [0, 1, -0.5, 2, Number.NaN]) {
      assert.throws(
        () => createRenewal({ obtain: () => Promise.reject(new Error('x')), renewFraction: f }),
        RangeError,
      );
    }
  });

  it('retries with growing backoff while unavailable, then serves the credential', async () => {
    let calls = 0;
    const delays: number[] = [];
    const r = createRenewal({
      obtain: async () => {
        calls++;
        if (calls <= 3) throw new ShimError('ERR_SHIM_VERIFIER_UNAVAILABLE', 'down');
        return credential(Date.now(), 60_000, `c${calls}`);
      },
      minBackoffMs: 10,
      maxBackoffMs: 40,
      random: () => 1,
      onError: (_e, ms) => delays.push(ms),
    });
    assert.equal(r.current(), undefined);
    const c = await r.ready;
    assert.equal(c.jti, 'c4');
    assert.deepEqual(delays, [10, 20, 40]);
    assert.equal(r.current()?.jti, 'c4');
    assert.deepEqual(r.stats(), { renewals: 1, failures: 3 });
    r.stop();
  });

  it('renews repeatedly with a fresh round each time and keeps serving the valid one meanwhile', async () => {
    let n = 0;
    let failNext = false;
    const r = createRenewal({
      obtain: async () => {
        n++;
        if (failNext) {
          failNext = false;
          throw new ShimError('ERR_SHIM_VERIFIER_UNAVAILABLE', 'down');
        }
        return credential(Date.now(), 200, `c${n}`);
      },
      renewFraction: 0.5,
      minBackoffMs: 5,
      jitter: 0,
    });
    await r.ready;
    const seen = new Set<string>();
    failNext = true;
    for (let i = 0; i < 40; i++) {
      const c = r.current();
      assert.ok(c, 'a valid credential at every instant');
      seen.add(c.jti!);
      await sleep(10);
    }
    assert.ok(seen.size >= 3, [...seen].join());
    assert.ok(r.stats().failures >= 1);
    r.stop();
  });

  it('does not serve an expired credential', async () => {
    let clock = 1000;
    const r = createRenewal({
      obtain: async () => credential(1000, 100, 'only'),
      now: () => clock,
      minBackoffMs: 1_000_000,
    });
    await r.ready;
    assert.equal(r.current()?.jti, 'only');
    clock = 1100;
    assert.equal(r.current(), undefined);
    r.stop();
  });

  it('stop rejects a pending first credential', async () => {
    const r = createRenewal({ obtain: () => new Promise(() => undefined) });
    r.stop();
    await assert.rejects(r.ready, /stopped/);
  });
});
