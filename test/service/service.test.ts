import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { loadAnchorStore } from '../../endorsements/anchors.js';
import type { SimulatedPki } from '../../simulators/index.js';
import { createService } from '../../service/service.js';
import type { Store } from '../../service/store/types.js';
import {
  b64u,
  evidenceCmw,
  NOW,
  startTestService,
  workloadKey,
  type TestService,
} from './harness.js';

describe('verifier service over HTTP', () => {
  let dir: string;
  let store: Store;
  let base: string;
  let pki: SimulatedPki;
  let clock = NOW;
  let service: TestService;

  before(async () => {
    service = await startTestService({ seed: 'twi-service', clock: () => clock });
    ({ dir, store, base, pki } = service);
  });

  after(() => service.close());

  /** Rows in the ledger, read straight from the SQLite file. */
  function credentialCount(): number {
    const db = new Database(join(dir, 'twi.db'), { readonly: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM credentials').get() as { n: number }).n;
    } finally {
      db.close();
    }
  }

  async function post(path: string, body: unknown): Promise<Response> {
    return fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  async function challenge(): Promise<string> {
    const r = await fetch(base + '/v1/challenge', { method: 'POST' });
    assert.equal(r.status, 200);
    const body = (await r.json()) as { nonce: string; expires_at: string };
    assert.match(body.nonce, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(body.expires_at, new Date(NOW.getTime() + 120_000).toISOString());
    return body.nonce;
  }

  async function expectProblem(r: Response, status: number, code: string): Promise<unknown> {
    assert.equal(r.status, status);
    assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const p = (await r.json()) as Record<string, unknown>;
    assert.equal(p.code, code, JSON.stringify(p));
    assert.equal(p.status, status);
    assert.equal(typeof p.type, 'string');
    assert.equal(typeof p.title, 'string');
    assert.equal(typeof p.detail, 'string');
    return p;
  }

  for (const platform of ['tdx', 'sev-snp', 'nitro'] as const) {
    test(`${platform}: challenge → attest → WIT verifiable with the JWKS; replay refused`, async () => {
      const key = workloadKey();
      const nonce = await challenge();
      const body = { nonce, evidence: evidenceCmw(pki, platform, nonce, key), key: key.jwk };
      const r = await post('/v1/attest', body);
      const out = (await r.json()) as { ear: string; wit: string; expires_at: string };
      assert.equal(r.status, 200, JSON.stringify(out));
      assert.equal(out.expires_at, new Date(NOW.getTime() + 3600_000).toISOString());
      const jwks = await (await fetch(base + '/.well-known/jwks.json')).json();
      const set = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
      const { payload, protectedHeader } = await jwtVerify(out.wit, set, {
        currentDate: NOW,
        typ: 'wit+jwt',
      });
      assert.deepEqual((payload.cnf as { jwk: unknown }).jwk, key.jwk);
      assert.match(payload.sub!, new RegExp(`^spiffe://example\\.org/${platform}/m/[0-9a-f]{32}$`));
      assert.equal(typeof protectedHeader.kid, 'string');
      await jwtVerify(out.ear, set, { currentDate: NOW });
      const record = await store.credentials.get(payload.jti!);
      assert.equal(record?.sub, payload.sub);
      assert.equal(record?.platform, platform);

      await expectProblem(await post('/v1/attest', body), 409, 'ERR_NONCE_REUSED');
    });
  }

  test('unknown and expired nonces are refused', async () => {
    const key = workloadKey();
    const unknown = b64u(new Uint8Array(32).fill(7));
    const cmw = evidenceCmw(pki, 'nitro', unknown, key);
    const body = { nonce: unknown, evidence: cmw, key: key.jwk };
    await expectProblem(await post('/v1/attest', body), 400, 'ERR_NONCE_UNKNOWN');
    const nonce = await challenge();
    clock = new Date(NOW.getTime() + 121_000);
    try {
      const r = await post('/v1/attest', { ...body, nonce });
      await expectProblem(r, 400, 'ERR_NONCE_EXPIRED');
    } finally {
      clock = NOW;
    }
  });

  test('evidence bound to another key → 403 with the EAR and no credential', async () => {
    const before = credentialCount();
    const key = workloadKey();
    const other = workloadKey();
    const nonce = await challenge();
    const r = await post('/v1/attest', {
      nonce,
      evidence: evidenceCmw(pki, 'tdx', nonce, other),
      key: key.jwk,
    });
    const p = (await expectProblem(r, 403, 'ERR_APPRAISAL_CONTRAINDICATED')) as {
      ear: string;
      wit?: string;
    };
    assert.equal(typeof p.ear, 'string');
    assert.equal(p.wit, undefined);
    assert.equal(credentialCount(), before);
  });

  test('debug evidence → 403', async () => {
    for (const platform of ['tdx', 'nitro'] as const) {
      const key = workloadKey();
      const nonce = await challenge();
      const evidence = evidenceCmw(pki, platform, nonce, key, { debug: true });
      const r = await post('/v1/attest', { nonce, evidence, key: key.jwk });
      await expectProblem(r, 403, 'ERR_APPRAISAL_CONTRAINDICATED');
    }
  });

  test('bad requests are RFC 9457 problems with stable codes', async () => {
    const big = await post('/v1/appraise', { evidence: { x: ['a', 'A'.repeat(300_000), 4] } });
    await expectProblem(big, 413, 'ERR_BODY_TOO_LARGE');
    const text = await fetch(base + '/v1/attest', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
    });
    await expectProblem(text, 415, 'ERR_UNSUPPORTED_MEDIA_TYPE');
    const garbage = await fetch(base + '/v1/attest', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"nonce": ',
    });
    await expectProblem(garbage, 400, 'ERR_BODY_INVALID');
    await expectProblem(await post('/v1/attest', { nonce: 'x' }), 400, 'ERR_REQUEST_INVALID');
    await expectProblem(await fetch(base + '/nope'), 404, 'ERR_NOT_FOUND');
  });

  test('invalid CMW and unknown media types → 400 with a code', async () => {
    const key = workloadKey();
    const nonce = await challenge();
    const quote = 'application/vnd.twi.tdx-quote';
    let tooDeep: unknown = { a: [quote, 'AAAA', 4] };
    for (let i = 0; i < 4; i++) tooDeep = { [`l${i}`]: tooDeep };
    const cases: [unknown, string][] = [
      [{ a: [quote] }, 'ERR_CMW_INVALID'],
      [{ a: [quote, 'AA==', 4] }, 'ERR_CMW_VALUE_INVALID'],
      [{ a: [quote, 'AAAA', 64] }, 'ERR_CMW_IND_UNREGISTERED'],
      [{ a: [quote, 'AAAA', 0] }, 'ERR_CMW_IND_INVALID'],
      [{ a: [quote, 'AAAA', 8] }, 'ERR_CMW_RECORD_UNUSED'],
      [
        { a: ['application/vnd.twi.tdx-quote;', 'AAAA'], b: { c: [quote, 'AAAA'] } },
        'ERR_CMW_EVIDENCE_COUNT',
      ],
      [{ a: [quote, 'AAAA'], b: {} }, 'ERR_CMW_EMPTY'],
      [{ a: ['tdx quote', 'AAAA'] }, 'ERR_CMW_MEDIA_TYPE_INVALID'],
      [{ __cmwc_t: 'evidence', a: [quote, 'AAAA'] }, 'ERR_CMW_TYPE_INVALID'],
      [tooDeep, 'ERR_CMW_TOO_DEEP'],
      [{ a: ['application/vnd.twi.tdx-collateral+json', 'AAAA', 2] }, 'ERR_CMW_EVIDENCE_COUNT'],
      [{ a: ['application/octet-stream', 'AAAA', 4] }, 'ERR_CMW_MEDIA_TYPE'],
      [
        { a: ['application/vnd.twi.nitro-attestation', 'AAAA', 4], b: ['text/x', 'AAAA', 2] },
        'ERR_CMW_MEDIA_TYPE',
      ],
    ];
    for (const [evidence, code] of cases) {
      await expectProblem(await post('/v1/attest', { nonce, evidence, key: key.jwk }), 400, code);
    }
    const bad = { nonce, evidence: cases[0]![0], key: { kty: 'EC', alg: 'HS256' } };
    await expectProblem(await post('/v1/attest', bad), 400, 'ERR_CMW_INVALID');
    const nitro = evidenceCmw(pki, 'nitro', nonce, key);
    const badKey = { nonce, evidence: nitro, key: { kty: 'oct', alg: 'HS256', k: 'AAAA' } };
    await expectProblem(await post('/v1/attest', badKey), 400, 'ERR_KEY_INVALID');
  });

  test('evidence in a nested collection, without ind, with media-type parameters → 200', async () => {
    const key = workloadKey();
    const nonce = await challenge();
    const flat = evidenceCmw(pki, 'sev-snp', nonce, key) as Record<
      string,
      [string, string, number]
    >;
    const evidence = {
      __cmwc_t: flat.__cmwc_t,
      host: {
        __cmwc_t: '1.3.6.1.4.1.99999.1',
        snp: [`${flat.snp![0].toUpperCase()}; variant="Genoa"`, flat.snp![1]],
        kds: { certs: [flat.certs![0], flat.certs![1], 2 | 1] },
      },
    };
    const r = await post('/v1/attest', { nonce, evidence, key: key.jwk });
    assert.equal(r.status, 200, await r.text());
  });

  test('background-check appraisal returns an EAR without a credential', async () => {
    const key = workloadKey();
    const nonce = await challenge();
    const r = await post('/v1/appraise', { evidence: evidenceCmw(pki, 'sev-snp', nonce, key) });
    assert.equal(r.status, 200);
    const out = (await r.json()) as { ear: string; wit?: string };
    assert.equal(out.wit, undefined);
    assert.equal(out.ear.split('.').length, 3);
  });

  test('JWKS, OpenID configuration, SPIFFE bundle, health and metrics', async () => {
    const jwks = (await (await fetch(base + '/.well-known/jwks.json')).json()) as {
      keys: Record<string, unknown>[];
    };
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0]!.kty, 'EC');
    assert.equal(jwks.keys[0]!.d, undefined);
    const oidc = (await (await fetch(base + '/.well-known/openid-configuration')).json()) as Record<
      string,
      unknown
    >;
    assert.equal(oidc.issuer, 'https://verifier.example');
    assert.equal(oidc.jwks_uri, 'https://verifier.example/.well-known/jwks.json');
    assert.deepEqual(oidc.response_types_supported, ['id_token']);
    assert.deepEqual(oidc.subject_types_supported, ['public']);
    assert.deepEqual(oidc.id_token_signing_alg_values_supported, ['ES256']);
    const bundle = (await (await fetch(base + '/v1/bundle')).json()) as {
      keys: Record<string, unknown>[];
      spiffe_sequence: number;
      spiffe_refresh_hint: number;
    };
    assert.equal(bundle.keys[0]!.use, 'wit-svid');
    assert.equal(bundle.keys[0]!.kid, jwks.keys[0]!.kid);
    // One change each: the signing key and the issuing CA (an x509-svid key) added at start.
    assert.deepEqual(
      bundle.keys.map((k) => k.use),
      ['wit-svid', 'x509-svid'],
    );
    assert.equal(bundle.spiffe_sequence, 2);
    assert.equal(bundle.spiffe_refresh_hint, 300);
    assert.equal((await fetch(base + '/healthz')).status, 200);
    assert.equal((await fetch(base + '/readyz')).status, 200);
    const metrics = await (await fetch(base + '/metrics')).text();
    assert.match(metrics, /twi_appraisals_total\{platform="tdx",status="affirming"\} \d+/);
    assert.match(metrics, /twi_appraisals_total\{platform="tdx",status="contraindicated"\} \d+/);
    assert.match(metrics, /twi_attest_duration_seconds_bucket\{le="\+Inf"\} \d+/);
    assert.match(metrics, /twi_nonces \d+/);
  });

  test('a restarted service signs with the stored key', async () => {
    const again = await createService({
      store,
      anchors: loadAnchorStore([]),
      issuer: 'https://verifier.example',
      trustDomain: 'example.org',
      now: () => NOW,
      logLevel: 'silent',
    });
    const r = await again.inject({ method: 'GET', url: '/v1/bundle' });
    // The stored signing key and the stored CA: nothing new was made.
    const uses = (r.json() as { keys: { use: string }[] }).keys.map((k) => k.use);
    assert.deepEqual(uses, ['wit-svid', 'x509-svid']);
    await again.close();
  });
});
