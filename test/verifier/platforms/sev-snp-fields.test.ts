import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeSnpPlatformInfo,
  decodeSnpPolicy,
  decodeSnpSignerInfo,
  decodeSnpTcb,
  encodeSnpPlatformInfo,
  encodeSnpPolicy,
  encodeSnpSignerInfo,
  encodeSnpTcb,
  SNP_PRODUCT_CPUID,
  SNP_PRODUCTS,
  snpProductFromCpuid,
  snpTcbHex,
} from '../../../verifier/platforms/sev-snp/index.js';

test('POLICY decodes the documented bits and encodes back', () => {
  const p = decodeSnpPolicy(0xb0000n);
  assert.equal(p.smt, true);
  assert.equal(p.migrateMa, false);
  assert.equal(p.debug, true);
  assert.equal(p.abiMajor, 0);
  const all = decodeSnpPolicy(0x3ff_ff1fn);
  assert.deepEqual(
    Object.entries(all).filter(([, v]) => v === false),
    [],
  );
  assert.equal(all.abiMajor, 0xff);
  assert.equal(all.abiMinor, 0x1f);
  assert.equal(encodeSnpPolicy(all), 0x3ff_ff1fn);
  assert.equal(encodeSnpPolicy({ smt: true }), 0x30000n);
  assert.equal(encodeSnpPolicy(decodeSnpPolicy(0x3001fn)), 0x3001fn);
});

test('PLATFORM_INFO flags and unknown bits', () => {
  const pi = decodeSnpPlatformInfo(0x27n);
  assert.deepEqual(
    [pi.smtEn, pi.tsmeEn, pi.eccEn, pi.raplDis, pi.aliasCheckComplete, pi.sevTioEn],
    [true, true, true, false, true, false],
  );
  assert.equal(pi.unknownBits, 0n);
  const odd = decodeSnpPlatformInfo(0x1c0n);
  assert.equal(odd.sevTioEn, true);
  assert.equal(odd.unknownBits, 0x140n);
  assert.equal(encodeSnpPlatformInfo(odd), 0x1c0n);
});

test('signer info', () => {
  assert.deepEqual(decodeSnpSignerInfo(0x04), {
    authorKeyEn: false,
    maskChipKey: false,
    signingKey: 'vlek',
  });
  assert.deepEqual(decodeSnpSignerInfo(0x1f), {
    authorKeyEn: true,
    maskChipKey: true,
    signingKey: 'none',
  });
  assert.equal(encodeSnpSignerInfo({ authorKeyEn: true, signingKey: 'vlek' }), 0x05);
  assert.equal(encodeSnpSignerInfo({}), 0);
  assert.equal(encodeSnpSignerInfo({ maskChipKey: true, signingKey: 'none' }), 0x1e);
});

test('TCB_VERSION in both layouts', () => {
  const legacy = 0x4405000000000002n;
  assert.deepEqual(decodeSnpTcb(legacy), { bl: 2, tee: 0, snp: 5, ucode: 68 });
  assert.deepEqual(decodeSnpTcb(legacy, 'Genoa'), decodeSnpTcb(legacy));
  assert.equal(encodeSnpTcb({ bl: 2, tee: 0, snp: 5, ucode: 68 }, 'Milan'), legacy);
  const turin = { fmc: 1, bl: 2, tee: 3, snp: 4, ucode: 9 };
  const v = encodeSnpTcb(turin, 'Turin');
  assert.equal(snpTcbHex(v), '0900000004030201');
  assert.deepEqual(decodeSnpTcb(v, 'Turin'), turin);
  assert.deepEqual(decodeSnpTcb(v, 'Venice'), turin);
  assert.throws(() => encodeSnpTcb(turin, 'Milan'), TypeError);
  assert.throws(() => encodeSnpTcb({ bl: 256, tee: 0, snp: 0, ucode: 0 }), TypeError);
  assert.equal(snpTcbHex(0n), '0000000000000000');
});

test('product from CPUID family/model', () => {
  for (const p of SNP_PRODUCTS) assert.equal(snpProductFromCpuid(SNP_PRODUCT_CPUID[p]), p);
  const at = (family: number, model: number) => snpProductFromCpuid({ family, model, stepping: 0 });
  assert.equal(at(0x19, 0x0f), 'Milan');
  assert.equal(at(0x19, 0xa1), 'Genoa');
  assert.equal(at(0x1a, 0x11), 'Turin');
  assert.equal(at(0x1a, 0xc7), 'Venice');
  assert.equal(at(0x19, 0x20), undefined);
  assert.equal(at(0x17, 0x01), undefined);
  assert.equal(at(0, 0), undefined);
});
