/**
 * C2SP signed notes against published vectors: the example keys, note and signatures of
 * golang.org/x/mod/sumdb/note's tests (re-typed below as fixture data) open with our verifier
 * (known, unknown and duplicate signers; a failing known signature rejects the note; more
 * than 100 signatures, bad syntax, control characters and invalid UTF-8 are malformed);
 * our signer reproduces the published signature byte for byte from the published private
 * key; verifier keys are recomputed from their private keys (x/mod and transparency-dev
 * vectors) and every one-byte mangling of a verifier key is refused.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import {
  formatVerifierKey,
  isValidKeyName,
  noteSigner,
  openNote,
  parseNote,
  parseVerifierKey,
  signNote,
} from '../../provenance/signed-note.js';

// Source: golang.org/x/mod sumdb/note/note_test.go (TestNewVerifier, TestSign, TestOpen).
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT =
  'If you think cryptography is the answer to your problem,\n' +
  "then you don't know what your problem is.\n";
const PETER_SIG =
  '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG =
  '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

// Source: github.com/transparency-dev/formats log/note_test.go (signer/verifier key pairs).
const PAIRS: [string, string][] = [
  [
    'PRIVATE+KEY+Log+2271c621+AdEIq9FLRQni54Wg68T96VJO+iayOaulswav2DUMKgvQ',
    'Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs',
  ],
  [
    'PRIVATE+KEY+Known+451c786d+AQPRoE2+Z+Ed1HaHBA9F/FfracvcZ2rDU39kCecMEoci',
    'Known+451c786d+AXAQ0T7lbwuY4ABJ9/MYY9bWV3hmSyOGVt2x42NkmdUH',
  ],
  [
    'PRIVATE+KEY+KnownAgain+4893b26c+ARhZda/l25zjGZswYLDZsLNRzNpmv5wYTN9IoTr1OJ2+',
    'KnownAgain+4893b26c+AQ+LR7BFF/F/dkpIBjBpSvT0crkteizuUkavAoGeaYMj',
  ],
  [PETER_SKEY, PETER_VKEY],
];

/** The Ed25519 private key of an x/mod `PRIVATE+KEY+<name>+<id>+base64(0x01 ‖ seed)` text. */
function privateKeyOf(skey: string): { name: string; key: KeyObject } {
  const fields = skey.split('+');
  const name = fields[2]!;
  // The base64 key may itself contain '+': re-join everything after the key ID.
  const raw = Buffer.from(fields.slice(4).join('+'), 'base64');
  assert.equal(raw[0], 0x01);
  const pkcs8 = Buffer.concat([
    Buffer.from('302e020100300506032b657004220420', 'hex'),
    raw.subarray(1),
  ]);
  return { name, key: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }) };
}

const code = (c: string) => ({ code: c });

