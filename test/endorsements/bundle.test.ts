import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type KeyObject } from 'node:crypto';
import { canonicalJson } from '../../common/canonical-json.js';
import {
  BUNDLE_FORMAT,
  BundleInvalidError,
  exportBundle,
  importBundle,
  type ImportBundleOptions,
} from '../../endorsements/bundle.js';
import { sha256Hex } from '../../common/bytes.js';
import { createOfflineProvider } from '../../endorsements/provider/offline.js';
import { type EndorsementVerifier } from '../../endorsements/provider/types.js';
import { requestKey } from '../../verifier/verify/endorsement-provider.js';
import {
  AMD_CRL,
  at,
  DAY,
  hmacVerify,
  makeEndorsement,
  QE,
  TCB,
  VCEK,
} from './provider-fixtures.js';
import { newKeyPair } from '../../common/key-pair.js';

const entries = [
  makeEndorsement(VCEK),
  makeEndorsement(TCB),
  makeEndorsement(QE),
  makeEndorsement(AMD_CRL),
];
const created = at(DAY);
const ec = (namedCurve: string): { privateKey: KeyObject; publicKey: KeyObject } =>
  newKeyPair('ec', { namedCurve });
const p256 = ec('P-256');
const p384 = ec('P-384');

type Doc = {
  format: string;
  created: string;
  entries: Record<string, unknown>[];
  sha256: string;
  signature?: string;
  kid?: string;
};
const parse = (b: Uint8Array): Doc => JSON.parse(Buffer.from(b).toString('utf8')) as Doc;
const bytesOf = (d: Doc): Uint8Array => new TextEncoder().encode(JSON.stringify(d));
const options = (o: Partial<ImportBundleOptions>): ImportBundleOptions => ({
  verify: hmacVerify,
  now: at(2 * DAY),
  ...o,
});

async function refused(bytes: Uint8Array, o: Partial<ImportBundleOptions>, re: RegExp) {
  const err = await importBundle(bytes, options(o)).catch((e: unknown) => e);
  assert.ok(err instanceof BundleInvalidError, `expected ERR_BUNDLE_INVALID, got ${String(err)}`);
  assert.equal(err.code, 'ERR_BUNDLE_INVALID');
  assert.match(err.message, re);
  return err;
}

test('export: sorted entries, canonical sha256, deterministic bytes', async () => {
  const bytes = await exportBundle(entries, { created });
  const doc = parse(bytes);
  assert.equal(doc.format, BUNDLE_FORMAT);
  assert.equal(doc.created, created.toISOString());
  assert.deepEqual(
    doc.entries.map((e) => e.key),
    entries.map((e) => requestKey(e.request)).sort(),
  );
  assert.equal(doc.sha256, sha256Hex(canonicalJson(doc.entries)));
  assert.equal(doc.signature, undefined);
  assert.deepEqual(await exportBundle([...entries].reverse(), { created }), bytes);
  await assert.rejects(exportBundle([entries[0]!, entries[0]!]), TypeError);
});

test('hash-pinned: round trip into an offline provider', async () => {
  const bytes = await exportBundle(entries, { created });
  const { sha256 } = parse(bytes);
  const bundle = await importBundle(bytes, options({ expectedSha256: sha256.toUpperCase() }));
  assert.equal(bundle.sha256, sha256);
  assert.equal(bundle.kid, undefined);
  assert.equal(bundle.created.getTime(), created.getTime());
  assert.equal(bundle.entries.length, 4);
  const offline = createOfflineProvider(bundle);
  const tcb = await offline.get(TCB, { now: at(3 * DAY) });
  assert.equal(tcb.source, 'offline');
  assert.deepEqual(tcb.body, entries[1]!.body);
  assert.equal(tcb.issuerChain, entries[1]!.issuerChain);
});

test('hash-pinned: the wrong pin is refused', async () => {
  const bytes = await exportBundle(entries, { created });
  await refused(bytes, { expectedSha256: 'ab'.repeat(32) }, /is not the pinned/);
});

