import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyIntegrity } from '../../endorsements/provider/codec.js';
import { createDirectoryStore } from '../../endorsements/provider/directory-store.js';
import { runCli } from '../helpers/cli.js';
import { AMD_CRL, at, DAY, makeEndorsement, QE, TCB, VCEK } from './provider-fixtures.js';
import { newKeyPair } from '../../common/key-pair.js';

const root = mkdtempSync(join(tmpdir(), 'twi-bundle-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));

const NOW = at(2 * DAY).toISOString();
const source = join(root, 'source-cache');
const keys = newKeyPair('ec', { namedCurve: 'P-256' });
const signKey = join(root, 'sign.pem');
const trustKey = join(root, 'trust.pem');
writeFileSync(signKey, keys.privateKey.export({ format: 'pem', type: 'pkcs8' }));
writeFileSync(trustKey, keys.publicKey.export({ format: 'pem', type: 'spki' }));

interface Listed {
  key: string;
  source?: string;
  nextUpdate?: string;
  status: string;
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return runCli(['endorsements', ...args]);
}

test('set-up: a directory cache with three valid entries and one expired', async () => {
  const store = createDirectoryStore(source, { verify: verifyIntegrity });
  await store.save(makeEndorsement(TCB));
  await store.save(makeEndorsement(QE));
  await store.save(makeEndorsement(VCEK));
  await store.save(makeEndorsement(AMD_CRL, { nextUpdate: at(DAY) }));
  const r = cli(['list', '--cache', source, '--now', NOW, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const listed = JSON.parse(r.stdout) as Listed[];
  assert.deepEqual(
    listed.map((l) => [l.key, l.source, l.status]),
    [
      ['amd-crl/Genoa/vcek', 'network', 'expired'],
      [`amd-vcek/Milan/${'ab'.repeat(64)}/fmc-.bl3.tee0.snp8.ucode115`, 'network', 'valid'],
      ['tdx-qe-identity', 'network', 'valid'],
      ['tdx-tcb-info/00906ed50000', 'network', 'valid'],
    ],
  );
  const human = cli(['list', '--cache', source, '--now', NOW]);
  assert.match(human.stdout, /tdx-qe-identity\s+network\s+2026-01-31T00:00:00.000Z\s+valid/);
});

test('export → import (hash-pinned) → list', () => {
  const out = join(root, 'pinned.json');
  const ex = cli(['export', '--out', out, '--cache', source, '--now', NOW]);
  assert.equal(ex.status, 0, ex.stderr);
  assert.match(ex.stdout, /exported 3 endorsement\(s\)/);
  assert.match(ex.stdout, /skipped amd-crl\/Genoa\/vcek: expired/);
  const sha = /sha256 ([0-9a-f]{64}), unsigned/.exec(ex.stdout)?.[1];
  assert.ok(sha, ex.stdout);

  const target = join(root, 'air-gapped');
  const im = cli(['import', out, '--cache', target, '--sha256', sha, '--now', NOW]);
  assert.equal(im.status, 0, im.stderr);
  assert.match(
    im.stdout,
    /imported 3 endorsement\(s\).*\nsha256 [0-9a-f]{64} \(checked: pinned sha256\)/,
  );
  const listed = JSON.parse(
    cli(['list', '--cache', target, '--now', NOW, '--json']).stdout,
  ) as Listed[];
  assert.equal(listed.length, 3);
  assert.ok(listed.every((l) => l.source === 'offline' && l.status === 'valid'));
});

test('export signed → import with --trust-key', () => {
  const out = join(root, 'signed.json');
  const ex = cli([
    'export',
    '--out',
    out,
    '--cache',
    source,
    '--now',
    NOW,
    '--sign-key',
    signKey,
    '--json',
  ]);
  assert.equal(ex.status, 0, ex.stderr);
  const result = JSON.parse(ex.stdout) as { exported: number; kid: string };
  assert.equal(result.exported, 3);
  const target = join(root, 'signed-target');
  const im = cli([
    'import',
    out,
    '--cache',
    target,
    '--trust-key',
    trustKey,
    '--now',
    NOW,
    '--json',
  ]);
  assert.equal(im.status, 0, im.stderr);
  assert.equal((JSON.parse(im.stdout) as { kid: string }).kid, result.kid);
});

test('a tampered bundle is refused whole: exit 3, ERR_BUNDLE_INVALID, nothing written', () => {
  const out = join(root, 'signed.json');
  const doc = JSON.parse(readFileSync(out, 'utf8')) as { entries: { body: string }[] };
  doc.entries[1]!.body = Buffer.from('forged').toString('base64');
  const tampered = join(root, 'tampered.json');
  writeFileSync(tampered, JSON.stringify(doc));
  const target = join(root, 'refused-target');
  const im = cli(['import', tampered, '--cache', target, '--trust-key', trustKey, '--now', NOW]);
  assert.equal(im.status, 3);
  assert.match(im.stderr, /ERR_BUNDLE_INVALID/);
  assert.throws(() => readdirSync(target), { code: 'ENOENT' });
});

test('import without --sha256 or --trust-key is a usage error', () => {
  const im = cli(['import', join(root, 'pinned.json'), '--cache', join(root, 'x')]);
  assert.equal(im.status, 3);
  assert.match(im.stderr, /ERR_USAGE: import needs --sha256 HEX or --trust-key PEM/);
});
