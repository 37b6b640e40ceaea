/**
 * Bundle events when a signing key or CA leaves the bundle by time (docs/service.md
 * "Retirement events"): two instances on one store (SQLite with a 50 ms change-log poll, and —
 * with `TWI_TEST_PG_URL` — PostgreSQL with NOTIFY only), real clock, WIT and certificate
 * lifetimes of one second. After a key rotation and a CA rotation made through instance A, the
 * subscribers of A and of B each get an event with the sequence grown by one and the entry
 * gone, no earlier than the `previous_retires_at` A announced and within a second of it; both
 * instances then serve the same sequence, and no further event follows.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../service/store/open.js';
import { dropPostgresSchema, openPostgresStore } from '../../service/store/postgres-store.js';
import type { Store } from '../../service/store/types.js';
import { watchBundle, type BundleWatch, type WatchedBundle } from '../../wimse/rp.js';
import { TEST_KEK } from '../helpers/kek.js';
import { nextRetirement } from '../../service/admin-state.js';
import { createRetirementTimer, RETIREMENT_RETRY_MS } from '../../service/retirement-timer.js';
import { adminCall, startTestService, type TestService } from './harness.js';

const TOKEN = 'retirement-events-admin-token';
const pgUrl = process.env['TWI_TEST_PG_URL'];

interface Seen {
  readonly bundle: WatchedBundle;
  /** `Date.now()` when it arrived. */
  readonly at: number;
}

