import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { loadAnchorStore } from '../../endorsements/anchors.js';
import type { SimulatedPki } from '../../simulators/index.js';
import { createService } from '../../service/service.js';
import type { Store } from '../../service/store/types.js';
import {
  bundleTrust,
  verifyWit,
  watchBundle,
  WimseError,
  type BundleTrust,
  type BundleWatch,
} from '../../wimse/rp.js';
import {
  b64u,
  evidenceCmw,
  NOW,
  startTestService,
  workloadKey,
  type TestService,
  type Workload,
} from './harness.js';

const TOKEN = 'admin-token-for-tests-0123456789';
const OTHER_MRTD = 'ab'.repeat(48);
const REPETITIONS = 20;
const BOUND_MS = 5_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A CMW with simulated TDX evidence bound to `nonce` and `key`. */
function tdxCmw(pki: SimulatedPki, nonce: string, key: Workload): Record<string, unknown> {
  return evidenceCmw(pki, 'tdx', nonce, key);
}

function stats(ms: number[]): { median: number; max: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median =
    sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, max: sorted.at(-1)! };
}

describe('admin API, bundle events and time to revocation over HTTP', () => {
  let store: Store;
  let base: string;
  let pki: SimulatedPki;
  let clock = NOW;
  let watch: BundleWatch;
  let trust: BundleTrust;
  let service: TestService;

  before(async () => {
    service = await startTestService({ seed: 'twi-admin', clock: () => clock, adminToken: TOKEN });
    ({ store, base, pki } = service);
    watch = watchBundle(base + '/v1/bundle/events', { minBackoffMs: 20 });
    trust = bundleTrust(watch);
    await watch.ready;
  });

  after(async () => {
    watch.close();
    await service.close();
  });

  async function admin(
    method: string,
    path: string,
    opts: { token?: string | null; body?: string; type?: string } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? TOKEN}`;
    if (opts.body !== undefined) headers['content-type'] = opts.type ?? 'application/json';
    return fetch(base + '/v1/admin' + path, {
      method,
      headers,
      ...(opts.body !== undefined && { body: opts.body }),
    });
  }

  async function expectProblem(r: Response, status: number, code: string): Promise<void> {
    assert.equal(r.status, status);
    assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const p = (await r.json()) as Record<string, unknown>;
    assert.equal(p.code, code, JSON.stringify(p));
  }

  async function bundle(): Promise<{ keys: { kid: string }[]; spiffe_sequence: number }> {
    return (await (await fetch(base + '/v1/bundle')).json()) as {
      keys: { kid: string }[];
      spiffe_sequence: number;
    };
  }

  /** challenge → attest with simulated TDX evidence; the raw response. */
  async function attestRaw(): Promise<Response> {
    const key = workloadKey();
    const c = await fetch(base + '/v1/challenge', { method: 'POST' });
    const { nonce } = (await c.json()) as { nonce: string };
    return fetch(base + '/v1/attest', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ nonce, evidence: tdxCmw(pki, nonce, key), key: key.jwk }),
    });
  }

  async function attestWit(): Promise<{ wit: string; jti: string; kid: string }> {
    const r = await attestRaw();
    const out = (await r.json()) as { wit: string };
    assert.equal(r.status, 200, JSON.stringify(out));
    const claims = JSON.parse(Buffer.from(out.wit.split('.')[1]!, 'base64url').toString()) as {
      jti: string;
    };
    return { wit: out.wit, jti: claims.jti, kid: decodeProtectedHeader(out.wit).kid! };
  }

  const verify = (wit: string) =>
    verifyWit(wit, { jwks: trust.jwks, isRevoked: trust.isRevoked, now: clock });

  /** Milliseconds until the relying party rejects `wit` with `code` (bounded). */
  async function timeToReject(wit: string, code: string): Promise<number> {
    const started = performance.now();
    for (;;) {
      try {
        await verify(wit);
      } catch (err) {
        assert.ok(err instanceof WimseError, String(err));
        assert.equal(err.code, code);
        return performance.now() - started;
      }
      assert.ok(performance.now() - started < BOUND_MS, `${code} not seen within ${BOUND_MS} ms`);
      await sleep(1);
    }
  }

  test('without or with a wrong token: 401 and nothing changes', async () => {
    const { jti } = await attestWit();
    const before = await bundle();
    const keysBefore = (await store.keys.list()).length;
    const policy = JSON.stringify({ id: 'pinned', tdx: { mrtd: OTHER_MRTD } });
    for (const token of [null, 'wrong', TOKEN + 'x', '']) {
      await expectProblem(
        await admin('PUT', '/policy', { token, body: policy }),
        401,
        'ERR_ADMIN_UNAUTHENTICATED',
      );
      await expectProblem(
        await admin('POST', '/keys/rotate', { token }),
        401,
        'ERR_ADMIN_UNAUTHENTICATED',
      );
      const kid = before.keys[0]!.kid;
      await expectProblem(
        await admin('POST', `/keys/${kid}/revoke`, { token }),
        401,
        'ERR_ADMIN_UNAUTHENTICATED',
      );
      await expectProblem(
        await admin('POST', `/credentials/${jti}/revoke`, { token }),
        401,
        'ERR_ADMIN_UNAUTHENTICATED',
      );
    }
    const basic = await fetch(base + '/v1/admin/keys/rotate', {
      method: 'POST',
      headers: { authorization: `Basic ${b64u(TOKEN)}` },
    });
    await expectProblem(basic, 401, 'ERR_ADMIN_UNAUTHENTICATED');
    assert.deepEqual(await bundle(), before);
    assert.equal((await store.keys.list()).length, keysBefore);
    assert.equal((await store.credentials.get(jti))?.revokedAt, undefined);
    assert.equal((await attestRaw()).status, 200, 'the policy is unchanged');
  });

  test('no admin token configured: the admin API is disabled', async () => {
    const off = await createService({
      store,
      anchors: loadAnchorStore([]),
      issuer: 'https://verifier.example',
      trustDomain: 'example.org',
      logLevel: 'silent',
    });
    const r = await off.inject({
      method: 'POST',
      url: '/v1/admin/keys/rotate',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(r.statusCode, 403);
    assert.equal((r.json() as { code: string }).code, 'ERR_ADMIN_DISABLED');
    await off.close();
  });

  test('a policy update changes the outcome of the next attestation', async () => {
    const seq = (await bundle()).spiffe_sequence;
    const pinned = JSON.stringify({ id: 'pinned', tdx: { mrtd: OTHER_MRTD } });
    const r = await admin('PUT', '/policy', { body: pinned });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { policy_id: 'pinned', spiffe_sequence: seq + 1 });
    await expectProblem(await attestRaw(), 403, 'ERR_APPRAISAL_CONTRAINDICATED');

    const invalid = await admin('PUT', '/policy', { body: '{"id": 7}' });
    await expectProblem(invalid, 400, 'ERR_POLICY_INVALID');
    await expectProblem(
      await admin('PUT', '/policy', { body: 'id: [', type: 'application/yaml' }),
      400,
      'ERR_POLICY_INVALID',
    );
    assert.equal((await bundle()).spiffe_sequence, seq + 1, 'a refused policy changes nothing');
    await expectProblem(await attestRaw(), 403, 'ERR_APPRAISAL_CONTRAINDICATED');

    const yaml = await admin('PUT', '/policy', { body: 'id: open\n', type: 'application/yaml' });
    assert.equal(yaml.status, 200);
    assert.equal(((await yaml.json()) as { policy_id: string }).policy_id, 'open');
    assert.equal((await attestRaw()).status, 200);
  });

  test('key rotation: old WITs verify, new WITs use the new kid, the old key retires', async () => {
    const old = await attestWit();
    const r = await admin('POST', '/keys/rotate');
    assert.equal(r.status, 200);
    const rotated = (await r.json()) as Record<string, string>;
    assert.equal(rotated.previous_kid, old.kid);
    assert.notEqual(rotated.kid, old.kid);
    // The successor is created at NOW (+1 ms on this fixed clock): retired an hour later.
    const retires = Date.parse(rotated.previous_retires_at!) - NOW.getTime();
    assert.ok(retires >= 3600_000 && retires < 3600_100, rotated.previous_retires_at);
    const fresh = await attestWit();
    assert.equal(fresh.kid, rotated.kid);
    const jwks = await (await fetch(base + '/.well-known/jwks.json')).json();
    const set = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
    for (const { wit } of [old, fresh]) {
      await jwtVerify(wit, set, { currentDate: NOW, typ: 'wit+jwt' });
      await verify(wit);
    }
    clock = new Date(NOW.getTime() + 3600_000 + 1000);
    try {
      const later = (await (await fetch(base + '/.well-known/jwks.json')).json()) as {
        keys: { kid: string }[];
      };
      const kids = later.keys.map((k) => k.kid);
      assert.ok(!kids.includes(old.kid), 'the retired key is dropped');
      assert.ok(kids.includes(fresh.kid));
    } finally {
      clock = NOW;
    }
  });

  test('key revocation: a subscribed relying party rejects its WITs (ERR_WIT_UNKNOWN_KEY)', async () => {
    const { wit, kid } = await attestWit();
    await verify(wit);
    await expectProblem(await admin('POST', '/keys/nope/revoke'), 404, 'ERR_KEY_UNKNOWN');
    const r = await admin('POST', `/keys/${kid}/revoke`);
    assert.equal(r.status, 200);
    const out = (await r.json()) as { signing_kid: string };
    assert.notEqual(out.signing_kid, kid, 'a fresh key signs after the current one is revoked');
    await timeToReject(wit, 'ERR_WIT_UNKNOWN_KEY');
    const kids = (
      (await (await fetch(base + '/.well-known/jwks.json')).json()) as {
        keys: { kid: string }[];
      }
    ).keys.map((k) => k.kid);
    assert.ok(!kids.includes(kid));
    await expectProblem(await admin('POST', `/keys/${kid}/revoke`), 409, 'ERR_KEY_REVOKED');
    const next = await attestWit();
    assert.equal(next.kid, out.signing_kid);
    await verify(next.wit);
  });

  test('credential revocation: rejected with ERR_WIT_REVOKED after the event', async () => {
    const { wit, jti } = await attestWit();
    await verify(wit);
    const r = await admin('POST', `/credentials/${jti}/revoke`);
    assert.equal(r.status, 200);
    await timeToReject(wit, 'ERR_WIT_REVOKED');
    assert.ok((await bundle()) && watch.latest()!.revoked_jtis!.includes(jti));
    const again = await admin('POST', `/credentials/${jti}/revoke`);
    await expectProblem(again, 409, 'ERR_CREDENTIAL_REVOKED');
    await expectProblem(
      await admin('POST', '/credentials/nope/revoke'),
      404,
      'ERR_CREDENTIAL_UNKNOWN',
    );
  });

  test(`time to revocation (push), ${REPETITIONS} repetitions each`, async (t) => {
    const credential: number[] = [];
    const key: number[] = [];
    for (let i = 0; i < REPETITIONS; i++) {
      const c = await attestWit();
      await verify(c.wit);
      const rc = await admin('POST', `/credentials/${c.jti}/revoke`);
      await rc.arrayBuffer();
      assert.equal(rc.status, 200);
      credential.push(await timeToReject(c.wit, 'ERR_WIT_REVOKED'));

      const k = await attestWit();
      await verify(k.wit);
      const rk = await admin('POST', `/keys/${k.kid}/revoke`);
      await rk.arrayBuffer();
      assert.equal(rk.status, 200);
      key.push(await timeToReject(k.wit, 'ERR_WIT_UNKNOWN_KEY'));
    }
    const fmt = (s: { median: number; max: number }): string =>
      `median ${s.median.toFixed(2)} ms, max ${s.max.toFixed(2)} ms`;
    t.diagnostic(`time to revocation, credential (jti): ${fmt(stats(credential))}`);
    t.diagnostic(`time to revocation, signing key (kid): ${fmt(stats(key))}`);
  });
});
