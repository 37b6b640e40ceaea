/**
 * The simulated PKIs against the real vendor certificates: same names, serial numbering,
 * algorithm identifiers, extension lists, criticality and key-independent extension
 * values. Only key material (keys, key identifiers, signatures) may differ.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { decode } from 'cbor-x';
import { AmdOids, createAmdPki, type AmdProduct } from '../../simulators/pki/amd.js';
import { Oids } from '../../simulators/pki/x509.js';
import { SgxOids, createIntelPki } from '../../simulators/pki/intel.js';
import { createNitroPki } from '../../simulators/pki/aws.js';
import {
  parseCertificateDer,
  type Certificate,
  type Extension,
} from '../../common/x509/certificate.js';
import { parseCrlDer, type Crl } from '../../common/x509/crl.js';
import {
  contextTag,
  tagOf,
  tlvOf,
  readBoolean,
  childrenOf,
  readEnumerated,
  readInteger,
  readOctetString,
  readOid,
  readSequence,
  readString,
  decodeDer,
  type Block,
} from '../../common/x509/decode.js';
import type { Name } from '../../common/x509/name.js';
import { haveVectors, loadManifest, readVector } from '../helpers/vectors.js';

const SEED = 'pki-profile-seed';
const NOT_BEFORE = new Date('2026-01-01T00:00:00Z');
const skip = haveVectors ? false : 'real vectors not present';
const KEY_FREE = [Oids.keyUsage, Oids.basicConstraints, Oids.crlDistributionPoints];

function pemCerts(text: string): Uint8Array[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new Uint8Array(new X509Certificate(b).raw));
}

function extList(c: Certificate): string[] {
  return [...c.extensions.values()].map((e) => e.oid + (e.critical ? ' critical' : ''));
}

/** A Name's attributes in order as `[oid, text]`; every attribute must be a string. */
function attributes(name: Name): (readonly [string, string])[] {
  const atvs = readSequence(decodeDer(name.der, 'name'), 'name').flatMap((rdn) =>
    childrenOf(rdn, 'rdn'),
  );
  assert.equal(name.attributes.length, atvs.length, 'every name attribute is a string');
  return [...name.attributes];
}

/** The TBS `signature` AlgorithmIdentifier DER (RFC 5280 §4.1.2.3). */
function tbsSignatureAlgorithm(c: Certificate): Uint8Array {
  const items = readSequence(decodeDer(c.tbs, 'tbs'), 'tbs');
  return tlvOf(items[tagOf(items[0]!) === contextTag(0, true) ? 2 : 1]!);
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
  const s = parseCertificateDer(sim);
  const r = parseCertificateDer(real);
  if (opts.names ?? true) {
    assert.deepEqual(attributes(s.subject), attributes(r.subject), `${what} subject`);
    assert.deepEqual(attributes(s.issuer), attributes(r.issuer), `${what} issuer`);
  } else {
    const types = (n: Name): string[] => attributes(n).map(([t]) => t);
    assert.deepEqual(types(s.subject), types(r.subject), `${what} subject attribute order`);
  }
  assert.equal(s.version, r.version, `${what} version`);
  if (opts.sigAlg ?? true) {
    assert.equal(
      hexOf(s.signatureAlgorithm.der),
      hexOf(r.signatureAlgorithm.der),
      `${what} signature algorithm`,
    );
  }
  assert.equal(hexOf(tbsSignatureAlgorithm(s)), hexOf(s.signatureAlgorithm.der));
  const spkiAlg = (c: Certificate): string =>
    hexOf(tlvOf(readSequence(decodeDer(c.spki, 'spki'), 'spki')[0]!))!;
  assert.equal(spkiAlg(s), spkiAlg(r), `${what} key algorithm`);
  assert.deepEqual(extList(s), extList(r), `${what} extensions`);
  for (const oid of KEY_FREE) {
    const real = r.extensions.get(oid);
    if (real && oid !== Oids.crlDistributionPoints) {
      assert.equal(hexOf(s.extensions.get(oid)?.value), hexOf(real.value), `${what} ${oid}`);
    }
  }
}

