/**
 * The shim checks every WIT it receives against the trust bundle before serving it: unit
 * checks of `createWitCheck`, and a shim running against a small HTTP verifier that signs
 * with real keys, one of which is not in its bundle.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nativeWorkloadKey } from './native-key.js';
import type { AttesterDevice } from '../../shim/attester.js';
import { createShimClient } from '../../shim/client.js';
import { startShim } from '../../shim/shim.js';
import type { Shim } from '../../shim/shim.js';
import { createWitCheck, firstBundleOf, witSvidKeys } from '../../shim/wit-check.js';
import { newKeyPair } from '../../common/key-pair.js';
import type { WatchedBundle } from '../../wimse/bundle-watch.js';
import { signCompact } from '../../wimse/jws.js';
import { issueWit } from '../../wimse/wit.js';

const SUB = 'wimse://wit.example/workload';

interface Issuer {
  readonly privateKey: KeyObject;
  readonly kid: string;
  readonly jwk: Record<string, unknown>;
}

function newIssuer(kid: string): Issuer {
  const { privateKey, publicKey } = newKeyPair('ec', { namedCurve: 'P-256' });
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as JsonWebKey), kid, alg: 'ES256' };
  return { privateKey, kid, jwk };
}

/** A new P-256 public JWK with `alg` (a key that is not the shim's). */
function freshPublicJwk(): Record<string, unknown> {
  const { publicKey } = newKeyPair('ec', { namedCurve: 'P-256' });
  return { ...(publicKey.export({ format: 'jwk' }) as JsonWebKey), alg: 'ES256' };
}

/** How the fake verifier signs its next WIT. */
type Mode = 'good' | 'unknown-key' | 'other-cnf' | 'wrong-typ' | 'other-domain' | 'revoked';

interface WitRequest {
  readonly mode: Mode;
  readonly issuer: Issuer;
  readonly rogue: Issuer;
  readonly cnfJwk: Record<string, unknown>;
  readonly lifetimeSeconds: number;
  readonly jti?: string;
}

async function witFor(r: WitRequest): Promise<string> {
  const now = new Date();
  const signer = r.mode === 'unknown-key' ? r.rogue : r.issuer;
  const cnfJwk = r.mode === 'other-cnf' ? freshPublicJwk() : r.cnfJwk;
  if (r.mode === 'wrong-typ') {
    const iat = Math.floor(now.getTime() / 1000);
    const claims = { sub: SUB, cnf: { jwk: cnfJwk }, iat, exp: iat + r.lifetimeSeconds };
    return signCompact({ kid: signer.kid, typ: 'JWT' }, claims, signer.privateKey, 'ES256');
  }
  const { wit } = await issueWit({
    sub: r.mode === 'other-domain' ? 'wimse://elsewhere.example/workload' : SUB,
    cnfJwk,
    key: { privateKey: signer.privateKey, alg: 'ES256', kid: signer.kid },
    lifetimeSeconds: r.lifetimeSeconds,
    now,
    ...(r.jti !== undefined && { jti: r.jti }),
  });
  return wit;
}

