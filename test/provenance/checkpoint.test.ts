/**
 * C2SP checkpoints: the published sum.golang.org checkpoint (re-typed from transparency-dev
 * formats' tests) verifies with its published key and is refused under another origin; the
 * note text rules of c2sp.org/tlog-checkpoint (three lines, decimal size without leading
 * zeros, 32-byte base64 root, non-empty extension lines); the log's checkpoint key is derived
 * from the log key (same key from the same stored PEM, another from another), its signatures
 * are checked independently from the spec's byte rules with node:crypto, and tampered bodies
 * or signatures are refused with their codes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import {
  checkpointKeyOf,
  defaultCheckpointOrigin,
  formatCheckpoint,
  parseCheckpoint,
  signCheckpoint,
  verifyCheckpoint,
} from '../../provenance/checkpoint.js';
import { generateLogKey, logKeyFromPem } from '../../provenance/tree-head.js';

// Source: github.com/transparency-dev/formats log/note_test.go (TestSumDBNoteParsing).
const SUMDB_VKEY = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';
const SUMDB_CHECKPOINT = `go.sum database tree
6476701
mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=

— sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=
`;

const ROOT = new Uint8Array(createHash('sha256').update('root').digest());
const ORIGIN = 'verifier.example/twi/provenance';
const code = (c: string) => ({ code: c });

describe('checkpoints (c2sp.org/tlog-checkpoint)', () => {
  test('the published sum.golang.org checkpoint verifies with its key', () => {
    const cp = verifyCheckpoint(SUMDB_CHECKPOINT, [SUMDB_VKEY], { origin: 'go.sum database tree' });
    assert.equal(cp.origin, 'go.sum database tree');
    assert.equal(cp.size, 6476701);
    assert.equal(
      Buffer.from(cp.root).toString('base64'),
      'mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=',
    );
    assert.deepEqual(cp.signers, ['sum.golang.org']);
    assert.throws(
      () => verifyCheckpoint(SUMDB_CHECKPOINT, [SUMDB_VKEY], { origin: 'another log' }),
      code('ERR_NOTE_MALFORMED'),
    );
    const tampered = SUMDB_CHECKPOINT.replace('6476701', '6476702');
    assert.throws(
      () => verifyCheckpoint(tampered, [SUMDB_VKEY], { origin: 'go.sum database tree' }),
      code('ERR_NOTE_SIGNATURE_INVALID'),
    );
  });

  test('note text rules', () => {
    const root = Buffer.from(ROOT).toString('base64');
    const ok = parseCheckpoint(`o\n0\n${root}\next one\n`);
    assert.equal(ok.size, 0);
    assert.deepEqual(ok.extensions, ['ext one']);
    const bad = [
      `o\n5\n${root}`,
      `o\n5\n`,
      `\n5\n${root}\n`,
      `o\n05\n${root}\n`,
      `o\n-5\n${root}\n`,
      `o\n5.0\n${root}\n`,
      `o\n 5\n${root}\n`,
      `o\n9007199254740992\n${root}\n`,
      `o\n5\n${root.slice(0, -1)}\n`,
      `o\n5\n${Buffer.from(ROOT.subarray(1)).toString('base64')}\n`,
      `o\n5\n${root}\n\n`,
      `o\n5\n${root}\na\n\nb\n`,
    ];
    for (const text of bad)
      assert.throws(() => parseCheckpoint(text), code('ERR_NOTE_MALFORMED'), text);
    assert.equal(
      formatCheckpoint({ origin: 'o', size: 12, root: ROOT, extensions: [] }),
      `o\n12\n${root}\n`,
    );
  });

  test("the log's key: derived from the stored log key, checked from the spec's byte rules", () => {
    const { pem } = generateLogKey();
    const key = checkpointKeyOf(logKeyFromPem(pem), ORIGIN);
    assert.equal(checkpointKeyOf(logKeyFromPem(pem), ORIGIN).verifierKey, key.verifierKey);
    const other = checkpointKeyOf(logKeyFromPem(generateLogKey().pem), ORIGIN);
    assert.notEqual(other.verifierKey, key.verifierKey);
    assert.throws(() => checkpointKeyOf(logKeyFromPem(pem), 'a b'), TypeError);
    assert.throws(() => checkpointKeyOf(logKeyFromPem(pem), 'a+b'), TypeError);

    const note = signCheckpoint(key, 42, ROOT);
    const text = `${ORIGIN}\n42\n${Buffer.from(ROOT).toString('base64')}\n`;
    assert.ok(note.startsWith(`${text}\n— ${ORIGIN} `));
    assert.ok(note.endsWith('\n'));
    // Independent check: key ID = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4], Ed25519 over the text.
    // The base64 key may itself hold '+': name and key ID are the first two fields.
    const [name, idHex, ...keyParts] = key.verifierKey.split('+') as [string, string, string];
    const keyB64 = keyParts.join('+');
    assert.equal(name, ORIGIN);
    const raw = Buffer.from(keyB64, 'base64');
    assert.equal(raw.length, 33);
    assert.equal(raw[0], 0x01);
    const id = createHash('sha256')
      .update(Buffer.concat([Buffer.from(ORIGIN), Buffer.from([0x0a, 0x01]), raw.subarray(1)]))
      .digest()
      .subarray(0, 4);
    assert.equal(id.toString('hex'), idHex);
    const sig = Buffer.from(note.slice(note.lastIndexOf(' ') + 1, -1), 'base64');
    assert.equal(sig.length, 4 + 64);
    assert.deepEqual(sig.subarray(0, 4), id);
    const pub = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: raw.subarray(1).toString('base64url') },
      format: 'jwk',
    });
    assert.ok(verify(null, Buffer.from(text), pub, sig.subarray(4)));

    const cp = verifyCheckpoint(note, [key.verifierKey]);
    assert.equal(cp.origin, ORIGIN);
    assert.equal(cp.size, 42);
    assert.deepEqual(cp.root, ROOT);
    assert.throws(() => verifyCheckpoint(note, [other.verifierKey]), code('ERR_NOTE_UNVERIFIED'));
    assert.throws(
      () => verifyCheckpoint(note.replace('\n42\n', '\n43\n'), [key.verifierKey]),
      code('ERR_NOTE_SIGNATURE_INVALID'),
    );
    const badSig = note.slice(0, -6) + (note.at(-6) === 'A' ? 'B' : 'A') + note.slice(-5);
    assert.throws(
      () => verifyCheckpoint(badSig, [key.verifierKey]),
      code('ERR_NOTE_SIGNATURE_INVALID'),
    );
    // A witness (unknown key) co-signature is ignored.
    const withWitness = note + SUMDB_CHECKPOINT.slice(SUMDB_CHECKPOINT.indexOf('— '));
    assert.equal(verifyCheckpoint(withWitness, [key.verifierKey]).size, 42);
  });

  test('default origin from the issuer', () => {
    assert.equal(
      defaultCheckpointOrigin('https://verifier.example'),
      'verifier.example/twi/provenance',
    );
    assert.equal(
      defaultCheckpointOrigin('https://v.example:8443/tenant/'),
      'v.example:8443/tenant/twi/provenance',
    );
  });
});
