/**
 * The one store test suite every implementation must pass.
 *
 * @module
 */

import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { CredentialRecord } from '../../../provenance/ledger-record.js';
import type { KeyRecord, Store } from '../../../service/store/types.js';
import { collateralTests } from './collateral-suite.js';

/** How the suite gets at an implementation. */
export interface StoreHarness {
  /** Open a store on the suite's database (each call a new handle on the same data). */
  open(): Promise<Store>;
  /** Remove the database after the suite. */
  cleanup(): Promise<void>;
  /** Whether a handle hears of changes committed through another handle (PostgreSQL NOTIFY). */
  readonly crossHandleHints: boolean;
}

const T0 = new Date('2026-05-01T12:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);

function credential(jti: string): CredentialRecord {
  return {
    jti,
    sub: 'spiffe://example.org/workload/a',
    iat: 1_777_636_800,
    exp: 1_777_640_400,
    kid: 'k1',
    platform: 'tdx',
    earDigest: 'sha-256:ear',
    evidenceDigest: 'sha-256:evidence',
    record: { z: 1, a: [true, null, 'x'], nested: { ü: 2.5 } },
  };
}

function key(kid: string, createdMs: number, notAfter?: Date): KeyRecord {
  return {
    kid,
    alg: 'ES256',
    publicJwk: { kty: 'EC', crv: 'P-256', x: `x-${kid}`, y: `y-${kid}` },
    privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${kid}\n-----END PRIVATE KEY-----\n`,
    createdAt: at(createdMs),
    ...(notAfter ? { notAfter } : {}),
  };
}

function nonceTests(get: () => Store): void {
  test('nonce lifecycle: unknown, ok, used, expired, purge', async () => {
    const { nonces } = get();
    await nonces.issue('n-live', at(60_000));
    await nonces.issue('n-short', at(1_000));
    assert.equal(await nonces.consume('n-missing', T0), 'unknown');
    assert.equal(await nonces.consume('n-live', T0), 'ok');
    assert.equal(await nonces.consume('n-live', T0), 'used');
    assert.equal(
      await nonces.consume('n-short', at(1_000)),
      'expired',
      'expiry instant is exclusive',
    );
    assert.equal(await nonces.consume('n-short', at(999)), 'ok');
    await assert.rejects(nonces.issue('n-live', at(5_000)), { code: 'ERR_STORE_DUPLICATE' });
    const before = await nonces.count();
    assert.equal(await nonces.purgeExpired(at(1_000)), 1);
    assert.equal(await nonces.count(), before - 1);
    assert.equal(await nonces.consume('n-short', at(1_000)), 'unknown', 'purged');
    assert.equal(await nonces.consume('n-live', T0), 'used', 'kept until expiry');
  });

  test('an unused nonce consumed late is expired', async () => {
    const { nonces } = get();
    await nonces.issue('n-late', at(10));
    assert.equal(await nonces.consume('n-late', at(11)), 'expired');
    assert.equal(await nonces.consume('n-late', at(5)), 'ok', 'a refusal changes nothing');
  });

  test('200 concurrent consumers of one nonce: exactly one ok', async () => {
    const { nonces } = get();
    await nonces.issue('n-contested', at(60_000));
    const results = await Promise.all(
      Array.from({ length: 200 }, () => nonces.consume('n-contested', T0)),
    );
    assert.equal(results.filter((r) => r === 'ok').length, 1);
    assert.equal(results.filter((r) => r === 'used').length, 199);
  });
}

function credentialTests(get: () => Store): void {
  test('credentials: put, get, duplicate', async () => {
    const { credentials } = get();
    await credentials.put(credential('jti-1'));
    assert.deepEqual(await credentials.get('jti-1'), credential('jti-1'));
    assert.equal(await credentials.get('jti-none'), undefined);
    const dup = { ...credential('jti-1'), sub: 'spiffe://example.org/other' };
    await assert.rejects(credentials.put(dup), (err: { code?: string; entity?: string }) => {
      assert.equal(err.code, 'ERR_STORE_DUPLICATE');
      assert.equal(err.entity, 'credential');
      return true;
    });
    assert.equal((await credentials.get('jti-1'))!.sub, 'spiffe://example.org/workload/a');
  });

  test('credentials: revoke and revokedSince in commit order', async () => {
    const { credentials, keys } = get();
    for (const jti of ['r-1', 'r-2', 'r-3']) await credentials.put(credential(jti));
    const start = (await credentials.revokedSince(0)).at(-1)?.seq ?? 0;
    assert.equal(await credentials.revoke('r-2', at(1)), true);
    await keys.put(key('k-rev', 0));
    assert.equal(await keys.revoke('k-rev', at(2)), true);
    assert.equal(await credentials.revoke('r-1', at(3)), true);
    assert.equal(await credentials.revoke('r-1', at(4)), false, 'already revoked');
    assert.equal(await credentials.revoke('r-none', at(5)), false, 'unknown');
    const events = await credentials.revokedSince(start);
    assert.deepEqual(
      events.map((e) => [e.jti, e.revokedAt.getTime()]),
      [
        ['r-2', at(1).getTime()],
        ['r-1', at(3).getTime()],
      ],
    );
    assert.ok(
      events[0]!.seq > start && events[1]!.seq > events[0]!.seq + 1,
      'key event took a seq',
    );
    assert.deepEqual(await credentials.revokedSince(events[1]!.seq), []);
    assert.deepEqual((await credentials.get('r-1'))!.revokedAt, at(3));
    assert.equal((await credentials.get('r-3'))!.revokedAt, undefined);
  });
}

function serialTests(get: () => Store): void {
  test('credentials: a certificate serial is kept, found, unique, and listed when revoked', async () => {
    const { credentials } = get();
    const serial = '7f01a2b3c4d5e6f708192a3b4c5d6e7f';
    await credentials.put({ ...credential('s-1'), serial });
    await credentials.put(credential('s-2'));
    assert.deepEqual(await credentials.get('s-1'), { ...credential('s-1'), serial });
    assert.deepEqual(await credentials.bySerial(serial), { ...credential('s-1'), serial });
    assert.equal(await credentials.bySerial(serial.toUpperCase()), undefined, 'stored form only');
    assert.equal(await credentials.bySerial('01'), undefined);
    assert.equal((await credentials.get('s-2'))!.serial, undefined);
    await assert.rejects(credentials.put({ ...credential('s-3'), serial }), {
      code: 'ERR_STORE_DUPLICATE',
    });
    assert.equal(await credentials.get('s-3'), undefined, 'nothing written');
    const start = (await credentials.revokedSince(0)).at(-1)?.seq ?? 0;
    assert.equal(await credentials.revoke('s-1', at(7)), true);
    assert.equal(await credentials.revoke('s-2', at(8)), true);
    const events = await credentials.revokedSince(start);
    assert.deepEqual(
      events.map((e) => [e.jti, e.serial]),
      [
        ['s-1', serial],
        ['s-2', undefined],
      ],
    );
    assert.deepEqual((await credentials.bySerial(serial))!.revokedAt, at(7));
  });
}

function keyTests(get: () => Store): void {
  test('keys: put, list in creation order, duplicate, revoke', async () => {
    const { keys } = get();
    await keys.put(key('k-b', 2_000, at(90_000)));
    await keys.put(key('k-a', 1_000));
    await assert.rejects(keys.put(key('k-a', 5)), { code: 'ERR_STORE_DUPLICATE' });
    const listed = (await keys.list()).filter((k) => k.kid.startsWith('k-') && k.kid !== 'k-rev');
    assert.deepEqual(listed, [key('k-a', 1_000), key('k-b', 2_000, at(90_000))]);
    assert.equal(await keys.revoke('k-a', at(7)), true);
    assert.equal(await keys.revoke('k-a', at(8)), false);
    assert.equal(await keys.revoke('k-none', at(8)), false);
    const revoked = (await keys.list()).find((k) => k.kid === 'k-a')!;
    assert.deepEqual(revoked.revokedAt, at(7));
    assert.equal(revoked.privateKeyPem, key('k-a', 1_000).privateKeyPem, 'stored as given');
  });
}

/** Resolves when `hinted()` turns true, or rejects after `ms`. */
async function until(hinted: () => boolean, ms: number, what: string): Promise<void> {
  const started = Date.now();
  while (!hinted()) {
    if (Date.now() - started > ms) throw new Error(`${what} not seen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function settingsAndChangeTests(harness: StoreHarness, get: () => Store): void {
  test('settings: absent, put, replace; each put is a change', async () => {
    const { settings, changes } = get();
    assert.equal(await settings.get('policy'), undefined);
    const before = await changes.latest();
    const doc = { format: 'json', source: '{"id":"p1"}', nested: [1, null, { ü: true }] };
    const seq1 = await settings.put('policy', doc, at(10));
    assert.ok(seq1 > before);
    assert.deepEqual(await settings.get('policy'), {
      name: 'policy',
      value: doc,
      updatedAt: at(10),
    });
    const seq2 = await settings.put('policy', 'replaced', at(20));
    assert.ok(seq2 > seq1);
    assert.equal((await settings.get('policy'))!.value, 'replaced');
    assert.deepEqual(
      (await changes.since(before)).map((c) => [c.kind, c.id, c.seq]),
      [
        ['setting', 'policy', seq1],
        ['setting', 'policy', seq2],
      ],
    );
  });

  test('change feed: every shared change once, in commit order; refusals add nothing', async () => {
    const { changes, keys, credentials, settings } = get();
    const start = await changes.latest();
    await credentials.put(credential('ch-1'));
    await keys.put(key('ch-k', 100));
    await assert.rejects(keys.put(key('ch-k', 100)), { code: 'ERR_STORE_DUPLICATE' });
    assert.equal(await keys.revoke('ch-k', at(1)), true);
    assert.equal(await keys.revoke('ch-k', at(2)), false);
    assert.equal(await credentials.revoke('ch-1', at(3)), true);
    assert.equal(await credentials.revoke('ch-none', at(3)), false);
    await settings.put('refs', [], at(4));
    const seen = await changes.since(start);
    assert.deepEqual(
      seen.map((c) => [c.kind, c.id, c.at.getTime()]),
      [
        ['key-added', 'ch-k', at(100).getTime()],
        ['key-revoked', 'ch-k', at(1).getTime()],
        ['credential-revoked', 'ch-1', at(3).getTime()],
        ['setting', 'refs', at(4).getTime()],
      ],
    );
    assert.ok(seen.every((c, i) => i === 0 || c.seq > seen[i - 1]!.seq));
    assert.equal(await changes.latest(), seen.at(-1)!.seq);
    assert.deepEqual(
      (await changes.since(start, 2)).map((c) => c.seq),
      seen.slice(0, 2).map((c) => c.seq),
    );
    assert.deepEqual(await changes.since(seen.at(-1)!.seq), []);
    assert.throws(() => void changes.since(0, 0), RangeError);
  });

  test('change feed: concurrent writers through two handles get distinct increasing seqs', async () => {
    const other = await harness.open();
    try {
      const start = await get().changes.latest();
      const writes = Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? other : get()).settings.put(`race-${i}`, i, at(i)),
      );
      const seqs = await Promise.all(writes);
      assert.equal(new Set(seqs).size, 20);
      const log = await other.changes.since(start);
      assert.deepEqual(
        log.map((c) => c.seq),
        [...seqs].sort((a, b) => a - b),
      );
    } finally {
      await other.close();
    }
  });

  test("change hints: own writes always; another handle's when the store pushes", async () => {
    const other = await harness.open();
    let own = 0;
    let remote = 0;
    const stopOwn = await get().changes.watch(() => own++);
    const stopRemote = await other.changes.watch(() => remote++);
    try {
      await get().settings.put('hint', 1, at(1));
      await until(() => own > 0, 2000, 'own hint');
      if (harness.crossHandleHints) await until(() => remote > 0, 2000, 'remote hint');
      stopOwn();
      const ownBefore = own;
      await get().settings.put('hint', 2, at(2));
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(own, ownBefore, 'a removed listener hears nothing');
    } finally {
      stopRemote();
      await other.close();
    }
    await assert.rejects(other.changes.latest(), { code: 'ERR_STORE_UNAVAILABLE' });
  });
}

function lifecycleTests(harness: StoreHarness, get: () => Store): void {
  test('a second handle (another instance) sees committed data; migration is idempotent', async () => {
    await get().credentials.put(credential('persist-1'));
    await get().nonces.issue('persist-n', at(60_000));
    const other = await harness.open();
    try {
      assert.deepEqual(await other.credentials.get('persist-1'), credential('persist-1'));
      assert.equal(await other.nonces.consume('persist-n', T0), 'ok');
      assert.equal(await get().nonces.consume('persist-n', T0), 'used');
    } finally {
      await other.close();
    }
  });

  test('reopen after close keeps everything', async () => {
    const first = await harness.open();
    await first.credentials.put(credential('reopen-1'));
    await first.keys.put(key('reopen-k', 50));
    await first.close();
    await first.close();
    await assert.rejects(first.nonces.count(), { code: 'ERR_STORE_UNAVAILABLE' });
    const second = await harness.open();
    try {
      assert.deepEqual(await second.credentials.get('reopen-1'), credential('reopen-1'));
      assert.ok((await second.keys.list()).some((k) => k.kid === 'reopen-k'));
    } finally {
      await second.close();
    }
  });
}

/**
 * Register the suite for one implementation, or skip it with `skip` as the reason.
 */
export function storeSuite(name: string, harness: StoreHarness, skip?: string): void {
  describe(`store suite: ${name}`, { skip: skip ?? false }, () => {
    let store: Store | undefined;
    const get = (): Store => store!;
    before(async () => {
      store = await harness.open();
    });
    after(async () => {
      await store?.close();
      await harness.cleanup();
    });
    nonceTests(get);
    credentialTests(get);
    serialTests(get);
    keyTests(get);
    settingsAndChangeTests(harness, get);
    lifecycleTests(harness, get);
    collateralTests(get);
  });
}
