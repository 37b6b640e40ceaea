/**
 * Scale-out: two service instances on one store, each with its own store handle (its own
 * connection pool and, on PostgreSQL, its own LISTEN connection), over real HTTP. Admin calls go
 * to instance A; attestations and a relying party subscribed to the bundle events go to B.
 * PostgreSQL runs with polling off, so only LISTEN/NOTIFY carries the changes; SQLite (one
 * file, two handles) polls every 50 ms. Cross-instance time to revocation is reported.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildCorim } from '../../endorsements/corim/encode.js';
import { tdxReferenceTriple } from '../../endorsements/corim/templates.js';
import { TWI_PROFILE } from '../../endorsements/corim/profiles.js';
import { loadAnchorStore } from '../../endorsements/anchors.js';
import { openSimulatedPki, type SimulatedPki } from '../../simulators/index.js';
import { createService } from '../../service/service.js';
import { openStore } from '../../service/store/open.js';
import type { Store } from '../../service/store/types.js';
import { dropPostgresSchema } from '../../service/store/postgres-store.js';
import {
  bundleTrust,
  verifyWit,
  watchBundle,
  type BundleTrust,
  type BundleWatch,
} from '../../wimse/rp.js';
import {
  adminCall,
  attestRaw,
  attestWit,
  GENEROUS_LIMITS,
  medianMax,
  NOW,
  PKI_CREATED,
  timeToReject,
} from './harness.js';
import { TEST_KEK } from '../helpers/kek.js';

const TOKEN = 'shared-state-admin-token-0123456789';
const REPETITIONS = 20;
const pgUrl = process.env['TWI_TEST_PG_URL'];

interface Instance {
  readonly store: Store;
  readonly app: FastifyInstance;
  readonly base: string;
}

interface Setup {
  open(): Promise<Store>;
  readonly syncIntervalMs: number;
  cleanup(): Promise<void>;
}

async function startInstance(store: Store, pkiDir: string, syncIntervalMs: number) {
  const app = await createService({
    store,
    anchors: loadAnchorStore([join(pkiDir, 'roots')]),
    issuer: 'https://verifier.example',
    trustDomain: 'example.org',
    now: () => NOW,
    logLevel: 'silent',
    adminToken: TOKEN,
    syncIntervalMs,
    limits: GENEROUS_LIMITS,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  if (!addr || typeof addr !== 'object') throw new Error('no listen address');
  return { store, app, base: `http://127.0.0.1:${addr.port}` };
}

const getJson = async <T>(url: string): Promise<T> => (await (await fetch(url)).json()) as T;

/** The MRTD the simulated TD of `pki` reports, read from the ledger record of `jti`. */
async function mrtdOf(store: Store, jti: string): Promise<string> {
  const record = (await store.credentials.get(jti))!.record as { claims: { mrtd: string } };
  return record.claims.mrtd;
}

