/**
 * TDX codec against the real quotes listed in the vectors manifest: byte-exact round trip,
 * length bookkeeping, claims, and cryptographic proof that the parser slices the right bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { haveVectors, loadManifest, readVector } from '../../helpers/vectors.js';
import type { Sample } from '../../helpers/vectors.js';
import {
  describeTdxFormat,
  looksLikeTdxQuote,
  parseSgxReportBody,
  parseTdxQuote,
  quoteSignedBytes,
  serializeSgxReportBody,
  serializeTdxQuote,
  tdxClaims,
  tdxQuoteLength,
} from '../../../verifier/platforms/tdx/index.js';
import { bytesEqual, isZero } from '../../../common/bytes.js';

const samples: Sample[] = haveVectors
  ? loadManifest().samples.filter((s) => s.platform === 'tdx')
  : [];

function quoteOf(s: Sample): Uint8Array {
  const file = s.files.quote;
  assert.ok(file, `${s.name} has a quote file`);
  return readVector(file);
}

function p256FromRaw(raw: Uint8Array): KeyObject {
  const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
  return createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: b64(raw.subarray(0, 32)), y: b64(raw.subarray(32, 64)) },
    format: 'jwk',
  });
}

test(
  'the manifest lists TDX samples of both versions and both body types',
  { skip: !haveVectors },
  () => {
    const kinds = new Set(samples.map((s) => parseTdxQuote(quoteOf(s)).header.version));
    assert.deepEqual([...kinds].sort(), [4, 5]);
  },
);

for (const s of samples) {
  test(`${s.name}: round trip, lengths and sniff`, () => {
    const bytes = quoteOf(s);
    const q = parseTdxQuote(bytes);
    assert.equal(q.trailing.length, s.trailing_bytes);
    assert.equal(tdxQuoteLength(q), s.signed_quote_len);
    assert.equal(bytes.length, s.quote_len);
    const out = serializeTdxQuote(q);
    assert.ok(bytesEqual(out, bytes.subarray(0, bytes.length - q.trailing.length)));
    assert.ok(bytesEqual(q.trailing, bytes.subarray(out.length)));
    assert.ok(looksLikeTdxQuote(bytes));
    const d = describeTdxFormat(q);
    assert.equal(d.signed_length, s.signed_quote_len);
    assert.equal(d.trailing_bytes, s.trailing_bytes);
    assert.deepEqual(d.certification_data_types, [6, 5]);
    assert.equal(d.qe_vendor_is_intel, true);
    assert.doesNotThrow(() => JSON.stringify(d));
  });

  test(`${s.name}: claims equal the manifest measurements`, () => {
    assert.deepEqual(tdxClaims(parseTdxQuote(quoteOf(s))), s.measurements);
  });

  test(`${s.name}: quote signature verifies with the attestation key`, () => {
    const bytes = quoteOf(s);
    const q = parseTdxQuote(bytes);
    const signed = quoteSignedBytes(q);
    assert.equal(
      signed.length,
      q.header.version === 4 ? 0x278 : 0x36 + (q.bodyType === 3 ? 648 : 584),
    );
    assert.ok(bytesEqual(signed, bytes.subarray(0, signed.length)));
    const key = p256FromRaw(q.signatureData.attestationKey);
    const sig = q.signatureData.signature;
    assert.ok(verify('sha256', signed, { key, dsaEncoding: 'ieee-p1363' }, sig));
    const tampered = signed.slice();
    tampered[0x40] ^= 1;
    assert.ok(!verify('sha256', tampered, { key, dsaEncoding: 'ieee-p1363' }, sig));
  });

  test(`${s.name}: QE report binds the attestation key and is signed by the PCK leaf`, () => {
    const q = parseTdxQuote(quoteOf(s));
    const cert = q.signatureData.certificationData;
    const expected = createHash('sha256')
      .update(q.signatureData.attestationKey)
      .update(cert.qeAuthData)
      .digest();
    const rd = cert.qeReport.reportData;
    assert.ok(bytesEqual(rd.subarray(0, 32), expected));
    assert.ok(isZero(rd.subarray(32)));
    const reportBytes = serializeSgxReportBody(cert.qeReport);
    assert.deepEqual(parseSgxReportBody(reportBytes), cert.qeReport);
    const certs = cert.pckCertChain.certificates.map((der) => new X509Certificate(der));
    assert.equal(certs.length, 3);
    assert.ok(certs[0]!.verify(certs[1]!.publicKey));
    assert.ok(certs[1]!.verify(certs[2]!.publicKey));
    const ok = verify(
      'sha256',
      reportBytes,
      { key: certs[0]!.publicKey, dsaEncoding: 'ieee-p1363' },
      cert.qeReportSignature,
    );
    assert.ok(ok);
    assert.match(certs[1]!.subject, new RegExp(`CN=${String(s.pck_ca)}`));
  });
}