/** Records every bundle a watcher receives, with its arrival time. */
function record(url: string): { watch: BundleWatch; seen: Seen[] } {
  const seen: Seen[] = [];
  const watch = watchBundle(url, {
    minBackoffMs: 20,
    onBundle: (bundle) => seen.push({ bundle, at: Date.now() }),
  });
  return { watch, seen };
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    assert.ok(Date.now() < end, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const uses = (b: WatchedBundle, use: string): number =>
  (b.keys ?? []).filter((k) => (k as { use?: string }).use === use).length;

interface Setup {
  /** Opens one more handle on the shared store. */
  open(): Promise<Store>;
  readonly syncIntervalMs: number;
  cleanup(): Promise<void>;
}

function retirementSuite(name: string, setup: Setup, skip: string | false): void {
  describe(`retirement events, two instances: ${name}`, { skip, timeout: 120_000 }, () => {
    let a: TestService;
    let b: TestService;
    let onA: { watch: BundleWatch; seen: Seen[] };
    let onB: { watch: BundleWatch; seen: Seen[] };

    before(async () => {
      const common = {
        clock: () => new Date(),
        adminToken: TOKEN,
        witLifetimeSeconds: 1,
        ca: { certLifetimeSeconds: 1 },
        syncIntervalMs: setup.syncIntervalMs,
      };
      // A first, so that B finds A's signing key and CA instead of making its own.
      a = await startTestService({ seed: 'retire-a', ...common, openStore: setup.open });
      b = await startTestService({ seed: 'retire-b', ...common, openStore: setup.open });
      onA = record(a.base + '/v1/bundle/events');
      onB = record(b.base + '/v1/bundle/events');
      await Promise.all([onA.watch.ready, onB.watch.ready]);
    });

    after(async () => {
      onA?.watch.close();
      onB?.watch.close();
      await b?.close();
      await a?.close();
      await setup.cleanup();
    });

    /** Waits for the retirement event on both sides; returns its delays after `retiresAt`. */
    async function retirement(
      sequence: number,
      retiresAt: number,
      use: string,
      left: number,
    ): Promise<number[]> {
      const delays: number[] = [];
      for (const side of [onA, onB]) {
        const first = () => side.seen.find((s) => s.bundle.spiffe_sequence === sequence + 1);
        await until(
          () => first() !== undefined,
          `sequence ${sequence + 1} (seen ${side.seen.map((s) => `${s.bundle.spiffe_sequence}:${uses(s.bundle, use)}`).join(' ')})`,
          4000,
        );
        const event = first()!;
        assert.equal(uses(event.bundle, use), left, `the retired ${use} entry is gone`);
        assert.ok(
          side.seen.some((s) => s.bundle.spiffe_sequence === sequence && uses(s.bundle, use) === 2),
          'the rotation itself was announced first',
        );
        delays.push(event.at - retiresAt);
      }
      for (const d of delays) {
        assert.ok(d >= 0, `the event came ${-d} ms before the retirement`);
        assert.ok(d < 1000, `the event came ${d} ms after the retirement`);
      }
      return delays;
    }

    test('a rotated-out key, then a replaced CA: one event each on both instances', async (t) => {
      const key = await adminCall(a.base, TOKEN, 'POST', '/keys/rotate');
      const keyRetires = Date.parse(String(key.previous_retires_at));
      const keyDelays = await retirement(Number(key.spiffe_sequence), keyRetires, 'wit-svid', 1);
      t.diagnostic(`key retirement event after ${keyDelays.join(' / ')} ms (A / B)`);

      const ca = await adminCall(a.base, TOKEN, 'POST', '/ca/rotate');
      const caRetires = Date.parse(String(ca.previous_retires_at));
      const caDelays = await retirement(Number(ca.spiffe_sequence), caRetires, 'x509-svid', 1);
      t.diagnostic(`CA retirement event after ${caDelays.join(' / ')} ms (A / B)`);

      const last = Number(ca.spiffe_sequence) + 1;
      const fetched = await Promise.all(
        [a, b].map(
          async (s) => (await (await fetch(s.base + '/v1/bundle')).json()) as WatchedBundle,
        ),
      );
      assert.deepEqual(
        fetched.map((f) => f.spiffe_sequence),
        [last, last],
        'both instances compute the same sequence',
      );
      const counts = [onA.seen.length, onB.seen.length];
      await new Promise((r) => setTimeout(r, 1500));
      assert.deepEqual([onA.seen.length, onB.seen.length], counts, 'no event without a change');
    });
  });
}

test('nextRetirement: the first instant a published key or CA leaves the bundle', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-next-retire-'));
  const store = await openStore('sqlite:' + join(dir, 'twi.db'));
  const t0 = Date.parse('2026-03-01T00:00:00Z');
  const at = (s: number): Date => new Date(t0 + s * 1000);
  try {
    for (const [kid, created] of [
      ['k1', 0],
      ['k2', 10],
    ] as const) {
      await store.keys.put({
        kid,
        alg: 'ES256',
        publicJwk: { kty: 'EC' },
        privateKeyPem: `pem of ${kid}`,
        createdAt: at(created),
      });
    }
    for (const [kid, created, notAfter] of [
      ['c1', 0, 100],
      ['c2', 20, 50],
    ] as const) {
      await store.caKeys.put({
        kid,
        alg: 'ES256',
        chainPem: `chain of ${kid}`,
        privateKeyPem: `pem of ${kid}`,
        source: 'generated',
        createdAt: at(created),
        notAfter: at(notAfter),
      });
    }
    // k1 retires 5 s after k2's creation; c1 30 s after c2's; c2 at its notAfter.
    const next = async (s: number) =>
      (
        await nextRetirement({
          store,
          now: () => at(s),
          witLifetimeSeconds: 5,
          certLifetimeSeconds: 30,
        })
      )?.getTime();
    assert.equal(await next(1), at(15).getTime());
    assert.equal(await next(15), at(50).getTime(), 'an instant that has come is past');
    assert.equal(await next(50), undefined, 'nothing published retires');
    assert.equal(await store.keys.revoke('k1', at(2)), true);
    assert.equal(await next(3), at(50).getTime(), 'a revoked key is not published');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the timer publishes at the instant, retries a failed publication, stops when closed', async () => {
  let due = Date.now() + 50;
  let fail = true;
  const published: number[] = [];
  const errors: unknown[] = [];
  const timer = createRetirementTimer({
    next: async () => (Date.now() < due ? new Date(due) : undefined),
    now: () => new Date(),
    publish: async () => {
      if (fail) {
        fail = false;
        throw new Error('store down');
      }
      published.push(Date.now());
      timer.arm();
    },
    onError: (err) => errors.push(err),
  });
  timer.arm();
  await until(() => published.length === 1, 'the publication', 4000);
  assert.equal(errors.length, 1, 'the failure was reported');
  assert.ok(published[0]! >= due + RETIREMENT_RETRY_MS, 'published again after the retry delay');
  due = Date.now() + 30;
  timer.arm();
  timer.close();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(published.length, 1, 'nothing after close');
});

const sqliteDir = mkdtempSync(join(tmpdir(), 'twi-retire-'));
retirementSuite(
  'SQLite, 50 ms poll',
  {
    open: () => openStore('sqlite:' + join(sqliteDir, 'twi.db')),
    syncIntervalMs: 50,
    cleanup: async () => rmSync(sqliteDir, { recursive: true, force: true }),
  },
  false,
);

const schema = `twi_test_${randomBytes(6).toString('hex')}`;
retirementSuite(
  'PostgreSQL, NOTIFY only',
  {
    open: () => openPostgresStore(pgUrl!, { schema, kek: TEST_KEK }),
    syncIntervalMs: 0,
    cleanup: () => (pgUrl ? dropPostgresSchema(pgUrl, schema) : Promise.resolve()),
  },
  pgUrl ? false : 'TWI_TEST_PG_URL is not set',
);
