/**
 * TDATTRIBUTES and XFAM decoders (verifier/platforms/tdx/abi/attributes.ts) against the real
 * TDX vectors: the named TDATTRIBUTES bits agree with the manifest's `td_attribute_flags`,
 * XFAM values keep the bits every TD must have (x87, SSE) and only bits go-tdx-guest allows,
 * `describeTdxFormat` carries both decodings; plus known words and the bits without a name.
 * Also the SEV-SNP POLICY / PLATFORM_INFO decodings `twi inspect` shows, on the real reports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeTdAttributes,
  decodeXfam,
  describeTdxFormat,
  parseTdxQuote,
} from '../../../verifier/platforms/tdx/index.js';
import { describeSnpFormat, parseSnpReport } from '../../../verifier/platforms/sev-snp/index.js';
import { loadManifest, readVector } from '../../helpers/vectors.js';

const hex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const samples = loadManifest().samples;
const tdx = samples.filter((s) => s.platform === 'tdx' && s.files.quote);
const snp = samples.filter((s) => s.platform === 'sev-snp' && s.files.report);

test('there are TDX and SEV-SNP vectors to decode', () => {
  assert.ok(tdx.length >= 4);
  assert.ok(snp.length >= 4);
});

for (const s of tdx) {
  test(`${s.name}: TDATTRIBUTES and XFAM decode consistently with the manifest`, () => {
    const m = s.measurements as {
      td_attributes: string;
      xfam: string;
      td_attribute_flags: Record<string, boolean>;
    };
    const attrs = decodeTdAttributes(hex(m.td_attributes));
    for (const [name, on] of Object.entries(m.td_attribute_flags)) {
      assert.equal(attrs.set.includes(name), on, `${name} per the manifest`);
    }
    assert.equal(
      attrs.value,
      '0x' + Buffer.from(hex(m.td_attributes)).readBigUInt64LE().toString(16),
    );
    assert.equal(attrs.other_bits, '0x0', 'no unnamed TDATTRIBUTES bit in production TDs');

    const xfam = decodeXfam(hex(m.xfam));
    const v = BigInt(xfam.value);
    assert.equal(v & 3n, 3n, 'x87 and SSE are always enabled (xfamFixed1)');
    assert.equal(v & ~0x0006dbe7n, 0n, 'only bits go-tdx-guest allows (xfamFixed0)');
    assert.deepEqual(xfam.set.slice(0, 2), ['x87', 'sse']);
    assert.equal(xfam.other_bits, '0x0');

    const d = describeTdxFormat(parseTdxQuote(readVector(s.files.quote!)));
    assert.deepEqual(d.td_attributes, attrs);
    assert.deepEqual(d.xfam, xfam);
  });
}

test('known words decode to their named bits', () => {
  assert.deepEqual(decodeTdAttributes(hex('0000001000000000')), {
    value: '0x10000000',
    set: ['sept_ve_disable'],
    other_bits: '0x0',
  });
  assert.deepEqual(decodeTdAttributes(hex('0100000000000080')).set, ['debug', 'perfmon']);
  assert.deepEqual(decodeTdAttributes(hex('00000000000000c0')).set, ['perfmon']);
  assert.equal(decodeTdAttributes(hex('00000000000000c0')).other_bits, '0x4000000000000000');
  assert.deepEqual(decodeTdAttributes(hex('0000007800000000')).set, [
    'lass',
    'sept_ve_disable',
    'migratable',
    'pks',
  ]);
  assert.deepEqual(decodeXfam(hex('0702000000000000')).set, ['x87', 'sse', 'avx', 'pkru']);
  assert.deepEqual(decodeXfam(hex('e718060000000000')).set, [
    'x87',
    'sse',
    'avx',
    'avx512_opmask',
    'avx512_zmm_hi256',
    'avx512_hi16_zmm',
    'cet_u',
    'cet_s',
    'amx_tilecfg',
    'amx_tiledata',
  ]);
  const all = decodeXfam(hex('ffffffffffffffff'));
  assert.equal(all.set.length, 20);
  assert.equal(all.other_bits, '0xfffffffffff00000');
  assert.throws(() => decodeXfam(hex('0300')), RangeError);
});

/** Expected decodings of the real reports' POLICY and PLATFORM_INFO, worked out by hand. */
const SNP_EXPECTED: Record<string, Record<string, unknown>> = {
  '0xb0000': { smt: true, debug: true, migrateMa: false, abiMajor: 0 },
  '0x30000': { smt: true, debug: false, singleSocket: false, abiMinor: 0 },
  '0x3001f': { smt: true, debug: false, abiMinor: 31, abiMajor: 0 },
};
const INFO_EXPECTED: Record<string, string[]> = {
  '0x1': ['smtEn'],
  '0x24': ['eccEn', 'aliasCheckComplete'],
  '0x25': ['smtEn', 'eccEn', 'aliasCheckComplete'],
  '0x27': ['smtEn', 'tsmeEn', 'eccEn', 'aliasCheckComplete'],
};

for (const s of snp) {
  test(`${s.name}: POLICY and PLATFORM_INFO decode to the expected bits`, () => {
    const m = s.measurements as { policy: string; platform_info: string };
    const d = describeSnpFormat(parseSnpReport(readVector(s.files.report!)));
    assert.equal(d.policy.raw, m.policy);
    assert.equal(d.platformInfo.raw, m.platform_info);
    const want = SNP_EXPECTED[m.policy];
    assert.ok(want, `a hand-decoded expectation for POLICY ${m.policy}`);
    for (const [k, v] of Object.entries(want)) {
      assert.equal(d.policy[k as keyof typeof d.policy], v, `POLICY ${k}`);
    }
    const set = Object.entries(d.platformInfo)
      .filter(([, v]) => v === true)
      .map(([k]) => k);
    assert.deepEqual(set, INFO_EXPECTED[m.platform_info], `PLATFORM_INFO ${m.platform_info}`);
    assert.equal(d.platformInfo.unknownBits, '0x0');
  });
}