describe('createWitCheck', { timeout: 30_000 }, () => {
  const issuer = newIssuer('issuer-1');
  const rogue = newIssuer('rogue-1');
  const own = freshPublicJwk();
  const bundle: WatchedBundle = {
    keys: [{ ...issuer.jwk, use: 'wit-svid' }],
    revoked_jtis: ['revoked-jti'],
  };
  const check = () =>
    createWitCheck({
      latestBundle: () => bundle,
      firstBundle: () => Promise.reject(new Error('not used')),
      publicJwk: own,
    });
  const base = { issuer, rogue, cnfJwk: own, lifetimeSeconds: 600 };

  it('passes a WIT signed by the bundle key for the shim key, and pins its trust domain', async () => {
    const c = check();
    const v = await c.check(await witFor({ ...base, mode: 'good' }));
    assert.equal(v.claims.sub, SUB);
    assert.equal(c.trustDomain(), 'wit.example');
    await assert.rejects(c.check(await witFor({ ...base, mode: 'other-domain' })), {
      code: 'ERR_SHIM_WIT_REJECTED',
      message: /ERR_WIT_TRUST_DOMAIN/,
    });
  });

  it("ignores the bundle's x509-svid CA entries (no kid, x5c) when checking a WIT", async () => {
    const ca = newIssuer('ca-1');
    const withCa: WatchedBundle = {
      keys: [
        { ...ca.jwk, kid: undefined, use: 'x509-svid', x5c: ['AAAA'] },
        { ...issuer.jwk, use: 'wit-svid' },
        // Even a CA entry that names the signing kid does not make that kid ambiguous.
        { ...ca.jwk, kid: issuer.jwk.kid, use: 'x509-svid', x5c: ['AAAA'] },
      ],
    };
    assert.deepEqual(
      witSvidKeys(withCa).keys.map((k) => k.use),
      ['wit-svid'],
    );
    const c = createWitCheck({
      latestBundle: () => withCa,
      firstBundle: () => Promise.reject(new Error('not used')),
      publicJwk: own,
    });
    const v = await c.check(await witFor({ ...base, mode: 'good' }));
    assert.equal(v.claims.sub, SUB);
  });

  for (const [mode, inner] of [
    ['unknown-key', 'ERR_WIT_UNKNOWN_KEY'],
    ['other-cnf', 'ERR_WIT_CNF'],
    ['wrong-typ', 'ERR_WIT_INVALID'],
    ['revoked', 'ERR_WIT_REVOKED'],
  ] as const) {
    it(`refuses ${mode} with ${inner}, never quoting the token`, async () => {
      const wit = await witFor({
        ...base,
        mode,
        ...(mode === 'revoked' && { jti: 'revoked-jti' }),
      });
      const err = await check()
        .check(wit)
        .then(
          () => assert.fail('accepted'),
          (e: Error & { code?: string }) => e,
        );
      assert.equal(err.code, 'ERR_SHIM_WIT_REJECTED');
      assert.match(err.message, new RegExp(`\\(${inner}\\)`));
      assert.ok(!err.message.includes(wit) && !err.message.includes(wit.split('.')[2]!));
    });
  }

  it('refuses an expired WIT and a key whose use is not wit-svid or that is marked revoked', async () => {
    const wit = await witFor({ ...base, mode: 'good' });
    const later = createWitCheck({
      latestBundle: () => bundle,
      firstBundle: () => Promise.reject(new Error('not used')),
      publicJwk: own,
      now: () => new Date(Date.now() + 601_000),
    });
    await assert.rejects(later.check(wit), { message: /ERR_WIT_EXPIRED/ });
    for (const k of [
      { ...issuer.jwk, use: 'sig' },
      { ...issuer.jwk, use: 'wit-svid', revoked: true },
    ]) {
      assert.equal(witSvidKeys({ keys: [k] }).keys.length, 0);
      const c = createWitCheck({
        latestBundle: () => ({ keys: [k] }),
        firstBundle: () => Promise.reject(new Error('not used')),
        publicJwk: own,
      });
      await assert.rejects(c.check(wit), { message: /ERR_WIT_UNKNOWN_KEY/ });
    }
  });

  it('waits for the first bundle, and gives ERR_JWKS_UNAVAILABLE when none comes', async () => {
    const wit = await witFor({ ...base, mode: 'good' });
    let fetched = 0;
    const c = createWitCheck({
      latestBundle: () => undefined,
      firstBundle: () =>
        firstBundleOf(new Promise(() => undefined), async () => (fetched++, bundle), 5000),
      publicJwk: own,
    });
    assert.equal((await c.check(wit)).claims.sub, SUB);
    assert.equal(fetched, 1);
    const none = createWitCheck({
      latestBundle: () => undefined,
      firstBundle: () =>
        firstBundleOf(new Promise(() => undefined), () => Promise.reject(new Error('down')), 100),
      publicJwk: own,
    });
    await assert.rejects(none.check(wit), { message: /ERR_JWKS_UNAVAILABLE/ });
  });
});

