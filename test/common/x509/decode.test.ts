import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import * as asn1js from 'asn1js';
import fc from 'fast-check';
import { EvidenceMalformedError } from '../../../common/errors.js';
import {
  childrenOf,
  contentsOf,
  decodeDer,
  offsetOf,
  readBitString,
  readBoolean,
  readInteger,
  readOid,
  readSequence,
  readString,
  readTime,
  Tag,
  tagOf,
} from '../../../common/x509/decode.js';
import { parseCertificateDer, parsePemChain } from '../../../common/x509/certificate.js';
import { parseCrlDer } from '../../../common/x509/crl.js';
import { TWI_EXTENSION_OID } from '../../../common/x509/twi-extension.js';
import { fromHex } from '../../../common/bytes.js';
import { parseNitroDocument } from '../../../verifier/platforms/nitro/document.js';
import { haveVectors, readVector, vectorsDir } from '../../helpers/vectors.js';

const skip = haveVectors ? false : 'real vectors not present';
const rootDer = (): Uint8Array => readVector('roots/intel-sgx-root-ca.der');

/** Runs of each fuzz property; `TWI_FUZZ_CERT_RUNS=1000000` for the long run. */
const fuzzRuns = (fallback: number): number => {
  const n = Number(process.env.TWI_FUZZ_CERT_RUNS);
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
};

function malformed(field?: string, offset?: number) {
  return (e: unknown): boolean =>
    e instanceof EvidenceMalformedError &&
    (field === undefined || e.field === field) &&
    (offset === undefined || e.offset === offset);
}

const pemBlocks = (text: string): Uint8Array[] =>
  [
    ...text.matchAll(/-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----/g),
  ].map((m) => new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));

/** Real certificates: Intel root and the PCK chains of the TDX quotes, AMD, and AWS Nitro. */
function realCertificates(): Uint8Array[] {
  const out: Uint8Array[] = [rootDer()];
  const dir = (sub: string): string[] => readdirSync(`${vectorsDir}/${sub}`).sort();
  for (const f of dir('tdx').filter((f) => f.endsWith('.quote.bin'))) {
    out.push(...pemBlocks(Buffer.from(readVector(`tdx/${f}`)).toString('latin1')));
  }
  for (const f of dir('sev-snp')) {
    if (f.endsWith('.der')) out.push(readVector(`sev-snp/${f}`));
    if (f.endsWith('.pem'))
      out.push(...pemBlocks(Buffer.from(readVector(`sev-snp/${f}`)).toString()));
  }
  for (const f of dir('nitro')) {
    const { payload } = parseNitroDocument(readVector(`nitro/${f}`));
    out.push(payload.certificate, ...payload.cabundle);
  }
  const seen = new Set<string>();
  return out.filter((d) => {
    const k = Buffer.from(d).toString('base64');
    return !seen.has(k) && seen.add(k) !== undefined;
  });
}

test('decodeDer reads short and long lengths and exposes children with their offsets', () => {
  const long = new Uint8Array(200).fill(7);
  const der = Uint8Array.from([0x30, 0x81, 0xce, 0x04, 0x81, 0xc8, ...long, 0x02, 0x01, 0x05]);
  const seq = decodeDer(der, 'x');
  assert.equal(tagOf(seq), Tag.SEQUENCE);
  const [octets, int] = childrenOf(seq, 'x');
  assert.equal(offsetOf(octets!), 3);
  assert.equal(contentsOf(octets!).length, 200);
  assert.equal(offsetOf(int!), 206);
  assert.equal(readInteger(int, 'n'), 5n);
  // A view into a larger buffer decodes the same, offsets relative to the view.
  const padded = new Uint8Array(der.length + 9);
  padded.set(der, 5);
  const [, again] = childrenOf(decodeDer(padded.subarray(5, 5 + der.length), 'x'), 'x');
  assert.equal(offsetOf(again!), 206);
});

