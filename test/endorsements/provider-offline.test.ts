import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCachingProvider } from '../../endorsements/provider/caching.js';
import { composeProviders, createStaticProvider } from '../../endorsements/provider/compose.js';
import { crlPolicyOf } from '../../verifier/verify/endorsement-provider.js';
import { createOfflineProvider } from '../../endorsements/provider/offline.js';
import {
  isCrlRequest,
  type EndorsementProvider,
} from '../../verifier/verify/endorsement-provider.js';
import { EndorsementInvalidError, EndorsementUnavailableError } from '../../common/errors.js';
import {
  AMD_CRL,
  at,
  DAY,
  FakeUpstream,
  hmacVerify,
  makeEndorsement,
  QE,
  T0,
  TCB,
  VCEK,
} from './provider-fixtures.js';

test('offline: served while fresh (source offline), unavailable when missing or expired', async () => {
  const offline = createOfflineProvider({ entries: [makeEndorsement(TCB)] });
  assert.deepEqual(offline.keys(), ['tdx-tcb-info/00906ed50000']);
  assert.equal((await offline.get(TCB, { now: at(DAY) })).source, 'offline');
  await assert.rejects(offline.get(QE, { now: T0 }), {
    code: 'ERR_ENDORSEMENT_UNAVAILABLE',
    message: /tdx-qe-identity: not in the offline bundle/,
  });
  await assert.rejects(offline.get(TCB, { now: at(30 * DAY) }), /offline copy expired at/);
});

test('offline: the verify hook runs once per entry; a failure is invalid', async () => {
  let runs = 0;
  const good = makeEndorsement(TCB);
  const offline = createOfflineProvider(
    [good, { ...makeEndorsement(QE), issuerChain: 'hmac:00' }],
    {
      verify: (e, now) => {
        runs++;
        hmacVerify(e, now);
      },
    },
  );
  for (let i = 0; i < 5; i++) await offline.get(TCB, { now: T0 });
  assert.equal(runs, 1);
  await assert.rejects(offline.get(QE, { now: T0 }), EndorsementInvalidError);
});

test('offline: of two entries for one key the later nextUpdate wins', async () => {
  const older = makeEndorsement(VCEK, { nextUpdate: at(DAY), text: 'old' });
  const newer = makeEndorsement(VCEK, { nextUpdate: at(9 * DAY), text: 'new' });
  const offline = createOfflineProvider([newer, older]);
  assert.equal((await offline.get(VCEK, { now: T0 })).sha256, newer.sha256);
});

test('compose: offline first, then the caching network layer', async () => {
  const upstream = new FakeUpstream();
  const network = createCachingProvider(upstream);
  const provider = composeProviders([createOfflineProvider([makeEndorsement(TCB)]), network]);
  assert.equal((await provider.get(TCB, { now: T0 })).source, 'offline');
  assert.equal(upstream.calls, 0);
  assert.equal((await provider.get(QE, { now: T0 })).source, 'network');
  assert.equal((await provider.get(QE, { now: T0 })).source, 'cache');
  // the offline copy expired: the network answers
  assert.equal((await provider.get(TCB, { now: at(31 * DAY) })).source, 'network');
  assert.equal(upstream.calls, 2);
});

test('compose: an invalid offline entry falls through to the network', async () => {
  const bad = { ...makeEndorsement(TCB), issuerChain: 'hmac:00' };
  const provider = composeProviders([
    createOfflineProvider([bad], { verify: hmacVerify }),
    createCachingProvider(new FakeUpstream()),
  ]);
  assert.equal((await provider.get(TCB, { now: T0 })).source, 'network');
});

test('compose: nothing anywhere → unavailable naming the request with every reason', async () => {
  const down = new FakeUpstream();
  down.mode = 'down';
  const provider = composeProviders([createOfflineProvider([]), createCachingProvider(down)]);
  const err = await provider.get(VCEK, { now: T0 }).catch((e: unknown) => e);
  assert.ok(err instanceof EndorsementUnavailableError);
  assert.match(err.message, /^amd-vcek\/Milan\/abab.*: no valid copy/);
  assert.match(err.message, /not in the offline bundle/);
  assert.match(err.message, /HTTP 503/);
  assert.equal((err.cause as AggregateError).errors.length, 2);
});

test('compose: an invalid answer wins over unavailable ones when nobody has a copy', async () => {
  const bad = new FakeUpstream();
  bad.mode = 'invalid';
  const provider = composeProviders([createOfflineProvider([]), createCachingProvider(bad)]);
  await assert.rejects(provider.get(TCB, { now: T0 }), { code: 'ERR_ENDORSEMENT_INVALID' });
  const misuse: EndorsementProvider = {
    get: async () => {
      throw new TypeError('bad request');
    },
  };
  await assert.rejects(composeProviders([misuse]).get(TCB, { now: T0 }), TypeError);
  assert.throws(() => composeProviders([]), TypeError);
});

test('static provider returns what it was given', async () => {
  const e = makeEndorsement(AMD_CRL);
  const provider = createStaticProvider([e]);
  assert.equal(await provider.get(AMD_CRL, { now: at(99 * DAY) }), e);
  await assert.rejects(provider.get(TCB, { now: T0 }), { code: 'ERR_ENDORSEMENT_UNAVAILABLE' });
  const byKey = createStaticProvider(new Map([['amd-crl/Genoa/vcek', e]]));
  assert.equal(await byKey.get(AMD_CRL, { now: T0 }), e);
});

test('crlPolicy: require by default, published by layers, composed conservatively', () => {
  const upstream = new FakeUpstream();
  const cacheDefault = createCachingProvider(upstream);
  const cacheLax = createCachingProvider(upstream, { crlPolicy: 'allow-missing' });
  const offlineLax = createOfflineProvider([], { crlPolicy: 'allow-missing' });
  const offlineStrict = createOfflineProvider([], { crlPolicy: 'require' });
  assert.equal(crlPolicyOf(cacheDefault), 'require');
  assert.equal(crlPolicyOf(cacheLax), 'allow-missing');
  assert.equal(crlPolicyOf(composeProviders([offlineLax, cacheLax])), 'allow-missing');
  assert.equal(crlPolicyOf(composeProviders([offlineLax, cacheDefault])), 'allow-missing');
  assert.equal(crlPolicyOf(composeProviders([offlineStrict, cacheLax])), 'require');
  assert.equal(crlPolicyOf(composeProviders([cacheDefault])), 'require');
  assert.equal(
    crlPolicyOf(composeProviders([cacheDefault], { crlPolicy: 'allow-missing' })),
    'allow-missing',
  );
  assert.deepEqual(
    [TCB, QE, VCEK, AMD_CRL, { kind: 'pck-crl', ca: 'platform' } as const].map(isCrlRequest),
    [false, false, false, true, true],
  );
});
