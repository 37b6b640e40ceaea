import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createMemoryReplayCache,
  signWpt,
  staticJwks,
  verifyWorkloadRequest,
  wimseMiddleware,
} from '../../wimse/rp.js';
import type { WorkloadRequest } from '../../wimse/rp.js';
import { AUD, NOW, rejects, setup, SUB } from './fixtures.js';

test('verifyWorkloadRequest takes both headers and yields the workload identity', async () => {
  const s = await setup();
  const options = {
    jwks: staticJwks({ keys: [s.issuer.publicJwk] }),
    now: NOW,
    trustDomains: ['example.com'],
    expectedAudience: AUD,
    replayCache: createMemoryReplayCache(),
  };
  const wpt = () =>
    signWpt({
      wit: s.wit,
      key: s.workload.privateKey,
      alg: 'ES256',
      aud: AUD,
      now: NOW,
      accessToken: 'at',
    });
  const who = await verifyWorkloadRequest(
    {
      'Workload-Identity-Token': s.wit,
      'workload-proof-token': await wpt(),
      authorization: 'Bearer at',
    },
    options,
  );
  assert.equal(who.workloadId, SUB);
  assert.equal(who.trustDomain, 'example.com');
  assert.equal(who.witJti, s.jti);

  const w = await wpt();
  const cases: [string, Record<string, string | string[] | undefined>][] = [
    ['ERR_WPT_MISSING', { 'workload-identity-token': s.wit }],
    ['ERR_WIT_MISSING', { 'workload-proof-token': w }],
    ['ERR_WPT_INVALID', { 'workload-identity-token': s.wit, 'workload-proof-token': [w, w] }],
    ['ERR_WPT_INVALID', { 'workload-identity-token': s.wit, 'workload-proof-token': `${w}, ${w}` }],
    ['ERR_WPT_ATH', { 'workload-identity-token': s.wit, 'workload-proof-token': w }],
  ];
  for (const [code, headers] of cases) {
    await assert.rejects(verifyWorkloadRequest(headers, options), rejects(code), code);
  }
});

test('the middleware passes good requests and answers 400 problem+json with the code', async () => {
  const s = await setup();
  const guard = wimseMiddleware({
    jwks: staticJwks({ keys: [s.issuer.publicJwk] }),
    now: () => NOW,
    expectedAudience: AUD,
    replayCache: createMemoryReplayCache(),
  });
  const server = createServer((req, res) => {
    guard(req, res, () => res.end((req as WorkloadRequest).workload?.workloadId));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    const wpt = await signWpt({
      wit: s.wit,
      key: s.workload.privateKey,
      alg: 'ES256',
      aud: AUD,
      now: NOW,
    });
    const headers = { 'workload-identity-token': s.wit, 'workload-proof-token': wpt };
    const ok = await fetch(url, { headers });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), SUB);

    const replay = await fetch(url, { headers });
    assert.equal(replay.status, 400);
    assert.equal(replay.headers.get('content-type'), 'application/problem+json');
    const problem = (await replay.json()) as Record<string, unknown>;
    assert.equal(problem.code, 'ERR_WPT_REPLAY');
    assert.equal(problem.status, 400);
    assert.equal(problem.type, 'tag:twi.dev,2026:problem#ERR_WPT_REPLAY');
    assert.equal(typeof problem.title, 'string');
    assert.equal(typeof problem.detail, 'string');

    const missing = await fetch(url, { headers: { 'workload-identity-token': s.wit } });
    assert.equal(((await missing.json()) as { code: string }).code, 'ERR_WPT_MISSING');
  } finally {
    server.close();
  }
});