test('lengths: truncation, indefinite, non-minimal and oversized forms are malformed', () => {
  const bad: [string, string, number | undefined][] = [
    ['3005020101', 'seq', 0], // truncated contents
    ['3080020101' + '0000', 'seq', 0], // indefinite
    ['3081' + '03' + '020101', 'seq', 0], // long form for a short length
    ['308200' + '03' + '020101', 'seq', 0], // leading zero length octet
    ['3085' + '0000000002' + '0500', 'seq', 0], // five length octets
    ['3004' + '028101' + '05', 'seq[0]', 2], // non-minimal inner length
    ['3007' + '2480' + '040105' + '0000', 'seq[0]', 2], // constructed, indefinite OCTET STRING
    ['3005' + '2403' + '040105', 'seq[0]', 2], // constructed OCTET STRING
    ['1f2a0100', 'tag', 0], // multi-byte tag
    ['020101ff', 'trailing', 0],
    ['3002' + '0000', 'eoc[0]', 2], // end-of-contents inside a definite SEQUENCE
    ['0501' + '00', 'null', 0],
  ];
  for (const [hex, field, offset] of bad) {
    assert.throws(
      () => decodeDer(fromHex(hex), field.replace(/\[.*$/, '')),
      malformed(field, offset),
      hex,
    );
  }
  assert.throws(() => decodeDer(new Uint8Array(0), 'empty'), malformed('empty', 0));
});

test('a child past its parent is reported with the field path and offset', () => {
  const der = fromHex('3006' + '0201' + '05' + '0405' + 'aa');
  assert.throws(() => decodeDer(der, 'outer'), malformed('outer[1]', 5));
  const deep = fromHex('3009' + '3007' + '020101' + '3002' + '0203');
  assert.throws(() => decodeDer(deep, 'd'), malformed('d[0][1][0]', 9));
});

test('OIDs, integers, booleans, bit strings and strings decode', () => {
  const one = (hex: string) => decodeDer(fromHex(hex), 'v');
  assert.equal(readOid(one('06092a864886f84d010d01'), 'o'), '1.2.840.113741.1.13.1');
  assert.equal(readOid(one('06032b0601'), 'o'), '1.3.6.1');
  assert.equal(readOid(one('0603883703'), 'o'), '2.999.3');
  // A UUID arc (2.25.<128-bit integer>) is exact: asn1js alone prints it as hex.
  const twi = new Uint8Array(
    new asn1js.ObjectIdentifier({ value: TWI_EXTENSION_OID }).toBER(false),
  );
  assert.equal(readOid(decodeDer(twi, 'o'), 'o'), TWI_EXTENSION_OID);
  assert.throws(() => one('06022a86'), malformed('v'));
  assert.throws(() => readOid(one('06032a8001'), 'o'), malformed('o'));
  assert.throws(() => readOid(one('0600'), 'o'), malformed('o'));
  assert.equal(readInteger(one('0201ff'), 'i'), -1n);
  assert.equal(readInteger(one('020200ff'), 'i'), 255n);
  assert.equal(
    readInteger(one('021500efae6e9715fca13b87e333e8261ed6d990a926ad'), 'i'),
    0xefae6e9715fca13b87e333e8261ed6d990a926adn,
  );
  assert.throws(() => readInteger(one('0200'), 'i'), malformed('i'));
  assert.equal(readBoolean(one('0101ff'), 'b'), true);
  assert.throws(() => readBoolean(one('010101'), 'b'), malformed('b'));
  assert.deepEqual(readBitString(one('03020186'), 'k'), { bytes: fromHex('86'), unusedBits: 1 });
  assert.throws(() => one('030108'), malformed('v'));
  assert.throws(() => readBitString(one('030107'), 'k'), malformed('k'));
  assert.throws(() => readBitString(one('0300'), 'k'), malformed('k'));
  assert.equal(readString(one('0c03c3a961'), 's'), 'éa');
  assert.equal(readString(one('1e0400410042'), 's'), 'AB');
  assert.throws(() => one('1e03004100'), malformed('v'));
  assert.throws(() => readString(one('020100'), 's'), malformed('s'));
  assert.throws(() => readSequence(one('020100'), 'q'), malformed('q'));
});

test('times follow RFC 5280: UTCTime pivot at 50, GeneralizedTime, calendar checks', () => {
  const utc = (s: string) => decodeDer(Uint8Array.of(0x17, s.length, ...Buffer.from(s)), 't');
  const gen = (s: string) => decodeDer(Uint8Array.of(0x18, s.length, ...Buffer.from(s)), 't');
  assert.equal(readTime(utc('490101000000Z'), 't').toISOString(), '2049-01-01T00:00:00.000Z');
  assert.equal(readTime(utc('500101000000Z'), 't').toISOString(), '1950-01-01T00:00:00.000Z');
  assert.equal(readTime(gen('20491231235959Z'), 't').toISOString(), '2049-12-31T23:59:59.000Z');
  assert.throws(() => readTime(utc('250230000000Z'), 't'), malformed('t'));
  assert.throws(() => readTime(utc('250101240000Z'), 't'), malformed('t'));
  assert.throws(() => readTime(utc('2501010000Z'), 't'), malformed('t'));
  assert.throws(() => readTime(utc('250101000000+0100'), 't'), malformed('t'));
  assert.throws(() => readTime(gen('19491231235959Z'), 't'), malformed('t'));
  // A GeneralizedTime asn1js cannot read at all is malformed where it is decoded.
  for (const s of ['20250101000000.5Z', 'xx']) {
    assert.throws(() => readTime(gen(s), 't'), malformed('t'));
  }
});

test('PEM chains tolerate trailing NUL and whitespace, nothing else', { skip }, () => {
  const cert = parseCertificateDer(rootDer());
  const body = Buffer.from(cert.der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  const pem = `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
  assert.equal(parsePemChain(pem + pem + '\n\0').length, 2);
  assert.equal(parsePemChain(Buffer.from(pem + '\0\0'))[0]!.sha256, cert.sha256);
  assert.throws(() => parsePemChain(pem + 'junk'), malformed('pem'));
  assert.throws(() => parsePemChain('\n\0'), malformed('pem'));
});

test('every real certificate parses', { skip }, () => {
  const certs = realCertificates();
  assert.ok(certs.length >= 20, `only ${certs.length} real certificates`);
  for (const der of certs) assert.equal(parseCertificateDer(der).der.length, der.length);
});

test('random bytes never escape as anything but a typed error', { timeout: 3_600_000 }, () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      for (const parse of [
        () => parseCertificateDer(bytes),
        () => parseCrlDer(bytes),
        () => decodeDer(bytes, 'x'),
      ]) {
        try {
          parse();
        } catch (e) {
          assert.ok((e as { code?: string }).code?.startsWith('ERR_'), `unexpected ${String(e)}`);
        }
      }
    }),
    { numRuns: fuzzRuns(2000) },
  );
});

test(
  'mutating a real certificate yields a parse, or a typed error',
  { skip, timeout: 3_600_000 },
  () => {
    const certs = realCertificates();
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('xor'), at: fc.nat(), x: fc.integer({ min: 1, max: 255 }) }),
      fc.record({ kind: fc.constant('insert'), at: fc.nat(), x: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('delete'), at: fc.nat(), x: fc.constant(0) }),
      fc.record({ kind: fc.constant('truncate'), at: fc.nat(), x: fc.constant(0) }),
    );
    fc.assert(
      fc.property(
        fc.nat(certs.length - 1),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        (i, ms) => {
          let der = certs[i]!;
          for (const { kind, at: raw, x } of ms) {
            const at = raw % der.length;
            if (kind === 'xor') {
              der = new Uint8Array(der);
              der[at] ^= x;
            } else if (kind === 'insert') {
              der = Uint8Array.from([...der.subarray(0, at), x, ...der.subarray(at)]);
            } else if (kind === 'delete' && der.length > 1) {
              der = Uint8Array.from([...der.subarray(0, at), ...der.subarray(at + 1)]);
            } else if (kind === 'truncate') {
              der = der.slice(0, at);
            }
          }
          try {
            parseCertificateDer(der);
          } catch (e) {
            assert.ok(malformed()(e), `unexpected ${String(e)}`);
          }
        },
      ),
      { numRuns: fuzzRuns(1500) },
    );
  },
);
