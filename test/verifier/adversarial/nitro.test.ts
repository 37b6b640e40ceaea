/**
 * Adversarial Nitro documents: each case mutates a real or simulated document in one way and
 * asserts the stable error code the parse or verify stage answers with. Simulated mutants are
 * re-signed with their leaf key, so the mutation is the only defect.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveVectors, loadManifest, readVector } from '../../helpers/vectors.js';
import { loadAnchorStore } from '../../../endorsements/anchors.js';
import {
  encodeCoseSign1,
  encodeNitroPayload,
  encodeNitroProtectedHeader,
  encodeSigStructure,
  parseNitroDocument,
} from '../../../verifier/platforms/nitro/index.js';
import type { NitroDocument, NitroPayload } from '../../../verifier/platforms/nitro/index.js';
import { verifyNitro } from '../../../verifier/platforms/nitro/verify.js';
import { parseCertificateDer } from '../../../common/x509/certificate.js';
import { createVerificationCache } from '../../../verifier/verify/cache.js';
import type { AnchorStore, VerifyContext } from '../../../verifier/verify/types.js';
import { simulateNitro } from '../../../simulators/nitro.js';
import { basicConstraints, keyUsage } from '../../../simulators/pki/extensions.js';
import { createNitroPki, nitroHostName } from '../../../simulators/pki/aws.js';
import * as der from '../../helpers/asn1.js';
import { deriveEcKey } from '../../../simulators/pki/keys.js';
import { issueCertificate } from '../../../simulators/pki/x509.js';
import type { DistinguishedName, Extension, IssuedCert } from '../../../simulators/pki/x509.js';
import type { EcKeyPair } from '../../../simulators/pki/keys.js';
import { encodeTbsCertificate } from '../../../simulators/pki/x509.js';

const SEED = 'twi-nitro-adversarial';
const SIM_NOW = new Date('2026-03-01T12:00:00Z');
const pki = createNitroPki({ seed: SEED, notBefore: new Date('2026-01-01T00:00:00Z') });
const instance = pki.intermediates[pki.intermediates.length - 1]!;
const base = simulateNitro(pki, { now: SIM_NOW });

const rootDir = mkdtempSync(join(tmpdir(), 'twi-nitro-adv-'));
writeFileSync(join(rootDir, 'aws-nitro-enclaves-root-g1.pem'), pki.root.pem);
const simAnchors = loadAnchorStore([rootDir]);
const vendorAnchors = loadAnchorStore();
after(() => rmSync(rootDir, { recursive: true, force: true }));

const real = haveVectors
  ? loadManifest().samples.find((s) => s.platform === 'nitro' && s.name.endsWith('-prod'))
  : undefined;
const realBytes = real ? readVector(real.files.cose_sign1!) : new Uint8Array(0);
const noReal = { skip: real === undefined };

function ctx(now: Date, anchors: AnchorStore = simAnchors): VerifyContext {
  return { now, anchors, cache: createVerificationCache() };
}

/** `'<code> at <subject or field>'` of what `fn` throws, or undefined when it passes. */
function failure(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    const e = err as { code?: string; subject?: string; field?: string };
    return `${e.code} at ${e.subject ?? e.field}`;
  }
  return undefined;
}

const INSTANCE_CN = `${pki.instanceId}.us-east-1.aws.nitro-enclaves`;
const INSTANCE_NAME = nitroHostName(INSTANCE_CN);
const UNTRUSTED = 'ERR_CHAIN_UNTRUSTED_ROOT';
const BAD_SIGNATURE = 'ERR_SIGNATURE_INVALID at signature';
const LEAF_PROFILE = 'ERR_CERT_PROFILE at certificate';
const LEAF_NAME = nitroHostName(`${base.payload.moduleId}.us-east-1.aws`);
const LEAF_EXTENSIONS: Extension[] = [
  basicConstraints(false),
  keyUsage(['digitalSignature', 'nonRepudiation'], { critical: false }),
];

interface LeafOptions {
  key?: EcKeyPair;
  issuerKey?: EcKeyPair;
  issuer?: DistinguishedName;
  extensions?: Extension[];
}

function leafSpec(o: LeafOptions) {
  return {
    serial: 0x1234n,
    issuer: o.issuer ?? INSTANCE_NAME,
    subject: LEAF_NAME,
    notBefore: new Date(SIM_NOW.getTime() - 3000),
    notAfter: new Date(SIM_NOW.getTime() + 3 * 3600_000),
    subjectKey: o.key ?? deriveEcKey(SEED, 'adversarial/leaf', 'P-384'),
    issuerKey: o.issuerKey ?? instance.key,
    extensions: o.extensions ?? LEAF_EXTENSIONS,
  };
}

