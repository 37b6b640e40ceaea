/**
 * The simulated PKIs encode with asn1js and pkijs: the few values those libraries do not
 * make DER on their own (simulators/pki/asn1.ts), and DER-ness of everything issued.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import fc from 'fast-check';
import { integer, time, unsignedInteger } from '../../simulators/pki/asn1.js';
import { createAmdPki } from '../../simulators/pki/amd.js';
import { createNitroPki } from '../../simulators/pki/aws.js';
import { keyUsage } from '../../simulators/pki/extensions.js';
import { createIntelPki } from '../../simulators/pki/intel.js';
import { deriveEcKey, ecdsaRawToDer } from '../../simulators/pki/keys.js';
import { buildCrl, encodeName, issueCertificate } from '../../simulators/pki/x509.js';
import { fromDer, toDer, type Asn1 } from '../helpers/asn1.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

test('INTEGER is minimal, non-negative and refuses what it cannot encode', () => {
  const cases: [bigint | number, string][] = [
    [0, '020100'],
    [127, '02017f'],
    [128, '02020080'],
    [65537n, '0203010001'],
    [0xff00112233445566778899aabbccddeeffn, '021200ff00112233445566778899aabbccddeeff'],
  ];
  for (const [value, want] of cases) assert.equal(hex(toDer(integer(value))), want, String(value));
  assert.throws(() => integer(-1n), RangeError);
  assert.throws(() => integer(2 ** 60), RangeError);
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 2n ** 300n }), (v) => {
      const encoded = integer(v).valueBlock.valueHexView;
      const read = fromDer(toDer(integer(v)));
      assert.ok(read instanceof asn1js.Integer);
      assert.equal(read.toBigInt(), v);
      assert.ok(encoded.length === 1 || encoded[0] !== 0 || encoded[1]! >= 0x80, 'minimal');
    }),
  );
});

test('INTEGER from an unsigned magnitude, and ECDSA r‖s to ECDSA-Sig-Value', () => {
  const cases: [string, string][] = [
    ['000080', '02020080'],
    ['0000', '020100'],
    ['', '020100'],
    ['956f', '020300956f'],
    ['7f', '02017f'],
  ];
  for (const [mag, want] of cases) assert.equal(hex(toDer(unsignedInteger(bytes(mag)))), want);
  assert.equal(hex(ecdsaRawToDer(bytes('000080010000007f'))), '3008020300800102017f');
  assert.equal(hex(ecdsaRawToDer(bytes('0000807f'))), '3008020100020300807f');
  assert.throws(() => ecdsaRawToDer(bytes('00')), RangeError);
});

test('times follow RFC 5280: UTCTime 1950–2049, GeneralizedTime otherwise, whole seconds', () => {
  const enc = (d: Date): string =>
    Buffer.from(toDer(time(d).toSchema() as Asn1)).toString('latin1');
  assert.equal(enc(new Date('2049-12-31T23:59:59.900Z')), '\x17\x0d491231235959Z');
  assert.equal(enc(new Date('1950-01-01T00:00:00Z')), '\x17\x0d500101000000Z');
  assert.equal(enc(new Date('2050-01-01T00:00:00.5Z')), '\x18\x0f20500101000000Z');
  assert.equal(enc(new Date('1949-12-31T23:59:59Z')), '\x18\x0f19491231235959Z');
  assert.throws(() => time(new Date(NaN)), RangeError);
  assert.throws(() => time(new Date('+010000-01-01T00:00:00Z')), RangeError);
  const date = fc.date({
    min: new Date('0000-01-01T00:00:00Z'),
    max: new Date('9999-12-31T23:59:59Z'),
    noInvalidDate: true,
  });
  fc.assert(
    fc.property(date, (d) => {
      const digits = d.toISOString().slice(0, 19).replace(/\D/g, '');
      const y = d.getUTCFullYear();
      const want = y >= 1950 && y <= 2049 ? `\x17\x0d${digits.slice(2)}Z` : `\x18\x0f${digits}Z`;
      assert.equal(enc(d), want);
    }),
  );
});

test('names are single-attribute RDNs in the order given; countryName is a PrintableString', () => {
  const name = fromDer(
    encodeName([
      ['CN', 'é'],
      ['C', 'US'],
      ['O', 'x'],
    ]),
  );
  assert.ok(name instanceof asn1js.Sequence);
  const rdns = name.valueBlock.value.map((rdn) => {
    assert.ok(rdn instanceof asn1js.Set);
    assert.equal(rdn.valueBlock.value.length, 1);
    const [type, value] = (rdn.valueBlock.value[0] as asn1js.Sequence).valueBlock.value;
    return [(type as asn1js.ObjectIdentifier).getValue(), value!.constructor.name];
  });
  assert.deepEqual(rdns, [
    ['2.5.4.3', 'Utf8String'],
    ['2.5.4.6', 'PrintableString'],
    ['2.5.4.10', 'Utf8String'],
  ]);
  assert.throws(() => encodeName([['C', 'a@b']]), TypeError);
});

/** Asserts DER rules asn1js's round trip cannot see: minimal INTEGERs, BOOLEAN 0x00/0xFF. */
function assertDerValues(node: Asn1, at: string): void {
  if (node instanceof asn1js.Integer || node instanceof asn1js.Enumerated) {
    const v = node.valueBlock.valueHexView;
    const padded =
      v.length > 1 && ((v[0] === 0 && v[1]! < 0x80) || (v[0] === 0xff && v[1]! >= 0x80));
    assert.ok(v.length > 0 && !padded, `${at}: INTEGER ${hex(v)} is not minimal`);
  } else if (node instanceof asn1js.Boolean) {
    assert.ok([0x00, 0xff].includes(node.valueBlock.valueHexView[0]!), `${at}: BOOLEAN`);
  }
  const children = (node.valueBlock as { value?: unknown }).value;
  if (Array.isArray(children)) {
    // OBJECT IDENTIFIER arcs are value blocks too; only nested ASN.1 values are walked.
    children.forEach((c: unknown, i) => {
      if (c instanceof asn1js.BaseBlock) assertDerValues(c, `${at}.${i}`);
    });
  }
}