describe('signed notes (c2sp.org/signed-note, x/mod/sumdb/note vectors)', () => {
  const peter = parseVerifierKey(PETER_VKEY);
  const enoch = parseVerifierKey(ENOCH_VKEY);

  test('verifier keys recomputed from the published private keys', () => {
    for (const [skey, vkey] of PAIRS) {
      const { name, key } = privateKeyOf(skey);
      assert.equal(formatVerifierKey(name, createPublicKey(key)), vkey);
    }
    assert.equal(peter.name, 'PeterNeumann');
    assert.equal(peter.keyId, 0xc74f20a3);
  });

  test('our signer reproduces the published note byte for byte', () => {
    const { name, key } = privateKeyOf(PETER_SKEY);
    assert.equal(signNote(TEXT, [noteSigner(name, key)]), `${TEXT}\n${PETER_SIG}`);
  });

  test('known signers verify, unknown ones are ignored, duplicates skipped', () => {
    const note = TEXT + '\n' + PETER_SIG + ENOCH_SIG;
    const one = openNote(note, [peter]);
    assert.equal(one.text, TEXT);
    assert.deepEqual(
      one.verifiedBy.map((k) => k.name),
      ['PeterNeumann'],
    );
    assert.equal(one.signatures.length, 2);
    const both = openNote(note, [peter, enoch]);
    assert.deepEqual(
      both.verifiedBy.map((k) => k.name),
      ['PeterNeumann', 'EnochRoot'],
    );
    assert.throws(() => openNote(note, []), code('ERR_NOTE_UNVERIFIED'));
    assert.throws(() => openNote(TEXT + '\n' + ENOCH_SIG, [peter]), code('ERR_NOTE_UNVERIFIED'));
    // A name known under another key ID is an unknown key.
    const renamed = ENOCH_SIG.replace('EnochRoot', 'PeterNeumann');
    assert.throws(() => openNote(TEXT + '\n' + renamed, [peter]), code('ERR_NOTE_UNVERIFIED'));
    const dup = openNote(TEXT + '\n' + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG, [peter]);
    assert.equal(dup.verifiedBy.length, 1);
  });

  test('a failing signature of a known key rejects the note', () => {
    const mangled = PETER_SIG.slice(0, 60) + 'ABCD' + PETER_SIG.slice(60);
    assert.throws(
      () => openNote(TEXT + '\n' + mangled, [peter]),
      code('ERR_NOTE_SIGNATURE_INVALID'),
    );
    const flipped = PETER_SIG.replace('x08go/', 'x08go+');
    assert.throws(
      () => openNote(TEXT + '\n' + flipped, [peter]),
      code('ERR_NOTE_SIGNATURE_INVALID'),
    );
    const otherText = TEXT.replace('answer', 'answers');
    assert.throws(
      () => openNote(otherText + '\n' + PETER_SIG, [peter]),
      code('ERR_NOTE_SIGNATURE_INVALID'),
    );
  });

  test('malformed notes', () => {
    assert.throws(
      () => openNote(TEXT + '\n' + PETER_SIG.repeat(101), [peter]),
      code('ERR_NOTE_MALFORMED'),
    );
    assert.equal(parseNote(TEXT + '\n' + PETER_SIG.repeat(100)).signatures.length, 100);
    const bad = [
      TEXT,
      TEXT + '\n',
      TEXT + '\n' + PETER_SIG.slice(0, -1),
      '\x01' + TEXT + '\n' + PETER_SIG,
      TEXT +
        '\n' +
        '— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=',
      TEXT + '\n' + PETER_SIG + 'Unexpected line.\n',
      TEXT + '\n' + PETER_SIG.replace('— ', '-- '),
      TEXT.replace('\n', '\r\n') + '\n' + PETER_SIG,
    ];
    for (const msg of bad)
      assert.throws(() => openNote(msg, [peter]), code('ERR_NOTE_MALFORMED'), msg);
    const invalidUtf8 = Buffer.concat([Buffer.from([0xff]), Buffer.from(TEXT + '\n' + PETER_SIG)]);
    assert.throws(() => openNote(new Uint8Array(invalidUtf8), [peter]), code('ERR_NOTE_MALFORMED'));
    const bytes = new Uint8Array(Buffer.from(TEXT + '\n' + PETER_SIG));
    assert.equal(openNote(bytes, [peter]).text, TEXT);
  });

  test('the text may hold blank lines: it ends at the last one', () => {
    const { name, key } = privateKeyOf(PETER_SKEY);
    const text = 'first\n\nthird\n';
    const note = signNote(text, [noteSigner(name, key)]);
    assert.equal(openNote(note, [peter]).text, text);
  });

  test('key names: non-empty, no Unicode space, no plus', () => {
    for (const ok of ['PeterNeumann', 'Señor-1', 'example.com/log42', 'go.sum']) {
      assert.equal(isValidKeyName(ok), true, ok);
    }
    for (const bad of ['', 'a b', 'a+b', 'a\u00a0b', 'a\u0085b', 'a\u2003b', 'a\u3000b']) {
      assert.equal(isValidKeyName(bad), false, JSON.stringify(bad));
    }
  });

  test('verifier keys: every mangling is refused', () => {
    assert.throws(
      () =>
        parseVerifierKey(
          'PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==',
        ),
      code('ERR_NOTE_KEY_INVALID'),
    );
    assert.throws(
      () => parseVerifierKey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'),
      code('ERR_NOTE_KEY_INVALID'),
    );
    const b = Buffer.from(PETER_VKEY);
    for (let i = 0; i < b.length; i++) {
      b[i]! += 1;
      assert.throws(() => parseVerifierKey(b.toString('latin1')), code('ERR_NOTE_KEY_INVALID'));
      b[i]! -= 1;
    }
    for (let j = 1; j < PETER_VKEY.length; j++) {
      assert.throws(() => parseVerifierKey(PETER_VKEY.slice(0, j)), code('ERR_NOTE_KEY_INVALID'));
    }
  });
});
