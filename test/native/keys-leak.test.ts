/**
 * The private scalar never reaches JavaScript: the addon built with TWI_TEST_EXPORTS
 * (test/native/native-build.ts) writes a key's scalar to a file from native code; a
 * child process uses every method and property of the key handle and takes a V8 heap
 * snapshot; neither the returned values nor the snapshot contain the scalar in hex or
 * base64(url). A control run that does hold the scalar in a JS string shows the search
 * finds it. The production addon has no such export at all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNative } from '../../native/binding.js';
import { testAddon } from './native-build.js';

const addon = testAddon();
const skip = addon.skip && `test addon cannot be built: ${addon.skip}`;
const child = fileURLToPath(new URL('./key-leak-child.js', import.meta.url));

function forms(hex: string): string[] {
  const bytes = Buffer.from(hex, 'hex');
  return [hex, hex.toUpperCase(), bytes.toString('base64url'), bytes.toString('base64')];
}

function runChild(mode?: string): {
  dir: string;
  scalars: string[];
  snapshot: string;
  outputs: string;
} {
  const dir = mkdtempSync(join(tmpdir(), 'twi-key-leak-'));
  execFileSync(process.execPath, [child, addon.path!, dir, ...(mode ? [mode] : [])], {
    timeout: 120_000,
  });
  const scalars = ['P-256', 'P-384'].map((c) => readFileSync(join(dir, `scalar-${c}.hex`), 'utf8'));
  return {
    dir,
    scalars,
    snapshot: readFileSync(join(dir, 'heap.heapsnapshot'), 'utf8'),
    outputs: readFileSync(join(dir, 'outputs.json'), 'utf8'),
  };
}

test(
  'no method, property or heap snapshot of the process holds the private scalar',
  { skip },
  () => {
    const r = runChild();
    try {
      assert.deepEqual(
        r.scalars.map((s) => s.length),
        [64, 96],
      );
      assert.ok(r.outputs.length > 1000, 'the handle methods were exercised');
      assert.ok(r.snapshot.length > 100_000, 'a real heap snapshot');
      for (const scalar of r.scalars) {
        for (const f of forms(scalar)) {
          assert.ok(!r.outputs.includes(f), 'a method or property returned the scalar');
          assert.ok(!r.snapshot.includes(f), 'the heap snapshot contains the scalar');
        }
      }
    } finally {
      rmSync(r.dir, { recursive: true, force: true });
    }
  },
);

test('control: a scalar held in a JavaScript string is found in the snapshot', { skip }, () => {
  const r = runChild('control');
  try {
    assert.ok(r.snapshot.includes(r.scalars[0]!.toUpperCase()));
  } finally {
    rmSync(r.dir, { recursive: true, force: true });
  }
});

test('the production addon has no test export', () => {
  const binding = loadNative() as unknown as Record<string, unknown>;
  assert.equal(binding.testWriteScalar, undefined);
  assert.deepEqual(
    Object.keys(binding).filter((k) => /scalar|private|export/i.test(k)),
    [],
  );
});
