/**
 * The provenance store suite, run on SQLite and on PostgreSQL: the log's roots and proofs
 * equal the reference computation for every size, issuance commits are atomic, records and
 * the query index work, two handles appending at once keep one consistent tree, and a
 * record edited in the database no longer proves.
 *
 * @module
 */
import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from '../../../common/canonical-json.js';
import {
  emptyRoot,
  leafHash,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from '../../../provenance/merkle.js';
import type { CredentialRecord } from '../../../provenance/ledger-record.js';
import type { Store } from '../../../service/store/types.js';

/** How the suite reaches an implementation. */
export interface ProvenanceHarness {
  open(): Promise<Store>;
  /** Runs one SQL statement directly on the database (tampering). */
  exec(sql: string): Promise<void>;
  cleanup(): Promise<void>;
  /**
   * Whether two handles may run transactions at once in this process (PostgreSQL). SQLite's
   * driver waits for the file lock synchronously, so two handles in one process would
   * deadlock; one handle's concurrent callers are serialised instead.
   */
  readonly concurrentHandles: boolean;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const hashOf = (data: string): Uint8Array => leafHash(Buffer.from(data, 'utf8'));

function credential(jti: string, iat: number): CredentialRecord {
  return {
    jti,
    sub: `spiffe://example.org/tdx/${jti}`,
    iat,
    exp: iat + 3600,
    kid: 'k1',
    platform: 'tdx',
    earDigest: 'ear',
    evidenceDigest: 'ev',
    record: { jti },
  };
}

function logTests(get: () => Store, data: string[]): void {
  test('an empty log has the empty root', async () => {
    const s = await get().provenance.treeState();
    assert.equal(s.size, 0);
    assert.equal(hex(s.root), hex(emptyRoot()));
  });

  test('appends in batches: every root and proof equals the reference', async () => {
    const p = get().provenance;
    for (const [from, to] of [
      [0, 1],
      [1, 6],
      [6, 37],
    ] as const) {
      const first = await p.appendLeaves(
        data.slice(from, to).map((d, i) => ({ ref: `r${from + i}`, data: d })),
      );
      assert.equal(first, from);
    }
    const hashes = data.map(hashOf);
    const state = await p.treeState();
    assert.equal(state.size, 37);
    assert.equal(hex(state.root), hex(rootOf(hashes)));
    for (let n = 0; n <= 37; n += 1) {
      const root = await p.rootAt(n);
      assert.equal(hex(root), hex(rootOf(hashes.slice(0, n))), `root ${n}`);
      for (const i of n > 0 ? [0, Math.floor(n / 2), n - 1] : []) {
        assert.ok(
          verifyInclusion(i, n, hashes[i]!, await p.inclusionProof(i, n), root),
          `${i}/${n}`,
        );
      }
      for (const m of [1, Math.floor(n / 3), n - 1].filter((m) => m >= 1 && m <= n)) {
        const proof = await p.consistencyProof(m, n);
        assert.ok(verifyConsistency(m, n, proof, rootOf(hashes.slice(0, m)), root), `${m} → ${n}`);
      }
    }
    assert.equal((await p.leaf(5))?.data, data[5]);
    await assert.rejects(p.rootAt(38), RangeError);
  });
}

function issuanceTests(get: () => Store): void {
  test('an issuance commits credential, leaf and index together; a duplicate writes nothing', async () => {
    const store = get();
    const before = await store.provenance.treeState();
    const leaf = canonicalJson({ type: 'twi-issuance/v1', jti: 'iss-1' });
    const { leafIndex } = await store.provenance.commitIssuance(
      credential('iss-1', 1_800_000_000),
      leaf,
      [
        { field: 'commit', value: 'c1' },
        { field: 'builder', value: 'b1' },
        { field: 'commit', value: 'c1' },
      ],
    );
    assert.equal(leafIndex, before.size);
    assert.equal((await store.credentials.get('iss-1'))?.sub, 'spiffe://example.org/tdx/iss-1');
    assert.equal((await store.provenance.leafOf('iss-1'))?.data, leaf);
    await assert.rejects(store.provenance.commitIssuance(credential('iss-1', 1), '{}', []), {
      code: 'ERR_STORE_DUPLICATE',
    });
    assert.equal(
      (await store.provenance.treeState()).size,
      before.size + 1,
      'no leaf for the duplicate',
    );
  });

  test('queries by index entry, live state and time range', async () => {
    const store = get();
    await store.provenance.commitIssuance(credential('iss-2', 1_800_000_100), '{"jti":"iss-2"}', [
      { field: 'commit', value: 'c1' },
    ]);
    await store.provenance.commitIssuance(credential('iss-3', 1_800_000_200), '{"jti":"iss-3"}', [
      { field: 'commit', value: 'c2' },
    ]);
    const jtis = async (q: Parameters<Store['provenance']['findCredentials']>[0]) =>
      (await store.provenance.findCredentials(q)).map((m) => m.jti);
    assert.deepEqual(await jtis({ entry: { field: 'commit', value: 'c1' } }), ['iss-1', 'iss-2']);
    assert.deepEqual(await jtis({ entry: { field: 'builder', value: 'b1' } }), ['iss-1']);
    assert.deepEqual(await jtis({ since: 1_800_000_100, until: 1_800_000_200 }), ['iss-2']);
    await store.credentials.revoke('iss-2', new Date(1_800_000_150_000));
    const live = new Date(1_800_000_300_000);
    assert.deepEqual(await jtis({ entry: { field: 'commit', value: 'c1' }, liveAt: live }), [
      'iss-1',
    ]);
    assert.deepEqual(
      await jtis({ entry: { field: 'commit', value: 'c1' }, liveAt: new Date(1_800_009_000_000) }),
      [],
    );
  });

  test('supply-chain records: stored with their keys and a leaf; duplicates refused', async () => {
    const p = get().provenance;
    const put = {
      digest: 'sha256:' + 'aa'.repeat(32),
      kind: 'slsa-provenance',
      record: { builder_id: 'b1' },
      keys: [
        { field: '*', key: 'sha384:' + 'a1'.repeat(48) },
        { field: 'tdx.mrtd', key: 'sha384:' + 'a1'.repeat(48) },
      ],
      leafData: '{"type":"twi-supply-chain/v1"}',
      createdAt: new Date(),
    };
    const { leafIndex } = await p.putRecord(put);
    assert.equal((await p.getRecord(put.digest))?.leafIndex, leafIndex);
    const found = await p.recordsByKeys(['sha384:' + 'a1'.repeat(48), 'sha384:' + 'ff'.repeat(48)]);
    assert.deepEqual(found.map((f) => f.field).sort(), ['*', 'tdx.mrtd']);
    const size = (await p.treeState()).size;
    await assert.rejects(p.putRecord(put), {
      code: 'ERR_STORE_DUPLICATE',
      entity: 'supply-chain record',
    });
    assert.equal((await p.treeState()).size, size);
  });
}

/** Registers the suite. */
export function provenanceStoreSuite(
  name: string,
  harness: ProvenanceHarness,
  skip?: string,
): void {
  describe(`provenance store: ${name}`, { skip: skip ?? false }, () => {
    let store: Store;
    const data = Array.from({ length: 37 }, (_, i) => canonicalJson({ i, note: `leaf ${i} ü` }));
    before(async () => {
      store = await harness.open();
    });
    after(async () => {
      await store?.close();
      await harness.cleanup();
    });

    logTests(() => store, data);
    issuanceTests(() => store);

    test('the log key is created once and shared by every handle', async () => {
      const other = await harness.open();
      try {
        const [a, b] = await Promise.all([
          store.provenance.logKeyPem(() => 'pem-A'),
          other.provenance.logKeyPem(() => 'pem-B'),
        ]);
        assert.equal(a, b);
        assert.equal(await store.provenance.logKeyPem(() => 'pem-C'), a);
      } finally {
        await other.close();
      }
    });

    test('2 × 40 concurrent issuances (two handles where the database allows) keep one consistent tree', async () => {
      const other = harness.concurrentHandles ? await harness.open() : store;
      try {
        const start = await store.provenance.treeState();
        const commits = [store, other].flatMap((s, h) =>
          Array.from({ length: 40 }, (_, i) =>
            s.provenance.commitIssuance(
              credential(`race-${h}-${i}`, 1_800_001_000 + i),
              canonicalJson({ jti: `race-${h}-${i}` }),
              [],
            ),
          ),
        );
        const indexes = (await Promise.all(commits)).map((c) => c.leafIndex).sort((a, b) => a - b);
        assert.deepEqual(
          indexes,
          Array.from({ length: 80 }, (_, i) => start.size + i),
        );
        const end = await store.provenance.treeState();
        const leaves = [];
        for (let i = 0; i < end.size; i += 1)
          leaves.push(hashOf((await store.provenance.leaf(i))!.data));
        assert.equal(hex(end.root), hex(rootOf(leaves)));
        assert.ok(
          verifyConsistency(
            start.size,
            end.size,
            await other.provenance.consistencyProof(start.size, end.size),
            start.root,
            end.root,
          ),
        );
      } finally {
        if (other !== store) await other.close();
      }
    });

    test('a record edited in the database no longer proves against the signed root', async () => {
      const p = store.provenance;
      const { size, root } = await p.treeState();
      const leaf = (await p.leafOf('iss-1'))!;
      const proof = await p.inclusionProof(leaf.index, size);
      assert.ok(verifyInclusion(leaf.index, size, hashOf(leaf.data), proof, root));
      await harness.exec(
        `UPDATE log_leaves SET data = REPLACE(data, 'iss-1', 'iss-X') WHERE ref = 'iss-1'`,
      );
      const edited = (await p.leafOf('iss-1'))!;
      assert.notEqual(edited.data, leaf.data);
      assert.equal(
        verifyInclusion(
          leaf.index,
          size,
          hashOf(edited.data),
          await p.inclusionProof(leaf.index, size),
          root,
        ),
        false,
      );
    });
  });
}
