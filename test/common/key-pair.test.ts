/**
 * `newKeyPair`: keys that can be exported as JWK at any time (Node 20 deadlocks when a key
 * straight from `generateKeyPairSync` is exported as JWK while the GC frees its generation job),
 * and no code outside `common/key-pair.ts` generates keys the unsafe way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sign, verify } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newKeyPair } from '../../common/key-pair.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) sources(path, out);
    else if (/\.(ts|mts|js|mjs)$/.test(e.name)) out.push(path);
  }
  return out;
}

test('keys of every type sign, verify and export as JWK', { timeout: 60_000 }, () => {
  const pairs = [
    newKeyPair('ec', { namedCurve: 'P-256' }),
    newKeyPair('ec', { namedCurve: 'P-384' }),
    newKeyPair('ed25519'),
    newKeyPair('rsa', { modulusLength: 2048 }),
  ];
  for (const { privateKey, publicKey } of pairs) {
    const data = Buffer.from('twi');
    const hash = publicKey.asymmetricKeyType === 'ed25519' ? null : 'sha256';
    assert.ok(verify(hash, data, publicKey, sign(hash, data, privateKey)));
    assert.equal(privateKey.type, 'private');
    assert.ok('d' in privateKey.export({ format: 'jwk' }));
    assert.ok(!('d' in publicKey.export({ format: 'jwk' })));
  }
});

test('generate-then-export-as-JWK in a loop does not hang', { timeout: 60_000 }, () => {
  // The pattern newKeyPair replaces hangs within a few hundred to a few thousand iterations on
  // Node 20 (a sync deadlock: only the runner's file timeout can end it).
  for (let i = 0; i < 1500; i++) {
    const { privateKey, publicKey } = newKeyPair('ec', { namedCurve: 'P-256' });
    privateKey.export({ format: 'jwk' });
    publicKey.export({ format: 'jwk' });
  }
});

test('no source file calls generateKeyPairSync except common/key-pair.ts', () => {
  const offenders = sources(ROOT)
    .map((f) => relative(ROOT, f))
    .filter((f) => f !== join('common', 'key-pair.ts'))
    .filter((f) => /generateKeyPairSync\s*\(/.test(readFileSync(join(ROOT, f), 'utf8')));
  assert.deepEqual(offenders, []);
});
