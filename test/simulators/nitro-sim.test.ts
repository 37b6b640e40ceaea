/**
 * Simulated Nitro attestation documents: they parse with the codec, the ES384 signature
 * verifies with node:crypto, the chain leads to the simulated root, options take effect,
 * and the output is byte-stable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createNitroPki } from '../../simulators/pki/aws.js';
import { simulateNitro, simulatedNitroModuleId } from '../../simulators/nitro.js';
import {
  describeNitroFormat,
  nitroClaims,
  parseNitroDocument,
  serializeNitroDocument,
} from '../../verifier/platforms/nitro/index.js';
import { bytesEqual, fromHex, isZero } from '../../common/bytes.js';
import { signatureVerifies } from '../helpers/nitro.js';

const pki = createNitroPki({ seed: 'nitro-sim-test', notBefore: new Date('2025-01-01T00:00:00Z') });
const now = new Date('2025-12-25T13:15:37.578Z');

test('a default document parses, round-trips and looks like NSM output', () => {
  const { document, payload } = simulateNitro(pki, { now });
  const doc = parseNitroDocument(document);
  assert.ok(bytesEqual(serializeNitroDocument(doc), document));
  assert.equal(doc.encoding.tagged, false);
  assert.equal(doc.encoding.payloadMap, 'indefinite');
  assert.deepEqual(doc.encoding.heads, {});
  assert.equal(doc.payload.timestamp, now.getTime());
  assert.equal(doc.payload.digest, 'SHA384');
  assert.deepEqual(nitroClaims(doc), nitroClaims({ ...doc, payload }));
  assert.match(doc.payload.moduleId, /^i-[0-9a-f]{17}-enc[0-9a-f]{16}$/);
  const started = parseInt(doc.payload.moduleId.slice(-16, -4), 16);
  assert.ok(
    started < now.getTime() && now.getTime() - started < 60_000,
    'enclave id starts with its start time',
  );
  const claims = nitroClaims(doc) as {
    pcrs: Record<string, string>;
    nonce: null;
    user_data: null;
    public_key: null;
  };
  assert.equal(Object.keys(claims.pcrs).length, 16);
  for (const i of ['0', '1', '2', '4', '8'])
    assert.notEqual(claims.pcrs[i], '00'.repeat(48), `PCR${i}`);
  assert.equal(claims.pcrs['3'], '00'.repeat(48));
  assert.deepEqual([claims.nonce, claims.user_data, claims.public_key], [null, null, null]);
  assert.deepEqual(doc.encoding.keyOrder.slice(-3), ['public_key', 'user_data', 'nonce']);
});

test('the ES384 signature verifies with the leaf key', () => {
  const doc = parseNitroDocument(simulateNitro(pki, { now }).document);
  assert.ok(signatureVerifies(doc));
  const tampered = { ...doc, payloadBytes: doc.payloadBytes.slice() };
  tampered.payloadBytes[20] ^= 1;
  assert.equal(signatureVerifies(tampered), false);
});

test('leaf and cabundle chain to the simulated root, valid at now', () => {
  const { document, leaf } = simulateNitro(pki, { now });
  const doc = parseNitroDocument(document);
  const root = new X509Certificate(pki.root.der);
  const bundle = doc.payload.cabundle.map((der) => new X509Certificate(der));
  assert.equal(bundle.length, 4);
  assert.equal(bundle[0]?.fingerprint256, root.fingerprint256);
  assert.ok(root.verify(root.publicKey));
  const chain = [new X509Certificate(doc.payload.certificate), ...bundle.slice(1).reverse(), root];
  for (let i = 0; i < chain.length - 1; i++) {
    const [child, parent] = [chain[i] as X509Certificate, chain[i + 1] as X509Certificate];
    assert.ok(child.checkIssued(parent), `cert ${i} issued by cert ${i + 1}`);
    assert.ok(child.verify(parent.publicKey), `cert ${i} signed by cert ${i + 1}`);
  }
  for (const cert of chain) {
    assert.ok(
      Date.parse(cert.validFrom) <= now.getTime() && now.getTime() <= Date.parse(cert.validTo),
    );
  }
  const leafCert = new X509Certificate(leaf.der);
  assert.equal(Date.parse(leafCert.validFrom), Math.floor(now.getTime() / 1000) * 1000 - 3000);
  assert.equal(
    Date.parse(leafCert.validTo) - Date.parse(leafCert.validFrom),
    (3 * 3600 + 3) * 1000,
  );
  assert.equal(describeNitroFormat(doc).certificateCn, `${doc.payload.moduleId}.us-east-1.aws`);
});

test('debug enclaves have zero PCR0, PCR1, PCR2 and PCR8', () => {
  const doc = parseNitroDocument(simulateNitro(pki, { now, debug: true }).document);
  for (const i of [0, 1, 2, 8]) assert.ok(isZero(doc.payload.pcrs.get(i) as Uint8Array), `PCR${i}`);
  assert.equal(isZero(doc.payload.pcrs.get(4) as Uint8Array), false);
  assert.ok(signatureVerifies(doc));
});

test('output is byte-stable per seed and now, and the seed matters', () => {
  const a = simulateNitro(pki, { now, seed: 's1' }).document;
  const again = createNitroPki({
    seed: 'nitro-sim-test',
    notBefore: new Date('2025-01-01T00:00:00Z'),
  });
  assert.ok(bytesEqual(a, simulateNitro(again, { now, seed: 's1' }).document));
  const b = parseNitroDocument(simulateNitro(pki, { now, seed: 's2' }).document);
  assert.notDeepEqual(b.payload.pcrs.get(0), parseNitroDocument(a).payload.pcrs.get(0));
  const later = simulateNitro(pki, { now: new Date(now.getTime() + 1000), seed: 's1' }).document;
  assert.equal(bytesEqual(a, later), false);
});

test('nonce, user_data, public_key, PCR overrides and module_id are encoded as given', () => {
  const nonce = fromHex('aa'.repeat(32));
  const publicKey = fromHex('3076'.padEnd(240, '0'));
  const pcr0 = fromHex('11'.repeat(48));
  const moduleId = simulatedNitroModuleId(pki, 'x', new Date(now.getTime() - 60_000));
  const r = simulateNitro(pki, {
    now,
    nonce,
    userData: 'absent',
    publicKey,
    moduleId,
    pcrs: { 0: pcr0 },
    pcrCount: 4,
  });
  const doc = parseNitroDocument(r.document);
  assert.deepEqual(doc.payload.nonce, nonce);
  assert.equal(doc.payload.userData, undefined);
  assert.deepEqual(doc.payload.publicKey, publicKey);
  assert.equal(doc.payload.moduleId, moduleId);
  assert.deepEqual([...doc.payload.pcrs.keys()], [0, 1, 2, 3]);
  assert.deepEqual(doc.payload.pcrs.get(0), pcr0);
  assert.ok(signatureVerifies(doc));
});

test('tagged and definite-length variants', () => {
  const r = simulateNitro(pki, { now, tagged: true, indefinite: false });
  assert.equal(r.document[0], 0xd2);
  const doc = parseNitroDocument(r.document);
  assert.equal(doc.encoding.tagged, true);
  assert.equal(doc.encoding.payloadMap, 'definite');
  assert.ok(signatureVerifies(doc));
  assert.ok(bytesEqual(serializeNitroDocument(doc), r.document));
});

test('caller misuse is a TypeError', () => {
  assert.throws(() => simulateNitro(pki, { now: new Date(NaN) }), TypeError);
  assert.throws(() => simulateNitro(pki, { now, moduleId: '' }), TypeError);
  assert.throws(() => simulateNitro(pki, { now, pcrCount: 33 }), TypeError);
  assert.throws(() => simulateNitro(pki, { now, nonce: 'x' as unknown as Uint8Array }), TypeError);
});
