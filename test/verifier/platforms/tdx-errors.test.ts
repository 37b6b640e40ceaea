/**
 * TDX codec on bad input: truncation at every length, unsupported versions and types,
 * inconsistent length fields. Each case asserts the error code and the field named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { haveVectors, loadManifest, readVector } from '../../helpers/vectors.js';
import {
  looksLikeTdxQuote,
  parseSgxReportBody,
  parseTdxQuote,
  pckCertChainFromPem,
  serializeTdxQuote,
  signedRegionLength,
  tdxQuoteLength,
} from '../../../verifier/platforms/tdx/index.js';
import type { TdxQuote } from '../../../verifier/platforms/tdx/index.js';
import { TwiError } from '../../../common/errors.js';

const quotes = haveVectors
  ? loadManifest()
      .samples.filter((s) => s.platform === 'tdx' && s.files.quote !== undefined)
      .map((s) => ({ name: s.name, bytes: readVector(s.files.quote!) }))
  : [];
const v4 = quotes.find((q) => q.bytes[0] === 4);
const v5 = quotes.find((q) => q.bytes[0] === 5);

type Code = 'ERR_EVIDENCE_MALFORMED' | 'ERR_EVIDENCE_UNSUPPORTED';

function expectError(bytes: Uint8Array, code: Code, field?: string, offset?: number): TwiError {
  let caught: unknown;
  try {
    parseTdxQuote(bytes);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof TwiError, `expected a TwiError, got ${String(caught)}`);
  const e = caught as TwiError & { field: string; offset?: number };
  assert.equal(e.code, code, e.message);
  if (field !== undefined) assert.equal(e.field, field, e.message);
  if (offset !== undefined) assert.equal(e.offset, offset, e.message);
  return e;
}

/** Absolute offsets of the length and type fields of a parsed quote. */
function layout(q: TdxQuote) {
  const sigLen = signedRegionLength(q);
  const certType = sigLen + 4 + 128;
  const qeReport = certType + 6;
  const authSize = qeReport + 384 + 64;
  const innerType = authSize + 2 + q.signatureData.certificationData.qeAuthData.length;
  return { sigLen, certType, certSize: certType + 2, qeReport, authSize, innerType };
}

function patch(bytes: Uint8Array, at: number, width: 2 | 4, value: number): Uint8Array {
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  if (width === 2) view.setUint16(at, value, true);
  else view.setUint32(at, value, true);
  return out;
}

function u32At(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(at, true);
}

