/**
 * The admin read API (docs/service.md "Admin read API") over HTTP: policy, keys (states after a
 * rotation and a revocation), revocations, credentials and the appraisal ring (successes and
 * refusals with their codes, newest first, bounded, `limit` checked); the token is required
 * unless the service runs with `consoleReadOnly`, which opens the GETs and nothing else.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createAppraisalLog } from '../../service/appraisal-log.js';
import { ProblemError } from '../../service/problem.js';
import {
  adminCall,
  attestRaw,
  attestWit,
  NOW,
  startTestService,
  type TestService,
} from './harness.js';

const TOKEN = 'admin-read-token-0123456789abcdef';

interface Appraisal {
  id: string;
  at: string;
  route: string;
  platform: string;
  status: string;
  tcb_status?: string;
  violations: { code: string; message: string }[];
  workload_id?: string;
  jti?: string;
  ear?: string;
  http_status: number;
}

describe('admin read API', () => {
  let service: TestService;
  const get = (path: string, token: string | null = TOKEN): Promise<Response> =>
    fetch(service.base + '/v1/admin' + path, {
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });

  before(async () => {
    service = await startTestService({ seed: 'admin-read', clock: () => NOW, adminToken: TOKEN });
  });
  after(async () => service.close());

  test('every read route needs the token', async () => {
    for (const path of ['/policy', '/keys', '/revocations', '/appraisals', '/credentials']) {
      const none = await get(path, null);
      assert.equal(none.status, 401, path);
      assert.equal(((await none.json()) as { code: string }).code, 'ERR_ADMIN_UNAUTHENTICATED');
      assert.equal((await get(path, 'wrong-token')).status, 401, path);
      assert.equal((await get(path)).status, 200, path);
    }
  });

  test('policy: null and default until one is stored, then the document as JSON', async () => {
    const before = (await (await get('/policy')).json()) as Record<string, unknown>;
    assert.deepEqual(before, { policy: null, source: 'default', updated_at: null });
    const yaml = `id: read-test\ntdx:\n  mrtd: '${'ab'.repeat(48)}'\n`;
    await adminCall(service.base, TOKEN, 'PUT', '/policy', {
      data: yaml,
      type: 'application/yaml',
    });
    const after = (await (await get('/policy')).json()) as Record<string, unknown>;
    assert.equal(after.source, 'store');
    assert.equal(after.format, 'yaml');
    assert.equal(after.updated_at, NOW.toISOString());
    assert.deepEqual(after.policy, { id: 'read-test', tdx: { mrtd: 'ab'.repeat(48) } });
    // Back to the built-in policy for the attestations below.
    await adminCall(service.base, TOKEN, 'PUT', '/policy', {
      data: JSON.stringify({ id: 'open' }),
      type: 'application/json',
    });
  });

  test('keys: one active key, then active/published after a rotation, revoked after revoke', async () => {
    const first = (await (await get('/keys')).json()) as {
      keys: { kid: string; state: string; alg: string; created_at: string }[];
      ca: { serial: string; subject: string; not_after: string; state: string }[];
      bundle_sequence: number;
    };
    assert.equal(first.keys.length, 1);
    assert.equal(first.keys[0]!.state, 'active');
    assert.equal(first.keys[0]!.alg, 'ES256');
    assert.equal(first.ca.length, 1);
    assert.equal(first.ca[0]!.state, 'active');
    assert.match(first.ca[0]!.serial, /^[0-9a-f]+$/);
    assert.match(first.ca[0]!.subject, /CN=/);
    const rotated = await adminCall(service.base, TOKEN, 'POST', '/keys/rotate');
    const second = (await (await get('/keys')).json()) as typeof first;
    assert.deepEqual(
      second.keys.map((k) => [k.kid, k.state]),
      [
        [first.keys[0]!.kid, 'published'],
        [rotated.kid, 'active'],
      ],
    );
    assert.ok(second.bundle_sequence > first.bundle_sequence);
    await adminCall(service.base, TOKEN, 'POST', `/keys/${first.keys[0]!.kid}/revoke`);
    const third = (await (await get('/keys')).json()) as {
      keys: { kid: string; state: string; revoked_at?: string }[];
    };
    assert.equal(third.keys[0]!.state, 'revoked');
    assert.equal(third.keys[0]!.revoked_at, NOW.toISOString());
    const revs = (await (await get('/revocations')).json()) as { keys: { kid: string }[] };
    assert.deepEqual(
      revs.keys.map((k) => k.kid),
      [first.keys[0]!.kid],
    );
  });

  test('an attestation is listed in credentials and appraisals; a revocation in revocations', async () => {
    const issued = await attestWit(service.base, service.pki);
    const creds = (await (await get('/credentials')).json()) as {
      credentials: { jti: string; workload_id: string; revoked: boolean; platform?: string }[];
    };
    assert.equal(creds.credentials[0]!.jti, issued.jti);
    assert.equal(creds.credentials[0]!.revoked, false);
    assert.equal(creds.credentials[0]!.platform, 'tdx');
    assert.match(creds.credentials[0]!.workload_id, /^spiffe:\/\/example\.org\//);
    const ring = (await (await get('/appraisals?limit=1')).json()) as { appraisals: Appraisal[] };
    assert.equal(ring.appraisals.length, 1);
    const entry = ring.appraisals[0]!;
    assert.equal(entry.route, 'attest');
    assert.equal(entry.jti, issued.jti);
    assert.equal(entry.platform, 'tdx');
    assert.equal(entry.status, 'affirming');
    assert.equal(entry.http_status, 200);
    assert.equal(entry.workload_id, creds.credentials[0]!.workload_id);
    assert.equal(entry.ear?.split('.').length, 3);

    await adminCall(service.base, TOKEN, 'POST', `/credentials/${issued.jti}/revoke`);
    const revs = (await (await get('/revocations')).json()) as {
      credentials: { jti: string; revoked_at: string }[];
      certificates: unknown[];
      builds: unknown[];
    };
    assert.deepEqual(revs.credentials, [{ jti: issued.jti, revoked_at: NOW.toISOString() }]);
    assert.deepEqual(revs.certificates, []);
    assert.deepEqual(revs.builds, []);
    const after = (await (await get('/credentials')).json()) as typeof creds;
    assert.equal(after.credentials[0]!.revoked, true);
  });

  test('a refused attestation is recorded with its code and message', async () => {
    // The nonce is used twice: the second attempt is refused with ERR_NONCE_REUSED (409).
    const c = await fetch(service.base + '/v1/challenge', { method: 'POST' });
    const { nonce } = (await c.json()) as { nonce: string };
    const body = JSON.stringify({ nonce, evidence: { bogus: true }, key: {} });
    const refused = await fetch(service.base + '/v1/attest', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    assert.equal(refused.status, 400);
    const problem = (await refused.json()) as { code: string; detail: string };
    const ring = (await (await get('/appraisals')).json()) as { appraisals: Appraisal[] };
    const entry = ring.appraisals[0]!;
    assert.equal(entry.status, 'none');
    assert.equal(entry.platform, 'unknown');
    assert.equal(entry.http_status, 400);
    assert.deepEqual(entry.violations, [{ code: problem.code, message: problem.detail }]);
    assert.equal(entry.jti, undefined);
  });

  test('a contraindicated appraisal is recorded with its violations', async () => {
    await adminCall(service.base, TOKEN, 'PUT', '/policy', {
      data: JSON.stringify({ id: 'strict', tdx: { mrtd: '00'.repeat(48) } }),
      type: 'application/json',
    });
    const r = await attestRaw(service.base, service.pki);
    assert.equal(r.status, 403);
    const problem = (await r.json()) as { code: string };
    const entry = ((await (await get('/appraisals')).json()) as { appraisals: Appraisal[] })
      .appraisals[0]!;
    assert.equal(entry.status, 'contraindicated');
    assert.equal(entry.platform, 'tdx');
    assert.equal(entry.http_status, 403);
    assert.ok(entry.violations.length >= 1);
    assert.ok(
      entry.violations.some((v) => v.code === 'ERR_REFERENCE_MISMATCH' && /MRTD/.test(v.message)),
      JSON.stringify(entry.violations),
    );
    assert.equal(problem.code, 'ERR_APPRAISAL_CONTRAINDICATED');
    assert.ok(entry.violations.some((v) => v.code === 'ERR_APPRAISAL_CONTRAINDICATED'));
    assert.ok(entry.ear, 'the refused attestation still signed an EAR');
    await adminCall(service.base, TOKEN, 'PUT', '/policy', {
      data: JSON.stringify({ id: 'open' }),
      type: 'application/json',
    });
  });

  test('limit: newest first, at most 500, refused outside 1..500', async () => {
    const all = ((await (await get('/appraisals')).json()) as { appraisals: Appraisal[] })
      .appraisals;
    assert.ok(all.length >= 3);
    const times = all.map((a) => a.at);
    assert.deepEqual(times, [...times].sort().reverse());
    for (const bad of ['0', '501', 'x', '-1', '1.5']) {
      const r = await get(`/appraisals?limit=${bad}`);
      assert.equal(r.status, 400, bad);
      assert.equal(((await r.json()) as { code: string }).code, 'ERR_REQUEST_INVALID');
      assert.equal((await get(`/credentials?limit=${bad}`)).status, 400, bad);
    }
    assert.equal((await get('/appraisals?limit=500')).status, 200);
  });
});

describe('appraisal ring', () => {
  test('keeps the newest entries up to its capacity', () => {
    let t = NOW.getTime();
    const log = createAppraisalLog({ capacity: 3, now: () => new Date((t += 1000)) });
    for (let i = 0; i < 5; i++) {
      log.record('appraise', { platform: `p${i}` }, new ProblemError(400, 'ERR_X', `n${i}`));
    }
    assert.equal(log.size, 3);
    assert.deepEqual(
      log.recent(10).map((e) => e.platform),
      ['p4', 'p3', 'p2'],
    );
    assert.deepEqual(log.recent(1)[0]!.violations, [{ code: 'ERR_X', message: 'n4' }]);
    assert.throws(() => createAppraisalLog({ capacity: 0 }), RangeError);
  });
});

describe('admin read API with consoleReadOnly', () => {
  let service: TestService;
  before(async () => {
    service = await startTestService({
      seed: 'admin-read-public',
      clock: () => NOW,
      adminToken: TOKEN,
      consoleReadOnly: true,
      appraisalLogSize: 2,
    });
  });
  after(async () => service.close());

  test('the GETs answer without a token; writes still need it', async () => {
    for (const path of [
      '/policy',
      '/keys',
      '/revocations',
      '/appraisals',
      '/credentials',
      '/registrations',
    ]) {
      const r = await fetch(service.base + '/v1/admin' + path);
      assert.equal(r.status, 200, path);
    }
    const rotate = await fetch(service.base + '/v1/admin/keys/rotate', { method: 'POST' });
    assert.equal(rotate.status, 401);
    const put = await fetch(service.base + '/v1/admin/policy', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'x' }),
    });
    assert.equal(put.status, 401);
  });

  test('the ring holds appraisalLogSize entries', async () => {
    for (let i = 0; i < 4; i++) await attestRaw(service.base, service.pki);
    const r = await fetch(service.base + '/v1/admin/appraisals?limit=500');
    const { appraisals } = (await r.json()) as { appraisals: Appraisal[] };
    assert.equal(appraisals.length, 2);
    assert.ok(appraisals.every((a) => a.status === 'affirming'));
  });
});
