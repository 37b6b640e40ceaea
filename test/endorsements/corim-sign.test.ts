/**
 * Signed CoRIMs (COSE_Sign1, content type application/rim+cbor): ES256, ES384, ES512 and
 * EdDSA keys as KeyObjects and JWKs verify; a wrong, missing or tampered signature is
 * ERR_CORIM_SIGNATURE; header rules are enforced; rim-validity and the signature validity
 * are checked at the injected instant.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import { buildCorim, signCorim } from '../../endorsements/corim/encode.js';
import { decodeCorim } from '../../endorsements/corim/decode-corim.js';
import { tdxReferenceTriple } from '../../endorsements/corim/templates.js';
import type { Corim } from '../../endorsements/corim/types.js';
import type { CorimKey } from '../../endorsements/corim/cose.js';
import { encodeCbor, tag } from '../../endorsements/corim/cbor.js';
import { newKeyPair } from '../../common/key-pair.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const corim: Corim = {
  id: 'tag:example.com,2026:signed',
  comids: [{ tagId: 'c', referenceTriples: [tdxReferenceTriple({ mrtd: 'ab'.repeat(48) })] }],
  validity: {
    notBefore: new Date('2025-06-01T00:00:00Z'),
    notAfter: new Date('2026-06-01T00:00:00Z'),
  },
};

const ec = (namedCurve: string) => newKeyPair('ec', { namedCurve });
const keys = {
  ES256: ec('P-256'),
  ES384: ec('P-384'),
  ES512: ec('P-521'),
  EdDSA: newKeyPair('ed25519'),
};
const other384 = ec('P-384');
const signer = { name: 'ACME builds', uri: 'https://acme.example' };

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return 'no error';
}

test('CoRIMs signed with ES256, ES384, ES512 and EdDSA verify with KeyObjects and JWKs', () => {
  for (const [alg, pair] of Object.entries(keys)) {
    const signed = signCorim(corim, { key: pair.privateKey, signer, kid: `key-${alg}` });
    assert.equal(signed[0], 0xd2, 'tag 18');
    const jwk = pair.publicKey.export({ format: 'jwk' });
    for (const trusted of [
      [pair.publicKey],
      [jwk],
      [other384.publicKey, { ...jwk, alg }],
    ] as CorimKey[][]) {
      const d = decodeCorim(signed, { now: NOW, trustedKeys: trusted });
      assert.deepEqual(d.corim, corim, alg);
      assert.equal(d.signature?.alg, alg);
      assert.equal(d.signature?.verified, true);
      assert.equal(d.signature?.keyIndex, trusted.length - 1);
      assert.deepEqual(d.signature?.signer, signer);
      assert.equal(d.signature?.kid, Buffer.from(`key-${alg}`).toString('hex'));
    }
  }
});

test('a private KeyObject may be given as a trusted key, and the algorithm is named by the key', () => {
  const signed = signCorim(buildCorim(corim), { key: keys.ES256.privateKey, alg: 'ES256', signer });
  const d = decodeCorim(signed, { now: NOW, trustedKeys: [keys.ES256.privateKey] });
  assert.equal(d.signature?.verified, true);
  assert.throws(
    () => signCorim(corim, { key: keys.ES256.privateKey, alg: 'ES384', signer }),
    TypeError,
  );
  assert.throws(() => signCorim(corim, { key: keys.ES256.publicKey, signer }), TypeError);
  assert.throws(() => signCorim(corim, { key: keys.ES256.privateKey } as never), TypeError);
});

test('an unknown signer, no trusted key, or a tampered CoRIM is ERR_CORIM_SIGNATURE', () => {
  const signed = signCorim(corim, { key: keys.ES384.privateKey, signer });
  assert.equal(
    code(() => decodeCorim(signed, { now: NOW, trustedKeys: [other384.publicKey] })),
    'ERR_CORIM_SIGNATURE',
  );
  assert.equal(
    code(() => decodeCorim(signed, { now: NOW, trustedKeys: [keys.ES256.publicKey] })),
    'ERR_CORIM_SIGNATURE',
  );
  const jwkWrongAlg = { ...keys.ES384.publicKey.export({ format: 'jwk' }), alg: 'ES256' };
  assert.equal(
    code(() => decodeCorim(signed, { now: NOW, trustedKeys: [jwkWrongAlg] })),
    'ERR_CORIM_SIGNATURE',
  );
  assert.equal(
    code(() => decodeCorim(signed, { now: NOW, trustedKeys: [] })),
    'ERR_CORIM_SIGNATURE',
  );
  const unverified = decodeCorim(signed, { now: NOW });
  assert.equal(unverified.signature?.verified, false);
  const at = Buffer.from(signed).indexOf(Buffer.from('ab'.repeat(48), 'hex'));
  const tampered = Uint8Array.from(signed);
  tampered[at] ^= 1;
  assert.equal(
    code(() => decodeCorim(tampered, { now: NOW, trustedKeys: [keys.ES384.publicKey] })),
    'ERR_CORIM_SIGNATURE',
  );
  const sigFlip = Uint8Array.from(signed);
  sigFlip[sigFlip.length - 1] ^= 1;
  assert.equal(
    code(() => decodeCorim(sigFlip, { now: NOW, trustedKeys: [keys.ES384.publicKey] })),
    'ERR_CORIM_SIGNATURE',
  );
  const unsigned = buildCorim(corim);
  assert.equal(
    code(() => decodeCorim(unsigned, { now: NOW, requireSignature: true })),
    'ERR_CORIM_SIGNATURE',
  );
});

const META = encodeCbor(new Map([[0, new Map([[0, 'x']])]]));

/** A COSE_Sign1 whose protected header is a good one with `changes` (undefined deletes). */
function withHeader(
  changes: Record<number, unknown>,
  payload: unknown = buildCorim(corim),
  sigLength = 96,
) {
  const header = new Map<number, unknown>([
    [1, -35],
    [3, 'application/rim+cbor'],
    [8, META],
  ]);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) header.delete(Number(k));
    else header.set(Number(k), v);
  }
  return encodeCbor(tag(18, [encodeCbor(header), new Map(), payload, new Uint8Array(sigLength)]));
}

