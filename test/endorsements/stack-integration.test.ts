/**
 * Issue 4 "Done when": the provider stack against the simulated PCS and KDS on loopback.
 * Fetch counts come from the server's own per-path counters.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAnchorStore } from '../../endorsements/anchors.js';
import { createEndorsementStack } from '../../endorsements/stack.js';
import { createHttpFetcher } from '../../endorsements/provider/http-fetcher.js';
import { withRetry } from '../../endorsements/provider/retry.js';
import type { Fetcher } from '../../endorsements/provider/types.js';
import {
  openSimulatedPki,
  simulateSnp,
  simulateTdx,
  type SimulatedPki,
} from '../../simulators/index.js';
import {
  startCollateralServer,
  type CollateralServer,
} from '../../simulators/servers/collateral-server.js';
import { appraiseEvidenceWithProvider } from '../../verifier/pipeline.js';
import { createVerificationCache } from '../../verifier/verify/cache.js';
import type { AnchorStore } from '../../verifier/verify/types.js';

const now = new Date('2026-06-01T12:00:00Z');
let dir: string;
let pki: SimulatedPki;
let anchors: AnchorStore;
let quote: Uint8Array;
let report: Uint8Array;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twi-stack-'));
  pki = await openSimulatedPki(join(dir, 'pki'), { seed: 'stack-test', now });
  anchors = loadAnchorStore([join(dir, 'pki', 'roots')]);
  quote = simulateTdx(pki.intel(), { seed: 'td', now }).quote;
  report = simulateSnp(pki.amd('Genoa'), { seed: 'chip' }).report;
});

after(() => rmSync(dir, { recursive: true, force: true }));

function fetches(server: CollateralServer, prefix: string): number {
  let n = 0;
  for (const [path, count] of server.counters) if (path.startsWith(prefix)) n += count;
  return n;
}

function stack(server: CollateralServer, extra: { fetcher?: Fetcher; cacheDir?: string } = {}) {
  return createEndorsementStack({ anchors, pcsUrl: server.url, kdsUrl: server.url, ...extra });
}

async function appraise(evidence: Uint8Array, provider: ReturnType<typeof stack>, at = now) {
  return appraiseEvidenceWithProvider({
    evidence,
    provider,
    now: at,
    anchors,
    cache: createVerificationCache(),
  });
}

test('the first appraisal fetches; the next thousand hit the cache', async (t) => {
  const server = await startCollateralServer({ pki, now: () => now });
  try {
    const provider = stack(server);
    const first = await appraise(quote, provider);
    assert.equal(first.status, 'affirming', JSON.stringify(first.errors));
    assert.ok(first.endorsementsUsed.every((e) => e.source === 'network'));
    const afterFirst = fetches(server, '/');
    assert.equal(afterFirst, 4, 'TCB Info, QE identity, PCK CRL, root CA CRL');
    const cache = createVerificationCache();
    for (let i = 0; i < 1000; i++) {
      const r = await appraiseEvidenceWithProvider({
        evidence: quote,
        provider,
        now,
        anchors,
        cache,
      });
      assert.equal(r.status, 'affirming');
    }
    assert.equal(fetches(server, '/'), afterFirst, 'no fetch after the first appraisal');
    const c = provider.counters;
    const hitRate = c.hits / (c.hits + c.misses);
    t.diagnostic(
      `fetches ${fetches(server, '/')}, hits ${c.hits}, misses ${c.misses}, hit rate ${(100 * hitRate).toFixed(2)}%`,
    );
    assert.equal(c.misses, 4);
    assert.equal(c.hits, 4000);
  } finally {
    await server.close();
  }
});

test('concurrent appraisals coalesce to one fetch per endorsement (TDX and SEV-SNP)', async (t) => {
  const server = await startCollateralServer({ pki, now: () => now, faults: { latencyMs: 50 } });
  try {
    const provider = stack(server);
    const results = await Promise.all([
      ...Array.from({ length: 25 }, () => appraise(quote, provider)),
      ...Array.from({ length: 25 }, () => appraise(report, provider)),
    ]);
    for (const r of results) assert.equal(r.status, 'affirming', JSON.stringify(r.errors));
    for (const [path, count] of server.counters)
      assert.equal(count, 1, `${path} fetched ${count} times`);
    t.diagnostic(
      `paths fetched: ${[...server.counters.keys()].join(', ')}; coalesced ${provider.counters.coalesced}`,
    );
    assert.ok(provider.counters.coalesced >= 48 * 3);
  } finally {
    await server.close();
  }
});

test('429 is retried after Retry-After', async () => {
  const server = await startCollateralServer({
    pki,
    now: () => now,
    faults: { paths: { '/vcek': { status429: { retryAfterSeconds: 2, count: 1 } } } },
  });
  try {
    const slept: number[] = [];
    const fetcher = withRetry(createHttpFetcher({ timeoutMs: 5000 }), {
      sleep: async (ms) => {
        slept.push(ms);
      },
    });
    const r = await appraise(report, stack(server, { fetcher }));
    assert.equal(r.status, 'affirming', JSON.stringify(r.errors));
    assert.deepEqual(slept, [2000]);
  } finally {
    await server.close();
  }
});

test('a dead server with a valid cache still appraises; with an expired cache it fails retryably', async () => {
  const server = await startCollateralServer({ pki, now: () => now });
  const cacheDir = join(dir, 'cache');
  const provider = stack(server, { cacheDir });
  assert.equal((await appraise(quote, provider)).status, 'affirming');
  await server.close();
  const again = await appraise(quote, provider);
  assert.equal(again.status, 'affirming');
  assert.ok(again.endorsementsUsed.every((e) => e.source === 'cache'));

  const restarted = stack(server, { cacheDir });
  const fromDisk = await appraise(quote, restarted, new Date(now.getTime() + 3600_000));
  assert.equal(fromDisk.status, 'affirming', 'a new process reads the directory cache');

  const later = new Date(now.getTime() + 40 * 86400_000);
  await assert.rejects(appraise(quote, restarted, later), (e: unknown) => {
    const err = e as { code?: string; retryable?: boolean };
    return err.code === 'ERR_ENDORSEMENT_UNAVAILABLE' && err.retryable === true;
  });
});

test('tampered collateral is refused and never cached', async () => {
  const server = await startCollateralServer({
    pki,
    now: () => now,
    faults: { paths: { '/tdx': { tampered: true } } },
  });
  try {
    const provider = stack(server);
    await assert.rejects(appraise(quote, provider), { code: 'ERR_ENDORSEMENT_INVALID' });
    const tamperedFetches = fetches(server, '/tdx');
    server.setFaults({});
    const r = await appraise(quote, provider);
    assert.equal(r.status, 'affirming');
    assert.ok(
      fetches(server, '/tdx') > tamperedFetches,
      'fetched again: nothing tampered was cached',
    );
  } finally {
    await server.close();
  }
});
