/**
 * The shim under a short credential lifetime: several renewals with no gap for the workload,
 * a verifier outage shorter than the remaining validity that the workload does not notice,
 * and a revoked issuer key that reaches the relying party through the bundle push and makes
 * the shim re-attest.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createShimClient } from '../../shim/client.js';
import type { ShimClient } from '../../shim/client.js';
import { decodeCompact } from '../../wimse/jws.js';
import {
  ADMIN_TOKEN,
  startRp,
  startShimProcess,
  startVerifier,
  waitForCredential,
} from './setup.js';
import type { ShimProcess, TestRp, TestVerifier } from './setup.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls the relying party every `everyMs` for `forMs`; returns statuses and the WIT jtis used. */
async function callFor(client: ShimClient, rp: TestRp, forMs: number, everyMs = 200) {
  const statuses: string[] = [];
  const jtis = new Set<string>();
  const until = Date.now() + forMs;
  while (Date.now() < until) {
    const res = await client.fetch(rp.audience);
    const body = (await res.json()) as { code?: string };
    statuses.push(res.status === 200 ? 'ok' : `${res.status} ${body.code}`);
    jtis.add((await client.wit()).jti ?? '');
    await sleep(everyMs);
  }
  return { statuses, jtis };
}

describe('twi shim renewal, verifier outage and revocation', () => {
  let verifier: TestVerifier;
  let rp: TestRp;
  let dir: string;
  let shim: ShimProcess;
  let client: ShimClient;
  before(async () => {
    verifier = await startVerifier({ seed: 'shim-renew', witLifetimeSeconds: 6 });
    rp = await startRp(verifier.base);
    dir = mkdtempSync(join(tmpdir(), 'twi-shim-renew-'));
    shim = startShimProcess({
      platform: 'nitro',
      verifier,
      dir,
      renewFraction: 0.5,
      retryMaxMs: 400,
    });
    await waitForCredential(shim);
    client = createShimClient({ socketPath: shim.socket });
  });
  after(async () => {
    await shim.stop();
    await rp.close();
    await verifier.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the socket to the owner only', () => {
    assert.equal(statSync(shim.socket).mode & 0o777, 0o600);
  });

  it('renews several times with no failed call', async () => {
    const { statuses, jtis } = await callFor(client, rp, 7000);
    assert.deepEqual([...new Set(statuses)], ['ok'], statuses.join(', '));
    assert.ok(jtis.size >= 3, `WITs used: ${[...jtis].join(', ')}`);
    // Fresh nonce and evidence each time: every credential is a new record at the verifier.
    const fileWit = readFileSync(join(shim.files, 'wit.jwt'), 'utf8').trim();
    const jti = (decodeCompact(fileWit).payload as { jti: string }).jti;
    assert.ok((await verifier.store.credentials.get(jti)) !== undefined);
  });

  it('keeps the workload working while the verifier is down', async () => {
    // Just after a renewal: at least ~2.7 s of validity left (lifetime 6 s, renewal at half ± 10 %).
    const first = (await client.wit()).jti;
    while ((await client.wit()).jti === first) await sleep(50);
    await verifier.stop();
    // Down past the renewal instant (about 3 s after issuance), back well before expiry (6 s).
    const down = await callFor(client, rp, 3500);
    await verifier.start();
    const up = await callFor(client, rp, 1500);
    assert.deepEqual([...new Set([...down.statuses, ...up.statuses])], ['ok']);
    assert.match(shim.stderr(), /attestation failed \(ERR_SHIM_VERIFIER_UNAVAILABLE/);
    assert.ok(
      [...up.jtis].some((j) => !down.jtis.has(j)),
      'renewed after the verifier came back',
    );
  });

  it('a revoked issuer key reaches the relying party through the bundle push', async () => {
    const wit = await client.wit();
    const kid = decodeCompact(wit.token).header.kid as string;
    // Signed before the revocation: the shim stops serving the credential once it sees it.
    const wpt = await client.wpt({ aud: rp.audience });
    const res = await fetch(`${verifier.base}/v1/admin/keys/${encodeURIComponent(kid)}/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(res.status, 200, await res.text());
    let code = '';
    for (let i = 0; i < 50 && code === ''; i++) {
      const r = await fetch(rp.audience, {
        headers: { 'workload-identity-token': wit.token, 'workload-proof-token': wpt.token },
      });
      if (r.status !== 200) code = ((await r.json()) as { code: string }).code;
      else await sleep(20);
    }
    assert.equal(code, 'ERR_WIT_UNKNOWN_KEY');
    // The shim's bundle follows too; it drops the credential, says why, and re-attests at once:
    // its next credential is signed by the new key.
    for (let i = 0; i < 100; i++) {
      const b = await client.bundle();
      const kids = (b.bundle.keys as { kid: string }[]).map((k) => k.kid);
      const current = await client.wit().catch(() => undefined);
      if (!kids.includes(kid) && current && decodeCompact(current.token).header.kid !== kid) {
        assert.match(
          shim.stderr(),
          new RegExp(`its signing key ${kid} is no longer in the bundle`),
        );
        return;
      }
      await sleep(100);
    }
    assert.fail('the shim did not follow the key revocation');
  });
});
