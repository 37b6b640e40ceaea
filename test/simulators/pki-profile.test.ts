/**
 * The simulated PKIs against the real vendor certificates: same names, serial numbering,
 * algorithm identifiers, extension lists, criticality and key-independent extension
 * values. Only key material (keys, key identifiers, signatures) may differ.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { decode } from 'cbor-x';
import {
  AmdOids,
  Oids,
  SgxOids,
  createAmdPki,
  createIntelPki,
  createNitroPki,
  der,
  findExtension,
  parseCertificate,
  parseCrl,
  parseName,
  type AmdProduct,
  type ParsedCertificate,
} from '../../simulators/pki/index.js';
import { haveVectors, loadManifest, readVector } from '../helpers/vectors.js';

const SEED = 'pki-profile-seed';
const NOT_BEFORE = new Date('2026-01-01T00:00:00Z');
const skip = haveVectors ? false : 'real vectors not present';
const KEY_FREE = [Oids.keyUsage, Oids.basicConstraints, Oids.crlDistributionPoints];

function pemCerts(text: string): Uint8Array[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new Uint8Array(new X509Certificate(b).raw));
}

function extList(c: ParsedCertificate): string[] {
  return c.extensions.map((e) => e.oid + (e.critical ? ' critical' : ''));
}

function hexOf(b: Uint8Array | undefined): string | undefined {
  return b && Buffer.from(b).toString('hex');
}

/** Same names, algorithms, extension list and key-independent extension values. */
function assertSameProfile(
  sim: Uint8Array,
  real: Uint8Array,
  what: string,
  opts: { names?: boolean; sigAlg?: boolean } = {},
): void {
  const s = parseCertificate(sim);
  const r = parseCertificate(real);
  if (opts.names ?? true) {
    assert.deepEqual(parseName(s.subject), parseName(r.subject), `${what} subject`);
    assert.deepEqual(parseName(s.issuer), parseName(r.issuer), `${what} issuer`);
  } else {
    const types = (n: Uint8Array): string[] => parseName(n).map(([t]) => t);
    assert.deepEqual(types(s.subject), types(r.subject), `${what} subject attribute order`);
  }
  assert.equal(s.version, r.version, `${what} version`);
  if (opts.sigAlg ?? true) {
    assert.equal(
      hexOf(s.signatureAlgorithm),
      hexOf(r.signatureAlgorithm),
      `${what} signature algorithm`,
    );
  }
  assert.equal(hexOf(s.tbsSignatureAlgorithm), hexOf(s.signatureAlgorithm));
  const spkiAlg = (c: ParsedCertificate): string =>
    hexOf(der.childrenOf(der.readDerExact(c.spki))[0]!.raw)!;
  assert.equal(spkiAlg(s), spkiAlg(r), `${what} key algorithm`);
  assert.deepEqual(extList(s), extList(r), `${what} extensions`);
  for (const oid of KEY_FREE) {
    const real = findExtension(r, oid);
    if (real && oid !== Oids.crlDistributionPoints) {
      assert.equal(hexOf(findExtension(s, oid)?.value), hexOf(real.value), `${what} ${oid}`);
    }
  }
}

function assertSameCrlDp(sim: Uint8Array, real: Uint8Array, what: string): void {
  const get = (d: Uint8Array): string | undefined =>
    hexOf(findExtension(parseCertificate(d), Oids.crlDistributionPoints)?.value);
  assert.equal(get(sim), get(real), `${what} CRL distribution point`);
}

function years(c: ParsedCertificate): number {
  return c.notAfter.getUTCFullYear() - c.notBefore.getUTCFullYear();
}