/** Round-trips `der` through asn1js and checks the values in it and in every extnValue. */
function assertDer(der: Uint8Array, what: string, extensions: readonly pkijs.Extension[]): void {
  assert.equal(hex(toDer(fromDer(der))), hex(der), `${what} re-encodes to the same bytes`);
  assertDerValues(fromDer(der), what);
  for (const e of extensions) {
    const value = e.extnValue.valueBlock.valueHexView;
    if (e.extnID === '1.3.6.1.4.1.3704.1.4') continue; // AMD hwID: raw bytes, not DER
    assert.equal(hex(toDer(fromDer(value))), hex(value), `${what} ${e.extnID}`);
    assertDerValues(fromDer(value), `${what} ${e.extnID}`);
  }
}

test('the DER value check catches padded INTEGERs and BOOLEAN TRUE other than 0xFF', () => {
  assert.throws(() => assertDerValues(fromDer(bytes('300402020001')), 'int'), /not minimal/);
  assert.throws(() => assertDerValues(fromDer(bytes('30040202ff80')), 'int'), /not minimal/);
  assert.throws(() => assertDerValues(fromDer(bytes('3003010101')), 'bool'), /BOOLEAN/);
  assertDerValues(fromDer(bytes('3007020200800101ff')), 'ok');
});

