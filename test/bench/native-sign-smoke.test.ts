/**
 * Smoke test of the native sign benchmark in quick mode: both curves, both paths, positive
 * rates and ratios, JSON of the documented shape. Speed is not asserted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { NativeSignResults } from './native-sign.js';

const script = join(dirname(fileURLToPath(import.meta.url)), 'native-sign.js');

test('native-sign --quick measures native and node:crypto for P-256 and P-384', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-native-bench-'));
  try {
    const json = join(dir, 'n.json');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [script, '--quick', '--json', json],
      { timeout: 60_000 },
    );
    assert.match(stdout, /native ÷ node/);
    const r = JSON.parse(readFileSync(json, 'utf8')) as NativeSignResults;
    assert.equal(r.schema, 'twi-bench-native-sign/1');
    assert.deepEqual(
      r.rows.map((x) => x.curve),
      ['P-256', 'P-384'],
    );
    for (const row of r.rows) {
      for (const p of [row.sync, row.async]) {
        assert.ok(p.native.opsPerSec > 0 && p.node.opsPerSec > 0);
        assert.ok(Math.abs(p.ratio - p.native.opsPerSec / p.node.opsPerSec) < 1e-9);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
