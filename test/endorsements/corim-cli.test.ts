/**
 * `twi corim inspect`: what a CoRIM asserts in platform terms, as text and JSON; signature
 * verified with --trust-key; exit 3 for invalid, expired or badly signed CoRIMs.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCorim, signCorim } from '../../endorsements/corim/encode.js';
import { nitroReferenceTriple, tdxReferenceTriple } from '../../endorsements/corim/templates.js';
import { platformEnvironment, SNP_MKEY, SNP_PROFILE } from '../../endorsements/corim/profiles.js';
import type { Corim } from '../../endorsements/corim/types.js';
import type { CorimDescription } from '../../endorsements/corim/describe.js';
import { runCli } from '../helpers/cli.js';
import { newKeyPair } from '../../common/key-pair.js';

const dir = mkdtempSync(join(tmpdir(), 'twi-corim-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const A = 'a1'.repeat(48);
const B = 'b2'.repeat(48);
const corim: Corim = {
  id: 'tag:example.com,2026:cli',
  profile: SNP_PROFILE,
  validity: { notAfter: new Date('2030-01-01T00:00:00Z') },
  comids: [
    {
      tagId: 'refs',
      tagVersion: 3,
      referenceTriples: [
        tdxReferenceTriple({ mrtd: A, rtmrs: [undefined, B] }),
        {
          environment: platformEnvironment('sev-snp'),
          measurements: [
            {
              mkey: SNP_MKEY.MEASUREMENT,
              mval: {
                digests: [
                  { alg: 7, value: Buffer.from(A, 'hex') },
                  { alg: 7, value: Buffer.from(B, 'hex') },
                ],
              },
            },
            { mkey: SNP_MKEY.GUEST_SVN, mval: { svn: { min: 2n } } },
          ],
        },
        nitroReferenceTriple({ 0: A }),
      ],
    },
  ],
};
const keys = newKeyPair('ec', { namedCurve: 'P-384' });
const stranger = newKeyPair('ec', { namedCurve: 'P-384' });

function file(name: string, content: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const unsigned = file('refs.corim', buildCorim(corim));
const signed = file(
  'refs.signed.corim',
  signCorim(corim, { key: keys.privateKey, signer: { name: 'ACME' } }),
);
const pem = file('signer.pem', keys.publicKey.export({ type: 'spki', format: 'pem' }));
const wrongPem = file('stranger.pem', stranger.publicKey.export({ type: 'spki', format: 'pem' }));
const jwks = file(
  'signer.jwks',
  JSON.stringify({ keys: [keys.publicKey.export({ format: 'jwk' })] }),
);

test('inspect prints what the CoRIM asserts in platform terms', () => {
  const r = runCli(['corim', 'inspect', unsigned, '--at', '2026-01-01T00:00:00Z']);
  assert.equal(r.status, 0, r.stderr);
  for (const line of [
    'corim: tag:example.com,2026:cli',
    'profile: tag:amd.com,2025:snp-corim-profile',
    'signature: unsigned',
    'comid[0]: refs v3',
    `TDX MRTD = ${A}`,
    `TDX RTMR1 = ${B}`,
    `SEV-SNP MEASUREMENT one of [${A}, ${B}]`,
    'SEV-SNP GUEST_SVN >= 2',
    `Nitro PCR0 = ${A}`,
  ]) {
    assert.ok(r.stdout.includes(line), `${line}\n${r.stdout}`);
  }
});

test('inspect --json verifies the signature with --trust-key (PEM or JWK set)', () => {
  for (const key of [pem, jwks]) {
    const r = runCli([
      'corim',
      'inspect',
      signed,
      '--json',
      '--trust-key',
      wrongPem,
      '--trust-key',
      key,
    ]);
    assert.equal(r.status, 0, r.stderr);
    const d = JSON.parse(r.stdout) as CorimDescription;
    assert.deepEqual(d.signature, {
      signed: true,
      alg: 'ES384',
      kid: null,
      signer: 'ACME',
      verified: true,
    });
    assert.equal(d.comids[0]!.reference_triples.length, 3);
    assert.deepEqual(
      d.comids[0]!.reference_triples.map((t) => t.platform),
      ['tdx', 'sev-snp', 'nitro'],
    );
    assert.ok(!('error' in d.policy));
    if (!('error' in d.policy)) {
      assert.deepEqual(d.policy.tdx?.mrtd, [A]);
      assert.deepEqual(d.policy['sev-snp']?.measurement, [A, B]);
      assert.equal(d.policy['sev-snp']?.guest_svn_min, 2);
    }
  }
  const unverified = runCli(['corim', 'inspect', signed]);
  assert.equal(unverified.status, 0, unverified.stderr);
  assert.match(unverified.stdout, /signature: signed ES384 by "ACME", NOT verified/);
});

test('exit 3 for a wrong signer, an expired CoRIM, garbage, truncation and missing files', () => {
  const cases: [string[], RegExp][] = [
    [[signed, '--trust-key', wrongPem], /ERR_CORIM_SIGNATURE/],
    [[unsigned, '--at', '2031-01-01T00:00:00Z'], /ERR_CORIM_EXPIRED: corim\.rim-validity/],
    [[file('garbage.corim', 'not a corim at all')], /ERR_CORIM_INVALID: corim/],
    [[file('cut.corim', buildCorim(corim).subarray(0, 100))], /ERR_CORIM_INVALID: corim/],
    [[join(dir, 'missing.corim')], /ERR_INPUT_FILE/],
    [[unsigned, '--at', 'yesterday'], /ERR_USAGE/],
    [[unsigned, '--trust-key', file('bad.pem', 'nothing')], /ERR_USAGE/],
  ];
  for (const [args, stderr] of cases) {
    const r = runCli(['corim', 'inspect', ...args]);
    assert.equal(r.status, 3, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, stderr);
  }
});
