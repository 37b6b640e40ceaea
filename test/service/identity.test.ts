/**
 * Identity is assigned by policy, never claimed (issue 12, item 1): evidence that differs in a
 * code-identifying measurement never shares a `sub`; a registration's identifier goes only to
 * matching evidence, with only the names it allows; registrations set through the admin API
 * apply and survive a restart on the same store.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy } from '../../verifier/policy/loader.js';
import { PolicyError } from '../../verifier/policy/errors.js';
import type { Policy } from '../../verifier/policy/types.js';
import { IDENTITY_FIELDS, measurementDigest } from '../../service/subject.js';
import { TWI_IDENTITY_CLAIM } from '../../service/identity.js';
import { workloadKey, type Platform } from './harness.js';
import {
  challenge,
  cmwWith,
  fill,
  hex,
  openSite,
  sendAttest,
  startOn,
  TOKEN,
  type Answer,
  type Measurements,
  type Running,
  type Site,
} from './identity-fixtures.js';

const TDX_A: Measurements = { mrTd: fill(0x77), rtmr0: fill(0xa0) };
const TDX_B: Measurements = { mrTd: fill(0x77), rtmr0: fill(0xa1) };
const SNP_A: Measurements = { measurement: fill(0x55), hostData: fill(0xb0, 32) };
const SNP_B: Measurements = { measurement: fill(0x55), hostData: fill(0xb1, 32) };
const NITRO_A: Measurements = { pcrs: { 0: fill(0xc0), 1: fill(0xc1), 2: fill(0xc2) } };

/** A registration document for TDX evidence built from `m` (RTMR1..3 as `cmwWith` sets them). */
function tdxEntry(id: string, identifier: string, m: Measurements, workloads?: string[]) {
  return {
    id,
    identifier,
    platform: 'tdx',
    mrtd: hex(m.mrTd!),
    rtmr0: hex(m.rtmr0!),
    rtmr1: hex(fill(0x11)),
    rtmr2: hex(fill(0x12)),
    rtmr3: hex(fill(0x13)),
    ...(workloads && { workloads }),
  };
}

function snpEntry(id: string, identifier: string, m: Measurements) {
  return {
    id,
    identifier,
    platform: 'sev-snp',
    measurement: hex(m.measurement!),
    host_data: hex(m.hostData!),
  };
}

async function attestWith(
  run: Running,
  site: Site,
  platform: Platform,
  m: Measurements,
  workload?: string,
): Promise<Answer> {
  const key = workloadKey();
  const nonce = await challenge(run.base);
  const evidence = cmwWith(site.pki, platform, nonce, key.jwk, key.spki, m);
  return sendAttest(run.base, {
    nonce,
    evidence,
    key: key.jwk,
    ...(workload !== undefined && { workload }),
  });
}

function subOf(a: Answer): string {
  assert.equal(a.status, 200, JSON.stringify(a.body));
  return String(a.wit!.sub);
}

function refusedWith(a: Answer, code: string): void {
  assert.equal(a.status, 403, JSON.stringify(a.body));
  assert.equal(a.body.code, code);
  assert.equal(a.body.wit, undefined);
}