test(
  'Intel: root, PCK CAs, TCB Signing, PCK leaves and CRLs match the real profile',
  { skip },
  () => {
    const intel = createIntelPki({ seed: SEED, notBefore: NOT_BEFORE });
    const realRoot = readVector('roots/intel-sgx-root-ca.der');
    assertSameProfile(intel.root.der, realRoot, 'root');
    assertSameCrlDp(intel.root.der, realRoot, 'root');
    assert.equal(intel.root.serial, parseCertificate(intel.root.der).serial);

    for (const sample of loadManifest().samples.filter((s) => s.platform === 'tdx')) {
      const quote = Buffer.from(readVector(sample.files.quote!)).toString('latin1');
      const [leaf, ca] = pemCerts(quote);
      assertSameProfile(intel.platformCa.der, ca!, 'platform CA');
      assertSameCrlDp(intel.platformCa.der, ca!, 'platform CA');

      const real = parseCertificate(leaf!);
      const sgx = new Map<string, der.DerNode>();
      const walk = (node: der.DerNode): void => {
        for (const item of der.childrenOf(node)) {
          const [id, value] = der.childrenOf(item);
          sgx.set(der.readOid(id!).slice(SgxOids.extensions.length + 1), value!);
          if (value!.constructed) walk(value!);
        }
      };
      walk(der.readDerExact(findExtension(real, SgxOids.extensions)!.value));
      const pck = intel.issuePck({
        ca: 'platform',
        ppid: der.readOctetString(sgx.get('1')!),
        cpusvn: [...der.readOctetString(sgx.get('2.18')!)],
        pcesvn: Number(der.readInteger(sgx.get('2.17')!)),
        pceid: der.readOctetString(sgx.get('3')!),
        fmspc: der.readOctetString(sgx.get('4')!),
        sgxType: Number(der.readInteger(sgx.get('5')!)),
        platformInstanceId: der.readOctetString(sgx.get('6')!),
        configuration: {
          dynamicPlatform: der.readBoolean(sgx.get('7.1')!),
          cachedKeys: der.readBoolean(sgx.get('7.2')!),
          smtEnabled: der.readBoolean(sgx.get('7.3')!),
        },
      });
      assertSameProfile(pck.der, leaf!, `${sample.name} PCK`);
      assertSameCrlDp(pck.der, leaf!, `${sample.name} PCK`);
      const sim = parseCertificate(pck.der);
      assert.equal(
        hexOf(findExtension(sim, SgxOids.extensions)!.value),
        hexOf(findExtension(real, SgxOids.extensions)!.value),
        `${sample.name} SGX extension bytes`,
      );
      assert.equal(years(sim), years(real));

      const collateral = JSON.parse(
        Buffer.from(readVector(sample.files.collateral!)).toString(),
      ) as Record<string, string>;
      const [tcbSigning] = pemCerts(collateral.tcb_info_issuer_chain!);
      assertSameProfile(intel.tcbSigning.der, tcbSigning!, 'TCB Signing');
      assertSameCrlDp(intel.tcbSigning.der, tcbSigning!, 'TCB Signing');
      assertSameCrl(intel, collateral);
    }
  },
);

function assertSameCrl(
  intel: ReturnType<typeof createIntelPki>,
  collateral: Record<string, string>,
): void {
  for (const [field, make] of [
    ['pck_crl', (o: Parameters<typeof intel.rootCrl>[0]) => intel.pckCrl('platform', o)],
    ['root_ca_crl', (o: Parameters<typeof intel.rootCrl>[0]) => intel.rootCrl(o)],
  ] as const) {
    const real = parseCrl(Uint8Array.from(Buffer.from(collateral[field]!, 'hex')));
    const crlNumber = der.readInteger(der.readDerExact(real.extensions[0]!.value));
    const sim = parseCrl(
      make({
        revoked: real.revoked.map((r) => r.serial),
        thisUpdate: real.thisUpdate,
        nextUpdate: real.nextUpdate!,
        crlNumber,
      }),
    );
    assert.equal(hexOf(sim.issuer), hexOf(real.issuer), `${field} issuer`);
    assert.equal(hexOf(sim.signatureAlgorithm), hexOf(real.signatureAlgorithm));
    assert.equal(sim.version, real.version);
    assert.deepEqual(sim.revoked, real.revoked, `${field} entries`);
    assert.deepEqual(
      sim.extensions.map((e) => [e.oid, e.critical]),
      real.extensions.map((e) => [e.oid, e.critical]),
    );
    assert.equal(hexOf(sim.extensions[0]!.value), hexOf(real.extensions[0]!.value), 'CRL number');
  }
}

function productOf(issuerCn: string): AmdProduct {
  return issuerCn.replace(/^SEV-(VLEK-)?/, '') as AmdProduct;
}

