/**
 * Certificate chains of every real sample, verified to the pinned vendor roots at the
 * sample's recorded instant, plus the negative cases on real certificates.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNitroDocument } from '../../../verifier/platforms/nitro/index.js';
import { parseTdxQuote } from '../../../verifier/platforms/tdx/index.js';
import { parseTdxCollateral } from '../../../verifier/platforms/tdx/collateral/v3.js';
import { productFromCertificate } from '../../../verifier/platforms/sev-snp/collateral/vcek-extensions.js';
import { parseCertificateDer, parsePemChain } from '../../../common/x509/certificate.js';
import type { Certificate } from '../../../common/x509/certificate.js';
import {
  chainCacheKey,
  checkChainAt,
  createTrustAnchors,
  verifyChain,
  verifyChainSignatures,
} from '../../../common/x509/chain.js';
import { parseCrlDer } from '../../../common/x509/crl.js';
import { haveVectors, loadManifest, readVector } from '../../helpers/vectors.js';
import type { Sample } from '../../helpers/vectors.js';

const skip = haveVectors ? false : 'real vectors not present';
const samples = haveVectors ? loadManifest().samples : [];

function code(expected: string, subject?: string) {
  return (e: unknown): boolean => {
    const err = e as { code?: string; subject?: string; message?: string };
    assert.equal(err.code, expected, err.message);
    if (subject !== undefined) assert.equal(err.subject, subject);
    return true;
  };
}

function rootSha(file: string): string {
  const root = loadManifest().roots.find((r) => r.file === file);
  return root!.certs!.at(-1)!.sha256_der;
}

function intelAnchors() {
  const root = parseCertificateDer(readVector('roots/intel-sgx-root-ca.der'));
  return createTrustAnchors([root], [rootSha('roots/intel-sgx-root-ca.der')]);
}

function pckChainOf(s: Sample): Certificate[] {
  const quote = parseTdxQuote(readVector(s.files.quote!));
  return parsePemChain(quote.signatureData.certificationData.pckCertChain.pem);
}

function tdxCrls(s: Sample) {
  const c = parseTdxCollateral(readVector(s.files.collateral!));
  return [parseCrlDer(c.pckCrl), parseCrlDer(c.rootCaCrl)];
}

type Window = { this: string; next: string };
const inside = (w: Window, at: string) =>
  Date.parse(w.this) <= Date.parse(at) && Date.parse(at) <= Date.parse(w.next);

for (const s of samples.filter((x) => x.platform === 'tdx')) {
  test(`${s.name}: PCK chain verifies to the pinned Intel root with its CRLs`, { skip }, () => {
    const [leaf, ...intermediates] = pckChainOf(s);
    const options = { leaf: leaf!, intermediates, anchors: intelAnchors(), crls: tdxCrls(s) };
    const chain = verifyChain({ ...options, now: new Date(s.verify_at), requireCrlFor: 'all' });
    assert.deepEqual(
      chain.path.map((c) => c.subjectCn),
      ['Intel SGX PCK Certificate', s.pck_ca, 'Intel SGX Root CA'],
    );
    assert.equal(chain.anchor.sha256, rootSha('roots/intel-sgx-root-ca.der'));
    assert.equal(chain.crls.length, 2);
    assert.ok(Object.isFrozen(chain) && Object.isFrozen(chain.path));
    assert.equal(chainCacheKey(options), chainCacheKey({ ...options }));
    for (const a of s.also_expect ?? []) {
      const crlsCurrent =
        inside(s.pck_crl as Window, a.verify_at) && inside(s.root_ca_crl as Window, a.verify_at);
      const check = () => checkChainAt(chain, { now: new Date(a.verify_at), requireCrlFor: 'all' });
      if (crlsCurrent) check();
      else assert.throws(check, code('ERR_CRL_EXPIRED'));
    }
  });
}

function amdAnchors(product: string, vlek: boolean) {
  const file = `roots/amd-${product.toLowerCase()}-${vlek ? 'asvk' : 'ask'}-ark.pem`;
  const ark = parsePemChain(readVector(file)).filter((c) => c.subjectCn === `ARK-${product}`);
  return createTrustAnchors(ark, [rootSha(file)]);
}

for (const s of samples.filter((x) => x.platform === 'sev-snp')) {
  test(`${s.name}: VCEK/VLEK chain verifies to the pinned ARK (RSASSA-PSS)`, { skip }, () => {
    const vlek = s.files.vlek !== undefined;
    const leaf = parseCertificateDer(readVector(vlek ? s.files.vlek! : s.files.vcek!));
    const intermediates = parsePemChain(readVector(s.files.ca_chain!));
    const product = productFromCertificate(leaf);
    const keyCert = s.key_cert as { cn: string; issuer: string };
    const anchors = amdAnchors(product, vlek);
    const chain = verifyChain({ leaf, intermediates, anchors, now: new Date(s.verify_at) });
    assert.deepEqual(
      chain.path.map((c) => c.subjectCn),
      [keyCert.cn, keyCert.issuer, `ARK-${product}`],
    );
    assert.equal(leaf.serial, 0n);
    assert.equal(leaf.signatureAlgorithm.pss?.saltLength, 48);
    for (const a of s.also_expect ?? []) {
      const before = Date.parse(a.verify_at) < Date.parse(s.verify_at);
      assert.throws(
        () => checkChainAt(chain, { now: new Date(a.verify_at) }),
        code(before ? 'ERR_CERT_NOT_YET_VALID' : 'ERR_CERT_EXPIRED', keyCert.cn),
      );
    }
  });
}

for (const s of samples.filter((x) => x.platform === 'nitro')) {
  test(`${s.name}: certificate and cabundle verify to the pinned AWS root`, { skip }, () => {
    const doc = parseNitroDocument(readVector(s.files.cose_sign1!));
    const leaf = parseCertificateDer(doc.payload.certificate);
    const bundle = doc.payload.cabundle.map((c, i) => parseCertificateDer(c, `cabundle[${i}]`));
    const file = 'roots/aws-nitro-enclaves-root-g1.pem';
    const anchors = createTrustAnchors(parsePemChain(readVector(file)), [rootSha(file)]);
    const chain = verifyChain({ leaf, intermediates: bundle, anchors, now: new Date(s.verify_at) });
    assert.equal(chain.path.length, s.chain_len_incl_leaf);
    assert.equal(chain.anchor.sha256, rootSha(file));
    // cabundle is root first; the path runs leaf → intermediates (reversed) → root.
    assert.deepEqual(
      chain.path.slice(1).map((c) => c.sha256),
      [...bundle].reverse().map((c) => c.sha256),
    );
    for (const a of s.also_expect ?? []) {
      assert.throws(
        () => checkChainAt(chain, { now: new Date(a.verify_at) }),
        code('ERR_CERT_EXPIRED', leaf.subjectCn),
      );
    }
  });
}

const firstTdx = samples.find((x) => x.platform === 'tdx');
const firstSnp = samples.find((x) => x.platform === 'sev-snp' && x.files.vcek !== undefined);

test('a presented root that is not pinned is untrusted (wrong anchor)', { skip }, () => {
  const [leaf, ...intermediates] = pckChainOf(firstTdx!);
  assert.throws(
    () =>
      verifyChainSignatures({ leaf: leaf!, intermediates, anchors: amdAnchors('Milan', false) }),
    code('ERR_CHAIN_UNTRUSTED_ROOT', 'Intel SGX Root CA'),
  );
  assert.throws(
    () => verifyChainSignatures({ leaf: leaf!, intermediates: [], anchors: intelAnchors() }),
    code('ERR_CHAIN_BROKEN', 'Intel SGX PCK Certificate'),
  );
});

test('a pin that does not match the anchor certificate is refused', { skip }, () => {
  const root = parseCertificateDer(readVector('roots/intel-sgx-root-ca.der'));
  assert.throws(
    () => createTrustAnchors([root], ['00'.repeat(32)]),
    code('ERR_CHAIN_UNTRUSTED_ROOT'),
  );
});

test('one flipped signature byte breaks the chain (ECDSA and RSASSA-PSS)', { skip }, () => {
  const [leaf, ...intermediates] = pckChainOf(firstTdx!);
  const der = new Uint8Array(leaf!.der);
  der[der.length - 3] ^= 0x01;
  assert.throws(
    () =>
      verifyChainSignatures({
        leaf: parseCertificateDer(der),
        intermediates,
        anchors: intelAnchors(),
      }),
    code('ERR_SIGNATURE_INVALID', 'Intel SGX PCK Certificate'),
  );
  const vcek = readVector(firstSnp!.files.vcek!).slice();
  vcek[vcek.length - 10] ^= 0x80;
  const vcekCert = parseCertificateDer(vcek);
  assert.throws(
    () =>
      verifyChainSignatures({
        leaf: vcekCert,
        intermediates: parsePemChain(readVector(firstSnp!.files.ca_chain!)),
        anchors: amdAnchors(productFromCertificate(vcekCert), false),
      }),
    code('ERR_SIGNATURE_INVALID', 'SEV-VCEK'),
  );
});

test('real PCK chain: basicConstraints and keyUsage are read from the DER', { skip }, () => {
  const [leaf, ca, root] = pckChainOf(firstTdx!);
  assert.equal(leaf!.basicConstraints?.ca, false);
  assert.equal(ca!.basicConstraints?.pathLen, 0);
  assert.ok(ca!.keyUsage?.has('keyCertSign') && ca!.keyUsage.has('cRLSign'));
  assert.equal(root!.basicConstraints?.pathLen, 1);
  assert.deepEqual([...leaf!.keyUsage!], ['digitalSignature', 'nonRepudiation']);
});

test('a required CRL that is missing is reported', { skip }, () => {
  const [leaf, ...intermediates] = pckChainOf(firstTdx!);
  const [pckCrl] = tdxCrls(firstTdx!);
  const now = new Date(firstTdx!.verify_at);
  const base = { leaf: leaf!, intermediates, anchors: intelAnchors(), now };
  verifyChain({ ...base, crls: [pckCrl!] });
  verifyChain({ ...base, crls: [pckCrl!], requireCrlFor: [firstTdx!.pck_ca as string] });
  assert.throws(
    () => verifyChain({ ...base, crls: [pckCrl!], requireCrlFor: 'all' }),
    code('ERR_ENDORSEMENT_MISSING', firstTdx!.pck_ca as string),
  );
});
