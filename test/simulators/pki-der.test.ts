import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as der from '../../simulators/pki/der.js';
import {
  derBitString,
  derBoolean,
  derChildren,
  derEnumerated,
  derInteger,
  derOctetString,
  derOid,
  derString,
  derTime,
  parseDer,
} from '../../common/x509/der.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

test('INTEGER encodes minimal two’s complement from bigint, number and bytes', () => {
  const cases: [bigint | number | Uint8Array, string][] = [
    [0, '020100'],
    [127, '02017f'],
    [128, '02020080'],
    [65537n, '0203010001'],
    [-1n, '0201ff'],
    [-128n, '020180'],
    [-129n, '0202ff7f'],
    [bytes('000080'), '02020080'],
    [bytes('0000'), '020100'],
    [bytes('956f'), '020300956f'],
  ];
  for (const [value, want] of cases) assert.equal(hex(der.integer(value)), want, String(value));
  assert.throws(() => der.integer(2 ** 60), RangeError);
});

test('OID, BOOLEAN, NULL, strings and lengths', () => {
  assert.equal(hex(der.oid('1.2.840.113741.1.13.1.1')), '060a2a864886f84d010d0101');
  assert.equal(hex(der.oid('2.999.3')), '0603883703');
  assert.throws(() => der.oid('1.40'), TypeError);
  assert.throws(() => der.oid('1.2.x'), TypeError);
  assert.equal(hex(der.boolean(true)), '0101ff');
  assert.equal(hex(der.nullValue()), '0500');
  assert.equal(hex(der.printableString('US')), '13025553');
  assert.throws(() => der.printableString('a@b'), TypeError);
  assert.equal(hex(der.ia5String('Milan')), '16054d696c616e');
  assert.throws(() => der.ia5String('é'), TypeError);
  assert.equal(hex(der.utf8String('é')), '0c02c3a9');
  assert.equal(hex(der.enumerated(1)), '0a0101');
  assert.equal(hex(der.bitString(bytes('06'), 1)), '03020106');
  assert.equal(hex(der.octetString(new Uint8Array(200))).slice(0, 6), '0481c8');
  assert.equal(hex(der.octetString(new Uint8Array(300))).slice(0, 8), '0482012c');
});

test('times follow RFC 5280: UTCTime through 2049, GeneralizedTime after', () => {
  const last = new Date('2049-12-31T23:59:59.900Z');
  assert.equal(hex(der.time(last)), hex(der.tlv(0x17, Buffer.from('491231235959Z'))));
  const next = new Date('2050-01-01T00:00:00Z');
  assert.equal(hex(der.time(next)), hex(der.tlv(0x18, Buffer.from('20500101000000Z'))));
  assert.throws(() => der.utcTime(next), RangeError);
  assert.deepEqual(derTime(parseDer(der.time(next), 't'), 't'), next);
  assert.deepEqual(
    derTime(parseDer(der.utcTime(new Date('1950-01-01T00:00:00Z')), 't'), 't'),
    new Date('1950-01-01T00:00:00Z'),
  );
});

test('SET OF sorts, tags wrap explicitly and implicitly', () => {
  assert.equal(hex(der.set(der.integer(2), der.integer(1))), '3106020101020102');
  assert.equal(hex(der.explicit(3, der.integer(1))), 'a303020101');
  assert.equal(hex(der.implicit(0, der.octetString(bytes('abcd')))), '8002abcd');
  assert.equal(hex(der.implicit(1, der.sequence())), 'a100');
});

test('the verifier’s reader walks encoded nested structures and reads values back', () => {
  const encoded = der.sequence(
    der.oid('2.5.29.19'),
    der.boolean(true),
    der.octetString(der.sequence(der.boolean(true))),
  );
  const node = parseDer(encoded, 'ext');
  assert.equal(node.tag, der.Tag.SEQUENCE);
  const [id, critical, value] = derChildren(node);
  assert.equal(derOid(id, 'id'), '2.5.29.19');
  assert.equal(derBoolean(critical, 'critical'), true);
  assert.equal(value!.offset, 2 + id!.bytes.length + critical!.bytes.length);
  assert.deepEqual(derOctetString(value, 'value'), der.sequence(der.boolean(true)));
  assert.deepEqual(derBitString(parseDer(der.bitString(bytes('c0'), 6), 'b'), 'b'), {
    bytes: bytes('c0'),
    unusedBits: 6,
  });
  assert.equal(derEnumerated(parseDer(der.enumerated(1), 'e'), 'e'), 1n);
  assert.equal(derString(parseDer(der.utf8String('é'), 's'), 's'), 'é');
  assert.equal(derString(parseDer(der.printableString('US'), 's'), 's'), 'US');
  assert.equal(derString(parseDer(der.ia5String('Milan'), 's'), 's'), 'Milan');
  const tagged = parseDer(der.implicit(1, der.sequence(der.integer(5))), 'tagged');
  assert.equal(tagged.tag, 0xa1);
  assert.equal(derInteger(derChildren(tagged)[0], 'tagged[0]'), 5n);
});

test('the verifier’s reader rejects malformed DER with a typed error', () => {
  const bad = ['30', '3005020101', '3080', '04810a' + '00'.repeat(10), '1f0100', '0201010000'];
  for (const h of bad) {
    assert.throws(() => parseDer(bytes(h), 'der'), { code: 'ERR_EVIDENCE_MALFORMED' }, h);
  }
  assert.throws(() => derOid(parseDer(der.integer(1), 'oid'), 'oid'), {
    code: 'ERR_EVIDENCE_MALFORMED',
  });
});

test('INTEGER and OID round-trip through the verifier’s reader (property)', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }), (v) => {
      assert.equal(derInteger(parseDer(der.integer(v), 'n'), 'n'), v);
    }),
  );
  const arc = fc.bigInt({ min: 0n, max: 2n ** 130n });
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 1 }),
      fc.integer({ min: 0, max: 39 }),
      fc.array(arc, { maxLength: 8 }),
      (a, b, rest) => {
        const dotted = [a, b, ...rest].join('.');
        assert.equal(derOid(parseDer(der.oid(dotted), 'oid'), 'oid'), dotted);
      },
    ),
  );
});

test('Time round-trips through the verifier’s reader to the second (property)', () => {
  const date = fc.date({
    min: new Date('1950-01-01T00:00:00Z'),
    max: new Date('9999-12-31T23:59:59Z'),
    noInvalidDate: true,
  });
  fc.assert(
    fc.property(date, (d) => {
      const whole = new Date(Math.floor(d.getTime() / 1000) * 1000);
      assert.deepEqual(derTime(parseDer(der.time(d), 't'), 't'), whole);
    }),
  );
});
