/**
 * `twi verify` publishes the key its EAR is signed with: the JWK in `--json` (`ear_key.jwk`)
 * and in the human output verifies the printed `ear_jwt` (jose, real signatures);
 * `--ear-key-out` writes that key as a JWK or SPKI PEM; `--ear-key` signs with a given
 * ES256/ES384 key, whose public half is the one printed, and refuses other keys.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newKeyPair } from '../../common/key-pair.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader, importJWK, importSPKI, jwtVerify, type JWK } from 'jose';
import { runCli } from '../helpers/cli.js';
import { loadManifest, vectorsDir } from '../helpers/vectors.js';

const sample = loadManifest().samples.find((s) => s.platform === 'sev-snp' && s.files.report)!;
const evidence = join(vectorsDir, sample.files.report!);

interface EarKeyJson {
  status: string;
  ear_jwt: string;
  ear_key: { alg: string; kid: string; ephemeral: boolean; jwk: JWK };
}

function verifyJson(args: string[]): EarKeyJson {
  const r = runCli(['verify', evidence, '--at', sample.verify_at, ...args, '--json']);
  assert.ok(r.status !== null && r.status < 3, r.stderr);
  return JSON.parse(r.stdout) as EarKeyJson;
}

test('the printed EAR verifies with the printed ephemeral key, and not with another', async () => {
  const out = verifyJson([]);
  assert.equal(out.ear_key.ephemeral, true);
  assert.equal(out.ear_key.jwk.kty, 'EC');
  assert.equal(out.ear_key.jwk.crv, 'P-256');
  assert.equal(out.ear_key.jwk.d, undefined, 'no private part is printed');
  assert.equal(out.ear_key.jwk.kid, out.ear_key.kid);
  assert.equal(decodeProtectedHeader(out.ear_jwt).kid, out.ear_key.kid);
  const key = await importJWK(out.ear_key.jwk, 'ES256');
  const { payload } = await jwtVerify(out.ear_jwt, key);
  assert.equal(payload.ear_status, out.status);

  const other = verifyJson([]);
  assert.notEqual(other.ear_key.kid, out.ear_key.kid, 'each run has its own ephemeral key');
  await assert.rejects(jwtVerify(out.ear_jwt, await importJWK(other.ear_key.jwk, 'ES256')));
});

test('the human output prints the EAR and the public key that verifies it', async () => {
  const r = runCli(['verify', evidence, '--at', sample.verify_at]);
  assert.ok(r.status !== null && r.status < 3, r.stderr);
  const jwk = JSON.parse(/^ear_public_key: (.*)$/m.exec(r.stdout)![1]!) as JWK;
  const jwt = /^ear_jwt: (\S+)$/m.exec(r.stdout)![1]!;
  assert.match(r.stdout, new RegExp(`^ear_key: ES256 kid ${jwk.kid} \\(ephemeral\\)$`, 'm'));
  await jwtVerify(jwt, await importJWK(jwk, 'ES256'));
});

test('--ear-key signs with the given key; --ear-key-out writes its public half (JWK or PEM)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-ear-key-'));
  try {
    const pair = newKeyPair('ec', { namedCurve: 'P-384' });
    const keyFile = join(dir, 'ear.key.pem');
    writeFileSync(keyFile, pair.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const jwkFile = join(dir, 'ear.jwk');
    const out = verifyJson(['--ear-key', keyFile, '--ear-key-out', jwkFile]);
    assert.equal(out.ear_key.ephemeral, false);
    assert.equal(out.ear_key.alg, 'ES384');
    const own = pair.publicKey.export({ format: 'jwk' });
    assert.equal(out.ear_key.jwk.x, own.x);
    assert.equal(out.ear_key.jwk.y, own.y);
    const written = JSON.parse(readFileSync(jwkFile, 'utf8')) as JWK;
    assert.deepEqual(written, out.ear_key.jwk);
    await jwtVerify(out.ear_jwt, await importJWK(written, 'ES384'));

    const pemFile = join(dir, 'ear.pub.pem');
    const again = verifyJson(['--ear-key', keyFile, '--ear-key-out', pemFile]);
    const pem = readFileSync(pemFile, 'utf8');
    assert.match(pem, /^-----BEGIN PUBLIC KEY-----/);
    await jwtVerify(again.ear_jwt, await importSPKI(pem, 'ES384'));

    const rsa = newKeyPair('rsa', { modulusLength: 2048 });
    const rsaFile = join(dir, 'rsa.pem');
    writeFileSync(rsaFile, rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const refused = runCli(['verify', evidence, '--at', sample.verify_at, '--ear-key', rsaFile]);
    assert.equal(refused.status, 3);
    assert.match(refused.stderr, /^twi: ERR_USAGE: --ear-key must be an EC P-256/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
