/**
 * Two verifier service processes on one PostgreSQL schema race to consume the same nonces:
 * 100 nonces are taken from instance 1, and for each the same attest request (simulated Nitro
 * evidence bound to that nonce) goes to both instances at once. Exactly one of each pair is
 * accepted and the other refused with 409 `ERR_NONCE_REUSED`; the store holds exactly one
 * credential per nonce.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInstance, type Instance } from '../load/instances.js';
import { dropSchema, postgresLedger } from '../load/ledger.js';
import { createLoadPki, evidenceCmw, nitroDocument, workloadKey } from '../load/nitro-evidence.js';

const url = process.env['TWI_TEST_PG_URL'];
const skip = url
  ? false
  : 'TWI_TEST_PG_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)';
const NONCES = 100;
/** Pairs in flight at once: enough to overlap, few enough to stay quick on 2 cores. */
const PARALLEL = 8;

async function post(base: string, path: string, body?: unknown) {
  const r = await fetch(base + path, {
    method: 'POST',
    ...(body !== undefined && {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

test(
  `two service processes on one PostgreSQL race for ${NONCES} nonces: one 200 and one 409 each`,
  { skip, timeout: 60_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'twi-race-'));
    const schema = `twi_race_${randomBytes(5).toString('hex')}`;
    const instances: Instance[] = [];
    try {
      const pki = createLoadPki(dir);
      const store = { url: url!, schema };
      // One after the other: the first creates the schema and the signing key.
      instances.push(await startInstance(store, pki.rootsDir));
      instances.push(await startInstance(store, pki.rootsDir));
      const [one, two] = instances.map((i) => i.url) as [string, string];
      const key = workloadKey();
      const bodies: unknown[] = [];
      for (let i = 0; i < NONCES; i++) {
        const c = await post(one, '/v1/challenge');
        assert.equal(c.status, 200);
        const nonce = String(c.json.nonce);
        bodies.push({ nonce, evidence: evidenceCmw(nitroDocument(pki, nonce, key)), key: key.jwk });
      }
      const outcomes: string[] = [];
      const started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: PARALLEL }, async () => {
          while (next < bodies.length) {
            const body = bodies[next++];
            const pair = await Promise.all([
              post(one, '/v1/attest', body),
              post(two, '/v1/attest', body),
            ]);
            const codes = pair.map((r) =>
              r.status === 200 ? '200' : `${r.status} ${String(r.json.code)}`,
            );
            outcomes.push(codes.sort().join(' + '));
          }
        }),
      );
      const elapsed = performance.now() - started;
      const tally = new Map<string, number>();
      for (const o of outcomes) tally.set(o, (tally.get(o) ?? 0) + 1);
      t.diagnostic(
        `outcomes: ${JSON.stringify(Object.fromEntries(tally))} in ${Math.round(elapsed)} ms`,
      );
      assert.deepEqual(Object.fromEntries(tally), { '200 + 409 ERR_NONCE_REUSED': NONCES });
      await Promise.all(instances.map((i) => i.stop()));
      const ledger = await postgresLedger(url!, schema);
      assert.deepEqual(ledger, { credentials: NONCES, distinctNonces: NONCES, usedNonces: NONCES });
    } finally {
      await Promise.all(instances.map((i) => i.stop()));
      await dropSchema(url!, schema).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
