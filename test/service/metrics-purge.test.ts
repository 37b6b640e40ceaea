/**
 * `/metrics` cache counters move with real appraisals (the verification cache, and the
 * endorsement cache of a provider stack fetching from the simulated PCS), and the nonce purge
 * timer deletes expired nonces and stops when the service closes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadAnchorStore } from '../../endorsements/anchors.js';
import { createEndorsementStack } from '../../endorsements/stack.js';
import { openSimulatedPki, type SimulatedPki } from '../../simulators/index.js';
import {
  startCollateralServer,
  type CollateralServer,
} from '../../simulators/servers/collateral-server.js';
import { createService } from '../../service/service.js';
import { openStore } from '../../service/store/open.js';
import type { Store } from '../../service/store/types.js';
import {
  evidenceCmw,
  NOW,
  PKI_CREATED,
  startTestService,
  workloadKey,
  type TestService,
} from './harness.js';

/** The value of an unlabelled metric in exposition text (`undefined` when absent). */
function metric(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('metrics: verification and endorsement cache counters', () => {
  let dir: string;
  let pki: SimulatedPki;
  let server: CollateralServer;
  let store: Store;
  let app: FastifyInstance;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twi-metrics-'));
    pki = await openSimulatedPki(join(dir, 'pki'), { seed: 'twi-metrics', now: PKI_CREATED });
    server = await startCollateralServer({ pki, now: () => NOW });
    const anchors = loadAnchorStore([join(dir, 'pki', 'roots')]);
    store = await openStore('sqlite:' + join(dir, 'twi.db'));
    app = await createService({
      store,
      anchors,
      provider: createEndorsementStack({ anchors, pcsUrl: server.url, kdsUrl: server.url }),
      issuer: 'https://verifier.example',
      trustDomain: 'example.org',
      now: () => NOW,
      logLevel: 'silent',
    });
  });

  after(async () => {
    await app.close();
    await store.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One TDX attestation whose collateral the service must get from its provider. */
  async function attest(): Promise<void> {
    const nonce = (await app.inject({ method: 'POST', url: '/v1/challenge' })).json<{
      nonce: string;
    }>().nonce;
    const key = workloadKey();
    const evidence = evidenceCmw(pki, 'tdx', nonce, key);
    delete evidence.collateral;
    const r = await app.inject({
      method: 'POST',
      url: '/v1/attest',
      payload: { nonce, evidence, key: key.jwk },
    });
    assert.equal(r.statusCode, 200, r.body);
  }

  const scrape = async (): Promise<string> =>
    (await app.inject({ method: 'GET', url: '/metrics' })).body;

  test('the first attestation misses both caches, the second hits them', async () => {
    const m0 = await scrape();
    assert.equal(metric(m0, 'twi_endorsement_cache_hits_total'), 0);
    assert.equal(metric(m0, 'twi_endorsement_cache_misses_total'), 0);
    const v0 = metric(m0, 'twi_verification_cache_hits_total')!;
    assert.equal(typeof v0, 'number');

    await attest();
    const m1 = await scrape();
    const misses = metric(m1, 'twi_endorsement_cache_misses_total')!;
    assert.equal(misses, 4, 'TCB Info, QE Identity, PCK CRL, root CA CRL');
    assert.equal(metric(m1, 'twi_endorsement_cache_fetches_total'), 4);
    const vMisses1 = metric(m1, 'twi_verification_cache_misses_total')!;
    assert.ok(vMisses1 > 0);
    assert.ok(metric(m1, 'twi_verification_cache_entries')! > 0);

    await attest();
    const m2 = await scrape();
    assert.equal(metric(m2, 'twi_endorsement_cache_misses_total'), misses, 'no new miss');
    assert.ok(metric(m2, 'twi_endorsement_cache_hits_total')! >= 4, 'collateral from the cache');
    assert.equal(metric(m2, 'twi_endorsement_cache_fetches_total'), 4, 'no new fetch');
    assert.ok(
      metric(m2, 'twi_verification_cache_hits_total')! >
        metric(m1, 'twi_verification_cache_hits_total')!,
    );
  });
});

describe('nonce purge timer', () => {
  let clock = NOW;
  let service: TestService;

  before(async () => {
    service = await startTestService({
      seed: 'twi-purge',
      clock: () => clock,
      nonceTtlSeconds: 1,
      noncePurgeIntervalMs: 20,
    });
  });

  after(() => service.close());

  test('expired nonces are deleted on the timer; the timer stops on close', async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal((await fetch(service.base + '/v1/challenge', { method: 'POST' })).status, 200);
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await service.store.nonces.count(), 3, 'live nonces are kept');
    clock = new Date(NOW.getTime() + 2000);
    const started = Date.now();
    while ((await service.store.nonces.count()) > 0) {
      assert.ok(Date.now() - started < 3000, 'expired nonces purged within 3 s');
      await new Promise((r) => setTimeout(r, 10));
    }
    const text = await (await fetch(service.base + '/metrics')).text();
    assert.equal(metric(text, 'twi_nonces_purged_total'), 3);

    await service.app.close();
    await service.store.nonces.issue('after-close', new Date(NOW.getTime() + 1000));
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(await service.store.nonces.count(), 1, 'no purge after close');
  });
});
