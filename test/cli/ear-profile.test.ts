/**
 * `--ear-profile` of the CLI. `twi verify`: the veraison profile gives an EAR (printed and
 * signed) that meets veraison/ear's rules, for a real TDX, SEV-SNP and Nitro sample; the draft
 * is the default; an unknown profile exits 3. `twi serve` refuses an unknown profile (exit 3).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { runCli } from '../helpers/cli.js';
import { haveVectors, loadManifest, vectorsDir } from '../helpers/vectors.js';
import { veraisonFacts, type Json } from '../verifier/ear/veraison-facts.js';

const skip = !haveVectors;
const SAMPLES = {
  tdx: ['tdx-v4-dcapqvl-b0c06f-uptodate', 'quote'],
  'sev-snp': ['snp-v3-genoa-azure-trustee', 'report'],
  nitro: ['nitro-dstack-20251225-prod', 'cose_sign1'],
} as const;

for (const [platform, [name, kind]] of Object.entries(SAMPLES)) {
  test(`twi verify --ear-profile veraison (${platform})`, { skip }, () => {
    const sample = loadManifest().samples.find((s) => s.name === name)!;
    const file = join(vectorsDir, sample.files[kind]!);
    const args = ['verify', file, '--at', sample.verify_at, '--json'];
    const r = runCli([...args, '--ear-profile', 'veraison']);
    const out = JSON.parse(r.stdout) as { ear: Json; ear_jwt: string; status: string };
    assert.deepEqual(veraisonFacts(out.ear), [], r.stderr);
    const signed = decodeJwt(out.ear_jwt) as Json;
    assert.deepEqual(veraisonFacts(signed), []);
    const sub = (signed.submods as Record<string, Json>)[platform]!;
    assert.equal(sub['ear.status'], out.status);
    const d = JSON.parse(runCli(args).stdout) as { ear: Json };
    assert.equal(d.ear.eat_profile, 'tag:ietf.org,2026:rats/ear#04');
  });
}

test('twi verify --ear-profile with an unknown profile exits 3', { skip }, () => {
  const sample = loadManifest().samples.find((s) => s.name === SAMPLES.tdx[0])!;
  const file = join(vectorsDir, sample.files.quote!);
  const r = runCli(['verify', file, '--at', sample.verify_at, '--ear-profile', 'psa']);
  assert.equal(r.status, 3);
  assert.match(r.stderr, /--ear-profile/);
});

test('twi serve --ear-profile with an unknown profile exits 3 before listening', () => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-serve-ear-'));
  try {
    const r = runCli(['serve', '--data', dir, '--port', '0', '--ear-profile', 'psa'], {
      timeoutMs: 60_000,
    });
    assert.equal(r.status, 3);
    assert.match(r.stderr, /--ear-profile: unknown EAR profile "psa"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