async function admin(run: Running, method: string, body?: unknown): Promise<Response> {
  return fetch(run.base + '/v1/admin/registrations', {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
}

describe('sub without registrations', { timeout: 120_000 }, () => {
  let site: Site;
  let run: Running;
  before(async () => {
    site = await openSite('twi-identity-derived');
    run = await startOn(site);
  });
  after(async () => {
    await run.close();
    site.remove();
  });

  test('TDX evidences differing only in RTMR0 get different subs', async () => {
    const a = subOf(await attestWith(run, site, 'tdx', TDX_A));
    const b = subOf(await attestWith(run, site, 'tdx', TDX_B));
    assert.match(a, /^spiffe:\/\/example\.org\/tdx\/m\/[0-9a-f]{32}$/);
    assert.notEqual(a, b);
    assert.equal(subOf(await attestWith(run, site, 'tdx', TDX_A)), a, 'stable for equal code');
  });

  test('SEV-SNP evidences differing only in HOST_DATA get different subs', async () => {
    const a = subOf(await attestWith(run, site, 'sev-snp', SNP_A));
    const b = subOf(await attestWith(run, site, 'sev-snp', SNP_B));
    assert.match(a, /^spiffe:\/\/example\.org\/sev-snp\/m\/[0-9a-f]{32}$/);
    assert.notEqual(a, b);
  });

  test('Nitro evidences differing only in PCR8 get different subs', async () => {
    const a = subOf(await attestWith(run, site, 'nitro', NITRO_A));
    const pcrs = { ...NITRO_A.pcrs, 8: fill(0xc8) };
    const b = subOf(await attestWith(run, site, 'nitro', { pcrs }));
    assert.notEqual(a, b);
  });

  test('an unregistered workload name is refused by default, with the EAR', async () => {
    const a = await attestWith(run, site, 'tdx', TDX_A, 'payments-api');
    refusedWith(a, 'ERR_WORKLOAD_NAME_REFUSED');
    const identity = a.ear![TWI_IDENTITY_CLAIM] as Record<string, unknown>;
    assert.equal(identity.registration, 'none');
    assert.equal(identity.refused, 'ERR_WORKLOAD_NAME_REFUSED');
  });

  test('the EAR and the ledger record name no registration and the digest', async () => {
    const a = await attestWith(run, site, 'sev-snp', SNP_A);
    const sub = subOf(a);
    const identity = a.ear![TWI_IDENTITY_CLAIM] as Record<string, unknown>;
    assert.equal(identity.registration, 'none');
    assert.equal(sub.endsWith(`/m/${String(identity.measurement_digest)}`), true);
    const record = (await run.store.credentials.get(String(a.wit!.jti)))!.record as {
      identity: Record<string, unknown>;
    };
    assert.deepEqual(record.identity, identity);
  });
});

describe('measurement digest', { timeout: 60_000 }, () => {
  const base = (platform: Platform) => {
    const claims: Record<string, unknown> = { pcrs: {} };
    const details: Record<string, unknown> = {};
    for (const [, source, key] of IDENTITY_FIELDS[platform]) {
      const target = source === 'claims' ? claims : details;
      if (key.startsWith('pcrs.'))
        (claims.pcrs as Record<string, string>)[key.slice(5)] = '00'.repeat(48);
      else target[key] = key === 'vmpl' ? 0 : '00'.repeat(48);
    }
    return { claims, details };
  };

  for (const platform of ['tdx', 'sev-snp', 'nitro'] as const) {
    test(`${platform}: one changed bit in any identity measurement changes the digest`, () => {
      const e = base(platform);
      const d0 = measurementDigest(platform, e);
      assert.match(d0, /^[0-9a-f]{32}$/);
      const seen = new Set([d0]);
      for (const [name, source, key] of IDENTITY_FIELDS[platform]) {
        const copy = structuredClone(e);
        const target = (source === 'claims' ? copy.claims : copy.details) as Record<
          string,
          unknown
        >;
        if (key.startsWith('pcrs.')) {
          (copy.claims.pcrs as Record<string, string>)[key.slice(5)] = '01' + '00'.repeat(47);
        } else target[key] = key === 'vmpl' ? 1 : '01' + '00'.repeat(47);
        const d = measurementDigest(platform, copy);
        assert.equal(seen.has(d), false, `${name} did not change the digest`);
        seen.add(d);
      }
    });
  }

  test('the platform is part of the digest', () => {
    const e = { claims: { pcrs: {} }, details: {} };
    assert.notEqual(measurementDigest('tdx', e), measurementDigest('nitro', e));
  });
});

describe('registrations from the policy file', { timeout: 120_000 }, () => {
  let site: Site;
  let run: Running;
  const policy: Policy = parsePolicy({
    id: 'identity-test',
    registrations: [
      tdxEntry('payments', 'spiffe://example.org/payments', TDX_A, ['api', 'worker']),
      snpEntry('ledger', 'wimse://example.org/ns/ledger', SNP_A),
    ],
  });
  before(async () => {
    site = await openSite('twi-identity-policy');
    run = await startOn(site, policy);
  });
  after(async () => {
    await run.close();
    site.remove();
  });

  test("matching evidence gets the entry's identifier, and only the names it allows", async () => {
    assert.equal(subOf(await attestWith(run, site, 'tdx', TDX_A)), 'spiffe://example.org/payments');
    const api = await attestWith(run, site, 'tdx', TDX_A, 'api');
    assert.equal(subOf(api), 'spiffe://example.org/payments/api');
    const identity = api.ear![TWI_IDENTITY_CLAIM] as Record<string, unknown>;
    assert.deepEqual(identity.registration, {
      id: 'payments',
      identifier: 'spiffe://example.org/payments',
    });
    assert.equal(identity.workload, 'api');
    refusedWith(await attestWith(run, site, 'tdx', TDX_A, 'admin'), 'ERR_WORKLOAD_NAME_REFUSED');
  });

  test('evidence differing in RTMR0 does not get the identifier, whatever name it asks', async () => {
    const b = subOf(await attestWith(run, site, 'tdx', TDX_B));
    assert.match(b, /^spiffe:\/\/example\.org\/tdx\/m\/[0-9a-f]{32}$/);
    refusedWith(await attestWith(run, site, 'tdx', TDX_B, 'api'), 'ERR_WORKLOAD_NAME_REFUSED');
  });

  test("an attester cannot pick another entry's name", async () => {
    const snp = await attestWith(run, site, 'sev-snp', SNP_A);
    assert.equal(subOf(snp), 'wimse://example.org/ns/ledger');
    refusedWith(await attestWith(run, site, 'sev-snp', SNP_A, 'api'), 'ERR_WORKLOAD_NAME_REFUSED');
    const other = subOf(await attestWith(run, site, 'sev-snp', SNP_B));
    assert.notEqual(other, 'wimse://example.org/ns/ledger');
  });

  test('the provenance leaf names the registration', async () => {
    const a = await attestWith(run, site, 'tdx', TDX_A, 'worker');
    const jti = String(a.wit!.jti);
    const r = await fetch(`${run.base}/v1/provenance/${jti}`);
    assert.equal(r.status, 200);
    const text = await r.text();
    assert.match(
      text,
      /"registration":\{"id":"payments","identifier":"spiffe:\/\/example\.org\/payments"\}/,
    );
  });
});

describe('registration rules at load time', { timeout: 30_000 }, () => {
  const invalid = (registrations: unknown[], path: RegExp): void => {
    assert.throws(
      () => parsePolicy({ id: 'p', registrations }),
      (err: unknown) =>
        err instanceof PolicyError &&
        err.code === 'ERR_POLICY_INVALID' &&
        err.issues.some((i) => path.test(i.path)),
    );
  };

  test('entries that can match the same evidence are refused', () => {
    const a = tdxEntry('a', 'spiffe://example.org/a', TDX_A);
    invalid([a, { ...a, id: 'b', identifier: 'spiffe://example.org/b' }], /^registrations\[1\]$/);
    // An optional value stated on one side only does not tell entries apart.
    const withOwner = { ...a, id: 'c', mrowner: '00'.repeat(48) };
    invalid([a, withOwner], /^registrations\[1\]$/);
    // A value list that intersects does not either.
    const listed = { ...a, id: 'd', rtmr0: [hex(TDX_B.rtmr0!), hex(TDX_A.rtmr0!)] };
    invalid([a, listed], /^registrations\[1\]$/);
    // A differing required value does.
    const b = tdxEntry('b', 'spiffe://example.org/b', TDX_B);
    assert.equal(parsePolicy({ id: 'p', registrations: [a, b] }).registrations.length, 2);
  });

  test('required and foreign fields, identifiers, reserved paths, name collisions', () => {
    const a = tdxEntry('a', 'spiffe://example.org/a', TDX_A);
    const noRtmr3: Record<string, unknown> = { ...a };
    delete noRtmr3.rtmr3;
    invalid([noRtmr3], /^registrations\[0\]\.rtmr3$/);
    invalid([{ ...a, host_data: '00'.repeat(32) }], /^registrations\[0\]\.host_data$/);
    invalid([{ ...a, identifier: 'https://example.org/a' }], /identifier$/);
    invalid([{ ...a, identifier: 'spiffe://example.org/tdx/m/abc' }], /identifier$/);
    const b = tdxEntry('b', 'spiffe://example.org/a/api', TDX_B);
    invalid([{ ...a, workloads: ['api'] }, b], /^registrations\[1\]\.identifier$/);
    invalid([a, { ...tdxEntry('a', 'spiffe://example.org/z', TDX_B) }], /^registrations\[1\]\.id$/);
  });

  test('policy flags: require_registration and allow_unregistered_workload_names', async () => {
    const site = await openSite('twi-identity-flags');
    try {
      let run = await startOn(site, parsePolicy({ id: 'p', require_registration: true }));
      refusedWith(await attestWith(run, site, 'tdx', TDX_A), 'ERR_WORKLOAD_UNREGISTERED');
      await run.close();
      run = await startOn(site, parsePolicy({ id: 'p', allow_unregistered_workload_names: true }));
      const sub = subOf(await attestWith(run, site, 'tdx', TDX_A, 'api'));
      assert.match(sub, /^spiffe:\/\/example\.org\/tdx\/m\/[0-9a-f]{32}\/api$/);
      await run.close();
    } finally {
      site.remove();
    }
  });
});

describe('registrations through the admin API', { timeout: 120_000 }, () => {
  let site: Site;
  let run: Running;
  before(async () => {
    site = await openSite('twi-identity-admin');
    run = await startOn(site);
  });
  after(async () => {
    await run.close();
    site.remove();
  });

  test('PUT applies at once, persists across a restart, DELETE hands back to the policy', async () => {
    const derived = subOf(await attestWith(run, site, 'tdx', TDX_A));
    const entry = tdxEntry('orders', 'spiffe://example.org/orders', TDX_A, ['api']);
    const put = await admin(run, 'PUT', { registrations: [entry] });
    assert.equal(put.status, 200, await put.clone().text());
    assert.deepEqual(((await put.json()) as { ids: string[] }).ids, ['orders']);
    assert.equal(
      subOf(await attestWith(run, site, 'tdx', TDX_A, 'api')),
      'spiffe://example.org/orders/api',
    );
    assert.equal(subOf(await attestWith(run, site, 'tdx', TDX_B)).includes('/tdx/m/'), true);

    await run.close();
    run = await startOn(site);
    const got = (await (await admin(run, 'GET')).json()) as Record<string, unknown>;
    assert.equal(got.source, 'store');
    assert.equal((got.registrations as { id: string }[])[0]!.id, 'orders');
    assert.equal(subOf(await attestWith(run, site, 'tdx', TDX_A)), 'spiffe://example.org/orders');

    assert.equal((await admin(run, 'DELETE')).status, 200);
    assert.equal(subOf(await attestWith(run, site, 'tdx', TDX_A)), derived);
    const after = (await (await admin(run, 'GET')).json()) as Record<string, unknown>;
    assert.equal(after.source, 'policy');
  });

  test('invalid lists are refused with 400 ERR_REGISTRATIONS_INVALID and nothing stored', async () => {
    const a = tdxEntry('a', 'spiffe://example.org/a', TDX_A);
    const cases: unknown[] = [
      { registrations: [a, { ...a, id: 'b', identifier: 'spiffe://example.org/b' }] },
      { registrations: [{ ...a, identifier: 'spiffe://other.example/a' }] },
      { registrations: [{ ...a, mrtd: 'zz' }] },
      { registrations: 'a' },
      { other: [] },
    ];
    for (const body of cases) {
      const r = await admin(run, 'PUT', body);
      const p = (await r.json()) as Record<string, unknown>;
      assert.equal(r.status, 400, JSON.stringify(p));
      assert.equal(p.code, 'ERR_REGISTRATIONS_INVALID');
    }
    const got = (await (await admin(run, 'GET')).json()) as Record<string, unknown>;
    assert.deepEqual(got.registrations, []);
  });

  test('a policy whose registrations are outside the trust domain is refused', async () => {
    const entry = tdxEntry('x', 'spiffe://other.example/x', TDX_A);
    const r = await fetch(run.base + '/v1/admin/policy', {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'p', registrations: [entry] }),
    });
    const p = (await r.json()) as Record<string, unknown>;
    assert.equal(r.status, 400, JSON.stringify(p));
    assert.equal(p.code, 'ERR_POLICY_INVALID');
    assert.equal(subOf(await attestWith(run, site, 'tdx', TDX_A)).includes('/tdx/m/'), true);
  });

  test('the routes need the admin token', async () => {
    const r = await fetch(run.base + '/v1/admin/registrations');
    assert.equal(r.status, 401);
    const put = await fetch(run.base + '/v1/admin/registrations', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ registrations: [] }),
    });
    assert.equal(put.status, 401);
  });
});