for (const { name, bytes } of quotes) {
  test(`${name}: every truncation before the end of the signature data is malformed`, () => {
    const q = parseTdxQuote(bytes);
    const end = tdxQuoteLength(q);
    const { sigLen } = layout(q);
    for (let len = 0; len < end; len++) {
      const e = expectError(bytes.subarray(0, len), 'ERR_EVIDENCE_MALFORMED') as TwiError & {
        field: string;
        offset: number;
      };
      assert.ok(e.offset <= len, `${len}: offset ${e.offset}`);
      if (len >= sigLen + 4) assert.equal(e.field, 'signature_data_len');
      if (len < 2) assert.equal(e.field, 'version');
    }
    assert.equal(parseTdxQuote(bytes.subarray(0, end)).trailing.length, 0);
  });

  test(`${name}: inconsistent length fields name the field`, () => {
    const q = parseTdxQuote(bytes);
    const l = layout(q);
    const sigLen = u32At(bytes, l.sigLen);
    expectError(
      patch(bytes, l.sigLen, 4, 0xffffffff),
      'ERR_EVIDENCE_MALFORMED',
      'signature_data_len',
      l.sigLen,
    );
    expectError(
      patch(bytes, l.sigLen, 4, sigLen - 1),
      'ERR_EVIDENCE_MALFORMED',
      'certification_data.size',
      l.certSize,
    );
    const longer = new Uint8Array([...bytes.subarray(0, tdxQuoteLength(q)), 0]);
    expectError(
      patch(longer, l.sigLen, 4, sigLen + 1),
      'ERR_EVIDENCE_MALFORMED',
      'signature_data_len',
      l.sigLen,
    );
    const certSize = u32At(bytes, l.certSize);
    expectError(
      patch(bytes, l.certSize, 4, certSize + 1),
      'ERR_EVIDENCE_MALFORMED',
      'certification_data.size',
      l.certSize,
    );
    expectError(
      patch(bytes, l.certSize, 4, certSize - 1),
      'ERR_EVIDENCE_MALFORMED',
      'qe_report_certification_data.certification_data.size',
    );
    expectError(
      patch(bytes, l.authSize, 2, 0xffff),
      'ERR_EVIDENCE_MALFORMED',
      'qe_auth_data.size',
      l.authSize,
    );
    const innerSize = l.innerType + 2;
    const pemLen = u32At(bytes, innerSize);
    expectError(
      patch(bytes, innerSize, 4, pemLen + 1),
      'ERR_EVIDENCE_MALFORMED',
      'qe_report_certification_data.certification_data.size',
      innerSize,
    );
    expectError(
      patch(bytes, innerSize, 4, 0xfffffff0),
      'ERR_EVIDENCE_MALFORMED',
      'qe_report_certification_data.certification_data.size',
      innerSize,
    );
  });

  test(`${name}: unsupported certification data types name the field`, () => {
    const l = layout(parseTdxQuote(bytes));
    for (const type of [1, 4, 5, 7, 0, 0xffff]) {
      expectError(
        patch(bytes, l.certType, 2, type),
        'ERR_EVIDENCE_UNSUPPORTED',
        'certification_data.type',
        l.certType,
      );
    }
    for (const type of [1, 4, 6, 7]) {
      const field = 'qe_report_certification_data.certification_data.type';
      expectError(
        patch(bytes, l.innerType, 2, type),
        'ERR_EVIDENCE_UNSUPPORTED',
        field,
        l.innerType,
      );
    }
  });

  test(`${name}: QE report reserved bytes and the PEM chain are checked`, () => {
    const l = layout(parseTdxQuote(bytes));
    const reserved = bytes.slice();
    reserved[l.qeReport + 100] = 1;
    expectError(reserved, 'ERR_EVIDENCE_MALFORMED', 'qe_report.reserved2', l.qeReport + 96);
    const pemStart = l.innerType + 6;
    const noBegin = bytes.slice();
    noBegin[pemStart] = 0x41;
    expectError(noBegin, 'ERR_EVIDENCE_MALFORMED', 'pck_cert_chain', pemStart);
    const badBase64 = bytes.slice();
    badBase64[pemStart + 40] = 0x2a;
    expectError(badBase64, 'ERR_EVIDENCE_MALFORMED', 'pck_cert_chain');
  });
}

test('wrong version, key type and TEE type are unsupported', { skip: !v4 }, () => {
  const b = v4!.bytes;
  for (const version of [0, 1, 2, 3, 6, 0xffff]) {
    expectError(patch(b, 0, 2, version), 'ERR_EVIDENCE_UNSUPPORTED', 'version', 0);
  }
  for (const keyType of [0, 1, 3, 4]) {
    expectError(patch(b, 2, 2, keyType), 'ERR_EVIDENCE_UNSUPPORTED', 'att_key_type', 2);
  }
  for (const tee of [0, 0x80, 0x82]) {
    expectError(patch(b, 4, 4, tee), 'ERR_EVIDENCE_UNSUPPORTED', 'tee_type', 4);
  }
  assert.ok(!looksLikeTdxQuote(patch(b, 0, 2, 3)));
  assert.ok(!looksLikeTdxQuote(patch(b, 2, 2, 3)));
  assert.ok(!looksLikeTdxQuote(patch(b, 4, 4, 0)));
  assert.ok(!looksLikeTdxQuote(b.subarray(0, 47)));
});

