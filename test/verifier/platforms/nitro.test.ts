/**
 * Nitro codec against the real documents listed in the vectors manifest: byte-exact round
 * trip, claims, an independent decode with cbor-x, and cryptographic proof that the parser
 * takes the right bytes (ES384 over the Sig_structure, chain to the pinned AWS root).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { Decoder } from 'cbor-x';
import { haveVectors, loadManifest, readVector } from '../../helpers/vectors.js';
import type { Sample } from '../../helpers/vectors.js';
import {
  describeNitroFormat,
  encodeCoseSign1,
  encodeNitroPayload,
  encodeNitroProtectedHeader,
  looksLikeNitroDocument,
  nitroClaims,
  parseNitroDocument,
  serializeNitroDocument,
} from '../../../verifier/platforms/nitro/index.js';
import { bytesEqual, toHex } from '../../../common/bytes.js';
import { signatureVerifies } from '../../helpers/nitro.js';

const ROOT_FILE = 'roots/aws-nitro-enclaves-root-g1.pem';
const ROOT_SHA256 = '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b';

const manifest = haveVectors ? loadManifest() : { samples: [], roots: [] };
const samples: Sample[] = manifest.samples.filter((s) => s.platform === 'nitro');

function docOf(s: Sample): Uint8Array {
  const file = s.files.cose_sign1;
  assert.ok(file, `${s.name} has a cose_sign1 file`);
  return readVector(file);
}

function pinnedRoot(): X509Certificate {
  return new X509Certificate(readVector(ROOT_FILE));
}

test(
  'the manifest lists Nitro samples with definite and indefinite payload maps',
  { skip: !haveVectors },
  () => {
    assert.ok(samples.length >= 4);
    const kinds = new Set(samples.map((s) => parseNitroDocument(docOf(s)).encoding.payloadMap));
    assert.deepEqual([...kinds].sort(), ['definite', 'indefinite']);
  },
);

test('the pinned root is AWS Nitro Enclaves Root-G1', { skip: !haveVectors }, () => {
  const root = pinnedRoot();
  assert.equal(createHash('sha256').update(root.raw).digest('hex'), ROOT_SHA256);
  assert.ok(root.verify(root.publicKey));
  const listed = manifest.roots.flatMap((r) => r.certs ?? []).map((c) => c.sha256_der);
  assert.ok(listed.includes(ROOT_SHA256));
});

for (const s of samples) {
  test(`${s.name}: byte-exact round trip and sniff`, () => {
    const bytes = docOf(s);
    const doc = parseNitroDocument(bytes);
    assert.equal(doc.trailing.length, 0);
    assert.ok(bytesEqual(serializeNitroDocument(doc), bytes));
    assert.ok(looksLikeNitroDocument(bytes));
    assert.equal(doc.encoding.tagged, false);
    assert.deepEqual(doc.encoding.heads, {}, 'NSM output encodes every head minimally');
    assert.equal(doc.signature.length, 96);
    assert.equal(toHex(doc.protectedHeader), 'a1013822');
  });

  test(`${s.name}: claims and identity fields match the manifest`, () => {
    const doc = parseNitroDocument(docOf(s));
    assert.deepEqual(nitroClaims(doc), s.measurements);
    assert.equal(doc.payload.moduleId, s.module_id);
    assert.equal(doc.payload.digest, s.digest);
    assert.equal(doc.payload.timestamp, s.timestamp_ms);
    assert.equal(new Date(doc.payload.timestamp).toISOString(), s.verify_at);
    assert.equal(doc.payload.cabundle.length + 1, s.chain_len_incl_leaf);
  });

  test(`${s.name}: describe is JSON-safe and consistent`, () => {
    const doc = parseNitroDocument(docOf(s));
    const d = describeNitroFormat(doc);
    assert.deepEqual(JSON.parse(JSON.stringify(d)), d);
    assert.equal(d.moduleId, s.module_id);
    assert.equal(d.timestampIso, s.verify_at);
    assert.equal(d.pcrCount, 16);
    assert.deepEqual(d.pcrLengths, [48]);
    assert.equal(d.cabundleCns[0], 'aws.nitro-enclaves');
    assert.ok(
      d.certificateCn?.startsWith(`${s.module_id}.`),
      'leaf CN is <module_id>.<region>.aws',
    );
    assert.equal(d.trailingBytes, 0);
    assert.equal(d.payloadMap, String(s.format).includes('INDEFINITE') ? 'indefinite' : 'definite');
  });

  test(`${s.name}: cbor-x decodes the same payload fields`, () => {
    const doc = parseNitroDocument(docOf(s));
    const m = new Decoder({ mapsAsObjects: false, useRecords: false }).decode(
      doc.payloadBytes,
    ) as Map<string, unknown>;
    assert.deepEqual([...m.keys()], doc.encoding.keyOrder);
    assert.equal(m.get('module_id'), doc.payload.moduleId);
    assert.equal(Number(m.get('timestamp')), doc.payload.timestamp);
    const pcrs = m.get('pcrs') as Map<number, Uint8Array>;
    assert.deepEqual([...pcrs.keys()], [...doc.payload.pcrs.keys()]);
    for (const [i, v] of pcrs) assert.ok(bytesEqual(v, doc.payload.pcrs.get(i) as Uint8Array));
    assert.ok(bytesEqual(m.get('certificate') as Uint8Array, doc.payload.certificate));
    for (const k of ['public_key', 'user_data', 'nonce'] as const) {
      const field = {
        public_key: doc.payload.publicKey,
        user_data: doc.payload.userData,
        nonce: doc.payload.nonce,
      }[k];
      assert.equal(m.has(k), field !== undefined);
      assert.equal(m.get(k) === null, field === null);
    }
  });

  test(`${s.name}: ES384 signature over the Sig_structure verifies with the leaf key`, () => {
    const bytes = docOf(s);
    const doc = parseNitroDocument(bytes);
    assert.ok(signatureVerifies(doc));
    const flipped = { ...doc, payloadBytes: doc.payloadBytes.slice() };
    flipped.payloadBytes[10] ^= 1;
    assert.equal(signatureVerifies(flipped), false);
  });

  test(`${s.name}: leaf and cabundle chain to the pinned root at the document time`, () => {
    const doc = parseNitroDocument(docOf(s));
    const root = pinnedRoot();
    const bundle = doc.payload.cabundle.map((der) => new X509Certificate(der));
    assert.equal(bundle[0]?.fingerprint256, root.fingerprint256, 'cabundle[0] is the pinned root');
    const chain = [
      new X509Certificate(doc.payload.certificate),
      ...bundle.slice(1).reverse(),
      root,
    ];
    const at = Date.parse(s.verify_at);
    for (let i = 0; i < chain.length - 1; i++) {
      const [child, parent] = [chain[i] as X509Certificate, chain[i + 1] as X509Certificate];
      assert.ok(child.checkIssued(parent), `cert ${i} issued by cert ${i + 1}`);
      assert.ok(child.verify(parent.publicKey), `cert ${i} signed by cert ${i + 1}`);
    }
    for (const cert of chain) {
      assert.ok(Date.parse(cert.validFrom) <= at && at <= Date.parse(cert.validTo), cert.subject);
    }
  });

  test(`${s.name}: tagged (CBOR tag 18) variant parses and round-trips`, () => {
    const bytes = docOf(s);
    for (const prefix of [[0xd2], [0xd8, 0x12]]) {
      const tagged = new Uint8Array([...prefix, ...bytes]);
      const doc = parseNitroDocument(tagged);
      assert.equal(doc.encoding.tagged, true);
      assert.ok(looksLikeNitroDocument(tagged));
      assert.ok(bytesEqual(serializeNitroDocument(doc), tagged));
      assert.ok(signatureVerifies(doc));
    }
  });

  test(`${s.name}: trailing bytes are reported, not fatal`, () => {
    const bytes = docOf(s);
    const doc = parseNitroDocument(new Uint8Array([...bytes, 0, 1, 2]));
    assert.equal(toHex(doc.trailing), '000102');
    assert.ok(bytesEqual(serializeNitroDocument(doc), bytes));
    assert.equal(describeNitroFormat(doc).trailingBytes, 3);
  });

  test(`${s.name}: builders reproduce the document from its parts`, () => {
    const bytes = docOf(s);
    const doc = parseNitroDocument(bytes);
    const payload = encodeNitroPayload(doc.payload, {
      indefinite: doc.encoding.payloadMap === 'indefinite',
      keyOrder: doc.encoding.keyOrder,
    });
    assert.ok(bytesEqual(payload, doc.payloadBytes));
    const rebuilt = encodeCoseSign1({
      protectedHeader: encodeNitroProtectedHeader(),
      payload,
      signature: doc.signature,
    });
    assert.ok(bytesEqual(rebuilt, bytes));
  });
}

test(
  'switching the payload map kind re-encodes the same fields (and breaks the signature)',
  { skip: !haveVectors },
  () => {
    for (const s of samples) {
      const doc = parseNitroDocument(docOf(s));
      const other = doc.encoding.payloadMap === 'definite' ? 'indefinite' : 'definite';
      const bytes = serializeNitroDocument({
        ...doc,
        encoding: { ...doc.encoding, payloadMap: other },
      });
      const again = parseNitroDocument(bytes);
      assert.equal(again.encoding.payloadMap, other);
      assert.deepEqual(nitroClaims(again), nitroClaims(doc));
      assert.equal(signatureVerifies(again), false);
    }
  },
);

test('non-minimal and indefinite heads everywhere round-trip', { skip: !haveVectors }, () => {
  const doc = parseNitroDocument(docOf(samples[0] as Sample));
  const heads = {
    tag: 1,
    COSE_Sign1: 'indefinite',
    protected: 2,
    'protected.map': 'indefinite',
    'protected.label': 4,
    alg: 8,
    unprotected: 'indefinite',
    payload: 8,
    signature: 4,
    'payload.map': 2,
    'key.module_id': 1,
    module_id: 2,
    pcrs: 'indefinite',
    'pcrs[0].index': 1,
    'pcrs[1]': 4,
    cabundle: 'indefinite',
    'cabundle[0]': 8,
  } as const;
  const protectedHeader = encodeNitroProtectedHeader(-35, heads);
  const payload = encodeNitroPayload(doc.payload, { keyOrder: doc.encoding.keyOrder, heads });
  const bytes = encodeCoseSign1({
    protectedHeader,
    payload,
    signature: doc.signature,
    tagged: true,
    heads,
  });
  const parsed = parseNitroDocument(bytes);
  assert.deepEqual(parsed.encoding.heads, heads);
  assert.ok(bytesEqual(serializeNitroDocument(parsed), bytes));
  assert.deepEqual(nitroClaims(parsed), nitroClaims(doc));
});

test('key order and null versus absent are kept', { skip: !haveVectors }, () => {
  const doc = parseNitroDocument(docOf(samples[0] as Sample));
  const keyOrder = [...doc.encoding.keyOrder].reverse();
  const fields = { ...doc.payload, publicKey: undefined, userData: null, nonce: new Uint8Array(0) };
  const payload = encodeNitroPayload(fields, { keyOrder });
  const bytes = encodeCoseSign1({
    protectedHeader: encodeNitroProtectedHeader(),
    payload,
    signature: doc.signature,
  });
  const parsed = parseNitroDocument(bytes);
  assert.deepEqual(
    parsed.encoding.keyOrder,
    keyOrder.filter((k) => k !== 'public_key'),
  );
  assert.equal(parsed.payload.publicKey, undefined);
  assert.equal(parsed.payload.userData, null);
  assert.equal(parsed.payload.nonce?.length, 0);
  assert.deepEqual(describeNitroFormat(parsed).publicKey, 'absent');
  assert.ok(bytesEqual(serializeNitroDocument(parsed), bytes));
});

test('the sniff rejects other evidence and noise', { skip: !haveVectors }, () => {
  for (const s of manifest.samples.filter((x) => x.platform !== 'nitro')) {
    for (const file of Object.values(s.files))
      assert.equal(looksLikeNitroDocument(readVector(file)), false, file);
  }
  assert.equal(looksLikeNitroDocument(new Uint8Array(0)), false);
  assert.equal(looksLikeNitroDocument(Uint8Array.of(0x84, 0x40, 0xa0)), false);
});

test('parsed fields are copies, also when the input is a Buffer', { skip: !haveVectors }, () => {
  const input = Buffer.from(docOf(samples[0] as Sample));
  const doc = parseNitroDocument(input);
  const before = serializeNitroDocument(doc);
  input.fill(0);
  assert.ok(bytesEqual(serializeNitroDocument(doc), before));
  assert.ok(signatureVerifies(doc));
});