test('AMD: ARK, ASK, ASVK, VCEK and VLEK match the real profile', { skip }, () => {
  const manifest = loadManifest();
  for (const root of manifest.roots.filter((r) => r.file.startsWith('roots/amd-'))) {
    const [realCa, realArk] = pemCerts(Buffer.from(readVector(root.file)).toString());
    const product = productOf(parseName(parseCertificate(realCa!).subject).at(-1)![1]);
    const amd = createAmdPki({ seed: SEED, product, notBefore: NOT_BEFORE });
    const vlek = root.file.includes('-asvk-');
    const simCa = vlek ? amd.asvk : amd.ask;
    for (const [sim, real, what] of [
      [amd.ark.der, realArk!, `ARK-${product}`],
      [simCa.der, realCa!, `${vlek ? 'ASVK' : 'ASK'}-${product}`],
    ] as const) {
      assertSameProfile(sim, real, what);
      assertSameCrlDp(sim, real, what);
      assert.equal(parseCertificate(sim).serial, parseCertificate(real).serial, `${what} serial`);
      assert.equal(years(parseCertificate(sim)), years(parseCertificate(real)));
    }
  }

  for (const sample of manifest.samples.filter((s) => s.platform === 'sev-snp')) {
    const file = sample.files.vcek ?? sample.files.vlek!;
    const real = parseCertificate(readVector(file));
    const product = productOf(parseName(real.issuer).at(-1)![1]);
    const amd = createAmdPki({ seed: SEED, product, notBefore: NOT_BEFORE });
    const ext = new Map(real.extensions.map((e) => [e.oid, e.value]));
    const int = (oid: string): number => Number(der.readInteger(der.readDerExact(ext.get(oid)!)));
    const tcb = {
      bl: int(AmdOids.blSpl),
      tee: int(AmdOids.teeSpl),
      snp: int(AmdOids.snpSpl),
      ucode: int(AmdOids.ucodeSpl),
      ...(ext.has(AmdOids.fmcSpl) ? { fmc: int(AmdOids.fmcSpl) } : {}),
    };
    const text = (oid: string): string => der.readString(der.readDerExact(ext.get(oid)!));
    const sim = sample.files.vcek
      ? amd.issueVcek({ hwid: ext.get(AmdOids.hwId)!, tcb, productName: text(AmdOids.productName) })
      : amd.issueVlek({ tcb, cspId: text(AmdOids.cspId) });
    assertSameProfile(sim.der, readVector(file), sample.name, { sigAlg: false });
    const parsed = parseCertificate(sim.der);
    assert.deepEqual(parsed.extensions, real.extensions, `${sample.name} AMD extensions`);
    assert.equal(parsed.serial, real.serial);
    assert.equal(years(parsed), years(real));
    // Older KDS VCEKs spell out trailerField 1; current ones, like ours, leave the default out.
    const pssParams = (c: ParsedCertificate): string[] =>
      der
        .childrenOf(der.childrenOf(der.readDerExact(c.signatureAlgorithm))[1]!)
        .slice(0, 3)
        .map((n) => hexOf(n.raw)!);
    assert.deepEqual(pssParams(parsed), pssParams(real));
  }
});

test('AWS Nitro: root, intermediates and leaf match the real profile', { skip }, () => {
  const nitro = createNitroPki({ seed: SEED, notBefore: NOT_BEFORE });
  const realRootPem = Buffer.from(readVector('roots/aws-nitro-enclaves-root-g1.pem')).toString();
  assertSameProfile(nitro.root.der, pemCerts(realRootPem)[0]!, 'Nitro root');

  for (const sample of loadManifest().samples.filter((s) => s.platform === 'nitro')) {
    let cose = decode(readVector(sample.files.cose_sign1!));
    if (!Array.isArray(cose)) cose = cose.value;
    const doc = decode(cose[2]) as {
      module_id: string;
      timestamp: number;
      cabundle: Uint8Array[];
      certificate: Uint8Array;
    };
    assert.equal(doc.cabundle.length, nitro.cabundle.length);
    // The simulator follows the current profile; 2022 instance CAs had no key identifiers.
    const current = new Date(Number(doc.timestamp)).getUTCFullYear() >= 2025;
    doc.cabundle.slice(1).forEach((real, i) => {
      const what = `${sample.name} intermediate ${i}`;
      if (current) assertSameProfile(nitro.intermediates[i]!.der, real, what, { names: false });
      const sim = parseCertificate(nitro.intermediates[i]!.der);
      for (const oid of [Oids.basicConstraints, Oids.keyUsage]) {
        const r = findExtension(parseCertificate(real), oid);
        assert.deepEqual(findExtension(sim, oid), r, `${what} ${oid}`);
      }
    });
    const leaf = nitro.issueLeaf({ moduleId: doc.module_id, notBefore: NOT_BEFORE });
    assertSameProfile(leaf.der, doc.certificate, `${sample.name} leaf`, { names: false });
    assert.equal(
      leaf.serial >> 64n,
      parseCertificate(doc.certificate).serial >> 64n,
      'leaf serial carries the enclave id',
    );
    const cn = (d: Uint8Array): string => parseName(parseCertificate(d).subject).at(-1)![1];
    assert.equal(cn(leaf.der).split('.')[0], cn(doc.certificate).split('.')[0]);
  }
});
