/**
 * `loadCorimPolicies` and `loadCorimKeys`: CoRIM files become reference values ready for
 * `mergePolicies`; once trusted keys are configured every CoRIM must be signed by one; a
 * signed CoRIM without trusted keys is refused; errors name the file.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCorim, signCorim } from '../../endorsements/corim/encode.js';
import { loadCorimKeys, loadCorimPolicies } from '../../endorsements/corim/load.js';
import { mergePolicies } from '../../endorsements/corim/policy.js';
import { tdxReferenceTriple } from '../../endorsements/corim/templates.js';
import type { Corim } from '../../endorsements/corim/types.js';
import { loadPolicy } from '../../verifier/policy/loader.js';
import { newKeyPair } from '../../common/key-pair.js';

const dir = mkdtempSync(join(tmpdir(), 'twi-corim-load-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const NOW = new Date('2026-01-01T00:00:00Z');
const MRTD = '5a'.repeat(48);

const corim: Corim = {
  id: 'tag:example.com,2026:load',
  comids: [{ tagId: 'x', referenceTriples: [tdxReferenceTriple({ mrtd: MRTD })] }],
};
const es256 = newKeyPair('ec', { namedCurve: 'P-256' });
const ed = newKeyPair('ed25519');

function file(name: string, content: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const unsignedFile = file('a.corim', buildCorim(corim));
const signedFile = file(
  'b.corim',
  signCorim(corim, { key: es256.privateKey, signer: { name: 'S' } }),
);
const edFile = file('c.corim', signCorim(corim, { key: ed.privateKey, signer: { name: 'E' } }));
const pemFile = file(
  'keys.pem',
  [es256.publicKey, ed.publicKey].map((k) => k.export({ type: 'spki', format: 'pem' })).join('\n'),
);
const jwkFile = file('key.jwk', JSON.stringify(es256.publicKey.export({ format: 'jwk' })));

function fails(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (err: { code: string; message: string }) => {
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

test('keys load from PEM bundles, JWKs and JWK sets', () => {
  assert.equal(loadCorimKeys([pemFile]).length, 2);
  assert.equal(loadCorimKeys([jwkFile, pemFile]).length, 3);
  assert.throws(() => loadCorimKeys([file('junk.pem', 'junk')]), TypeError);
  fails(() => loadCorimKeys([join(dir, 'nope.pem')]), 'ERR_CORIM_UNREADABLE');
});

test('without trusted keys: unsigned CoRIMs load, signed ones are refused', () => {
  const [refs] = loadCorimPolicies([unsignedFile], { now: NOW });
  assert.deepEqual(refs?.tdx?.mrtd, [MRTD]);
  fails(() => loadCorimPolicies([signedFile], { now: NOW }), 'ERR_CORIM_SIGNATURE', /b\.corim/);
});

test('with trusted keys: every CoRIM must be signed by one of them', () => {
  const trustedKeys = loadCorimKeys([pemFile]);
  const all = loadCorimPolicies([signedFile, edFile], { now: NOW, trustedKeys });
  assert.equal(all.length, 2);
  const policy = mergePolicies(
    loadPolicy('{"id": "p", "tdx": {"mrtd": "' + '6b'.repeat(48) + '"}}'),
    ...all,
  );
  assert.deepEqual(policy.tdx?.mrtd, ['6b'.repeat(48), MRTD]);
  fails(
    () => loadCorimPolicies([unsignedFile], { now: NOW, trustedKeys }),
    'ERR_CORIM_SIGNATURE',
    /a\.corim/,
  );
  fails(
    () => loadCorimPolicies([edFile], { now: NOW, trustedKeys: loadCorimKeys([jwkFile]) }),
    'ERR_CORIM_SIGNATURE',
  );
});

test('unreadable, oversized, invalid and non-TEE CoRIMs are refused naming the file', () => {
  fails(
    () => loadCorimPolicies([join(dir, 'missing.corim')], { now: NOW }),
    'ERR_CORIM_UNREADABLE',
    /missing\.corim/,
  );
  fails(() => loadCorimPolicies([dir], { now: NOW }), 'ERR_CORIM_UNREADABLE');
  fails(
    () => loadCorimPolicies([unsignedFile], { now: NOW, limits: { maxBytes: 10 } }),
    'ERR_CORIM_INVALID',
    /limit/,
  );
  fails(
    () => loadCorimPolicies([file('bad.corim', 'xx')], { now: NOW }),
    'ERR_CORIM_INVALID',
    /bad\.corim/,
  );
  const other = buildCorim({
    id: 'other',
    comids: [
      {
        tagId: 'o',
        referenceTriples: [
          { environment: { class: { vendor: 'ACME' } }, measurements: [{ mval: { name: 'x' } }] },
        ],
      },
    ],
  });
  fails(
    () => loadCorimPolicies([file('other.corim', other)], { now: NOW }),
    'ERR_CORIM_UNSUPPORTED',
    /no reference values/,
  );
  assert.throws(() => loadCorimPolicies([unsignedFile], { now: new Date('x') }), TypeError);
});