/** Envelopes that break a header rule, the code and the path each must be refused with. */
const BAD_ENVELOPES: readonly (readonly [() => Uint8Array, string, string])[] = [
  [() => withHeader({ 1: undefined }), 'ERR_CORIM_INVALID', 'cose.protected.alg'],
  [() => withHeader({ 1: -257 }), 'ERR_CORIM_UNSUPPORTED', 'cose.protected.alg'],
  [() => withHeader({ 3: 'application/cbor' }), 'ERR_CORIM_INVALID', 'cose.protected.content-type'],
  [() => withHeader({ 3: undefined }), 'ERR_CORIM_INVALID', 'cose.protected.content-type'],
  [() => withHeader({ 8: undefined }), 'ERR_CORIM_INVALID', 'cose.protected'],
  [
    () => withHeader({ 8: encodeCbor(new Map()) }),
    'ERR_CORIM_INVALID',
    'cose.protected.corim-meta.signer',
  ],
  [() => withHeader({ 258: -16 }), 'ERR_CORIM_UNSUPPORTED', 'cose.protected'],
  [() => withHeader({}, null), 'ERR_CORIM_UNSUPPORTED', 'cose.payload'],
  [() => withHeader({}, undefined, 64), 'ERR_CORIM_INVALID', 'cose.signature'],
  [() => withHeader({}, encodeCbor(tag(502, 0))), 'ERR_CORIM_SIGNATURE', 'cose.signature'],
  [
    () => encodeCbor(tag(18, [new Uint8Array(0), new Map(), new Uint8Array(0)])),
    'ERR_CORIM_INVALID',
    'cose',
  ],
];

test('protected header rules: alg, content type, corim-meta, payload', () => {
  for (const [bytes, wantCode, wantPath] of BAD_ENVELOPES) {
    assert.throws(
      () => decodeCorim(bytes(), { now: NOW, trustedKeys: [keys.ES384.publicKey] }),
      (err: { code: string; path: string }) => err.code === wantCode && err.path === wantPath,
      `${wantCode} at ${wantPath}`,
    );
  }
});

test('rim-validity and the signature validity are checked at the injected instant', () => {
  const key: KeyObject = keys.ES256.privateKey;
  const trusted = { trustedKeys: [keys.ES256.publicKey] };
  const signed = signCorim(corim, { key, signer });
  assert.equal(
    code(() => decodeCorim(signed, { now: new Date('2026-06-01T00:00:01Z'), ...trusted })),
    'ERR_CORIM_EXPIRED',
  );
  assert.equal(
    code(() => decodeCorim(signed, { now: new Date('2025-05-31T23:59:59Z'), ...trusted })),
    'ERR_CORIM_NOT_YET_VALID',
  );
  assert.ok(decodeCorim(signed, { now: new Date('2026-06-01T00:00:00Z'), ...trusted }));
  assert.equal(
    code(() => decodeCorim(buildCorim(corim), { now: new Date('2027-01-01') })),
    'ERR_CORIM_EXPIRED',
  );
  const shortSig = signCorim(corim, {
    key,
    signer,
    signatureValidity: { notAfter: new Date('2025-12-31T00:00:00Z') },
  });
  assert.throws(
    () => decodeCorim(shortSig, { now: NOW, ...trusted }),
    (err: { code: string; path: string }) =>
      err.code === 'ERR_CORIM_EXPIRED' && err.path === 'cose.corim-meta.signature-validity',
  );
  const d = decodeCorim(shortSig, { now: new Date('2025-12-01T00:00:00Z'), ...trusted });
  assert.deepEqual(d.signature?.signatureValidity, { notAfter: new Date('2025-12-31T00:00:00Z') });
});
