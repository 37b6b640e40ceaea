/**
 * Revocation by build: revoking by source commit (or measurement) also keeps the same build from
 * obtaining a new credential — 403 `ERR_BUILD_REVOKED`, nothing committed — on every later
 * attestation, including one whose link to the commit comes from a record it supplies itself,
 * until an admin lifts the revocation; `"block": false` revokes the live credentials only.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newKeyPair } from '../../common/key-pair.js';
import { builderKey } from '../../provenance/dsse.js';
import { simulateSlsaProvenance } from '../../simulators/index.js';
import { evidenceCmw, NOW, startTestService, workloadKey, type TestService } from './harness.js';

const TOKEN = 'build-revocation-admin-token-0123456789';
const BUILDER = 'https://ci.example/builders/tee-image@v1';
const COMMIT_X = 'a'.repeat(40);
const COMMIT_Y = 'b'.repeat(40);
const COMMIT_Z = 'c'.repeat(40);
const MRTD_A = 'a1'.repeat(48);
const MRTD_B = 'b2'.repeat(48);
const MRTD_C = 'c3'.repeat(48);
const builder = newKeyPair('ec', { namedCurve: 'P-256' });

const provenanceFor = (mrtd: string, commit: string) =>
  simulateSlsaProvenance({
    subjects: [{ name: 'td-image', digest: { sha384: mrtd } }],
    builderId: BUILDER,
    repository: 'https://github.com/acme/payments',
    commit,
    signers: [{ key: builder.privateKey }],
  });

type Answer = { status: number; body: Record<string, unknown> };

describe('revocation by build refuses new credentials until lifted', { timeout: 120_000 }, () => {
  let service: TestService;

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    token: string | null = TOKEN,
  ): Promise<Answer> => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const r = await fetch(service.base + path, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  const attest = async (mrtd: string, supplyChain?: unknown[]): Promise<Answer> => {
    const key = workloadKey();
    const { nonce } = (await call('POST', '/v1/challenge', undefined, null)).body as {
      nonce: string;
    };
    const evidence = evidenceCmw(service.pki, 'tdx', nonce, key, {
      mrtd: new Uint8Array(Buffer.from(mrtd, 'hex')),
    });
    const body = {
      nonce,
      evidence,
      key: key.jwk,
      ...(supplyChain && { supply_chain: supplyChain }),
    };
    return call('POST', '/v1/attest', body, null);
  };
  const jtiOf = (a: Answer): string =>
    (
      JSON.parse(Buffer.from(String(a.body.wit).split('.')[1]!, 'base64url').toString()) as {
        jti: string;
      }
    ).jti;
  const issuedFor = async (mrtd: string): Promise<string[]> =>
    (
      (await call('GET', `/v1/provenance?measurement=${mrtd}`)).body.credentials as {
        jti: string;
      }[]
    ).map((c) => c.jti);

  before(async () => {
    service = await startTestService({
      seed: 'twi-build-revocation',
      clock: () => NOW,
      adminToken: TOKEN,
      provenance: { builders: [builderKey(builder.publicKey, [BUILDER])] },
    });
    for (const [mrtd, commit] of [
      [MRTD_A, COMMIT_X],
      [MRTD_B, COMMIT_Y],
    ] as const) {
      const r = await call('POST', '/v1/admin/provenance', provenanceFor(mrtd, commit));
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
  });
  after(async () => service?.close());

  test('revoking by commit refuses the same build with ERR_BUILD_REVOKED; other builds attest', async () => {
    const a1 = await attest(MRTD_A);
    assert.equal(a1.status, 200, JSON.stringify(a1.body));
    const r = await call('POST', '/v1/revoke', { commit: COMMIT_X });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.revoked, [jtiOf(a1)]);
    assert.deepEqual(r.body.blocked, { field: 'commit', value: COMMIT_X });

    const again = await attest(MRTD_A);
    assert.equal(again.status, 403, JSON.stringify(again.body));
    assert.equal(again.body.code, 'ERR_BUILD_REVOKED');
    assert.match(String(again.body.detail), new RegExp(`commit ${COMMIT_X}`));
    assert.deepEqual(
      (again.body.revoked_builds as { field: string; value: string }[]).map((b) => [
        b.field,
        b.value,
      ]),
      [['commit', COMMIT_X]],
    );
    assert.equal(again.body.wit, undefined);
    assert.deepEqual(await issuedFor(MRTD_A), [jtiOf(a1)], 'nothing was committed');

    assert.equal((await attest(MRTD_B)).status, 200, 'another build still attests');
  });

  test('the admin API lists build revocations and lifts one; the build attests again', async () => {
    assert.equal((await call('GET', '/v1/admin/revoked-builds', undefined, null)).status, 401);
    const list = await call('GET', '/v1/admin/revoked-builds');
    assert.equal(list.status, 200);
    const listed = list.body.revoked_builds as {
      field: string;
      value: string;
      revoked_at: string;
    }[];
    assert.deepEqual(
      listed.map((b) => [b.field, b.value, b.revoked_at]),
      [['commit', COMMIT_X, NOW.toISOString()]],
    );
    const none = await call('DELETE', '/v1/admin/revoked-builds');
    assert.equal(none.status, 400);
    assert.equal(none.body.code, 'ERR_PROVENANCE_QUERY');
    const other = await call('DELETE', `/v1/admin/revoked-builds?commit=${COMMIT_Y}`);
    assert.equal(other.status, 404);
    assert.equal(other.body.code, 'ERR_BUILD_REVOCATION_UNKNOWN');
    assert.equal(
      (await call('DELETE', `/v1/admin/revoked-builds?commit=${COMMIT_X}`, undefined, 'wrong'))
        .status,
      401,
    );
    assert.equal(
      (await attest(MRTD_A)).body.code,
      'ERR_BUILD_REVOKED',
      'a refused lift changed nothing',
    );

    const lifted = await call('DELETE', `/v1/admin/revoked-builds?commit=${COMMIT_X}`);
    assert.equal(lifted.status, 200, JSON.stringify(lifted.body));
    assert.deepEqual(lifted.body, { field: 'commit', value: COMMIT_X, lifted: true });
    const a2 = await attest(MRTD_A);
    assert.equal(a2.status, 200, JSON.stringify(a2.body));
    // Lifting does not un-revoke the credentials revoked with it.
    const [first] = await issuedFor(MRTD_A);
    const old = await call('GET', `/v1/provenance/${first}`);
    assert.equal(typeof old.body.revoked_at, 'string');
  });

  test('"block": false revokes live credentials only; a measurement selector blocks the measurement', async () => {
    const onlyLive = await call('POST', '/v1/revoke', { measurement: MRTD_B, block: false });
    assert.equal(onlyLive.status, 200, JSON.stringify(onlyLive.body));
    assert.equal(onlyLive.body.blocked, undefined);
    assert.ok((onlyLive.body.count as number) >= 1);
    assert.equal((await attest(MRTD_B)).status, 200);
    const badBlock = await call('POST', '/v1/revoke', { measurement: MRTD_B, block: 'yes' });
    assert.equal(badBlock.body.code, 'ERR_PROVENANCE_QUERY');

    const r = await call('POST', '/v1/revoke', { measurement: `sha384:${MRTD_B}` });
    assert.deepEqual(r.body.blocked, { field: 'measurement', value: `sha384:${MRTD_B}` });
    assert.equal((await attest(MRTD_B)).body.code, 'ERR_BUILD_REVOKED');
    await call('DELETE', `/v1/admin/revoked-builds?measurement=${MRTD_B}`);
    assert.equal((await attest(MRTD_B)).status, 200);
  });

  test('a commit revoked before any credential also refuses a build linked by a record it supplies', async () => {
    const r = await call('POST', '/v1/revoke', { commit: COMMIT_Z });
    assert.equal(r.status, 200);
    assert.equal(r.body.count, 0);
    assert.deepEqual(r.body.blocked, { field: 'commit', value: COMMIT_Z });
    assert.equal((await attest(MRTD_C)).status, 200, 'not linked to the commit: attests');
    const linked = await attest(MRTD_C, [provenanceFor(MRTD_C, COMMIT_Z)]);
    assert.equal(linked.status, 403, JSON.stringify(linked.body));
    assert.equal(linked.body.code, 'ERR_BUILD_REVOKED');
    // The record is stored now, so the build stays refused without supplying it.
    assert.equal((await attest(MRTD_C)).body.code, 'ERR_BUILD_REVOKED');
  });
});
