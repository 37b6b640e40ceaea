/**
 * The shim's revocation rules: a credential is revoked when its `jti` is in the latest bundle's
 * `revoked_jtis` or when the key that signed it was in an earlier bundle and is gone (or marked
 * revoked) — never for a key not yet seen; and the renewal loop drops a revoked credential at
 * once, re-attests without waiting, never runs two rounds together, and backs off when
 * revocations follow each other.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Credential } from '../../shim/credential.js';
import { createRenewal } from '../../shim/renewal.js';
import { createRevocationGuard, describeRevocation, witKid } from '../../shim/revocation.js';
import type { WatchedBundle } from '../../wimse/bundle-watch.js';

const b64u = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

function credential(jti: string, kid: string, lifetimeMs = 60_000): Credential {
  const now = Date.now();
  return {
    wit: `${b64u({ alg: 'ES256', typ: 'wit+jwt', kid })}.${b64u({ sub: 's', jti })}.c2ln`,
    ear: 'e.a.r',
    sub: 's',
    jti,
    issuedAt: new Date(now),
    expiresAt: new Date(now + lifetimeMs),
  };
}

function bundle(kids: string[], revoked: string[] = [], extra: object = {}): WatchedBundle {
  return {
    keys: kids.map((kid) => ({ kty: 'EC', kid, use: 'wit-svid', ...extra })),
    revoked_jtis: revoked,
  } as unknown as WatchedBundle;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('revocation guard', { timeout: 30_000 }, () => {
  it('reads the kid of a WIT and tolerates garbage', () => {
    assert.equal(witKid(credential('j', 'k1').wit), 'k1');
    assert.equal(witKid('not a token'), undefined);
  });

  it('flags a listed jti, and nothing before the first bundle', () => {
    const g = createRevocationGuard();
    const c = credential('j1', 'k1');
    assert.equal(g.check(c), undefined);
    g.observe(bundle(['k1'], ['j0']));
    assert.equal(g.check(c), undefined);
    g.observe(bundle(['k1'], ['j0', 'j1']));
    assert.deepEqual(g.check(c), { kind: 'jti', jti: 'j1' });
    assert.match(describeRevocation(g.check(c)!), /jti j1 .*re-attesting/);
  });

  it('flags a key that was published and is gone or marked revoked, not one never seen', () => {
    const g = createRevocationGuard();
    g.observe(bundle(['k1']));
    assert.equal(g.check(credential('j', 'k2')), undefined, 'k2 not yet seen');
    g.observe(bundle(['k2']));
    assert.deepEqual(g.check(credential('j', 'k1')), { kind: 'kid', kid: 'k1' });
    assert.equal(g.check(credential('j', 'k2')), undefined);
    g.observe(bundle(['k2'], [], { revoked: true }));
    assert.deepEqual(g.check(credential('j', 'k2')), { kind: 'kid', kid: 'k2' });
    assert.doesNotMatch(describeRevocation({ kind: 'kid', kid: 'k2' }), /eyJ/);
  });
});

describe('renewal on revocation', { timeout: 30_000 }, () => {
  it('drops the credential at once and re-attests without waiting for the schedule', async () => {
    let calls = 0;
    const r = createRenewal({
      obtain: async () => credential(`c${++calls}`, 'k'),
      minBackoffMs: 1000,
    });
    await r.ready;
    assert.equal(r.current()?.jti, 'c1');
    const started = Date.now();
    r.revoke();
    assert.equal(r.current(), undefined, 'not served after the revocation');
    while (r.current() === undefined) await sleep(2);
    assert.equal(r.current()?.jti, 'c2');
    assert.ok(Date.now() - started < 500, 'the new round started at once');
    r.stop();
  });

  it('a revocation during a round does not start a second one', async () => {
    let calls = 0;
    let running = 0;
    let most = 0;
    let release!: () => void;
    const r = createRenewal({
      obtain: async () => {
        calls++;
        running++;
        most = Math.max(most, running);
        if (calls === 2) await new Promise<void>((res) => (release = res));
        running--;
        return credential(`c${calls}`, 'k');
      },
    });
    await r.ready;
    r.revoke();
    await sleep(20);
    r.revoke();
    r.revoke();
    release();
    while (r.current() === undefined) await sleep(2);
    assert.equal(r.current()?.jti, 'c2');
    assert.equal(calls, 2);
    assert.equal(most, 1);
    r.stop();
  });

  it('revocations in quick succession back off instead of spinning', async () => {
    let calls = 0;
    const r = createRenewal({
      obtain: async () => credential(`c${++calls}`, 'k'),
      minBackoffMs: 200,
      maxBackoffMs: 200,
      random: () => 1,
      // Every new credential is revoked as soon as it arrives.
      onCredential: () => queueMicrotask(() => r.revoke()),
    });
    await sleep(700);
    r.stop();
    // At once after the first, then at most one round per 200 ms.
    assert.ok(calls >= 2 && calls <= 5, `rounds: ${calls}`);
  });
});
