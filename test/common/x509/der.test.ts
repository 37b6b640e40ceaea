import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EvidenceMalformedError } from '../../../common/errors.js';
import {
  derBitString,
  derBoolean,
  derChildren,
  derInteger,
  derOid,
  derSequence,
  derString,
  derTime,
  parseDer,
  Tag,
} from '../../../common/x509/der.js';
import { parseCertificateDer, parsePemChain } from '../../../common/x509/certificate.js';
import { parseCrlDer } from '../../../common/x509/crl.js';
import { fromHex } from '../../../common/bytes.js';
import { haveVectors, readVector } from '../../helpers/vectors.js';

const skip = haveVectors ? false : 'real vectors not present';
const rootDer = (): Uint8Array => readVector('roots/intel-sgx-root-ca.der');

function malformed(field?: string, offset?: number) {
  return (e: unknown): boolean =>
    e instanceof EvidenceMalformedError &&
    (field === undefined || e.field === field) &&
    (offset === undefined || e.offset === offset);
}

test('parseDer reads short and long lengths and exposes children with absolute offsets', () => {
  const long = new Uint8Array(200).fill(7);
  const der = Uint8Array.from([0x30, 0x81, 0xce, 0x04, 0x81, 0xc8, ...long, 0x02, 0x01, 0x05]);
  const seq = parseDer(der, 'x');
  assert.equal(seq.tag, Tag.SEQUENCE);
  assert.equal(seq.headerLength, 3);
  const [octets, int] = derChildren(seq);
  assert.equal(octets!.offset, 3);
  assert.equal(octets!.value.length, 200);
  assert.equal(int!.offset, 206);
  assert.equal(derInteger(int, 'n'), 5n);
});

test('lengths: truncation, indefinite, non-minimal and oversized forms are malformed', () => {
  assert.throws(() => parseDer(fromHex('3005020101'), 'seq'), malformed('seq', 0));
  assert.throws(
    () => parseDer(fromHex('3080020101 0000'.replace(' ', '')), 'seq'),
    malformed('seq'),
  );
  assert.throws(() => parseDer(fromHex('30810102' + '01'), 'seq'), malformed('seq'));
  assert.throws(() => parseDer(fromHex('3082000101'), 'seq'), malformed('seq'));
  assert.throws(() => parseDer(fromHex('3085000000000100'), 'seq'), malformed('seq'));
  assert.throws(() => parseDer(fromHex('1f2a0100'), 'tag'), malformed('tag'));
  assert.throws(() => parseDer(fromHex('020101ff'), 'trailing'), malformed('trailing'));
  assert.throws(() => parseDer(new Uint8Array(0), 'empty'), malformed('empty', 0));
});

test('a child past its parent is reported with the field path and absolute offset', () => {
  const der = fromHex('3006' + '0201' + '05' + '0405' + 'aa');
  assert.throws(
    () => derChildren(parseDer(der, 'outer')),
    (e: unknown) => malformed('outer[1]', 5)(e),
  );
});

test('OIDs, integers, booleans, bit strings and strings decode', () => {
  assert.equal(
    derOid(parseDer(fromHex('06092a864886f84d010d01'), 'o'), 'o'),
    '1.2.840.113741.1.13.1',
  );
  assert.equal(derOid(parseDer(fromHex('06032b0601'), 'o'), 'o'), '1.3.6.1');
  assert.equal(derOid(parseDer(fromHex('0603883703'), 'o'), 'o'), '2.999.3');
  assert.throws(() => derOid(parseDer(fromHex('06022a86'), 'o'), 'o'), malformed('o'));
  assert.throws(() => derOid(parseDer(fromHex('06022a80'), 'o'), 'o'), malformed('o'));
  assert.equal(derInteger(parseDer(fromHex('0201ff'), 'i'), 'i'), -1n);
  assert.equal(derInteger(parseDer(fromHex('020200ff'), 'i'), 'i'), 255n);
  assert.equal(
    derInteger(parseDer(fromHex('021500efae6e9715fca13b87e333e8261ed6d990a926ad'), 'i'), 'i'),
    0xefae6e9715fca13b87e333e8261ed6d990a926adn,
  );
  assert.throws(() => derInteger(parseDer(fromHex('0200'), 'i'), 'i'), malformed('i'));
  assert.equal(derBoolean(parseDer(fromHex('0101ff'), 'b'), 'b'), true);
  assert.throws(() => derBoolean(parseDer(fromHex('010101'), 'b'), 'b'), malformed('b'));
  assert.deepEqual(derBitString(parseDer(fromHex('03020186'), 'k'), 'k'), {
    bytes: fromHex('86'),
    unusedBits: 1,
  });
  assert.throws(() => derBitString(parseDer(fromHex('030108'), 'k'), 'k'), malformed('k'));
  assert.equal(derString(parseDer(fromHex('0c03c3a961'), 's'), 's'), 'éa');
  assert.equal(derString(parseDer(fromHex('1e0400410042'), 's'), 's'), 'AB');
  assert.throws(() => derString(parseDer(fromHex('020100'), 's'), 's'), malformed('s'));
  assert.throws(() => derSequence(parseDer(fromHex('020100'), 'q'), 'q'), malformed('q'));
});

test('times follow RFC 5280: UTCTime pivot at 50, GeneralizedTime, calendar checks', () => {
  const utc = (s: string) => parseDer(Uint8Array.of(0x17, s.length, ...Buffer.from(s)), 't');
  const gen = (s: string) => parseDer(Uint8Array.of(0x18, s.length, ...Buffer.from(s)), 't');
  assert.equal(derTime(utc('490101000000Z'), 't').toISOString(), '2049-01-01T00:00:00.000Z');
  assert.equal(derTime(utc('500101000000Z'), 't').toISOString(), '1950-01-01T00:00:00.000Z');
  assert.equal(derTime(gen('20491231235959Z'), 't').toISOString(), '2049-12-31T23:59:59.000Z');
  assert.throws(() => derTime(utc('250230000000Z'), 't'), malformed('t'));
  assert.throws(() => derTime(utc('2501010000Z'), 't'), malformed('t'));
  assert.throws(() => derTime(gen('20250101000000.5Z'), 't'), malformed('t'));
  assert.throws(() => derTime(utc('250101000000+0100'), 't'), malformed('t'));
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

test('random bytes never escape as anything but a typed error', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      for (const parse of [
        () => parseCertificateDer(bytes),
        () => parseCrlDer(bytes),
        () => derChildren(parseDer(bytes, 'x')),
      ]) {
        try {
          parse();
        } catch (e) {
          assert.ok((e as { code?: string }).code?.startsWith('ERR_'), `unexpected ${String(e)}`);
        }
      }
    }),
    { numRuns: 2000 },
  );
});

test('mutating a real certificate yields a parse, or a typed error', { skip }, () => {
  const der = rootDer();
  fc.assert(
    fc.property(fc.nat(der.length - 1), fc.integer({ min: 1, max: 255 }), (at, x) => {
      const copy = new Uint8Array(der);
      copy[at] ^= x;
      try {
        parseCertificateDer(copy);
      } catch (e) {
        assert.ok(malformed()(e), `unexpected ${String(e)}`);
      }
    }),
    { numRuns: 1500 },
  );
});