/** A verifier speaking the v1 routes the shim uses; it signs each WIT as `mode` says. */
function fakeVerifier(issuer: Issuer, rogue: Issuer, state: { mode: Mode; withEvents: boolean }) {
  const bundle = { keys: [{ ...issuer.jwk, use: 'wit-svid' }], spiffe_sequence: 1 };
  const streams = new Set<ServerResponse>();
  let attests = 0;
  let bundleGets = 0;
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.url === '/v1/challenge') {
        const expires_at = new Date(Date.now() + 60_000).toISOString();
        return json(200, { nonce: randomBytes(32).toString('base64url'), expires_at });
      }
      if (req.url === '/v1/attest') {
        attests++;
        const key = (JSON.parse(text) as { key: Record<string, unknown> }).key;
        const lifetimeSeconds = 10;
        void witFor({ mode: state.mode, issuer, rogue, cnfJwk: key, lifetimeSeconds }).then((wit) =>
          json(200, {
            wit,
            ear: 'ear.not.checked',
            expires_at: new Date(Date.now() + lifetimeSeconds * 1000).toISOString(),
          }),
        );
        return;
      }
      if (req.url === '/v1/bundle') return (bundleGets++, json(200, bundle));
      if (req.url === '/v1/bundle/events' && state.withEvents) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`event: bundle\ndata: ${JSON.stringify(bundle)}\n\n`);
        streams.add(res);
        res.on('close', () => streams.delete(res));
        return;
      }
      json(404, { code: 'ERR_NOT_FOUND' });
    });
  });
  return {
    server,
    attests: () => attests,
    bundleGets: () => bundleGets,
    close: () => {
      for (const s of streams) s.destroy();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('the shim refuses WITs that fail the bundle check', { timeout: 120_000 }, () => {
  const issuer = newIssuer('issuer-1');
  const rogue = newIssuer('rogue-1');
  const state = { mode: 'good' as Mode, withEvents: true };
  const verifier = fakeVerifier(issuer, rogue, state);
  let dir: string;
  let shim: Shim;
  const lines: string[] = [];
  const attester: AttesterDevice = {
    platform: 'tdx',
    createKey: () => Promise.resolve(nativeWorkloadKey()),
    // This verifier does not appraise: what is under test is the WIT it answers.
    collectEvidence: (b) =>
      Promise.resolve({
        mediaType: 'application/octet-stream',
        evidence: b.reportData,
        endorsements: [],
      }),
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twi-shim-witcheck-'));
    writeFileSync(join(dir, 'code.js'), 'measured\n');
    await new Promise<void>((r) => verifier.server.listen(0, '127.0.0.1', () => r()));
    const port = (verifier.server.address() as { port: number }).port;
    shim = await startShim({
      attester,
      verifier: `http://127.0.0.1:${port}/`,
      socketPath: join(dir, 'shim.sock'),
      measuredFiles: [join(dir, 'code.js')],
      renewFraction: 0.1,
      minBackoffMs: 50,
      maxBackoffMs: 200,
      log: (l) => lines.push(l),
    });
  });
  after(async () => {
    await shim?.close();
    await verifier.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a good WIT, keeps it while renewals are refused, then takes the next good one', async () => {
    const client = createShimClient({ socketPath: shim.socketPath });
    const first = await shim.ready;
    assert.equal((await client.wit()).token, first.wit);
    for (const [mode, code] of [
      ['unknown-key', 'ERR_WIT_UNKNOWN_KEY'],
      ['other-cnf', 'ERR_WIT_CNF'],
      ['wrong-typ', 'ERR_WIT_INVALID'],
    ] as const) {
      state.mode = mode;
      const seen = lines.length;
      await until(`a ${code} refusal`, () =>
        lines.slice(seen).some((l) => l.includes(`ERR_SHIM_WIT_REJECTED`) && l.includes(code)),
      );
      // The refused WIT is not served: the first one still is (valid for 10 s, renewed at 1 s).
      assert.ok(Date.now() < first.expiresAt.getTime() - 1000);
      assert.equal((await client.wit()).token, first.wit);
    }
    state.mode = 'good';
    await until('a new good credential', async () => {
      const w = await client.wit().catch(() => undefined);
      return w !== undefined && w.token !== first.wit;
    });
    const served = (await client.wit()).token;
    assert.ok(!lines.some((l) => l.includes(served) || l.includes(first.wit.split('.')[2]!)));
    assert.ok(shim.stats().failures >= 3);
  });
});

describe(
  'a shim whose bundle stream is silent fetches the bundle first',
  { timeout: 60_000 },
  () => {
    const issuer = newIssuer('issuer-2');
    const state = { mode: 'good' as Mode, withEvents: false };
    const verifier = fakeVerifier(issuer, newIssuer('rogue-2'), state);
    let dir: string;
    let shim: Shim | undefined;

    after(async () => {
      await shim?.close();
      await verifier.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('checks the first WIT against GET /v1/bundle and serves it', async () => {
      dir = mkdtempSync(join(tmpdir(), 'twi-shim-witcheck-'));
      writeFileSync(join(dir, 'code.js'), 'measured\n');
      await new Promise<void>((r) => verifier.server.listen(0, '127.0.0.1', () => r()));
      const port = (verifier.server.address() as { port: number }).port;
      shim = await startShim({
        attester: {
          platform: 'tdx',
          createKey: () => Promise.resolve(nativeWorkloadKey()),
          collectEvidence: (b) =>
            Promise.resolve({
              mediaType: 'application/octet-stream',
              evidence: b.reportData,
              endorsements: [],
            }),
        },
        verifier: `http://127.0.0.1:${port}/`,
        socketPath: join(dir, 'shim.sock'),
        measuredFiles: [join(dir, 'code.js')],
        trustDomain: 'wit.example',
      });
      const c = await shim.ready;
      assert.equal(c.sub, SUB);
      assert.equal(verifier.attests(), 1);
      assert.equal(verifier.bundleGets(), 1);
    });
  },
);
