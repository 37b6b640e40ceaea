/**
 * End to end under simulation: SLSA provenance for simulated workload builds (subject = the
 * workload's MRTD as sha384) is loaded through the admin API; workloads attest with simulated
 * TDX evidence; each WIT's jti resolves to a record naming the build's commit and builder,
 * whose inclusion proof verifies offline; a consistency proof holds between tree heads taken
 * before and after more issuance; revoking by source commit revokes exactly the matching
 * credentials and a relying party subscribed to bundle events rejects them; bad inputs are
 * refused with their codes and leave the log and the record table as they were. The C2SP
 * checkpoint (text/plain signed note) verifies with the published note key, covers the same
 * size and root as the RFC 9162 tree head, proves the answer's record by an inclusion proof
 * (also served by /v1/log/inclusion at the checkpoint size), refuses tampering, and a second
 * instance on the same store publishes the same note key (and, given a log OID, RFC 9162
 * `signed_tree_head_v2` TransItems that verify against its published OID).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { builderKey } from '../../provenance/dsse.js';
import {
  verifyCheckpointAnswer,
  verifyConsistencyAnswer,
  verifyProvenanceAnswer,
  type ProvenanceAnswer,
} from '../../provenance/verify-answer.js';
import { verifyCheckpoint } from '../../provenance/checkpoint.js';
import { leafHash, verifyInclusion } from '../../provenance/merkle.js';
import { canonicalBytes } from '../../common/canonical-json.js';
import { openStore } from '../../service/store/open.js';
import { join } from 'node:path';
import type { PublishedLogKey, SignedTreeHead } from '../../provenance/tree-head.js';
import { bundleTrust, verifyWit, WimseError, type BundleWatch } from '../../wimse/rp.js';
import { watchBundle } from '../../wimse/rp.js';
import { signStatement, simulateSlsaProvenance, slsaStatement } from '../../simulators/index.js';
import {
  evidenceCmw,
  NOW,
  startTestService,
  workloadKey,
  type TestService,
} from '../service/harness.js';
import { newKeyPair } from '../../common/key-pair.js';

const TOKEN = 'provenance-admin-token-0123456789';
const BUILDER = 'https://ci.example/builders/tee-image@v1';
const REPO = 'https://github.com/acme/payments';
const COMMIT_X = '1'.repeat(40);
const COMMIT_Y = '2'.repeat(40);
const MRTD_A = 'a1'.repeat(48);
const MRTD_B = 'b2'.repeat(48);
const MRTD_C = 'c3'.repeat(48);
const builder = newKeyPair('ec', { namedCurve: 'P-256' });
const stranger = newKeyPair('ec', { namedCurve: 'P-256' });

const provenanceFor = (
  mrtd: string,
  commit: string,
  key = builder.privateKey,
  builderId = BUILDER,
) =>
  simulateSlsaProvenance({
    subjects: [{ name: 'td-image', digest: { sha384: mrtd } }],
    builderId,
    repository: REPO,
    commit,
    signers: [{ key }],
  });

describe('provenance linker end to end (simulated TDX, SQLite)', () => {
  let service: TestService;
  let watch: BundleWatch;
  let logKey: PublishedLogKey;

  const get = async (path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const r = await fetch(service.base + path);
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const post = async (
    path: string,
    body: unknown,
    opts: { token?: string | null; type?: string } = {},
  ) => {
    const headers: Record<string, string> = { 'content-type': opts.type ?? 'application/json' };
    if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? TOKEN}`;
    const r = await fetch(service.base + path, {
      method: 'POST',
      headers,
      body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  async function attest(
    mrtd: string,
    supplyChain?: unknown[],
  ): Promise<{ wit: string; jti: string }> {
    const key = workloadKey();
    const { nonce } = (await (
      await fetch(service.base + '/v1/challenge', { method: 'POST' })
    ).json()) as { nonce: string };
    const evidence = evidenceCmw(service.pki, 'tdx', nonce, key, {
      mrtd: new Uint8Array(Buffer.from(mrtd, 'hex')),
    });
    const r = await post(
      '/v1/attest',
      { nonce, evidence, key: key.jwk, ...(supplyChain && { supply_chain: supplyChain }) },
      { token: null },
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const wit = r.body.wit as string;
    const claims = JSON.parse(Buffer.from(wit.split('.')[1]!, 'base64url').toString()) as {
      jti: string;
    };
    return { wit, jti: claims.jti };
  }

  before(async () => {
    service = await startTestService({
      seed: 'twi-provenance',
      clock: () => NOW,
      adminToken: TOKEN,
      provenance: { builders: [builderKey(builder.publicKey, [BUILDER])] },
    });
    watch = watchBundle(service.base + '/v1/bundle/events', { minBackoffMs: 20 });
    await watch.ready;
    logKey = (await get('/v1/log/key')).body as unknown as PublishedLogKey;
  });

  after(async () => {
    watch.close();
    await service.close();
  });

  test('records load through the admin API; every bad input is refused with its code and nothing is stored', async () => {
    const added = await post('/v1/admin/provenance', provenanceFor(MRTD_A, COMMIT_X));
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.equal(added.body.source_commit, COMMIT_X);
    assert.equal((await post('/v1/admin/provenance', provenanceFor(MRTD_B, COMMIT_Y))).status, 201);
    const size = (await get('/v1/log/tree-head')).body.tree_size;
    assert.equal(size, 2);
    const statement = slsaStatement({
      subjects: [{ name: 'x', digest: { sha384: MRTD_C } }],
      builderId: BUILDER,
      repository: REPO,
      commit: COMMIT_X,
    });
    const bad: [string, unknown, number, string, { token?: string | null; type?: string }?][] = [
      ['duplicate', provenanceFor(MRTD_A, COMMIT_X), 409, 'ERR_PROVENANCE_DUPLICATE'],
      [
        'unsigned',
        { ...provenanceFor(MRTD_C, COMMIT_X), signatures: [] },
        422,
        'ERR_PROVENANCE_UNVERIFIABLE',
      ],
      [
        'wrong key',
        provenanceFor(MRTD_C, COMMIT_X, stranger.privateKey),
        422,
        'ERR_PROVENANCE_UNVERIFIABLE',
      ],
      [
        'unknown builder',
        provenanceFor(MRTD_C, COMMIT_X, builder.privateKey, 'https://evil.example/ci'),
        422,
        'ERR_PROVENANCE_UNKNOWN_BUILDER',
      ],
      [
        'md5 subject',
        signStatement({ ...statement, subject: [{ digest: { md5: 'ab'.repeat(16) } }] }, [
          { key: builder.privateKey },
        ]),
        422,
        'ERR_PROVENANCE_DIGEST_ALGORITHM',
      ],
      [
        'unknown predicate',
        signStatement({ ...statement, predicateType: 'https://example.com/p' }, [
          { key: builder.privateKey },
        ]),
        415,
        'ERR_PROVENANCE_UNSUPPORTED',
      ],
      ['malformed JSON', '{"payload":', 400, 'ERR_BODY_INVALID'],
      [
        'oversized body',
        JSON.stringify({ payload: 'A'.repeat(300 * 1024) }),
        413,
        'ERR_BODY_TOO_LARGE',
      ],
      [
        'garbage CoRIM',
        new Uint8Array([0xd2, 0x84, 0x01]),
        422,
        'ERR_PROVENANCE_UNVERIFIABLE',
        { type: 'application/rim+cbor' },
      ],
      [
        'no token',
        provenanceFor(MRTD_C, COMMIT_X),
        401,
        'ERR_ADMIN_UNAUTHENTICATED',
        { token: null },
      ],
      [
        'wrong token',
        provenanceFor(MRTD_C, COMMIT_X),
        401,
        'ERR_ADMIN_UNAUTHENTICATED',
        { token: 'nope' },
      ],
    ];
    for (const [name, body, status, code, opts] of bad) {
      const r = await post('/v1/admin/provenance', body, opts);
      assert.equal(r.status, status, `${name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code, code, name);
    }
    assert.equal((await get('/v1/log/tree-head')).body.tree_size, size, 'the log did not grow');
    assert.equal(
      (await get(`/v1/provenance?measurement=${MRTD_C}`)).body.credentials instanceof Array,
      true,
    );
  });

  let first: SignedTreeHead;
  const issued: Record<string, string> = {};
  const wits: Record<string, string> = {};

  test("a WIT's jti resolves to a record naming the build's commit and builder; the proof verifies offline", async () => {
    for (const [name, mrtd] of [
      ['a1', MRTD_A],
      ['a2', MRTD_A],
      ['b1', MRTD_B],
    ] as const) {
      const { wit, jti } = await attest(mrtd);
      issued[name] = jti;
      wits[name] = wit;
    }
    const r = await get(`/v1/provenance/${issued.a1}`);
    assert.equal(r.status, 200);
    const answer = r.body as unknown as ProvenanceAnswer;
    const record = answer.record as {
      provenance: Record<string, unknown>[];
      measurements: { field: string; value: string }[];
      sub: string;
    };
    assert.equal(record.provenance.length, 1, JSON.stringify(record));
    assert.equal(record.provenance[0]!.source_commit, COMMIT_X);
    assert.equal(record.provenance[0]!.builder_id, BUILDER);
    assert.deepEqual(record.provenance[0]!.matched, ['tdx.mrtd']);
    assert.ok(record.measurements.some((m) => m.field === 'mrtd' && m.value === MRTD_A));
    assert.match(record.sub, /^spiffe:\/\/example\.org\/tdx\/m\/[0-9a-f]{32}$/);
    const v = verifyProvenanceAnswer(answer, logKey, issued.a1!);
    assert.equal(v.treeSize, 5);
    first = answer.tree_head;
    assert.throws(
      () =>
        verifyProvenanceAnswer(
          { ...answer, record: { ...record, sub: 'spiffe://example.org/evil' } },
          logKey,
          issued.a1!,
        ),
      { code: 'ERR_PROVENANCE_PROOF_INVALID' },
    );
    assert.equal((await get('/v1/provenance/no-such-jti')).body.code, 'ERR_PROVENANCE_NOT_FOUND');
  });

  test('records supplied at attest time are verified, stored and linked', async () => {
    const { jti } = await attest(MRTD_C, [provenanceFor(MRTD_C, COMMIT_Y)]);
    const record = (await get(`/v1/provenance/${jti}`)).body.record as {
      provenance: { source_commit: string }[];
    };
    assert.deepEqual(
      record.provenance.map((p) => p.source_commit),
      [COMMIT_Y],
    );
    const key = workloadKey();
    const { nonce } = (await (
      await fetch(service.base + '/v1/challenge', { method: 'POST' })
    ).json()) as { nonce: string };
    const evidence = evidenceCmw(service.pki, 'tdx', nonce, key, {
      mrtd: new Uint8Array(Buffer.from(MRTD_C, 'hex')),
    });
    const refused = await post(
      '/v1/attest',
      {
        nonce,
        evidence,
        key: key.jwk,
        supply_chain: [provenanceFor(MRTD_C, COMMIT_Y, stranger.privateKey)],
      },
      { token: null },
    );
    assert.equal(refused.body.code, 'ERR_PROVENANCE_UNVERIFIABLE');
    issued.c1 = jti;
  });

  test('a consistency proof holds between the tree heads before and after more issuance', async () => {
    await attest(MRTD_B);
    const second = (await get('/v1/log/tree-head')).body as unknown as SignedTreeHead;
    assert.ok(second.tree_size > first.tree_size);
    const c = await get(`/v1/log/consistency?first=${first.tree_size}&second=${second.tree_size}`);
    verifyConsistencyAnswer(first, second, c.body.proof, logKey);
    assert.throws(
      () =>
        verifyConsistencyAnswer(first, second, [...(c.body.proof as string[]).slice(1)], logKey),
      { code: 'ERR_PROVENANCE_PROOF_INVALID' },
    );
    assert.throws(
      () =>
        verifyConsistencyAnswer(
          first,
          { ...second, tree_size: second.tree_size + 1 },
          c.body.proof,
          logKey,
        ),
      { code: 'ERR_PROVENANCE_PROOF_INVALID' },
    );
    assert.equal(
      (await get(`/v1/log/consistency?first=${second.tree_size + 1}`)).body.code,
      'ERR_PROVENANCE_RANGE',
    );
  });

  test('the C2SP checkpoint covers the tree head; its note key is shared; proofs verify', async () => {
    const ORIGIN = 'verifier.example/twi/provenance';
    const r = await fetch(service.base + '/v1/log/checkpoint');
    assert.equal(r.headers.get('content-type'), 'text/plain; charset=utf-8');
    const note = await r.text();
    const k = await fetch(service.base + '/v1/log/note-key');
    assert.equal(k.headers.get('content-type'), 'text/plain; charset=utf-8');
    const vkey = await k.text();
    const published = logKey as PublishedLogKey & { note_key: string; checkpoint_origin: string };
    assert.equal(published.note_key, vkey);
    assert.equal(published.checkpoint_origin, ORIGIN);
    assert.match(vkey, /^verifier\.example\/twi\/provenance\+[0-9a-f]{8}\+A[A-Za-z0-9+/]{43}$/);
    const cp = verifyCheckpoint(note, [vkey], { origin: ORIGIN });
    const head = (await get('/v1/log/tree-head')).body as unknown as SignedTreeHead;
    assert.equal(cp.size, head.tree_size);
    assert.equal(Buffer.from(cp.root).toString('base64'), head.root_hash);

    const answer = (await get(`/v1/provenance/${issued.a1}`)).body as unknown as ProvenanceAnswer;
    const v = verifyCheckpointAnswer(answer, vkey, issued.a1!);
    assert.equal(v.treeSize, cp.size);
    const evil = { ...(answer.record as object), sub: 'spiffe://example.org/evil' };
    assert.throws(() => verifyCheckpointAnswer({ ...answer, record: evil }, vkey, issued.a1!), {
      code: 'ERR_PROVENANCE_PROOF_INVALID',
    });
    const otherHead = { ...answer.tree_head, tree_size: answer.tree_head.tree_size - 1 };
    assert.throws(
      () => verifyCheckpointAnswer({ ...answer, tree_head: otherHead }, vkey, issued.a1!),
      { code: 'ERR_PROVENANCE_PROOF_INVALID' },
    );
    const forged = answer.checkpoint!.replace(`\n${cp.size}\n`, `\n${cp.size + 1}\n`);
    assert.throws(
      () => verifyCheckpointAnswer({ ...answer, checkpoint: forged }, vkey, issued.a1!),
      {
        code: 'ERR_NOTE_SIGNATURE_INVALID',
      },
    );

    // The proof as transparency-dev's proof.VerifyInclusion takes it: index, size, base64 path.
    const inc = await get(`/v1/log/inclusion?leaf_index=${answer.leaf_index}&tree_size=${cp.size}`);
    assert.equal(inc.status, 200);
    assert.deepEqual(inc.body.inclusion_proof, answer.inclusion_proof);
    const path = (inc.body.inclusion_proof as string[]).map((h) => Buffer.from(h, 'base64'));
    const leaf = leafHash(canonicalBytes(answer.record));
    assert.ok(verifyInclusion(answer.leaf_index, cp.size, leaf, path, cp.root));
    for (const q of [
      `leaf_index=${cp.size}&tree_size=${cp.size}`,
      `leaf_index=0&tree_size=${cp.size + 1}`,
      'leaf_index=abc',
      'leaf_index=-1',
    ]) {
      const bad = await get(`/v1/log/inclusion?${q}`);
      assert.equal(bad.status, 400, q);
      assert.equal(bad.body.code, 'ERR_PROVENANCE_RANGE', q);
    }

    const twin = await startTestService({
      seed: 'twi-provenance-twin',
      clock: () => NOW,
      openStore: () => openStore('sqlite:' + join(service.dir, 'twi.db')),
      provenance: { logOid: '1.3.6.1.4.1.99999.16.5' },
    });
    try {
      assert.equal(await (await fetch(twin.base + '/v1/log/note-key')).text(), vkey);
      const twinNote = await (await fetch(twin.base + '/v1/log/checkpoint')).text();
      assert.equal(verifyCheckpoint(twinNote, [vkey]).size, cp.size);
      // With an OID the tree heads also carry the RFC 9162 TransItem (OID log id, DER signature).
      const twinKey = (await (await fetch(twin.base + '/v1/log/key')).json()) as PublishedLogKey;
      assert.equal(twinKey.log_oid, '1.3.6.1.4.1.99999.16.5');
      const twinAnswer = (await (
        await fetch(`${twin.base}/v1/provenance/${issued.a1}`)
      ).json()) as ProvenanceAnswer;
      assert.equal(typeof twinAnswer.tree_head.sth, 'string');
      assert.equal(verifyProvenanceAnswer(twinAnswer, twinKey, issued.a1!).treeSize, cp.size);
      assert.throws(() => verifyProvenanceAnswer(twinAnswer, logKey, issued.a1!), {
        code: 'ERR_PROVENANCE_PROOF_INVALID',
      });
    } finally {
      await twin.close();
    }
  });

  test('queries by commit, builder, measurement and time range', async () => {
    const jtis = async (q: string) =>
      ((await get(`/v1/provenance?${q}`)).body.credentials as { jti: string }[]).map((c) => c.jti);
    assert.deepEqual(await jtis(`commit=${COMMIT_X}&live=true`), [issued.a1, issued.a2]);
    assert.deepEqual((await jtis(`builder=${encodeURIComponent(BUILDER)}`)).length, 5);
    assert.deepEqual(await jtis(`measurement=${MRTD_A}`), [issued.a1, issued.a2]);
    assert.deepEqual(await jtis(`measurement=sha384:${MRTD_C}`), [issued.c1]);
    assert.equal(
      (
        await jtis(
          `since=${NOW.toISOString()}&until=${new Date(NOW.getTime() + 1000).toISOString()}`,
        )
      ).length,
      5,
    );
    assert.equal((await get('/v1/provenance?commit=xyz')).body.code, 'ERR_PROVENANCE_QUERY');
  });

  test('revoking by source commit revokes exactly the matching credentials; a subscribed relying party rejects them', async () => {
    const trust = bundleTrust(watch);
    const verify = (wit: string) =>
      verifyWit(wit, { jwks: trust.jwks, isRevoked: trust.isRevoked, now: NOW });
    await verify(wits.a1!);
    assert.equal((await post('/v1/revoke', { commit: COMMIT_X }, { token: null })).status, 401);
    assert.equal((await post('/v1/revoke', {})).body.code, 'ERR_PROVENANCE_QUERY');
    const r = await post('/v1/revoke', { commit: COMMIT_X });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([...(r.body.revoked as string[])].sort(), [issued.a1, issued.a2].sort());
    for (const name of ['a1', 'a2']) {
      for (let i = 0; ; i += 1) {
        try {
          await verify(wits[name]!);
        } catch (err) {
          assert.ok(err instanceof WimseError);
          assert.equal(err.code, 'ERR_WIT_REVOKED');
          break;
        }
        assert.ok(i < 200, 'revocation reached the relying party');
        await new Promise((res) => setTimeout(res, 10));
      }
    }
    await verify(wits.b1!);
    assert.deepEqual(
      (await post('/v1/revoke', { commit: COMMIT_X })).body.revoked,
      [],
      'nothing live is left to revoke',
    );
    const a1 = (await get(`/v1/provenance/${issued.a1}`)).body;
    assert.ok(typeof a1.revoked_at === 'string');
  });
});
