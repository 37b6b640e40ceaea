import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAttestLoad } from './attest-load.js';

test('a 3 s attest load run on one SQLite instance: no error, no double accept', async () => {
  const r = await runAttestLoad({
    seconds: 3,
    store: 'sqlite',
    instances: 1,
    concurrency: 8,
    replayEvery: 10,
  });
  assert.ok(r.successes > 0, 'some attestations succeed');
  assert.equal(r.errorCount, 0, JSON.stringify(r.errors));
  assert.equal(r.doubleAccepted, 0);
  assert.equal(r.ledger.credentials, r.successes);
  assert.equal(r.ledger.distinctNonces, r.successes);
  assert.ok(r.replays.sent > 0, 'replays were sent');
  assert.equal(r.replays.accepted, 0);
  assert.equal(r.replays.refused, r.replays.sent, JSON.stringify(r.replays.other));
  assert.equal(r.rss.length, 1);
  assert.ok(r.rss[0]!.samples >= 2, 'RSS was sampled');
  assert.ok(r.ok);
});
