/**
 * Issue 12 item 5: attestations with random CHIP_IDs (SEV-SNP reports whose VCEK the verifier
 * must fetch from the simulated KDS) neither flood the KDS beyond the fetch guard's cap nor
 * evict the VCEK of a chip that attested successfully, even with a cache smaller than the flood.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadAnchorStore } from '../../endorsements/anchors.js';
import { createEndorsementStack } from '../../endorsements/stack.js';
import { openSimulatedPki, simulateSnp, type SimulatedPki } from '../../simulators/index.js';
import {
  startCollateralServer,
  type CollateralServer,
} from '../../simulators/servers/collateral-server.js';
import { bindingReportData, jwkThumbprint } from '../../wire/binding.js';
import { createService } from '../../service/service.js';
import { openStore } from '../../service/store/open.js';
import type { Store } from '../../service/store/types.js';
import { b64u, GENEROUS_LIMITS, NOW, PKI_CREATED, workloadKey } from './harness.js';

const MAX_FETCHES = 10;
const FLOOD = 40;

describe('unknown CHIP_IDs against the endorsement cache', { timeout: 300_000 }, () => {
  let dir: string;
  let pki: SimulatedPki;
  let server: CollateralServer;
  let store: Store;
  let app: FastifyInstance;
  let base: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twi-hostile-kds-'));
    pki = await openSimulatedPki(join(dir, 'pki'), { seed: 'twi-hostile-kds', now: PKI_CREATED });
    server = await startCollateralServer({ pki, now: () => NOW });
    const anchors = loadAnchorStore([join(dir, 'pki', 'roots')]);
    store = await openStore('sqlite:' + join(dir, 'twi.db'));
    const provider = createEndorsementStack({
      anchors,
      kdsUrl: server.url,
      pcsUrl: server.url,
      cacheEntries: 8,
      fetchGuard: { maxPerWindow: MAX_FETCHES, windowMs: 600_000 },
    });
    app = await createService({
      store,
      anchors,
      provider,
      issuer: 'https://verifier.example',
      trustDomain: 'example.org',
      now: () => NOW,
      logLevel: 'silent',
      limits: GENEROUS_LIMITS,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    if (!addr || typeof addr !== 'object') throw new Error('no listen address');
    base = `http://127.0.0.1:${addr.port}`;
  });

  after(async () => {
    await app.close();
    await store.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Attests with an SNP report only (no certificates), so the VCEK must come from the KDS. */
  async function attestSnp(chipId?: Uint8Array): Promise<Response> {
    const key = workloadKey();
    const c = (await (await fetch(base + '/v1/challenge', { method: 'POST' })).json()) as {
      nonce: string;
    };
    const reportData = bindingReportData(
      new Uint8Array(Buffer.from(c.nonce, 'base64url')),
      jwkThumbprint(key.jwk),
    );
    const sim = simulateSnp(pki.amd('Genoa'), {
      seed: 'good-chip',
      reportData,
      ...(chipId && { chipId }),
    });
    const evidence = {
      __cmwc_t: 'tag:twi.dev,2026:evidence',
      snp: ['application/vnd.twi.sev-snp-report', b64u(sim.report), 4],
    };
    return fetch(base + '/v1/attest', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ nonce: c.nonce, evidence, key: key.jwk }),
    });
  }

  const vcekFetches = (): number =>
    [...server.counters]
      .filter(([path]) => /^\/vcek\/v1\/Genoa\/[0-9a-f]{128}$/i.test(path))
      .reduce((n, [, v]) => n + v, 0);

  it('caps the fetches, answers 4xx, and keeps the good chip cached', async () => {
    const first = await attestSnp();
    assert.equal(first.status, 200, JSON.stringify(await first.json()));
    assert.equal(vcekFetches(), 1);

    const codes = new Map<string, number>();
    for (let i = 0; i < FLOOD; i++) {
      const r = await attestSnp(randomBytes(64));
      const body = (await r.json()) as { code?: string };
      assert.ok(r.status >= 400 && r.status < 500, `status ${r.status} ${JSON.stringify(body)}`);
      const k = `${r.status} ${body.code}`;
      codes.set(k, (codes.get(k) ?? 0) + 1);
      if (r.status === 429) assert.ok(Number(r.headers.get('retry-after')) >= 1);
    }
    const fetched = vcekFetches() - 1;
    assert.ok(fetched <= MAX_FETCHES, `${fetched} VCEK fetches for ${FLOOD} random CHIP_IDs`);
    assert.ok(
      (codes.get('429 ERR_ENDORSEMENT_FETCH_LIMITED') ?? 0) >= FLOOD - MAX_FETCHES,
      JSON.stringify([...codes]),
    );

    const again = await attestSnp();
    assert.equal(again.status, 200, 'the good chip still attests');
    assert.equal(vcekFetches() - fetched, 1, 'its VCEK was served from the cache');

    const metrics = await (await fetch(base + '/metrics')).text();
    assert.match(metrics, new RegExp(`^twi_endorsement_guard_fetches_total ${fetched + 1}$`, 'm'));
    assert.match(metrics, /^twi_endorsement_guard_limited_total [1-9]\d*$/m);
  });
});
