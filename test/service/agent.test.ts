/**
 * Agent-mode requests (issue 15, item 3): an `agent` member is taken only from an agent the
 * policy lists (`agents:`), and then the identity comes only from a registration whose
 * measurements and selectors match: no fallback to a derived identifier or to an entry without
 * selectors. The selectors are recorded in the EAR and the ledger.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy } from '../../verifier/policy/loader.js';
import { PolicyError } from '../../verifier/policy/errors.js';
import type { Policy } from '../../verifier/policy/types.js';
import { TWI_IDENTITY_CLAIM } from '../../service/identity.js';
import { workloadKey, type Platform } from './harness.js';
import {
  challenge,
  cmwWith,
  fill,
  hex,
  openSite,
  postJson,
  sendAttest,
  startOn,
  type Answer,
  type Measurements,
  type Running,
  type Site,
} from './identity-fixtures.js';

const SNP_AGENT: Measurements = { measurement: fill(0x55), hostData: fill(0xb0, 32) };
const SNP_OTHER: Measurements = { measurement: fill(0x56), hostData: fill(0xb0, 32) };
const NITRO_AGENT: Measurements = { pcrs: { 0: fill(0xc0), 1: fill(0xc1), 2: fill(0xc2) } };
const NITRO_OTHER: Measurements = { pcrs: { 0: fill(0xd0), 1: fill(0xc1), 2: fill(0xc2) } };
const EXE = 'ab'.repeat(32);

function snpEntry(id: string, m: Measurements, selectors?: string[]) {
  return {
    id,
    identifier: `spiffe://example.org/${id}`,
    platform: 'sev-snp',
    measurement: hex(m.measurement!),
    host_data: hex(m.hostData!),
    ...(selectors && { selectors }),
  };
}

function nitroEntry(id: string, m: Measurements, selectors?: string[]) {
  const p = m.pcrs!;
  return {
    id,
    identifier: `spiffe://example.org/${id}`,
    platform: 'nitro',
    pcr0: hex(p[0]!),
    pcr1: hex(p[1]!),
    pcr2: hex(p[2]!),
    ...(selectors && { selectors }),
  };
}

const POLICY: Policy = parsePolicy({
  id: 'agent-test',
  agents: {
    'sev-snp': { measurement: hex(SNP_AGENT.measurement!) },
    nitro: { pcr0: [hex(NITRO_AGENT.pcrs![0]!)] },
  },
  registrations: [
    snpEntry('alice', SNP_AGENT, ['unix:uid:1000']),
    snpEntry('bob', SNP_AGENT, ['unix:uid:1001', `unix:sha256:${EXE}`]),
    snpEntry('vm', SNP_AGENT),
    snpEntry('carol', SNP_OTHER, ['unix:uid:1000']),
    nitroEntry('dave', NITRO_AGENT, ['unix:gid:50']),
    nitroEntry('erin', NITRO_OTHER, ['unix:gid:50']),
  ],
});

async function attestAs(
  run: Running,
  site: Site,
  platform: Platform,
  m: Measurements,
  agent?: unknown,
): Promise<Answer> {
  const key = workloadKey();
  const nonce = await challenge(run.base);
  const evidence = cmwWith(site.pki, platform, nonce, key.jwk, key.spki, m);
  return sendAttest(run.base, {
    nonce,
    evidence,
    key: key.jwk,
    ...(agent !== undefined && { agent }),
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

const uid = (n: number, ...more: string[]) => ({
  selectors: [`unix:uid:${n}`, 'unix:gid:100', 'unix:path:/usr/bin/app', ...more],
});

describe('agent-mode attestation', { timeout: 120_000 }, () => {
  let site: Site;
  let run: Running;
  before(async () => {
    site = await openSite('twi-agent');
    run = await startOn(site, POLICY);
  });
  after(async () => {
    await run.close();
    site.remove();
  });

  test('two callers of one agent get the identities their selectors register', async () => {
    const a = await attestAs(run, site, 'sev-snp', SNP_AGENT, uid(1000));
    assert.equal(subOf(a), 'spiffe://example.org/alice');
    const b = await attestAs(run, site, 'sev-snp', SNP_AGENT, uid(1001, `unix:sha256:${EXE}`));
    assert.equal(subOf(b), 'spiffe://example.org/bob');
    // Every selector of bob's entry is required.
    refusedWith(await attestAs(run, site, 'sev-snp', SNP_AGENT, uid(1001)), 'ERR_NO_REGISTRATION');
  });

  test('the selectors are recorded in the EAR and the ledger', async () => {
    const a = await attestAs(run, site, 'sev-snp', SNP_AGENT, uid(1000));
    const identity = a.ear![TWI_IDENTITY_CLAIM] as Record<string, unknown>;
    assert.deepEqual(identity.registration, {
      id: 'alice',
      identifier: 'spiffe://example.org/alice',
    });
    assert.deepEqual(identity.agent, { selectors: [...uid(1000).selectors].sort() });
    const record = (await run.store.credentials.get(String(a.wit!.jti)))!.record as {
      identity: Record<string, unknown>;
    };
    assert.deepEqual(record.identity, identity);
  });

  test('a caller no registration lists gets ERR_NO_REGISTRATION, never a fallback', async () => {
    const a = await attestAs(run, site, 'sev-snp', SNP_AGENT, uid(1002));
    refusedWith(a, 'ERR_NO_REGISTRATION');
    const identity = a.ear![TWI_IDENTITY_CLAIM] as Record<string, unknown>;
    assert.equal(identity.registration, 'none');
    assert.equal(identity.refused, 'ERR_NO_REGISTRATION');
    assert.equal(identity.sub, undefined);
  });

  test('without an agent member, entries with selectors are not used', async () => {
    assert.equal(subOf(await attestAs(run, site, 'sev-snp', SNP_AGENT)), 'spiffe://example.org/vm');
    const other = subOf(await attestAs(run, site, 'sev-snp', SNP_OTHER));
    assert.match(other, /^spiffe:\/\/example\.org\/sev-snp\/m\//);
  });

  test('an agent the policy does not list is refused with ERR_AGENT_NOT_TRUSTED', async () => {
    // SNP_OTHER has a registration for uid 1000, but its measurement is no listed agent.
    refusedWith(
      await attestAs(run, site, 'sev-snp', SNP_OTHER, uid(1000)),
      'ERR_AGENT_NOT_TRUSTED',
    );
    const dave = await attestAs(run, site, 'nitro', NITRO_AGENT, { selectors: ['unix:gid:50'] });
    assert.equal(subOf(dave), 'spiffe://example.org/dave');
    refusedWith(
      await attestAs(run, site, 'nitro', NITRO_OTHER, { selectors: ['unix:gid:50'] }),
      'ERR_AGENT_NOT_TRUSTED',
    );
  });

  test('malformed agent members are refused 400 before the nonce is used', async () => {
    const key = workloadKey();
    const nonce = await challenge(run.base);
    const evidence = cmwWith(site.pki, 'sev-snp', nonce, key.jwk, key.spki, SNP_AGENT);
    const bad: unknown[] = [
      { selectors: [] },
      { selectors: ['unix:uid:1', 'unix:uid:1'] },
      { selectors: ['no-colon'] },
      { selectors: ['unix:path:/a\nb'] },
      { selectors: [`unix:path:/${'a'.repeat(1100)}`] },
      { selectors: Array.from({ length: 33 }, (_, i) => `unix:uid:${i}`) },
      { selectors: ['unix:uid:1'], extra: true },
    ];
    for (const agent of bad) {
      const r = await postJson(run.base, '/v1/attest', { nonce, evidence, key: key.jwk, agent });
      assert.equal(r.status, 400, JSON.stringify(agent).slice(0, 80));
    }
    const ok = await sendAttest(run.base, { nonce, evidence, key: key.jwk, agent: uid(1000) });
    assert.equal(subOf(ok), 'spiffe://example.org/alice');
  });

  test('a policy without agents refuses every agent request', async () => {
    const site2 = await openSite('twi-agent-none');
    const plain = parsePolicy({
      id: 'no-agents',
      registrations: [snpEntry('alice', SNP_AGENT, ['unix:uid:1000'])],
    });
    const run2 = await startOn(site2, plain);
    try {
      refusedWith(
        await attestAs(run2, site2, 'sev-snp', SNP_AGENT, uid(1000)),
        'ERR_AGENT_NOT_TRUSTED',
      );
    } finally {
      await run2.close();
      site2.remove();
    }
  });
});

describe('registrations with selectors at load time', () => {
  const overlaps = (a: object, b: object): boolean => {
    try {
      parsePolicy({ id: 'p', registrations: [a, b] });
      return false;
    } catch (err) {
      assert.ok(err instanceof PolicyError && err.code === 'ERR_POLICY_INVALID', String(err));
      return err.issues.some((i) => i.path === 'registrations[1]');
    }
  };

  test('entries apart only by the value of a single-valued selector kind are allowed', () => {
    const a = snpEntry('a', SNP_AGENT, ['unix:uid:1000']);
    assert.equal(overlaps(a, snpEntry('b', SNP_AGENT, ['unix:uid:1001'])), false);
    assert.equal(overlaps(a, snpEntry('b', SNP_AGENT)), false, 'with and without selectors');
    // A caller can have uid 1000 and gid 5 at once, or any extra selector.
    assert.equal(overlaps(a, snpEntry('b', SNP_AGENT, ['unix:gid:5'])), true);
    assert.equal(overlaps(a, snpEntry('b', SNP_AGENT, ['unix:uid:1000', 'unix:gid:5'])), true);
    assert.equal(
      overlaps(
        snpEntry('a', SNP_AGENT, [`unix:sha256:${'00'.repeat(32)}`]),
        snpEntry('b', SNP_AGENT, [`unix:sha256:${EXE}`, 'unix:uid:7']),
      ),
      false,
    );
  });

  test('selectors are sorted; agents hex is lowercased; bad shapes are refused', () => {
    const p = parsePolicy({
      id: 'p',
      agents: { tdx: { shim: 'AB'.repeat(48) } },
      registrations: [snpEntry('a', SNP_AGENT, ['unix:uid:1', 'unix:gid:2'])],
    });
    assert.deepEqual(p.registrations[0]!.selectors, ['unix:gid:2', 'unix:uid:1']);
    assert.deepEqual(p.agents, { tdx: { shim: ['ab'.repeat(48)] } });
    for (const agents of [{ tdx: {} }, { tdx: { shim: 'zz' } }, { other: {} }]) {
      assert.throws(() => parsePolicy({ id: 'p', agents }), PolicyError);
    }
    assert.throws(
      () => parsePolicy({ id: 'p', registrations: [snpEntry('a', SNP_AGENT, [])] }),
      PolicyError,
    );
  });
});