function sharedStateSuite(name: string, setup: Setup | undefined, skip: string | false): void {
  describe(`two instances on one store: ${name}`, { skip }, () => {
    let dir: string;
    let pki: SimulatedPki;
    let a: Instance;
    let b: Instance;
    let watch: BundleWatch;
    let trust: BundleTrust;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'twi-shared-'));
      pki = await openSimulatedPki(join(dir, 'pki'), { seed: 'twi-shared', now: PKI_CREATED });
      // A first, so that B finds A's signing key instead of making its own.
      a = await startInstance(await setup!.open(), join(dir, 'pki'), setup!.syncIntervalMs);
      b = await startInstance(await setup!.open(), join(dir, 'pki'), setup!.syncIntervalMs);
      watch = watchBundle(b.base + '/v1/bundle/events', { minBackoffMs: 20 });
      trust = bundleTrust(watch);
      await watch.ready;
    });

    after(async () => {
      watch?.close();
      for (const i of [a, b]) {
        await i?.app.close();
        await i?.store.close();
      }
      await setup?.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    const verify = (wit: string) => () =>
      verifyWit(wit, { jwks: trust.jwks, isRevoked: trust.isRevoked, now: NOW });

    /** Waits until the relying party on B has a bundle satisfying `ok`. */
    const untilBundle = (ok: (kids: string[], seq: number) => boolean): Promise<number> =>
      timeToReject(async () => {
        const latest = watch.latest()!;
        if (
          ok(
            latest.keys.map((k) => String(k.kid)),
            latest.spiffe_sequence ?? 0,
          )
        ) {
          throw Object.assign(new Error('seen'), { code: 'SEEN' });
        }
      }, 'SEEN');

    test('both instances sign with one key and publish the same bundle', async () => {
      const wa = await attestWit(a.base, pki);
      const wb = await attestWit(b.base, pki);
      assert.equal(wa.kid, wb.kid);
      assert.deepEqual(await getJson(a.base + '/v1/bundle'), await getJson(b.base + '/v1/bundle'));
    });

    test(`credential revoked on A: the relying party on B rejects it (${REPETITIONS} reps)`, async (t) => {
      const times: number[] = [];
      for (let i = 0; i < REPETITIONS; i++) {
        const w = await attestWit(b.base, pki);
        await verify(w.wit)();
        await adminCall(a.base, TOKEN, 'POST', `/credentials/${w.jti}/revoke`);
        times.push(await timeToReject(verify(w.wit), 'ERR_WIT_REVOKED'));
      }
      t.diagnostic(`cross-instance time to revocation, credential: ${medianMax(times)}`);
      assert.deepEqual(await getJson(a.base + '/v1/bundle'), await getJson(b.base + '/v1/bundle'));
    });

    test('key rotated on A: B publishes the new key and its next WIT carries the new kid', async () => {
      const before = await attestWit(b.base, pki);
      const rotated = await adminCall(a.base, TOKEN, 'POST', '/keys/rotate');
      assert.equal(rotated.previous_kid, before.kid);
      await untilBundle((kids) => kids.includes(String(rotated.kid)));
      const next = await attestWit(b.base, pki);
      assert.equal(next.kid, rotated.kid);
      const jwks = await getJson<{ keys: { kid: string }[] }>(b.base + '/.well-known/jwks.json');
      assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), [before.kid, next.kid].sort());
      await verify(before.wit)();
      await verify(next.wit)();
    });

    test('signing key revoked on A: rejected on B, and B stops signing with it', async (t) => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const w = await attestWit(b.base, pki);
        await verify(w.wit)();
        const out = await adminCall(a.base, TOKEN, 'POST', `/keys/${w.kid}/revoke`);
        times.push(await timeToReject(verify(w.wit), 'ERR_WIT_UNKNOWN_KEY'));
        const next = await attestWit(b.base, pki);
        assert.notEqual(next.kid, w.kid, 'B signs with a fresh key');
        assert.equal(next.kid, out.signing_kid, 'the key A made to take over');
        await verify(next.wit)();
      }
      t.diagnostic(`cross-instance time to revocation, signing key: ${medianMax(times)}`);
    });

    test('policy and reference values set on A apply on B, and persist', async () => {
      const ok = await attestWit(b.base, pki);
      const mrtd = await mrtdOf(b.store, ok.jti);
      const other = 'ab'.repeat(48);
      const seq = watch.latest()!.spiffe_sequence!;
      const pinned = JSON.stringify({ id: 'pinned', tdx: { mrtd: other } });
      const put = await adminCall(a.base, TOKEN, 'PUT', '/policy', {
        data: pinned,
        type: 'application/json',
      });
      assert.equal(put.spiffe_sequence, seq + 1);
      await untilBundle((_kids, s) => s >= seq + 1);
      const refused = await attestRaw(b.base, pki);
      assert.equal(refused.status, 403);
      assert.equal(
        ((await refused.json()) as { code: string }).code,
        'ERR_APPRAISAL_CONTRAINDICATED',
      );

      // A new instance reads the stored policy at start.
      const c = await startInstance(await setup!.open(), join(dir, 'pki'), 0);
      try {
        assert.equal((await attestRaw(c.base, pki)).status, 403);
      } finally {
        await c.app.close();
        await c.store.close();
      }

      await adminCall(a.base, TOKEN, 'PUT', '/policy', {
        data: 'id: open\n',
        type: 'application/yaml',
      });
      const corim = (value: string) =>
        buildCorim({
          id: `tag:twi.dev,2026:shared/${value.slice(0, 8)}`,
          profile: TWI_PROFILE,
          comids: [{ tagId: 'refs', referenceTriples: [tdxReferenceTriple({ mrtd: value })] }],
        });
      const wrong = await adminCall(a.base, TOKEN, 'PUT', '/reference-values', {
        data: corim(other),
        type: 'application/rim+cbor',
      });
      assert.deepEqual(wrong.platforms, ['tdx']);
      await untilBundle((_kids, s) => s >= Number(wrong.spiffe_sequence));
      assert.equal((await attestRaw(b.base, pki)).status, 403, 'B appraises with A’s CoRIM');
      const right = await adminCall(a.base, TOKEN, 'PUT', '/reference-values', {
        data: corim(mrtd),
        type: 'application/rim+cbor',
      });
      await untilBundle((_kids, s) => s >= Number(right.spiffe_sequence));
      assert.equal((await attestRaw(b.base, pki)).status, 200);
      await adminCall(a.base, TOKEN, 'DELETE', '/reference-values');
    });
  });
}

const pgSchema = `twi_shared_${randomBytes(5).toString('hex')}`;
sharedStateSuite(
  'PostgreSQL, push only (LISTEN/NOTIFY, polling off)',
  pgUrl
    ? {
        open: () => openStore(pgUrl, { schema: pgSchema, kek: TEST_KEK }),
        syncIntervalMs: 0,
        cleanup: () => dropPostgresSchema(pgUrl, pgSchema),
      }
    : undefined,
  pgUrl ? false : 'TWI_TEST_PG_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)',
);

const sqliteDir = mkdtempSync(join(tmpdir(), 'twi-shared-sqlite-'));
sharedStateSuite(
  'SQLite file, two handles, polling every 50 ms',
  {
    open: () => openStore('sqlite:' + join(sqliteDir, 'twi.db')),
    syncIntervalMs: 50,
    cleanup: async () => rmSync(sqliteDir, { recursive: true, force: true }),
  },
  false,
);