/** A leaf certificate under the simulated instance CA, varied by `o`. */
function customLeaf(o: LeafOptions = {}): IssuedCert<EcKeyPair> {
  return issueCertificate(leafSpec(o));
}

/** Encodes and signs `payload` with `key` (ES384 r‖s, padded to 96 bytes for smaller curves). */
function signDocument(payload: NitroPayload, key: EcKeyPair): Uint8Array {
  const protectedHeader = encodeNitroProtectedHeader();
  const bytes = encodeNitroPayload(payload, { indefinite: true });
  const raw = key.signRaw(encodeSigStructure(protectedHeader, bytes));
  const signature = new Uint8Array(96);
  signature.set(raw);
  return encodeCoseSign1({ protectedHeader, payload: bytes, signature });
}

/** The base simulated document with `change` applied, re-signed by the (new) leaf's key. */
function simDoc(change: Partial<NitroPayload> = {}, leaf = base.leaf): NitroDocument {
  const payload = { ...base.payload, certificate: leaf.der, ...change };
  return parseNitroDocument(signDocument(payload, leaf.key));
}

/** The real document with `change` applied to its payload, keeping its original signature. */
function realMutant(change: Partial<NitroPayload>): Uint8Array {
  const doc = parseNitroDocument(realBytes);
  const payload = encodeNitroPayload(
    { ...doc.payload, ...change },
    {
      indefinite: doc.encoding.payloadMap === 'indefinite',
      keyOrder: doc.encoding.keyOrder,
      heads: doc.encoding.heads,
    },
  );
  return encodeCoseSign1({
    protectedHeader: doc.protectedHeader,
    payload,
    signature: doc.signature,
    tagged: doc.encoding.tagged,
  });
}

function verifySim(doc: NitroDocument, now = SIM_NOW): string | undefined {
  return failure(() => verifyNitro(doc, {}, ctx(now)));
}

/** Verifies at the real sample's instant (or `now`) with the vendor roots (or `anchors`). */
function verifyReal(doc: NitroDocument, now?: Date, anchors = vendorAnchors): string | undefined {
  return failure(() => verifyNitro(doc, {}, ctx(now ?? new Date(real!.verify_at), anchors)));
}

test('controls: the unmodified documents and a custom leaf verify', () => {
  assert.equal(verifySim(simDoc()), undefined);
  assert.equal(verifySim(simDoc({}, customLeaf())), undefined);
  if (real) {
    assert.deepEqual(realMutant({}), realBytes, 'the codec re-encodes the real document exactly');
    assert.equal(verifyReal(parseNitroDocument(realBytes)), undefined);
  }
});

test('substituted root: simulated root at cabundle[0] of a real document', noReal, () => {
  const cabundle = [pki.root.der, ...parseNitroDocument(realBytes).payload.cabundle.slice(1)];
  const doc = parseNitroDocument(realMutant({ cabundle }));
  assert.equal(verifyReal(doc), `${UNTRUSTED} at cabundle[0]`);
  // Even with the simulator root configured, the real intermediates do not chain to it.
  assert.equal(verifyReal(doc, undefined, simAnchors), 'ERR_CHAIN_BROKEN at cabundle');
});

test('cabundle without its root (intermediates only)', () => {
  const cabundle = pki.cabundle.slice(1);
  assert.equal(verifySim(simDoc({ cabundle })), `${UNTRUSTED} at cabundle[0]`);
});

test('leaf from another chain (another instance CA)', () => {
  const other = createNitroPki({ seed: 'another-pki', notBefore: new Date('2026-01-01') });
  const leaf = other.issueLeaf({ moduleId: base.payload.moduleId, notBefore: SIM_NOW });
  assert.equal(verifySim(simDoc({}, leaf)), 'ERR_CHAIN_BROKEN at certificate');
});

test('leaf naming the instance CA but signed by another key', () => {
  const impostor = deriveEcKey(SEED, 'adversarial/impostor-ca', 'P-384');
  const leaf = customLeaf({ issuerKey: impostor });
  assert.deepEqual(
    parseCertificateDer(leaf.der).issuer.der,
    parseCertificateDer(instance.der).subject.der,
  );
  assert.equal(verifySim(simDoc({}, leaf)), 'ERR_SIGNATURE_INVALID at certificate');
});

