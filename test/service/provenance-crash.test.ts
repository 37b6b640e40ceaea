/**
 * A crash between the ledger commit and the response loses no record: the service process
 * is killed (SIGKILL) right after the issuance commit; reopening the store shows the
 * credential, its log leaf and a tree whose proofs verify.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { openSimulatedPki } from '../../simulators/index.js';
import { leafHash, verifyInclusion } from '../../provenance/merkle.js';
import { openStore } from '../../service/store/open.js';
import { evidenceCmw, NOW, PKI_CREATED, workloadKey } from '../service/harness.js';

const child = join(dirname(fileURLToPath(import.meta.url)), 'provenance-crash-child.js');

test('SIGKILL right after the issuance commit loses no record', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-crash-'));
  try {
    const pki = await openSimulatedPki(join(dir, 'pki'), { seed: 'twi-crash', now: PKI_CREATED });
    const file = join(dir, 'twi.db');
    const proc = spawn(
      process.execPath,
      [child, file, join(dir, 'pki', 'roots'), NOW.toISOString()],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const [line] = (await once(proc.stdout!, 'data')) as [Buffer];
    const base = `http://127.0.0.1:${Number(line.toString().trim())}`;
    const key = workloadKey();
    const { nonce } = (await (await fetch(base + '/v1/challenge', { method: 'POST' })).json()) as {
      nonce: string;
    };
    const exited = once(proc, 'exit');
    await assert.rejects(
      fetch(base + '/v1/attest', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          nonce,
          evidence: evidenceCmw(pki, 'tdx', nonce, key),
          key: key.jwk,
        }),
      }),
      'the service died before answering',
    );
    const [, signal] = (await exited) as [number | null, string | null];
    assert.equal(signal, 'SIGKILL');

    const store = await openStore(`sqlite:${file}`);
    try {
      const { size, root } = await store.provenance.treeState();
      assert.equal(size, 1);
      const leaf = (await store.provenance.leaf(0))!;
      assert.equal(leaf.kind, 'issuance');
      const credential = await store.credentials.get(leaf.ref);
      assert.equal(credential?.platform, 'tdx', 'the credential record survived');
      assert.equal((JSON.parse(leaf.data) as { jti: string }).jti, leaf.ref);
      const proof = await store.provenance.inclusionProof(0, size);
      assert.ok(verifyInclusion(0, size, leafHash(Buffer.from(leaf.data)), proof, root));
      assert.equal(await store.nonces.consume(nonce, NOW), 'used');
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
