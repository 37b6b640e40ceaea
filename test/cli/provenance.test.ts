/**
 * `twi provenance add|show|verify|query|revoke` against a running service: records added
 * from files, a credential's proof verified offline (with the fetched and with a pinned log
 * key; another log's key fails with exit 2), queries and revocation by commit; `checkpoint`
 * verifies the log's C2SP checkpoint with the fetched and a pinned note key (another log's
 * note key fails with exit 2). `show` and `query` print aligned fields and a table, or the
 * service's JSON with `--json`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { builderKey } from '../../provenance/dsse.js';
import { generateLogKey, logKeyFromPem, publishLogKey } from '../../provenance/tree-head.js';
import { checkpointKeyOf } from '../../provenance/checkpoint.js';
import { simulateSlsaProvenance } from '../../simulators/index.js';
import { cliPath } from '../helpers/cli.js';
import {
  evidenceCmw,
  NOW,
  startTestService,
  workloadKey,
  type TestService,
} from '../service/harness.js';
import { newKeyPair } from '../../common/key-pair.js';

const TOKEN = 'cli-provenance-token-0123456789';
const BUILDER = 'https://ci.example/cli@v1';
const COMMIT = 'ab'.repeat(20);
const MRTD = 'd4'.repeat(48);
const builder = newKeyPair('ed25519');
let service: TestService;

async function twi(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cliPath, ...args], {
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

before(async () => {
  service = await startTestService({
    seed: 'twi-prov-cli',
    clock: () => NOW,
    adminToken: TOKEN,
    provenance: { builders: [builderKey(builder.publicKey, [BUILDER])] },
  });
  writeFileSync(join(service.dir, 'token'), TOKEN + '\n');
});
after(() => service.close());

test('add, show, verify, query and revoke through the CLI', { timeout: 180_000 }, async () => {
  const url = ['--url', service.base];
  const admin = [...url, '--admin-token-file', join(service.dir, 'token')];
  const envelope = simulateSlsaProvenance({
    subjects: [{ name: 'td', digest: { sha384: MRTD } }],
    builderId: BUILDER,
    repository: 'https://github.com/acme/cli',
    commit: COMMIT,
    signers: [{ key: builder.privateKey }],
  });
  const file = join(service.dir, 'provenance.dsse.json');
  writeFileSync(file, JSON.stringify(envelope));
  const added = await twi(['provenance', 'add', file, ...admin]);
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /^added slsa-provenance sha256:[0-9a-f]{64} \(log leaf 0\)/);
  const again = await twi(['provenance', 'add', file, ...admin]);
  assert.equal(again.code, 3);
  assert.match(again.stderr, /ERR_PROVENANCE_DUPLICATE/);

  const key = workloadKey();
  const { nonce } = (await (
    await fetch(service.base + '/v1/challenge', { method: 'POST' })
  ).json()) as { nonce: string };
  const evidence = evidenceCmw(service.pki, 'tdx', nonce, key, {
    mrtd: new Uint8Array(Buffer.from(MRTD, 'hex')),
  });
  const res = await fetch(service.base + '/v1/attest', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ nonce, evidence, key: key.jwk }),
  });
  const { wit } = (await res.json()) as { wit: string };
  const { jti } = JSON.parse(Buffer.from(wit.split('.')[1]!, 'base64url').toString()) as {
    jti: string;
  };

  const shown = JSON.parse((await twi(['provenance', 'show', jti, ...url, '--json'])).stdout) as {
    record: { provenance: { source_commit: string }[] };
    tree_head: { tree_size: number; root_hash: string };
  };
  assert.equal(shown.record.provenance[0]!.source_commit, COMMIT);
  const human = await twi(['provenance', 'show', jti, ...url]);
  assert.equal(human.code, 0, human.stderr);
  const lines = human.stdout.split('\n');
  assert.equal(lines[0], `jti:             ${jti}`, 'values aligned in one column');
  assert.ok(lines.includes(`tree size:       ${shown.tree_head.tree_size}`), human.stdout);
  assert.ok(lines.includes(`root hash:       ${shown.tree_head.root_hash}`), human.stdout);
  assert.match(human.stdout, /^inclusion proof: \d+ hash(es)?$/m);
  assert.match(human.stdout, /^record:\n/m);
  assert.match(human.stdout, new RegExp(`^ +source_commit: +${COMMIT}$`, 'm'));
  assert.match(human.stdout, new RegExp(`^ +builder_id: +${BUILDER.replace(/[.]/g, '\\.')}$`, 'm'));
  const verified = await twi(['provenance', 'verify', jti, ...url, '--json']);
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  assert.equal(
    (JSON.parse(verified.stdout) as { verified: boolean; tree_size: number }).tree_size,
    2,
  );
  const pinned = join(service.dir, 'log-key.json');
  writeFileSync(pinned, JSON.stringify(await (await fetch(service.base + '/v1/log/key')).json()));
  assert.equal((await twi(['provenance', 'verify', jti, ...url, '--log-key', pinned])).code, 0);
  const otherLog = join(service.dir, 'other-log-key.json');
  writeFileSync(otherLog, JSON.stringify(publishLogKey(generateLogKey().key)));
  const refused = await twi(['provenance', 'verify', jti, ...url, '--log-key', otherLog]);
  assert.equal(refused.code, 2);
  assert.match(refused.stdout, /^not verified: ERR_PROVENANCE_PROOF_INVALID/);

  const q = JSON.parse(
    (await twi(['provenance', 'query', '--commit', COMMIT, '--live', ...url, '--json'])).stdout,
  ) as { credentials: { jti: string; sub: string }[] };
  assert.deepEqual(
    q.credentials.map((c) => c.jti),
    [jti],
  );
  const tableOut = await twi(['provenance', 'query', '--commit', COMMIT, ...url]);
  assert.equal(tableOut.code, 0, tableOut.stderr);
  const rows = tableOut.stdout.trimEnd().split('\n');
  assert.match(rows[0]!, /^JTI +ISSUED +EXPIRES +LEAF +STATE +SUBJECT$/);
  assert.equal(rows[0]!.indexOf('ISSUED'), rows[1]!.indexOf(' 20') + 1, 'columns aligned');
  assert.match(
    rows[1]!,
    new RegExp(`^${jti} +\\S+Z +\\S+Z +\\d+ +live +${q.credentials[0]!.sub}$`),
  );
  assert.equal(rows[2], '1 credential');
  const nothing = await twi(['provenance', 'query', '--commit', 'cd'.repeat(20), ...url]);
  assert.equal(nothing.stdout, 'no credentials match\n');
  const r = JSON.parse(
    (await twi(['provenance', 'revoke', '--commit', COMMIT, ...admin])).stdout,
  ) as { revoked: string[] };
  assert.deepEqual(r.revoked, [jti]);
  const listed = JSON.parse((await twi(['provenance', 'revoked-builds', ...admin])).stdout) as {
    revoked_builds: { field: string; value: string }[];
  };
  assert.deepEqual(
    listed.revoked_builds.map((b) => [b.field, b.value]),
    [['commit', COMMIT]],
  );
  const lifted = JSON.parse(
    (await twi(['provenance', 'lift', '--commit', COMMIT, ...admin])).stdout,
  ) as { lifted: boolean };
  assert.equal(lifted.lifted, true);
  const liftedTwice = await twi(['provenance', 'lift', '--commit', COMMIT, ...admin]);
  assert.equal(liftedTwice.code, 3);
  assert.match(liftedTwice.stderr, /ERR_BUILD_REVOCATION_UNKNOWN/);
  const none = await twi(['provenance', 'query', ...url]);
  assert.equal(none.code, 3);
  assert.match(none.stderr, /ERR_USAGE/);
});

test('checkpoint: fetched and pinned note keys', { timeout: 60_000 }, async () => {
  const url = ['--url', service.base];
  const head = (await (await fetch(service.base + '/v1/log/tree-head')).json()) as {
    tree_size: number;
    root_hash: string;
  };
  const ok = await twi(['provenance', 'checkpoint', ...url]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(
    ok.stdout,
    `verified checkpoint\norigin: verifier.example/twi/provenance\ntree size: ${head.tree_size}\nroot hash: ${head.root_hash}\n`,
  );
  const pinned = join(service.dir, 'note-key');
  writeFileSync(pinned, (await (await fetch(service.base + '/v1/log/note-key')).text()) + '\n');
  const json = await twi(['provenance', 'checkpoint', ...url, '--note-key', pinned, '--json']);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), {
    verified: true,
    origin: 'verifier.example/twi/provenance',
    tree_size: head.tree_size,
    root_hash: head.root_hash,
  });
  const other = join(service.dir, 'other-note-key');
  const stranger = checkpointKeyOf(
    logKeyFromPem(generateLogKey().pem),
    'verifier.example/twi/provenance',
  );
  writeFileSync(other, stranger.verifierKey);
  const refused = await twi(['provenance', 'checkpoint', ...url, '--note-key', other]);
  assert.equal(refused.code, 2);
  assert.match(refused.stdout, /^not verified: ERR_NOTE_UNVERIFIED/);
});