test('forged signature: one byte of a real signature flipped', noReal, () => {
  const bytes = realBytes.slice();
  bytes[bytes.length - 20]! ^= 0x01;
  const doc = parseNitroDocument(bytes);
  assert.equal(verifyReal(doc), BAD_SIGNATURE);
});

test('payload changed after signing: PCR0 of a real document replaced', noReal, () => {
  const pcrs = new Map(parseNitroDocument(realBytes).payload.pcrs);
  pcrs.set(0, new Uint8Array(48).fill(0xab));
  const doc = parseNitroDocument(realMutant({ pcrs }));
  assert.equal(verifyReal(doc), BAD_SIGNATURE);
});

test('payload changed after signing: nonce added to a real document', noReal, () => {
  const doc = parseNitroDocument(realMutant({ nonce: new Uint8Array(32).fill(1) }));
  assert.equal(verifyReal(doc), BAD_SIGNATURE);
});

test('wrong COSE algorithm (ES256, -7) in the protected header', () => {
  const doc = parseNitroDocument(base.document);
  const bytes = encodeCoseSign1({
    protectedHeader: encodeNitroProtectedHeader(-7),
    payload: doc.payloadBytes,
    signature: doc.signature,
  });
  assert.equal(
    failure(() => parseNitroDocument(bytes)),
    'ERR_EVIDENCE_UNSUPPORTED at alg',
  );
  const forged = { ...doc, alg: -7 } as unknown as NitroDocument;
  assert.equal(verifySim(forged), 'ERR_EVIDENCE_UNSUPPORTED at alg', 'verify re-checks it');
});

test('truncated COSE_Sign1', () => {
  for (const keep of [0, 1, 10, base.document.length >> 1, base.document.length - 1]) {
    const code = failure(() => parseNitroDocument(base.document.subarray(0, keep)));
    assert.match(code ?? '', /^ERR_EVIDENCE_MALFORMED at /, `truncated to ${keep} bytes`);
  }
});

test('signature of the wrong length (64 bytes)', () => {
  const doc = parseNitroDocument(base.document);
  const bytes = encodeCoseSign1({
    protectedHeader: doc.protectedHeader,
    payload: doc.payloadBytes,
    signature: doc.signature.subarray(0, 64),
  });
  assert.equal(
    failure(() => parseNitroDocument(bytes)),
    'ERR_EVIDENCE_MALFORMED at signature',
  );
  const forged = { ...doc, signature: doc.signature.subarray(0, 64) };
  assert.equal(verifySim(forged), 'ERR_EVIDENCE_MALFORMED at signature');
});

test('expired leaf: a real document one second after its leaf notAfter', noReal, () => {
  const doc = parseNitroDocument(realBytes);
  const leaf = parseCertificateDer(doc.payload.certificate);
  assert.equal(verifyReal(doc, leaf.notAfter), undefined, 'notAfter is inclusive');
  const late = new Date(leaf.notAfter.getTime() + 1000);
  assert.equal(verifyReal(doc, late), `ERR_CERT_EXPIRED at ${leaf.subjectCn}`);
});

test('not-yet-valid leaf: a real document one second before its leaf notBefore', noReal, () => {
  const doc = parseNitroDocument(realBytes);
  const leaf = parseCertificateDer(doc.payload.certificate);
  const early = new Date(leaf.notBefore.getTime() - 1000);
  assert.equal(verifyReal(doc, early), `ERR_CERT_NOT_YET_VALID at ${leaf.subjectCn}`);
});

test('document timestamp outside its own leaf window', () => {
  const later = SIM_NOW.getTime() + 4 * 3600_000;
  assert.equal(verifySim(simDoc({ timestamp: later })), 'ERR_CERT_EXPIRED at timestamp');
  const earlier = SIM_NOW.getTime() - 60_000;
  assert.equal(verifySim(simDoc({ timestamp: earlier })), 'ERR_CERT_NOT_YET_VALID at timestamp');
});

