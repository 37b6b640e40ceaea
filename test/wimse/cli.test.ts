import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signWpt } from '../../wimse/rp.js';
import { runCli } from '../helpers/cli.js';
import { AUD, NOW, setup, SUB } from './fixtures.js';

test('twi rp verify accepts a good pair, rejects another audience, refuses bad input', async () => {
  const s = await setup();
  const dir = mkdtempSync(join(tmpdir(), 'twi-rp-'));
  try {
    const jwks = join(dir, 'jwks.json');
    const witFile = join(dir, 'wit.jwt');
    writeFileSync(jwks, JSON.stringify({ keys: [s.issuer.publicJwk] }));
    writeFileSync(witFile, `${s.wit}\n`);
    const wpt = await signWpt({
      wit: s.wit,
      key: s.workload.privateKey,
      alg: 'ES256',
      aud: AUD,
      now: NOW,
    });
    const args = [
      'rp',
      'verify',
      '--wit',
      witFile,
      '--wpt',
      wpt,
      '--jwks',
      jwks,
      '--at',
      NOW.toISOString(),
    ];

    const ok = runCli([...args, '--aud', AUD, '--json']);
    assert.equal(ok.status, 0, ok.stderr);
    const out = JSON.parse(ok.stdout) as Record<string, unknown>;
    assert.deepEqual(out, {
      accepted: true,
      workload_id: SUB,
      trust_domain: 'example.com',
      wit_jti: s.jti,
    });

    const bad = runCli([...args, '--aud', 'https://other.example.com/']);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stdout, /^rejected: ERR_WPT_AUDIENCE/);

    const domain = runCli([...args, '--aud', AUD, '--trust-domain', 'example.org', '--json']);
    assert.equal(domain.status, 2);
    assert.equal((JSON.parse(domain.stdout) as { code: string }).code, 'ERR_WIT_TRUST_DOMAIN');

    // This WIT has no iss: naming the issuer makes it required.
    const iss = runCli([...args, '--aud', AUD, '--issuer', 'https://verifier.example', '--json']);
    assert.equal(iss.status, 2);
    assert.equal((JSON.parse(iss.stdout) as { code: string }).code, 'ERR_WIT_ISSUER');

    const unreadable = runCli([
      ...args.slice(0, 6),
      '--jwks',
      join(dir, 'nope.json'),
      '--aud',
      AUD,
    ]);
    assert.equal(unreadable.status, 3);
    assert.equal(runCli([...args, '--aud', AUD, '--at', 'yesterday']).status, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
