/**
 * The local API with a key from the native key store and a credential issued by the WIMSE
 * library: answers, expiries, problem codes, limits, and that nothing private is served.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nativeWorkloadKey } from './native-key.js';
import type { WorkloadKey } from '../../shim/attester.js';
import { createShimClient, ShimApiError } from '../../shim/client.js';
import type { Credential } from '../../shim/credential.js';
import { startLocalApi } from '../../shim/local-api.js';
import type { LocalApi } from '../../shim/local-api.js';
import { tokenHash } from '../../wimse/jws.js';
import { staticJwks } from '../../wimse/jwks.js';
import { createMemoryReplayCache } from '../../wimse/replay.js';
import { issueWit, verifyWit } from '../../wimse/wit.js';
import { verifyWpt } from '../../wimse/wpt.js';
import { newKeyPair } from '../../common/key-pair.js';

function raw(
  socketPath: string,
  method: string,
  path: string,
  body?: string,
  type = 'application/json',
) {
  return new Promise<{
    status: number;
    json: Record<string, unknown>;
    headers: Record<string, unknown>;
  }>((resolve, reject) => {
    const req = request(
      { socketPath, method, path, headers: body ? { 'content-type': type } : {} },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            json: JSON.parse(text) as Record<string, unknown>,
            headers: res.headers,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('shim local API', () => {
  let dir: string;
  let api: LocalApi;
  let key: WorkloadKey;
  let credential: Credential | undefined;
  const issuer = newKeyPair('ec', { namedCurve: 'P-256' });
  const issuerJwk = {
    ...(issuer.publicKey.export({ format: 'jwk' }) as JsonWebKey),
    kid: 'k1',
    alg: 'ES256',
  };
  const now = new Date();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twi-shim-api-'));
    key = nativeWorkloadKey();
    api = await startLocalApi({
      socketPath: join(dir, 'api.sock'),
      state: {
        credential: () => credential,
        bundle: () => undefined,
        key,
        now: () => new Date(),
      },
    });
  });
  after(async () => {
    await api.close();
    key.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens with mode 0600', () => {
    assert.equal(statSync(api.socketPath).mode & 0o777, 0o600);
  });

  it('answers 503 ERR_SHIM_NO_CREDENTIAL before the first credential', async () => {
    const client = createShimClient({ socketPath: api.socketPath });
    await assert.rejects(
      client.wit(),
      (e: unknown) => e instanceof ShimApiError && e.code === 'ERR_SHIM_NO_CREDENTIAL',
    );
    const r = await raw(api.socketPath, 'GET', '/v1/bundle');
    assert.equal(r.status, 503);
    assert.equal(r.json.code, 'ERR_SHIM_NO_BUNDLE');
    assert.equal(r.headers['content-type'], 'application/problem+json');
  });

  it('serves the WIT and signs WPTs with the TEE key that the WIT binds', async () => {
    const { wit } = await issueWit({
      key: { privateKey: issuer.privateKey, kid: 'k1', alg: 'ES256' },
      iss: 'https://verifier.example',
      sub: 'spiffe://example.org/nitro/0123456789abcdef',
      cnfJwk: key.publicJwk,
      now,
      lifetimeSeconds: 600,
    });
    credential = {
      wit,
      ear: 'e.a.r',
      sub: 'spiffe://example.org/nitro/0123456789abcdef',
      jti: undefined,
      issuedAt: now,
      expiresAt: new Date(now.getTime() + 600_000),
    };
    const client = createShimClient({ socketPath: api.socketPath });
    const got = await client.wit();
    assert.equal(got.token, wit);
    assert.equal(got.expiresAt.getTime(), credential!.expiresAt.getTime());
    const access = randomBytes(20).toString('base64url');
    const wpt = await client.wpt({
      aud: 'https://rp.example/v1/x',
      accessToken: access,
      otherTokens: { 'x-token': 'abc' },
    });
    assert.ok(wpt.expiresAt.getTime() - Date.now() <= 60_000);
    const verified = await verifyWit(wit, {
      jwks: staticJwks({ keys: [issuerJwk] }),
      now: new Date(),
    });
    const v = await verifyWpt(wpt.token, {
      wit: verified,
      expectedAudience: 'https://rp.example/v1/x',
      now: new Date(),
      replayCache: createMemoryReplayCache(),
      accessToken: access,
      otherTokens: { 'x-token': 'abc' },
    });
    assert.equal(v.claims.ath, tokenHash(access));
    assert.equal(api.signed(), 1);
    const ear = await raw(api.socketPath, 'GET', '/v1/ear');
    assert.equal(ear.json.ear, 'e.a.r');
    assert.ok(typeof ear.headers.expires === 'string');
  });

  it('never shows the private key', async () => {
    const r = await raw(api.socketPath, 'GET', '/v1/wit');
    assert.ok(!JSON.stringify(r.json).includes('"d"'));
    assert.deepEqual(Object.keys(key.publicJwk).sort(), ['alg', 'crv', 'kty', 'x', 'y']);
  });

  it('refuses bad requests with codes', async () => {
    const s = api.socketPath;
    const cases: [string, string, string | undefined, string, number, string][] = [
      [
        'POST',
        '/v1/wpt',
        '{"aud":"https://a.example/x?q=1"}',
        'application/json',
        400,
        'ERR_SHIM_BAD_REQUEST',
      ],
      ['POST', '/v1/wpt', '{"aud":"not a uri"}', 'application/json', 400, 'ERR_SHIM_BAD_REQUEST'],
      [
        'POST',
        '/v1/wpt',
        '{"aud":"https://a.example/","ath":"short"}',
        'application/json',
        400,
        'ERR_SHIM_BAD_REQUEST',
      ],
      [
        'POST',
        '/v1/wpt',
        '{"aud":"https://a.example/","oth":{"X-Up":"' + 'a'.repeat(43) + '"}}',
        'application/json',
        400,
        'ERR_SHIM_BAD_REQUEST',
      ],
      [
        'POST',
        '/v1/wpt',
        '{"aud":"https://a.example/","lifetime":3600}',
        'application/json',
        400,
        'ERR_SHIM_BAD_REQUEST',
      ],
      [
        'POST',
        '/v1/wpt',
        '{"aud":"https://a.example/","key":"x"}',
        'application/json',
        400,
        'ERR_SHIM_BAD_REQUEST',
      ],
      ['POST', '/v1/wpt', '{', 'application/json', 400, 'ERR_SHIM_BAD_REQUEST'],
      ['POST', '/v1/wpt', '[]', 'application/json', 400, 'ERR_SHIM_BAD_REQUEST'],
      [
        'POST',
        '/v1/wpt',
        '{"aud":"https://a.example/"}',
        'text/plain',
        415,
        'ERR_SHIM_BAD_REQUEST',
      ],
      [
        'POST',
        '/v1/wpt',
        JSON.stringify({ aud: 'https://a.example/' + 'x'.repeat(20_000) }),
        'application/json',
        413,
        'ERR_SHIM_BAD_REQUEST',
      ],
      ['GET', '/v1/wpt', undefined, 'application/json', 405, 'ERR_SHIM_METHOD'],
      ['GET', '/v1/key', undefined, 'application/json', 404, 'ERR_SHIM_NOT_FOUND'],
    ];
    for (const [method, path, body, type, status, code] of cases) {
      const r = await raw(s, method, path, body, type);
      assert.equal(r.status, status, `${method} ${path} ${body?.slice(0, 60)}`);
      assert.equal(r.json.code, code);
    }
  });
});
