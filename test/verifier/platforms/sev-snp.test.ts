import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, verify } from 'node:crypto';
import { haveVectors, loadManifest, readVector } from '../../helpers/vectors.js';
import type { Sample } from '../../helpers/vectors.js';
import {
  describeSnpFormat,
  looksLikeSnpReport,
  parseSnpReport,
  serializeSnpReport,
  snpClaims,
  snpSignatureFromRS,
  snpSignatureP1363,
  snpSignatureRS,
  snpSignedBytes,
} from '../../../verifier/platforms/sev-snp/index.js';
import { toHex } from '../../../common/bytes.js';

const samples: Sample[] = haveVectors
  ? loadManifest().samples.filter((s) => s.platform === 'sev-snp' && s.files.report)
  : [];

function keyCert(s: Sample): X509Certificate {
  const file = s.files.vcek ?? s.files.vlek;
  assert.ok(file, `${s.name} has a VCEK or VLEK`);
  return new X509Certificate(readVector(file));
}

test('the manifest has SEV-SNP report samples', { skip: !haveVectors }, () => {
  assert.ok(samples.length >= 3);
});

for (const s of samples) {
  test(`${s.name}: parses, round-trips byte for byte, claims match the manifest`, () => {
    const bytes = readVector(s.files.report!);
    assert.ok(looksLikeSnpReport(bytes));
    const report = parseSnpReport(bytes);
    assert.equal(report.version, s.report_version);
    assert.deepEqual(serializeSnpReport(report), bytes.subarray(0, 1184));
    assert.deepEqual(snpClaims(report), s.measurements);
    assert.equal(report.trailing.length, bytes.length - 1184);
    const d = describeSnpFormat(report);
    assert.deepEqual(JSON.parse(JSON.stringify(d)), d);
    assert.equal(d.signerInfo.signingKey, String(s.signing_key).toLowerCase());
  });

  test(`${s.name}: signature verifies with the sample's ${s.files.vcek ? 'VCEK' : 'VLEK'}`, () => {
    const report = parseSnpReport(readVector(s.files.report!));
    const key = keyCert(s).publicKey;
    const sig = snpSignatureP1363(report);
    const signed = snpSignedBytes(report);
    assert.equal(signed.length, 0x2a0);
    assert.ok(verify('sha384', signed, { key, dsaEncoding: 'ieee-p1363' }, sig));
    const tampered = signed.slice();
    tampered[0x50] ^= 1;
    assert.ok(!verify('sha384', tampered, { key, dsaEncoding: 'ieee-p1363' }, sig));
    assert.deepEqual(snpSignatureFromRS(snpSignatureRS(report)), report.signature);
    assert.deepEqual(snpSignatureFromRS(sig), report.signature);
  });
}

test('product comes from CPUID for v3+, from the hint for v2', { skip: !haveVectors }, () => {
  for (const s of samples) {
    const bytes = readVector(s.files.report!);
    const report = parseSnpReport(bytes);
    const productExt = String((s.key_cert as { product_ext: string }).product_ext);
    if (report.version === 2) {
      assert.equal(report.product, undefined);
      assert.equal(report.cpuid, undefined);
      assert.equal(parseSnpReport(bytes, { product: 'Milan' }).product, 'Milan');
    } else {
      assert.ok(productExt.startsWith(report.product!), `${s.name}: ${report.product}`);
      assert.equal(parseSnpReport(bytes, { product: 'Turin' }).product, report.product);
    }
  }
});

test('v5 report has mitigation vectors; earlier ones do not', { skip: !haveVectors }, () => {
  for (const s of samples) {
    const d = describeSnpFormat(parseSnpReport(readVector(s.files.report!)));
    assert.equal(d.mitigationVectors === null, d.version < 5, s.name);
  }
});

test('trailing bytes are reported, not fatal', { skip: !haveVectors }, () => {
  const bytes = readVector(samples[0]!.files.report!);
  const longer = new Uint8Array(bytes.length + 7);
  longer.set(bytes);
  longer.fill(0xee, bytes.length);
  const report = parseSnpReport(longer);
  assert.equal(toHex(report.trailing), 'ee'.repeat(7));
  assert.equal(describeSnpFormat(report).trailing, 7);
  assert.deepEqual(serializeSnpReport(report), bytes);
});
