import { test, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCachingProvider, type CacheEvent } from '../../endorsements/provider/caching.js';
import { sha256Hex } from '../../common/bytes.js';
import { createDirectoryStore } from '../../endorsements/provider/directory-store.js';
import { type EndorsementVerifier } from '../../endorsements/provider/types.js';
import { requestKey, type EndorsementRequest } from '../../verifier/verify/endorsement-provider.js';
import { EndorsementInvalidError } from '../../common/errors.js';
import {
  AMD_CRL,
  at,
  DAY,
  FakeUpstream,
  hmacVerify,
  makeEndorsement,
  T0,
  TCB,
  VCEK,
} from './provider-fixtures.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'twi-store-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  mock.restoreAll();
  syncBuiltinESMExports();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const fileOf = (dir: string, key: string): string => join(dir, encodeURIComponent(key) + '.json');

test('a verify hook is mandatory', () => {
  assert.throws(
    () => createDirectoryStore(tempDir(), {} as { verify: EndorsementVerifier }),
    (e: unknown) => e instanceof TypeError && /verify hook/.test(e.message),
  );
});

test('round trip: save, keys, load, remove', async () => {
  const dir = tempDir();
  const store = createDirectoryStore(join(dir, 'nested'), { verify: hmacVerify });
  const entries = [makeEndorsement(VCEK), makeEndorsement(TCB), makeEndorsement(AMD_CRL)];
  for (const e of entries) await store.save(e);
  assert.deepEqual(await store.keys(), entries.map((e) => requestKey(e.request)).sort());
  for (const e of entries) {
    const loaded = await store.load(requestKey(e.request), T0);
    assert.ok(loaded);
    assert.deepEqual(loaded.request, e.request);
    assert.deepEqual(loaded.body, e.body);
    assert.equal(loaded.issuerChain, e.issuerChain);
    assert.equal(loaded.sha256, e.sha256);
    assert.equal(loaded.fetchedAt.getTime(), e.fetchedAt.getTime());
    assert.equal(loaded.nextUpdate.getTime(), e.nextUpdate.getTime());
    assert.equal(loaded.source, 'network', 'the recorded source');
  }
  const json = JSON.parse(readFileSync(fileOf(join(dir, 'nested'), requestKey(TCB)), 'utf8'));
  assert.equal(json.format, 'twi-endorsement/1');
  assert.equal(
    Buffer.from(json.body, 'base64').toString(),
    Buffer.from(entries[1]!.body).toString(),
  );
  await store.remove(requestKey(TCB));
  await store.remove(requestKey(TCB));
  assert.equal(await store.load(requestKey(TCB), T0), undefined);
  assert.deepEqual(
    await createDirectoryStore(join(dir, 'absent'), { verify: hmacVerify }).keys(),
    [],
  );
});

test('every request kind survives the round trip; foreign file names are ignored', async () => {
  const dir = tempDir();
  const store = createDirectoryStore(dir, { verify: hmacVerify });
  const requests: EndorsementRequest[] = [
    TCB,
    { kind: 'tdx-qe-identity' },
    { kind: 'pck-crl', ca: 'platform' },
    { kind: 'intel-root-crl' },
    VCEK,
    {
      kind: 'amd-vcek',
      product: 'Turin',
      hwid: '0123456789abcdef',
      tcb: { fmc: 1, bl: 2, tee: 3, snp: 4, ucode: 5 },
    },
    { kind: 'amd-vlek', product: 'Genoa', tcb: { bl: 1, tee: 0, snp: 9, ucode: 80 } },
    { kind: 'amd-cert-chain', product: 'Milan', keyKind: 'vlek' },
    AMD_CRL,
  ];
  for (const r of requests) await store.save(makeEndorsement(r));
  writeFileSync(join(dir, '%zz.json'), '{}');
  writeFileSync(join(dir, 'notes.txt'), 'hello');
  assert.deepEqual(await store.keys(), requests.map(requestKey).sort());
  for (const r of requests) {
    assert.deepEqual((await store.load(requestKey(r), T0))?.request, r);
  }
});

test('entries are re-verified on load: tampering and misplacement are refused', async () => {
  const dir = tempDir();
  const store = createDirectoryStore(dir, { verify: hmacVerify });
  const e = makeEndorsement(TCB);
  await store.save(e);
  const path = fileOf(dir, requestKey(TCB));
  const original = JSON.parse(readFileSync(path, 'utf8'));

  const forged = Buffer.from('forged collateral');
  writeFileSync(path, JSON.stringify({ ...original, body: forged.toString('base64') }));
  await assert.rejects(store.load(requestKey(TCB), T0), /sha256: does not match/);

  // consistent hash, but the "signature" (HMAC) no longer matches: only the hook catches it
  writeFileSync(
    path,
    JSON.stringify({ ...original, body: forged.toString('base64'), sha256: sha256Hex(forged) }),
  );
  await assert.rejects(store.load(requestKey(TCB), T0), (err: unknown) => {
    return err instanceof EndorsementInvalidError && /does not verify: HMAC/.test(err.message);
  });

  writeFileSync(fileOf(dir, requestKey(VCEK)), JSON.stringify(original)); // wrong name
  await assert.rejects(store.load(requestKey(VCEK), T0), /holds tdx-tcb-info/);
  writeFileSync(path, '{"format":"twi-endorsement/1", "key": ');
  await assert.rejects(store.load(requestKey(TCB), T0), { code: 'ERR_ENDORSEMENT_INVALID' });
});

