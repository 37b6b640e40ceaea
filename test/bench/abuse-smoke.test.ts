/**
 * Smoke test of the abuse run (`abuse.ts`) in `--quick` mode: no 5xx, outbound VCEK fetches
 * within the fetch cap, every slowloris socket cut, the event-stream cap enforced. Latency is
 * not asserted (the machine may be shared); docs/benchmarks.md has the full run's figures.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { AbuseReport } from './abuse.js';

const script = join(dirname(fileURLToPath(import.meta.url)), 'abuse.js');

test('abuse --quick: no 5xx and outbound fetches under the cap', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-abuse-smoke-'));
  try {
    const json = join(dir, 'abuse.json');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [script, '--quick', '--json', json],
      { timeout: 170_000 },
    );
    assert.match(stdout, /Abuse run/);
    const r = JSON.parse(readFileSync(json, 'utf8')) as AbuseReport;
    assert.ok(r.requests > 50, `only ${r.requests} requests sent`);
    assert.equal(r.fivexx, 0, JSON.stringify(r.byStatus));
    assert.equal(r.networkErrors, 0);
    assert.ok(r.vcekFetches <= r.fetchCap, `${r.vcekFetches} VCEK fetches, cap ${r.fetchCap}`);
    assert.equal(r.slowloris.cut, r.slowloris.sockets, 'a slowloris socket was never cut');
    assert.ok((r.fourxxByCode['429 ERR_TOO_MANY_SUBSCRIBERS'] ?? 0) > 0);
    assert.ok((r.fourxxByCode['429 ERR_RATE_LIMITED'] ?? 0) > 0);
    assert.ok((r.fourxxByCode['400 ERR_REQUEST_INVALID'] ?? 0) > 0);
    assert.ok((r.fourxxByCode['400 ERR_TOKEN_IN_QUERY'] ?? 0) > 0);
    assert.ok((r.fourxxByCode['400 ERR_POLICY_INVALID'] ?? 0) > 0);
    assert.equal(r.healthz.failures, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
