/**
 * Revocation reaches the workload, end to end (`twi shim --emulate nitro` against the verifier
 * on loopback, a relying party on bundle events): when the shim's credential `jti` is revoked
 * through the admin API, the shim logs why (the jti, never the token), re-attests at once and
 * serves a new credential the relying party accepts; when its build is revoked (by measurement)
 * the shim stops serving (503 `ERR_SHIM_CREDENTIAL_REVOKED`, no `wit.jwt`), its re-attestation
 * is refused with `ERR_BUILD_REVOKED`, and once the revocation is lifted it attests again.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createShimClient, ShimApiError } from '../../shim/client.js';
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

/** Polls `probe` every 20 ms until it returns a value, at most `ms`. */
async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) assert.fail(`${what} within ${ms} ms`);
    await sleep(20);
  }
}

describe('twi shim: revocation reaches the workload', { timeout: 120_000 }, () => {
  let verifier: TestVerifier;
  let rp: TestRp;
  let dir: string;
  let shim: ShimProcess;
  let client: ShimClient;
  const admin = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(verifier.base + path, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const json = (await r.json()) as Record<string, unknown>;
    assert.equal(r.status, 200, `${method} ${path}: ${JSON.stringify(json)}`);
    return json;
  };
  const callRp = async (wit: string, wpt: string) => {
    const r = await fetch(rp.audience, {
      headers: { 'workload-identity-token': wit, 'workload-proof-token': wpt },
    });
    return r.status === 200 ? 'ok' : ((await r.json()) as { code: string }).code;
  };

  before(async () => {
    // A long lifetime: no scheduled renewal during the test, only the ones revocation causes.
    verifier = await startVerifier({ seed: 'shim-revoke', witLifetimeSeconds: 600 });
    rp = await startRp(verifier.base);
    dir = mkdtempSync(join(tmpdir(), 'twi-shim-revoke-'));
    shim = startShimProcess({ platform: 'nitro', verifier, dir, retryMaxMs: 400 });
    await waitForCredential(shim);
    client = createShimClient({ socketPath: shim.socket });
  });
  after(async () => {
    await shim?.stop();
    await rp?.close();
    await verifier?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a revoked jti: the shim logs it, re-attests at once and the relying party accepts the new credential', async (t) => {
    const old = await client.wit();
    const oldWpt = await client.wpt({ aud: rp.audience });
    assert.equal(await callRp(old.token, oldWpt.token), 'ok');
    const started = Date.now();
    await admin('POST', `/v1/admin/credentials/${encodeURIComponent(old.jti!)}/revoke`);
    const fresh = await until('a new credential', 10_000, async () => {
      const w = await client.wit().catch(() => undefined);
      return w && w.jti !== old.jti ? w : undefined;
    });
    const tookMs = Date.now() - started;
    // Far sooner than the scheduled renewal (half of 600 s): the revocation caused it.
    assert.ok(tookMs < 10_000, `re-attested after ${tookMs} ms`);
    assert.match(shim.stderr(), new RegExp(`credential revoked: its jti ${old.jti} is listed`));
    assert.ok(!shim.stderr().includes(old.token), 'the token is never logged');
    // Fresh nonce and evidence: a second ledger record with another evidence digest.
    const [a, b] = await Promise.all([
      verifier.store.credentials.get(old.jti!),
      verifier.store.credentials.get(fresh.jti!),
    ]);
    assert.ok(a?.revokedAt && b && !b.revokedAt);
    assert.notEqual(a.evidenceDigest, b.evidenceDigest);
    // The relying party refuses the old WIT and accepts calls with the new one.
    assert.equal(await callRp(old.token, oldWpt.token), 'ERR_WIT_REVOKED');
    const res = await client.fetch(rp.audience);
    assert.equal(res.status, 200, await res.clone().text());
    const file = await until('wit.jwt with the new credential', 5000, async () => {
      const p = join(shim.files, 'wit.jwt');
      const t = existsSync(p) ? readFileSync(p, 'utf8').trim() : '';
      return t === fresh.token ? t : undefined;
    });
    assert.equal((decodeCompact(file).payload as { jti: string }).jti, fresh.jti);
    t.diagnostic(`jti revoked → new credential served after ${tookMs} ms`);
  });

  it('a revoked build: the shim stops serving, is refused ERR_BUILD_REVOKED, and attests again once lifted', async () => {
    const current = await client.wit();
    const record = (await (
      await fetch(`${verifier.base}/v1/provenance/${current.jti}`)
    ).json()) as {
      record: { measurements: { field: string; alg: string; value: string }[] };
    };
    const m = record.record.measurements[0]!;
    const measurement = `${m.alg}:${m.value}`;
    const revoked = await admin('POST', '/v1/revoke', { measurement });
    assert.deepEqual(revoked.revoked, [current.jti]);
    assert.deepEqual(revoked.blocked, { field: 'measurement', value: measurement });

    const err = await until('the revoked answer', 5000, async () => {
      try {
        await client.wit();
        return undefined;
      } catch (e) {
        return e as ShimApiError;
      }
    });
    assert.ok(err instanceof ShimApiError);
    assert.equal(err.code, 'ERR_SHIM_CREDENTIAL_REVOKED');
    assert.equal(err.status, 503);
    assert.match(err.message, new RegExp(String(current.jti)));
    await assert.rejects(client.wpt({ aud: rp.audience }), { code: 'ERR_SHIM_CREDENTIAL_REVOKED' });
    await assert.rejects(client.fetch(rp.audience), { code: 'ERR_SHIM_CREDENTIAL_REVOKED' });
    assert.equal(existsSync(join(shim.files, 'wit.jwt')), false, 'the WIT file is removed');
    await until('a refused re-attestation', 10_000, async () =>
      /attestation failed \(ERR_SHIM_ATTEST_REFUSED: verifier answered 403 ERR_BUILD_REVOKED/.test(
        shim.stderr(),
      )
        ? true
        : undefined,
    );
    // Still refused after several retries (backoff up to 400 ms).
    await sleep(1000);
    await assert.rejects(client.wit(), { code: 'ERR_SHIM_CREDENTIAL_REVOKED' });

    await admin(
      'DELETE',
      `/v1/admin/revoked-builds?measurement=${encodeURIComponent(measurement)}`,
    );
    const back = await until('a credential after the lift', 10_000, () =>
      client.wit().catch(() => undefined),
    );
    assert.notEqual(back.jti, current.jti);
    const res = await client.fetch(rp.audience);
    assert.equal(res.status, 200, await res.clone().text());
    assert.ok(existsSync(join(shim.files, 'wit.jwt')));
  });
});