test('atomic write: a crash before the rename leaves the old file whole', async () => {
  const dir = tempDir();
  const store = createDirectoryStore(dir, { verify: hmacVerify });
  const v1 = makeEndorsement(TCB, { text: 'version 1' });
  await store.save(v1);
  const before = readFileSync(fileOf(dir, requestKey(TCB)), 'utf8');

  mock.method(fsp, 'rename', async () => {
    throw Object.assign(new Error('simulated crash'), { code: 'EIO' });
  });
  syncBuiltinESMExports();
  await assert.rejects(store.save(makeEndorsement(TCB, { text: 'version 2' })), /simulated crash/);
  mock.restoreAll();
  syncBuiltinESMExports();

  assert.equal(readFileSync(fileOf(dir, requestKey(TCB)), 'utf8'), before);
  assert.deepEqual(readdirSync(dir), [encodeURIComponent(requestKey(TCB)) + '.json']);
  // a temporary file a real crash left behind is never read as an entry
  writeFileSync(join(dir, `.${encodeURIComponent(requestKey(VCEK))}.json.abc.tmp`), '{"trunc');
  assert.deepEqual(await store.keys(), [requestKey(TCB)]);
  assert.equal((await store.load(requestKey(TCB), T0))?.sha256, v1.sha256);
});

test('a file over the size limit is refused', async () => {
  const dir = tempDir();
  const store = createDirectoryStore(dir, { verify: hmacVerify, maxFileBytes: 64 });
  await store.save(makeEndorsement(TCB));
  await assert.rejects(store.load(requestKey(TCB), T0), /over 64/);
});

test('caching provider + directory store survives a restart with the upstream down', async () => {
  const dir = tempDir();
  const upstream = new FakeUpstream();
  const first = createCachingProvider(upstream, {
    store: createDirectoryStore(dir, { verify: hmacVerify }),
  });
  const fetched = await first.get(VCEK, { now: T0 });

  upstream.mode = 'down';
  const events: CacheEvent[] = [];
  const second = createCachingProvider(upstream, {
    store: createDirectoryStore(dir, { verify: hmacVerify }),
    onEvent: (e) => events.push(e),
  });
  const loaded = await second.get(VCEK, { now: at(DAY) });
  assert.equal(loaded.sha256, fetched.sha256);
  assert.equal(loaded.source, 'cache');
  assert.equal(upstream.calls, 1);
  assert.equal(second.counters.storeHits, 1);
  assert.equal(second.counters.fetches, 0);
  await second.get(VCEK, { now: at(DAY) });
  assert.equal(second.counters.hits, 1, 'then held in memory');

  // an expired stored copy is not served
  await assert.rejects(
    createCachingProvider(upstream, {
      store: createDirectoryStore(dir, { verify: hmacVerify }),
    }).get(VCEK, { now: at(31 * DAY) }),
    { code: 'ERR_ENDORSEMENT_UNAVAILABLE' },
  );
});

test('a stored entry that fails verification is skipped and fetched again', async () => {
  const dir = tempDir();
  const store = createDirectoryStore(dir, { verify: hmacVerify });
  const e = makeEndorsement(TCB);
  await store.save({ ...e, issuerChain: 'hmac:00' });
  const upstream = new FakeUpstream();
  const events: CacheEvent['type'][] = [];
  const cache = createCachingProvider(upstream, { store, onEvent: (ev) => events.push(ev.type) });
  const got = await cache.get(TCB, { now: T0 });
  assert.equal(got.source, 'network');
  assert.ok(events.includes('store-error'));
  const reloaded = await store.load(requestKey(TCB), T0);
  assert.equal(reloaded?.sha256, got.sha256, 'the fresh copy replaced the bad one');
});

test("the caching provider's own verify hook applies to store loads", async () => {
  const dir = tempDir();
  const store = createDirectoryStore(dir, { verify: () => undefined });
  await store.save(makeEndorsement(TCB));
  const upstream = new FakeUpstream();
  const cache = createCachingProvider(upstream, {
    store,
    verify: () => {
      throw new EndorsementInvalidError('revoked signer');
    },
  });
  assert.equal((await cache.get(TCB, { now: T0 })).source, 'network');
  assert.equal(cache.counters.storeHits, 0);
});
