/**
 * The fetch guard (caps and negative cache of evidence-driven endorsement fetches) and the
 * segmented LRU the caching layer keeps endorsements in.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createFetchGuard,
  EndorsementFetchLimitedError,
} from '../../endorsements/provider/fetch-guard.js';
import { SegmentedLru } from '../../endorsements/provider/slru.js';
import type {
  Endorsement,
  EndorsementProvider,
  EndorsementRequest,
} from '../../verifier/verify/endorsement-provider.js';
import { EndorsementUnavailableError } from '../../common/errors.js';

const T = { now: new Date('2025-06-01T00:00:00Z') };
const tcb = (fmspc: string): EndorsementRequest => ({ kind: 'tdx-tcb-info', fmspc });

/** An upstream that answers 404 for FMSPCs starting with `f`, else a dummy endorsement. */
function upstream(): EndorsementProvider & { calls: number; hold?: Promise<void> } {
  const u = {
    calls: 0,
    hold: undefined as Promise<void> | undefined,
    async get(request: EndorsementRequest): Promise<Endorsement> {
      u.calls++;
      if (u.hold) await u.hold;
      if (request.kind === 'tdx-tcb-info' && request.fmspc.startsWith('f')) {
        throw Object.assign(new EndorsementUnavailableError('not found'), { status: 404 });
      }
      return {
        request,
        body: new Uint8Array(1),
        sha256: '00',
        fetchedAt: T.now,
        nextUpdate: new Date(T.now.getTime() + 86_400_000),
        source: 'network',
      };
    },
  };
  return u;
}

describe('fetch guard', { timeout: 60_000 }, () => {
  it('remembers a 404 for its TTL and does not ask again', async () => {
    let t = 0;
    const u = upstream();
    const g = createFetchGuard(u, { negativeTtlMs: 1000, clock: () => t });
    await assert.rejects(g.get(tcb('f00000000000'), T), { status: 404 });
    await assert.rejects(g.get(tcb('f00000000000'), T), { status: 404 });
    assert.equal(u.calls, 1);
    assert.equal(g.guardCounters.negativeHits, 1);
    t = 1000;
    await assert.rejects(g.get(tcb('f00000000000'), T), { status: 404 });
    assert.equal(u.calls, 2, 'asked again after the TTL');
  });

  it('caps fetches per window and in flight; unguarded kinds pass', async () => {
    let t = 0;
    const u = upstream();
    const g = createFetchGuard(u, { maxPerWindow: 3, windowMs: 1000, clock: () => t });
    for (let i = 0; i < 3; i++) await g.get(tcb(`00000000000${i}`), T);
    await assert.rejects(g.get(tcb('000000000009'), T), EndorsementFetchLimitedError);
    await g.get({ kind: 'tdx-qe-identity' }, T);
    assert.equal(u.calls, 4);
    t = 1000;
    await g.get(tcb('000000000009'), T);

    let release = (): void => undefined;
    const held = upstream();
    held.hold = new Promise((r) => (release = r));
    const c = createFetchGuard(held, { maxConcurrent: 2 });
    const pending = [c.get(tcb('000000000001'), T), c.get(tcb('000000000002'), T)];
    await assert.rejects(c.get(tcb('000000000003'), T), (err: EndorsementFetchLimitedError) => {
      assert.equal(err.code, 'ERR_ENDORSEMENT_FETCH_LIMITED');
      assert.ok(err.retryAfterSeconds >= 1);
      return true;
    });
    release();
    await Promise.all(pending);
    await c.get(tcb('000000000003'), T);
  });
});

describe('segmented LRU', { timeout: 60_000 }, () => {
  it('a flood of unconfirmed keys evicts only probation entries', () => {
    const evicted: string[] = [];
    const lru = new SegmentedLru<string, number>(8, (k) => evicted.push(k));
    lru.set('good', 1);
    lru.protect('good');
    lru.set('once', 2);
    for (let i = 0; i < 100; i++) lru.set(`flood-${i}`, i);
    assert.equal(lru.size, 8);
    assert.equal(lru.peek('good'), 1);
    assert.equal(lru.peek('once'), undefined, 'an unconfirmed entry is not protected');
    assert.ok(!evicted.includes('good'));
  });

  it('without confirmations it is a plain LRU', () => {
    const lru = new SegmentedLru<string, number>(3);
    for (const k of ['a', 'b', 'c']) lru.set(k, 0);
    lru.get('a');
    lru.set('d', 0);
    assert.deepEqual(lru.keys().sort(), ['a', 'c', 'd']);
  });

  it('the protected part is bounded: confirming more demotes the oldest', () => {
    const lru = new SegmentedLru<string, number>(4);
    for (const k of ['a', 'b', 'c', 'd']) {
      lru.set(k, 0);
      lru.protect(k);
    }
    assert.equal(lru.protectedSize, 3);
    lru.set('e', 0);
    assert.equal(lru.size, 4);
    assert.equal(lru.peek('a'), undefined, 'the demoted oldest went first');
  });
});
