import { test } from 'node:test';
import assert from 'node:assert/strict';
import { haveVectors, loadManifest, readVector } from '../../helpers/vectors.js';
import {
  parseSnpCertTable,
  SNP_CERT_GUIDS,
  serializeSnpCertTable,
} from '../../../verifier/platforms/sev-snp/index.js';
import type { SnpCertTableInput } from '../../../verifier/platforms/sev-snp/index.js';

function malformed(bytes: Uint8Array, field: string): void {
  assert.throws(
    () => parseSnpCertTable(bytes),
    (e: unknown) => {
      const err = e as { code?: string; field?: string; message: string };
      assert.equal(err.code, 'ERR_EVIDENCE_MALFORMED', err.message);
      assert.equal(err.field, field, err.message);
      return true;
    },
  );
}

const entries: SnpCertTableInput[] = [
  { kind: 'vcek', data: new Uint8Array([1, 2, 3]) },
  { kind: 'ask', data: new Uint8Array([4, 5]) },
  { kind: 'ark', data: new Uint8Array([6]) },
  { guid: '01234567-89ab-cdef-0123-456789abcdef', data: new Uint8Array(0) },
];

test('a table round-trips and GUIDs map to kinds', () => {
  const bytes = serializeSnpCertTable(entries);
  assert.equal(bytes.length, 5 * 24 + 6);
  const parsed = parseSnpCertTable(bytes);
  assert.deepEqual(
    parsed.map((e) => e.kind),
    ['vcek', 'ask', 'ark', 'unknown'],
  );
  assert.equal(parsed[0]!.guid, SNP_CERT_GUIDS.vcek);
  assert.equal(parsed[3]!.guid, '01234567-89ab-cdef-0123-456789abcdef');
  assert.deepEqual(serializeSnpCertTable(parsed), bytes);
  // The GUID is stored in RFC 4122 byte order: the first byte is the first hex pair.
  assert.equal(bytes[0], 0x63);
});

test('page padding after the data is ignored; an empty buffer is an empty table', () => {
  const bytes = serializeSnpCertTable(entries);
  const page = new Uint8Array(4096);
  page.set(bytes);
  assert.deepEqual(parseSnpCertTable(page), parseSnpCertTable(bytes));
  assert.deepEqual(parseSnpCertTable(new Uint8Array(0)), []);
  assert.deepEqual(parseSnpCertTable(new Uint8Array(24)), []);
});

test('bounds violations are malformed and name the entry', () => {
  const bytes = serializeSnpCertTable(entries);
  malformed(bytes.subarray(0, 4 * 24 + 10), 'cert_table[4].guid');
  malformed(bytes.subarray(0, 5 * 24 - 1), 'cert_table[4].length');
  malformed(bytes.subarray(0, bytes.length - 1), 'cert_table[2].length');
  const intoHeader = bytes.slice();
  new DataView(intoHeader.buffer).setUint32(24 + 16, 5 * 24 - 1, true);
  malformed(intoHeader, 'cert_table[1].offset');
  const huge = bytes.slice();
  new DataView(huge.buffer).setUint32(20, 0xffffffff, true);
  malformed(huge, 'cert_table[0].length');
});

test('misuse is a TypeError', () => {
  assert.throws(() => serializeSnpCertTable([{ data: new Uint8Array(1) }]), TypeError);
  assert.throws(
    () => serializeSnpCertTable([{ guid: 'nope', data: new Uint8Array(1) }]),
    TypeError,
  );
  assert.throws(() => parseSnpCertTable([] as unknown as Uint8Array), TypeError);
});

test('a table of the real VCEK + ASK + ARK', { skip: !haveVectors }, () => {
  const s = loadManifest().samples.find((x) => x.platform === 'sev-snp' && x.files.vcek)!;
  const pem = new TextDecoder().decode(readVector(s.files.ca_chain!));
  const ders = [...pem.matchAll(/-----BEGIN CERTIFICATE-----([^-]+)-----END/g)].map(
    (m) => new Uint8Array(Buffer.from(m[1]!, 'base64')),
  );
  const table = serializeSnpCertTable([
    { kind: 'vcek', data: readVector(s.files.vcek!) },
    { kind: 'ask', data: ders[0]! },
    { kind: 'ark', data: ders[1]! },
  ]);
  const parsed = parseSnpCertTable(table);
  assert.deepEqual(parsed[0]!.data, readVector(s.files.vcek!));
  assert.deepEqual(parsed[2]!.data, ders[1]);
});