test(
  'every certificate and CRL the simulated PKIs issue is DER and verifies',
  { timeout: 300_000 },
  () => {
    const seed = 'pki-asn1-test';
    const notBefore = new Date('2026-01-01T00:00:00Z');
    const intel = createIntelPki({ seed, notBefore });
    const amd = createAmdPki({ seed, product: 'Milan', notBefore });
    const nitro = createNitroPki({ seed, notBefore });
    const cpusvn = [255, 128, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 127];
    const fmspc = bytes('b0c06f000000');
    const tcb = { bl: 3, tee: 0, snp: 128, ucode: 255 };
    const chains = [
      [intel.issuePck({ ca: 'platform', cpusvn, pcesvn: 0x8000, fmspc }), intel.platformCa],
      [intel.issuePck({ ca: 'processor', cpusvn, pcesvn: 13, fmspc }), intel.processorCa],
      [intel.platformCa, intel.root],
      [intel.tcbSigning, intel.root],
      [intel.root, intel.root],
      [amd.issueVcek({ hwid: new Uint8Array(64).fill(0x81), tcb }), amd.ask],
      [amd.issueVlek({ cspId: 'CN=csp', tcb }), amd.asvk],
      [amd.ask, amd.ark],
      [amd.ark, amd.ark],
      [
        nitro.issueLeaf({ moduleId: 'i-0-enc0123456789abcdef', notBefore }),
        nitro.intermediates[2]!,
      ],
      ...nitro.intermediates.map((c, i) => [c, i ? nitro.intermediates[i - 1]! : nitro.root]),
    ] as const;
    for (const [cert, issuer] of chains) {
      const parsed = pkijs.Certificate.fromBER(cert.der);
      const what = parsed.subject.typesAndValues.at(-1)!.value.valueBlock.value as string;
      assertDer(cert.der, what, parsed.extensions ?? []);
      assert.equal(new X509Certificate(cert.der).verify(issuer.key.publicKey), true, what);
    }
    const window = { thisUpdate: notBefore, nextUpdate: new Date('2051-01-01T00:00:00Z') };
    const crls = [
      intel.pckCrl('platform', { ...window, revoked: [1n, 0x80n, 2n ** 159n] }),
      intel.rootCrl(window),
      amd.crl({ ...window, revoked: [0x010001n] }),
    ];
    for (const [i, crl] of crls.entries()) {
      const parsed = pkijs.CertificateRevocationList.fromBER(crl);
      const entryExtensions = (parsed.revokedCertificates ?? []).flatMap(
        (r) => r.crlEntryExtensions?.extensions ?? [],
      );
      assertDer(crl, `crl ${i}`, [...(parsed.crlExtensions?.extensions ?? []), ...entryExtensions]);
    }
  },
);

test('a self-issued certificate and CRL carry exactly what the spec says', () => {
  const key = deriveEcKey('pki-asn1-test', 'self', 'P-256');
  const dn = [['CN', 'self']] as const;
  const cert = issueCertificate({
    serial: 0n,
    issuer: dn,
    subject: dn,
    notBefore: new Date('2049-12-31T23:59:59Z'),
    notAfter: new Date('2050-01-01T00:00:00Z'),
    subjectKey: key,
    issuerKey: key,
    extensions: [keyUsage(['keyCertSign'], { unusedBits: 1 })],
  });
  const x = new X509Certificate(cert.der);
  assert.equal(x.verify(key.publicKey), true);
  assert.equal(x.serialNumber, '0');
  assert.equal(x.validTo, 'Jan  1 00:00:00 2050 GMT');
  const parsed = pkijs.Certificate.fromBER(cert.der);
  assert.equal(parsed.version, 2);
  const [ku] = parsed.extensions!;
  assert.equal(ku!.critical, true);
  // AMD's encoding of keyCertSign alone: one unused bit where DER would say two.
  assert.equal(hex(ku!.extnValue.valueBlock.valueHexView), '03020104');
  assert.throws(() => keyUsage(['keyCertSign'], { unusedBits: 8 }), RangeError);
  const crl = pkijs.CertificateRevocationList.fromBER(
    buildCrl({
      issuer: dn,
      issuerKey: key,
      thisUpdate: new Date('2026-01-01T00:00:00Z'),
      nextUpdate: new Date('2026-02-01T00:00:00Z'),
      revoked: [{ serial: 7n, reason: null }, { serial: 8n, reason: 0 }, 9n],
      extensions: [],
    }),
  );
  assert.equal(crl.version, 1);
  assert.equal(crl.crlExtensions, undefined);
  const entries = crl.revokedCertificates!.map((r) => [
    r.userCertificate.toBigInt(),
    r.crlEntryExtensions?.extensions.map((e) => hex(e.extnValue.valueBlock.valueHexView)),
  ]);
  assert.deepEqual(entries, [
    [7n, undefined],
    [8n, ['0a0100']],
    [9n, ['0a0101']],
  ]);
});