function assertSameCrlDp(sim: Uint8Array, real: Uint8Array, what: string): void {
  const get = (d: Uint8Array): string | undefined =>
    hexOf(parseCertificateDer(d).extensions.get(Oids.crlDistributionPoints)?.value);
  assert.equal(get(sim), get(real), `${what} CRL distribution point`);
}

function years(c: Certificate): number {
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
    assert.equal(intel.root.serial, parseCertificateDer(intel.root.der).serial);

    for (const sample of loadManifest().samples.filter((s) => s.platform === 'tdx')) {
      const quote = Buffer.from(readVector(sample.files.quote!)).toString('latin1');
      const [leaf, ca] = pemCerts(quote);
      assertSameProfile(intel.platformCa.der, ca!, 'platform CA');
      assertSameCrlDp(intel.platformCa.der, ca!, 'platform CA');

      const real = parseCertificateDer(leaf!);
      const sgx = new Map<string, Block>();
      const walk = (node: Block): void => {
        for (const item of childrenOf(node, 'sgx')) {
          const [id, value] = childrenOf(item, 'sgx');
          sgx.set(readOid(id, 'sgx.id').slice(SgxOids.extensions.length + 1), value!);
          if ((tagOf(value!) & 0x20) !== 0) walk(value!);
        }
      };
      walk(decodeDer(real.extensions.get(SgxOids.extensions)!.value, 'sgx'));
      const pck = intel.issuePck({
        ca: 'platform',
        ppid: readOctetString(sgx.get('1'), 'ppid'),
        cpusvn: [...readOctetString(sgx.get('2.18'), 'cpusvn')],
        pcesvn: Number(readInteger(sgx.get('2.17'), 'pcesvn')),
        pceid: readOctetString(sgx.get('3'), 'pceid'),
        fmspc: readOctetString(sgx.get('4'), 'fmspc'),
        sgxType: Number(readEnumerated(sgx.get('5'), 'sgxType')),
        platformInstanceId: readOctetString(sgx.get('6'), 'platformInstanceId'),
        configuration: {
          dynamicPlatform: readBoolean(sgx.get('7.1'), 'dynamicPlatform'),
          cachedKeys: readBoolean(sgx.get('7.2'), 'cachedKeys'),
          smtEnabled: readBoolean(sgx.get('7.3'), 'smtEnabled'),
        },
      });
      assertSameProfile(pck.der, leaf!, `${sample.name} PCK`);
      assertSameCrlDp(pck.der, leaf!, `${sample.name} PCK`);
      const sim = parseCertificateDer(pck.der);
      assert.equal(
        hexOf(sim.extensions.get(SgxOids.extensions)!.value),
        hexOf(real.extensions.get(SgxOids.extensions)!.value),
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
    const real = parseCrlDer(Uint8Array.from(Buffer.from(collateral[field]!, 'hex')));
    const crlNumber = readInteger(decodeDer(extsOf(real)[0]!.value, 'cRLNumber'), 'cRLNumber');
    const sim = parseCrlDer(
      make({
        revoked: real.entries.map((r) => r.serial),
        thisUpdate: real.thisUpdate,
        nextUpdate: real.nextUpdate!,
        crlNumber,
      }),
    );
    assert.equal(hexOf(sim.issuer.der), hexOf(real.issuer.der), `${field} issuer`);
    assert.equal(hexOf(sim.signatureAlgorithm.der), hexOf(real.signatureAlgorithm.der));
    assert.equal(sim.version, real.version);
    assert.deepEqual(entriesOf(sim), entriesOf(real), `${field} entries`);
    assert.deepEqual(
      extsOf(sim).map((e) => [e.oid, e.critical]),
      extsOf(real).map((e) => [e.oid, e.critical]),
    );
    assert.equal(hexOf(extsOf(sim)[0]!.value), hexOf(extsOf(real)[0]!.value), 'CRL number');
  }
}

/** CRL extensions in encoding order. */
function extsOf(crl: Crl): Extension[] {
  return [...crl.extensions.values()];
}

/** Revoked entries in encoding order, each with its entry extensions in encoding order. */
function entriesOf(crl: Crl): { serial: bigint; revocationDate: Date; extensions: Extension[] }[] {
  return crl.entries.map((e) => ({ ...e, extensions: [...e.extensions.values()] }));
}

function productOf(issuerCn: string): AmdProduct {
  return issuerCn.replace(/^SEV-(VLEK-)?/, '') as AmdProduct;
}

test('AMD: ARK, ASK, ASVK, VCEK and VLEK match the real profile', { skip }, () => {
  const manifest = loadManifest();
  for (const root of manifest.roots.filter((r) => r.file.startsWith('roots/amd-'))) {
    const [realCa, realArk] = pemCerts(Buffer.from(readVector(root.file)).toString());
    const product = productOf(attributes(parseCertificateDer(realCa!).subject).at(-1)![1]);
    const amd = createAmdPki({ seed: SEED, product, notBefore: NOT_BEFORE });
    const vlek = root.file.includes('-asvk-');
    const simCa = vlek ? amd.asvk : amd.ask;
    for (const [sim, real, what] of [
      [amd.ark.der, realArk!, `ARK-${product}`],
      [simCa.der, realCa!, `${vlek ? 'ASVK' : 'ASK'}-${product}`],
    ] as const) {
      assertSameProfile(sim, real, what);
      assertSameCrlDp(sim, real, what);
      const [s, r] = [parseCertificateDer(sim), parseCertificateDer(real)];
      assert.equal(s.serial, r.serial, `${what} serial`);
      assert.equal(years(s), years(r));
    }
  }

  for (const sample of manifest.samples.filter((s) => s.platform === 'sev-snp')) {
    const file = sample.files.vcek ?? sample.files.vlek!;
    const real = parseCertificateDer(readVector(file));
    const product = productOf(attributes(real.issuer).at(-1)![1]);
    const amd = createAmdPki({ seed: SEED, product, notBefore: NOT_BEFORE });
    const ext = new Map([...real.extensions].map(([oid, e]) => [oid, e.value]));
    const int = (oid: string): number => Number(readInteger(decodeDer(ext.get(oid)!, oid), oid));
    const tcb = {
      bl: int(AmdOids.blSpl),
      tee: int(AmdOids.teeSpl),
      snp: int(AmdOids.snpSpl),
      ucode: int(AmdOids.ucodeSpl),
      ...(ext.has(AmdOids.fmcSpl) ? { fmc: int(AmdOids.fmcSpl) } : {}),
    };
    const text = (oid: string): string => readString(decodeDer(ext.get(oid)!, oid), oid);
    const sim = sample.files.vcek
      ? amd.issueVcek({ hwid: ext.get(AmdOids.hwId)!, tcb, productName: text(AmdOids.productName) })
      : amd.issueVlek({ tcb, cspId: text(AmdOids.cspId) });
    assertSameProfile(sim.der, readVector(file), sample.name, { sigAlg: false });
    const parsed = parseCertificateDer(sim.der);
    assert.deepEqual(
      [...parsed.extensions.values()],
      [...real.extensions.values()],
      `${sample.name} AMD extensions`,
    );
    assert.equal(parsed.serial, real.serial);
    assert.equal(years(parsed), years(real));
    // Older KDS VCEKs spell out trailerField 1; current ones, like ours, leave the default out.
    const pssParams = (c: Certificate): string[] =>
      childrenOf(childrenOf(decodeDer(c.signatureAlgorithm.der, 'alg'), 'alg')[1]!, 'alg.params')
        .slice(0, 3)
        .map((n) => hexOf(tlvOf(n))!);
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
      const sim = parseCertificateDer(nitro.intermediates[i]!.der);
      for (const oid of [Oids.basicConstraints, Oids.keyUsage]) {
        const r = parseCertificateDer(real).extensions.get(oid);
        assert.deepEqual(sim.extensions.get(oid), r, `${what} ${oid}`);
      }
    });
    const leaf = nitro.issueLeaf({ moduleId: doc.module_id, notBefore: NOT_BEFORE });
    assertSameProfile(leaf.der, doc.certificate, `${sample.name} leaf`, { names: false });
    assert.equal(
      leaf.serial >> 64n,
      parseCertificateDer(doc.certificate).serial >> 64n,
      'leaf serial carries the enclave id',
    );
    const cn = (d: Uint8Array): string => attributes(parseCertificateDer(d).subject).at(-1)![1];
    assert.equal(cn(leaf.der).split('.')[0], cn(doc.certificate).split('.')[0]);
  }
});
