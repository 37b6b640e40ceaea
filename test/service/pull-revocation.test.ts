/**
 * Pull-path time to revocation: a relying party that does not subscribe to bundle events but
 * refetches `GET /v1/bundle` every `spiffe_refresh_hint` seconds (`pollBundle`). With a 1 s
 * hint, revocations made at staggered moments of the polling cycle are rejected within about
 * one hint plus one fetch; the median and maximum are reported (not asserted).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonWebKey } from 'node:crypto';
import { refreshIntervalMs } from '../../wimse/bundle-poll.js';
import { bundleTrust, pollBundle, verifyWit, type BundleWatch } from '../../wimse/rp.js';
import {
  adminCall,
  attestWit,
  medianMax,
  NOW,
  startTestService,
  timeToReject,
  type TestService,
} from './harness.js';

const TOKEN = 'pull-path-admin-token-0123456789';
const HINT_SECONDS = 1;
const REPETITIONS = 10;

let service: TestService;

before(async () => {
  service = await startTestService({
    seed: 'twi-pull',
    clock: () => NOW,
    adminToken: TOKEN,
    bundleRefreshHintSeconds: HINT_SECONDS,
  });
});

after(() => service.close());

test('the bundle states the configured refresh hint; the poller honours hints within bounds', async () => {
  const bundle = (await (await fetch(service.base + '/v1/bundle')).json()) as {
    spiffe_refresh_hint: number;
  };
  assert.equal(bundle.spiffe_refresh_hint, HINT_SECONDS);
  const b = (hint?: number) => ({ keys: [] as JsonWebKey[], spiffe_refresh_hint: hint });
  assert.equal(refreshIntervalMs(b(1), 100, 10_000, 5000), 1000);
  assert.equal(refreshIntervalMs(b(3600), 100, 10_000, 5000), 10_000, 'capped');
  assert.equal(refreshIntervalMs(b(0), 100, 10_000, 5000), 5000, 'no usable hint');
  assert.equal(refreshIntervalMs(undefined, 2000, 10_000, 500), 2000, 'floored');
});

test(`pull path: revocation seen within one hint (${HINT_SECONDS} s) plus a fetch`, async (t) => {
  let fetches = 0;
  const counting: typeof fetch = (input, init) => {
    fetches++;
    return fetch(input, init);
  };
  const watch: BundleWatch = pollBundle(service.base + '/v1/bundle', {
    fetch: counting,
    minIntervalMs: 100,
  });
  try {
    const trust = bundleTrust(watch);
    await watch.ready;
    const wits = [];
    for (let i = 0; i < REPETITIONS; i++) wits.push(await attestWit(service.base, service.pki));
    const verify = (wit: string) => () =>
      verifyWit(wit, { jwks: trust.jwks, isRevoked: trust.isRevoked, now: NOW });
    for (const w of wits) await verify(w.wit)();
    const started = fetches;
    // Revocations spread over one polling cycle, each measured from its own admin answer.
    const times = await Promise.all(
      wits.map(async (w, i) => {
        await new Promise((r) => setTimeout(r, (i * HINT_SECONDS * 1000) / REPETITIONS));
        await adminCall(service.base, TOKEN, 'POST', `/credentials/${w.jti}/revoke`);
        return timeToReject(verify(w.wit), 'ERR_WIT_REVOKED', HINT_SECONDS * 1000 + 3000);
      }),
    );
    t.diagnostic(`pull-path time to revocation, hint ${HINT_SECONDS} s: ${medianMax(times)}`);
    t.diagnostic(`bundle fetches during the run: ${fetches - started}`);
    assert.ok(fetches - started >= 1, 'the poller fetched again');
  } finally {
    watch.close();
  }
});