test(
  'v5 body descriptor: SGX and unknown types unsupported, wrong size malformed',
  { skip: !v5 },
  () => {
    const b = v5!.bytes;
    expectError(patch(b, 0x30, 2, 1), 'ERR_EVIDENCE_UNSUPPORTED', 'body_type', 0x30);
    expectError(patch(b, 0x30, 2, 4), 'ERR_EVIDENCE_UNSUPPORTED', 'body_type', 0x30);
    expectError(patch(b, 0x32, 4, 584), 'ERR_EVIDENCE_MALFORMED', 'body_size', 0x32);
    expectError(patch(b, 0x30, 2, 2), 'ERR_EVIDENCE_MALFORMED', 'body_size', 0x32);
    expectError(patch(b, 0x32, 4, 0xffffffff), 'ERR_EVIDENCE_MALFORMED', 'body_size', 0x32);
  },
);

test('a v5 quote carrying a TD 1.0 body round-trips', { skip: !v4 }, () => {
  const q4 = parseTdxQuote(v4!.bytes);
  const q5: TdxQuote = { ...q4, header: { ...q4.header, version: 5 } };
  const bytes = serializeTdxQuote(q5);
  assert.equal(bytes.length, tdxQuoteLength(q4) + 6);
  const again = parseTdxQuote(bytes);
  assert.equal(again.bodyType, 2);
  assert.deepEqual(serializeTdxQuote(again), bytes);
});

test('serializer rejects inconsistent models with TypeError', { skip: !v5 }, () => {
  const q = parseTdxQuote(v5!.bytes);
  assert.throws(() => serializeTdxQuote({ ...q, header: { ...q.header, version: 4 } }), TypeError);
  const shortTd = { ...q, body: { ...q.body, mrTd: new Uint8Array(47) } };
  assert.throws(() => serializeTdxQuote(shortTd), TypeError);
  const noSvn2 = { ...q, body: { ...q.body, teeTcbSvn2: undefined } };
  assert.throws(() => serializeTdxQuote(noSvn2), TypeError);
  const td10 = { ...q, bodyType: 2 as const };
  assert.throws(() => serializeTdxQuote(td10), TypeError);
  const bigAuth = structuredClone(q);
  bigAuth.signatureData.certificationData.qeAuthData = new Uint8Array(0x10000);
  assert.throws(() => serializeTdxQuote(bigAuth), TypeError);
  const badSvn = structuredClone(q);
  badSvn.signatureData.certificationData.qeReport.isvSvn = 0x10000;
  assert.throws(() => serializeTdxQuote(badSvn), TypeError);
});

test('parseSgxReportBody checks length and reserved bytes with the caller offset', () => {
  assert.throws(
    () => parseSgxReportBody(new Uint8Array(383)),
    (e: unknown) => e instanceof TwiError && e.code === 'ERR_EVIDENCE_MALFORMED',
  );
  const body = new Uint8Array(384);
  body[262] = 1;
  assert.throws(
    () => parseSgxReportBody(body, 1000),
    (e: unknown) =>
      e instanceof TwiError &&
      (e as TwiError & { field: string }).field === 'sgx_report_body.reserved4' &&
      (e as TwiError & { offset: number }).offset === 1262,
  );
  assert.equal(parseSgxReportBody(new Uint8Array(384)).isvSvn, 0);
});

test('PEM chain helper rejects text without certificates', () => {
  assert.throws(() => pckCertChainFromPem('hello'), /pck_cert_chain/);
  assert.throws(() => pckCertChainFromPem('-----BEGIN CERTIFICATE-----\nAAAA\n'), /unterminated/);
  const one = pckCertChainFromPem(
    '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n\0',
  );
  assert.deepEqual([...one.certificates[0]!], [0, 0, 0]);
});