test('signed (ES256 and ES384): accepted under the trusted key, refused under another', async () => {
  for (const pair of [p256, p384]) {
    const bytes = await exportBundle(entries, { created, signingKey: pair.privateKey });
    const doc = parse(bytes);
    assert.match(doc.signature ?? '', /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const bundle = await importBundle(bytes, options({ trustedKeys: [pair.publicKey] }));
    assert.equal(bundle.kid, doc.kid);
    const asJwk = await importBundle(
      bytes,
      options({ trustedKeys: [ec('P-256').publicKey, pair.publicKey.export({ format: 'jwk' })] }),
    );
    assert.equal(asJwk.entries.length, 4);
    await refused(bytes, { trustedKeys: [ec('P-256').publicKey] }, /does not verify under any/);
  }
});

test('signed: an unsigned bundle is refused when keys are required', async () => {
  const bytes = await exportBundle(entries, { created });
  await refused(bytes, { trustedKeys: [p256.publicKey] }, /not signed/);
});

test('a tampered entry refuses the whole bundle, naming the entry', async () => {
  const bytes = await exportBundle(entries, { created, signingKey: p256.privateKey });
  const doc = parse(bytes);
  const forged = Buffer.from('forged');
  const victim = doc.entries[2]!;
  victim.body = forged.toString('base64');

  // the bundle hash no longer matches
  await refused(bytesOf(doc), { trustedKeys: [p256.publicKey] }, /sha256 does not match/);

  // entry and bundle hashes recomputed: the signature no longer covers it
  victim.sha256 = sha256Hex(forged);
  doc.sha256 = sha256Hex(canonicalJson(doc.entries));
  await refused(bytesOf(doc), { trustedKeys: [p256.publicKey] }, /signature is over another/);

  // an attacker who can also re-pin gets past the hash, but not the verify hook
  const err = await refused(bytesOf(doc), { expectedSha256: doc.sha256 }, /does not verify: HMAC/);
  assert.equal(err.entry, `#2 (${String(victim.key)})`);

  // an entry whose body does not match its own sha256
  victim.sha256 = 'cd'.repeat(32);
  doc.sha256 = sha256Hex(canonicalJson(doc.entries));
  const e2 = await refused(bytesOf(doc), { expectedSha256: doc.sha256 }, /sha256: does not match/);
  assert.match(e2.entry ?? '', /^#2 /);
});

test('a tampered signature or header is refused', async () => {
  const bytes = await exportBundle(entries, { created, signingKey: p256.privateKey });
  const doc = parse(bytes);
  const [h, p, s] = doc.signature!.split('.');
  const flipped = s!.slice(0, 10) + (s![10] === 'A' ? 'B' : 'A') + s!.slice(11);
  await refused(
    bytesOf({ ...doc, signature: `${h}.${p}.${flipped}` }),
    { trustedKeys: [p256.publicKey] },
    /does not verify/,
  );
  await refused(
    bytesOf({ ...doc, created: new Date(0).toISOString() }),
    { trustedKeys: [p256.publicKey] },
    /signature is over another/,
  );
  await refused(bytesOf({ ...doc, kid: 'someone-else' }), { trustedKeys: [p256.publicKey] }, /kid/);
});

test('structure errors: format, JSON, duplicate keys, unknown request kinds, size', async () => {
  const bytes = await exportBundle(entries, { created });
  const doc = parse(bytes);
  const pin = (d: Doc) => ({ expectedSha256: sha256Hex(canonicalJson(d.entries)) });
  await refused(bytesOf({ ...doc, format: 'other/1' }), pin(doc), /format/);
  await refused(new TextEncoder().encode('{"format": '), pin(doc), /not JSON/);
  await refused(new Uint8Array([0xff, 0xfe]), pin(doc), /not JSON/);
  const dup = { ...doc, entries: [...doc.entries, doc.entries[0]!] };
  dup.sha256 = sha256Hex(canonicalJson(dup.entries));
  await refused(bytesOf(dup), pin(dup), /appears twice/);
  const odd = { ...doc, entries: [{ ...doc.entries[0]!, request: { kind: 'nitro-root' } }] };
  odd.sha256 = sha256Hex(canonicalJson(odd.entries));
  await refused(bytesOf(odd), pin(odd), /request.kind: unknown kind/);
  await refused(bytes, { ...pin(doc), maxBytes: 100 }, /over 100/);
});

test('a verify failure on any entry refuses everything (nothing half-imported)', async () => {
  const bytes = await exportBundle(entries, { created });
  const { sha256 } = parse(bytes);
  const seen: string[] = [];
  const verify: EndorsementVerifier = (e) => {
    seen.push(requestKey(e.request));
    if (e.request.kind === 'tdx-qe-identity') throw new Error('QE identity signer revoked');
  };
  const err = await refused(bytes, { expectedSha256: sha256, verify }, /signer revoked/);
  assert.match(err.entry ?? '', /tdx-qe-identity/);
  // entries are judged at `now`: expired ones fail the hook
  await refused(bytes, { expectedSha256: sha256, now: at(40 * DAY) }, /expired/);
});

test('caller misuse is a TypeError', async () => {
  const bytes = await exportBundle(entries, { created });
  const { sha256 } = parse(bytes);
  await assert.rejects(
    importBundle(bytes, { expectedSha256: sha256 } as ImportBundleOptions),
    /needs a verify hook/,
  );
  await assert.rejects(
    importBundle(bytes, { verify: hmacVerify }),
    /trustedKeys or expectedSha256/,
  );
  await assert.rejects(importBundle(bytes, options({ trustedKeys: [] })), TypeError);
  await assert.rejects(importBundle(bytes, options({ expectedSha256: 'xyz' })), TypeError);
  const rsa = newKeyPair('rsa', { modulusLength: 2048 });
  await assert.rejects(exportBundle(entries, { signingKey: rsa.privateKey }), TypeError);
  await assert.rejects(exportBundle(entries, { signingKey: p256.publicKey }), TypeError);
});
