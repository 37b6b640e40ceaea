/**
 * EAR profiles over HTTP: `/v1/attest` and `/v1/appraise` answer the draft-ietf-rats-ear-04
 * profile by default, the veraison/ear profile for `?ear_profile=veraison` or an `Accept`
 * `application/eat+jwt; eat_profile="tag:github.com,2023:veraison/ear"`, or by default when
 * the service is configured so; simulated TDX, SEV-SNP and Nitro evidence; the veraison EAR
 * meets veraison/ear's rules (as facts) and verifies with the service's JWKS; an unknown
 * profile is a 400 `ERR_EAR_PROFILE_UNKNOWN` that leaves the nonce unused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { JSONWebKeySet } from 'jose';
import { verifyEar } from '../../verifier/ear/jwt.js';
import { veraisonFacts, type Json } from '../verifier/ear/veraison-facts.js';
import {
  evidenceCmw,
  NOW,
  startTestService,
  workloadKey,
  type Platform,
  type TestService,
} from './harness.js';

const VERAISON_ACCEPT = 'application/eat+jwt; eat_profile="tag:github.com,2023:veraison/ear"';

function payloadOf(jwt: string): Json {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Json;
}

async function challenge(base: string): Promise<string> {
  const r = await fetch(base + '/v1/challenge', { method: 'POST' });
  return ((await r.json()) as { nonce: string }).nonce;
}

async function call(
  svc: TestService,
  path: '/v1/attest' | '/v1/appraise',
  platform: Platform,
  o: { query?: string; accept?: string; nonce?: string } = {},
): Promise<Response> {
  const key = workloadKey();
  const nonce = o.nonce ?? (await challenge(svc.base));
  const body = {
    nonce,
    evidence: evidenceCmw(svc.pki, platform, nonce, key),
    ...(path === '/v1/attest' && { key: key.jwk }),
  };
  return fetch(svc.base + path + (o.query ?? ''), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(o.accept && { accept: o.accept }) },
    body: JSON.stringify(body),
  });
}

async function earOf(r: Response): Promise<string> {
  const out = (await r.json()) as { ear?: string };
  assert.equal(r.status, 200, JSON.stringify(out));
  return out.ear!;
}

describe('EAR profiles of the service', () => {
  let svc: TestService;
  let jwks: JSONWebKeySet;
  before(async () => {
    svc = await startTestService({ seed: 'ear-profile', clock: () => NOW });
    jwks = (await (await fetch(svc.base + '/.well-known/jwks.json')).json()) as JSONWebKeySet;
  });
  after(() => svc.close());

  for (const platform of ['tdx', 'sev-snp', 'nitro'] as const) {
    test(`${platform}: draft by default, veraison by query or Accept`, async () => {
      const draft = payloadOf(await earOf(await call(svc, '/v1/attest', platform)));
      assert.equal(draft.eat_profile, 'tag:ietf.org,2026:rats/ear#04');
      assert.ok(veraisonFacts(draft).includes('eat_profile'));
      for (const o of [{ query: '?ear_profile=veraison' }, { accept: VERAISON_ACCEPT }]) {
        const jwt = await earOf(await call(svc, '/v1/attest', platform, o));
        const claims = payloadOf(jwt);
        assert.deepEqual(veraisonFacts(claims), [], JSON.stringify(o));
        assert.equal(claims.eat_profile, 'tag:github.com,2023:veraison/ear');
        const sub = (claims.submods as Record<string, Json>)[platform]!;
        assert.equal(sub['ear.status'], 'affirming');
        const read = await verifyEar(jwt, jwks, { now: NOW });
        assert.equal(read.submods[platform]!.ear_status, 'affirming');
      }
    });
  }

  test('/v1/appraise takes the same choice', async () => {
    const jwt = await earOf(
      await call(svc, '/v1/appraise', 'sev-snp', {
        query: '?ear_profile=tag:github.com,2023:veraison/ear',
      }),
    );
    assert.deepEqual(veraisonFacts(payloadOf(jwt)), []);
  });

  test('an unknown profile is a 400 with a stable code, and the nonce stays usable', async () => {
    const nonce = await challenge(svc.base);
    const cases = [
      { query: '?ear_profile=psa' },
      { query: '?ear_profile=draft&ear_profile=veraison' },
      { accept: 'application/eat+jwt; eat_profile="tag:example.com,2026:other"' },
    ];
    for (const o of cases) {
      const r = await call(svc, '/v1/attest', 'tdx', { ...o, nonce });
      assert.equal(r.status, 400, JSON.stringify(o));
      const problem = (await r.json()) as { code: string };
      assert.equal(problem.code, 'ERR_EAR_PROFILE_UNKNOWN');
    }
    const r = await call(svc, '/v1/appraise', 'nitro', { query: '?ear_profile=cwt' });
    assert.equal(r.status, 400);
    assert.equal(((await r.json()) as { code: string }).code, 'ERR_EAR_PROFILE_UNKNOWN');
    const ok = await call(svc, '/v1/attest', 'tdx', { nonce });
    assert.equal(ok.status, 200, 'the refused requests did not consume the nonce');
  });
});

describe('a service whose default EAR profile is veraison', () => {
  let svc: TestService;
  before(async () => {
    svc = await startTestService({
      seed: 'ear-veraison',
      clock: () => NOW,
      earProfile: 'veraison',
    });
  });
  after(() => svc.close());

  test('answers veraison unless the request asks for the draft', async () => {
    const v = payloadOf(await earOf(await call(svc, '/v1/attest', 'nitro')));
    assert.deepEqual(veraisonFacts(v), []);
    const d = payloadOf(
      await earOf(await call(svc, '/v1/attest', 'nitro', { query: '?ear_profile=draft' })),
    );
    assert.equal(d.eat_profile, 'tag:ietf.org,2026:rats/ear#04');
  });
});