test('intermediate dropped from the cabundle (real and re-signed simulated)', () => {
  const cabundle = pki.cabundle.filter((_, i) => i !== 2);
  assert.equal(verifySim(simDoc({ cabundle })), `ERR_CHAIN_BROKEN at ${INSTANCE_CN}`);
  if (real) {
    const doc = parseNitroDocument(realBytes);
    const dropped = doc.payload.cabundle.filter((_, i) => i !== 2);
    const instanceCn = parseCertificateDer(doc.payload.cabundle[3]!).subjectCn;
    const mutant = parseNitroDocument(realMutant({ cabundle: dropped }));
    assert.equal(verifyReal(mutant), `ERR_CHAIN_BROKEN at ${instanceCn}`);
  }
});

test('cabundle order shuffled: C3 order [ROOT, INTERM_1..N] is enforced', () => {
  const [root, regional, zonal, inst] = pki.cabundle as [
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
  ];
  const cases: [Uint8Array[], string][] = [
    [[root, zonal, regional, inst], 'ERR_CHAIN_BROKEN at cabundle'],
    [[root, inst, zonal, regional], 'ERR_CHAIN_BROKEN at cabundle'],
    [[inst, zonal, regional, root], `${UNTRUSTED} at cabundle[0]`],
  ];
  for (const [cabundle, code] of cases) assert.equal(verifySim(simDoc({ cabundle })), code);
});

test('cabundle padded with a duplicate intermediate', () => {
  const cabundle = [...pki.cabundle, pki.cabundle[3]!];
  assert.equal(verifySim(simDoc({ cabundle })), 'ERR_CHAIN_BROKEN at cabundle');
});

test('cabundle entry that is not DER', () => {
  const cabundle = [...pki.cabundle.slice(0, 3), new Uint8Array([0x30, 0x03, 0x02, 0x01])];
  assert.equal(verifySim(simDoc({ cabundle })), 'ERR_EVIDENCE_MALFORMED at cabundle[3]');
});

test('leaf with a P-256 key', () => {
  const leaf = customLeaf({ key: deriveEcKey(SEED, 'adversarial/p256-leaf', 'P-256') });
  assert.equal(verifySim(simDoc({}, leaf)), LEAF_PROFILE);
});

test('leaf signed by the instance CA with ecdsa-with-SHA256', () => {
  const sha384 = Buffer.from(der.toDer(der.sequence(der.oid('1.2.840.10045.4.3.3'))));
  const sha256 = der.toDer(der.sequence(der.oid('1.2.840.10045.4.3.2')));
  const tbs = Buffer.from(encodeTbsCertificate(leafSpec({})));
  const at = tbs.indexOf(sha384);
  assert.ok(at > 0);
  tbs.set(sha256, at);
  const signature = sign('sha256', tbs, { key: instance.key.privateKey, dsaEncoding: 'der' });
  const certDer = der.toDer(der.sequence(tbs, sha256, der.bits(signature)));
  const leaf = { ...customLeaf(), der: certDer };
  assert.equal(verifySim(simDoc({}, leaf)), LEAF_PROFILE);
});

test('leaf that claims to be a CA', () => {
  const leaf = customLeaf({ extensions: [basicConstraints(true), keyUsage(['digitalSignature'])] });
  assert.equal(verifySim(simDoc({}, leaf)), LEAF_PROFILE);
});

test('leaf without the digitalSignature key usage', () => {
  const leaf = customLeaf({ extensions: [basicConstraints(false), keyUsage(['keyAgreement'])] });
  assert.equal(verifySim(simDoc({}, leaf)), LEAF_PROFILE);
});

test('extra CA below the instance CA (pathLenConstraint 0)', () => {
  const subName = nitroHostName('sub.aws.nitro-enclaves');
  const subKey = deriveEcKey(SEED, 'adversarial/sub-ca', 'P-384');
  const sub = issueCertificate({
    ...leafSpec({}),
    subject: subName,
    subjectKey: subKey,
    extensions: [basicConstraints(true), keyUsage(['keyCertSign', 'cRLSign'])],
  });
  const leaf = customLeaf({ issuer: subName, issuerKey: subKey });
  const cabundle = [...pki.cabundle, sub.der];
  assert.equal(verifySim(simDoc({ cabundle }, leaf)), 'ERR_CERT_PROFILE at cabundle[3]');
});

test('a repeated forged chain is answered from the cache', () => {
  const doc = simDoc();
  const c = ctx(SIM_NOW, vendorAnchors);
  for (let i = 0; i < 3; i++) {
    assert.equal(
      failure(() => verifyNitro(doc, {}, c)),
      `${UNTRUSTED} at cabundle[0]`,
    );
  }
  assert.deepEqual(c.cache.stats, { hits: 2, misses: 2, size: 2 });
});
