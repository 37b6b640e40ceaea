import { test } from 'node:test';
import assert from 'node:assert/strict';
import { haveVectors, loadManifest, readVector } from '../../helpers/vectors.js';
import { parseSnpReport, snpSignatureRS } from '../../../verifier/platforms/sev-snp/index.js';
import type { SnpReport } from '../../../verifier/platforms/sev-snp/index.js';

const reports = haveVectors
  ? loadManifest()
      .samples.filter((s) => s.platform === 'sev-snp' && s.files.report)
      .map((s) => ({ name: s.name, bytes: readVector(s.files.report!) }))
  : [];
const byVersion = (v: number) => reports.find((r) => r.bytes[0] === v)!;

type Code = 'ERR_EVIDENCE_MALFORMED' | 'ERR_EVIDENCE_UNSUPPORTED';

function rejects(bytes: Uint8Array, code: Code, field: string, offset?: number): void {
  assert.throws(
    () => parseSnpReport(bytes),
    (e: unknown) => {
      const err = e as { code?: string; field?: string; offset?: number; message: string };
      assert.equal(err.code, code, err.message);
      assert.equal(err.field, field, err.message);
      if (offset !== undefined) assert.equal(err.offset, offset, err.message);
      return true;
    },
  );
}

function mutate(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const copy = bytes.slice();
  copy[at] = value;
  return copy;
}

const opts = { skip: !haveVectors };

test('truncated reports are malformed', opts, () => {
  const { bytes } = reports[0]!;
  for (const n of [0, 1, 4, 0x2a0, 1183]) {
    rejects(bytes.subarray(0, n), 'ERR_EVIDENCE_MALFORMED', 'ATTESTATION_REPORT', n);
  }
});

test('unsupported VERSION and SIGNATURE_ALGO', opts, () => {
  const { bytes } = reports[0]!;
  for (const v of [0, 1, 6, 7, 255]) {
    rejects(mutate(bytes, 0, v), 'ERR_EVIDENCE_UNSUPPORTED', 'VERSION', 0);
  }
  assert.throws(() => parseSnpReport(mutate(bytes, 0, 7)), /report's VERSION 7 is not supported/);
  for (const a of [0, 2]) {
    rejects(mutate(bytes, 0x34, a), 'ERR_EVIDENCE_UNSUPPORTED', 'SIGNATURE_ALGO', 0x34);
  }
});

test('POLICY bit 17 must be 1 and bits 63:26 zero', opts, () => {
  const { bytes } = reports[0]!;
  rejects(mutate(bytes, 0x0a, bytes[0x0a]! & ~0x02), 'ERR_EVIDENCE_MALFORMED', 'POLICY', 8);
  rejects(mutate(bytes, 0x0b, bytes[0x0b]! | 0x04), 'ERR_EVIDENCE_MALFORMED', 'POLICY', 8);
  rejects(mutate(bytes, 0x0f, 0x80), 'ERR_EVIDENCE_MALFORMED', 'POLICY', 8);
  assert.ok(parseSnpReport(mutate(bytes, 0x0b, bytes[0x0b]! | 0x02)));
});

test('signer info: bits 31:5 zero, SIGNING_KEY 2-6 reserved', opts, () => {
  const { bytes } = reports[0]!;
  rejects(mutate(bytes, 0x48, 0x20), 'ERR_EVIDENCE_MALFORMED', 'SIGNER_INFO', 0x48);
  rejects(mutate(bytes, 0x4b, 0x01), 'ERR_EVIDENCE_MALFORMED', 'SIGNER_INFO', 0x48);
  for (const key of [2, 3, 6]) {
    rejects(mutate(bytes, 0x48, key << 2), 'ERR_EVIDENCE_MALFORMED', 'SIGNING_KEY', 0x48);
  }
  assert.equal(parseSnpReport(mutate(bytes, 0x48, 7 << 2)).signerInfo, 0x1c);
});

const signatureCases: [number, string][] = [
  [0x2a0 + 48, 'SIGNATURE.R'],
  [0x2a0 + 71, 'SIGNATURE.R'],
  [0x2e8 + 48, 'SIGNATURE.S'],
  [0x330, 'SIGNATURE.reserved'],
  [0x49f, 'SIGNATURE.reserved'],
];

function reservedCases(version: number): [number, string][] {
  const cpuidLo = version >= 3 ? '0x18B' : '0x188';
  const mitLo = version >= 5 ? '0x208' : '0x1F8';
  return [
    [0x04c, 'reserved[0x04C:0x050]'],
    [0x04f, 'reserved[0x04C:0x050]'],
    [version >= 3 ? 0x18b : 0x188, `reserved[${cpuidLo}:0x1A0]`],
    [0x19f, `reserved[${cpuidLo}:0x1A0]`],
    [0x1eb, 'reserved[0x1EB:0x1EC]'],
    [0x1ef, 'reserved[0x1EF:0x1F0]'],
    [version >= 5 ? 0x208 : 0x1f8, `reserved[${mitLo}:0x2A0]`],
    [0x29f, `reserved[${mitLo}:0x2A0]`],
    ...signatureCases,
  ];
}

test('reserved ranges per version are checked', opts, () => {
  for (const version of [2, 3, 5]) {
    const { bytes } = byVersion(version);
    for (const [at, field] of reservedCases(version)) {
      rejects(mutate(bytes, at, 0x01), 'ERR_EVIDENCE_MALFORMED', field, at);
    }
  }
});

test('version 4 uses the version 3 layout', opts, () => {
  const v3 = mutate(byVersion(3).bytes, 0, 4);
  const report = parseSnpReport(v3);
  assert.equal(report.version, 4);
  assert.ok(report.cpuid);
  assert.equal(report.launchMitVector, undefined);
  rejects(mutate(v3, 0x1f8, 1), 'ERR_EVIDENCE_MALFORMED', 'reserved[0x1F8:0x2A0]', 0x1f8);
});

test('version 5 bytes at 0x188 are CPUID, at 0x1F8 mitigation vectors', opts, () => {
  const v5 = byVersion(5).bytes;
  const r = parseSnpReport(mutate(mutate(v5, 0x1f8, 0x3f), 0x200, 0x01));
  assert.equal(r.launchMitVector, 0x3fn);
  assert.equal(r.currentMitVector, 0x01n);
  // A v5 report relabelled as v2 has non-zero CPUID and mitigation bytes in reserved ranges.
  rejects(mutate(v5, 0, 2), 'ERR_EVIDENCE_MALFORMED', 'reserved[0x188:0x1A0]', 0x188);
});

test('snpSignatureRS rejects non-zero bytes above the low 48', () => {
  const signature = new Uint8Array(512);
  signature[71] = 1;
  assert.throws(
    () => snpSignatureRS({ signature } as SnpReport),
    (e: unknown) => (e as { field?: string }).field === 'SIGNATURE.R',
  );
  signature[71] = 0;
  signature[72 + 48] = 1;
  assert.throws(
    () => snpSignatureRS({ signature } as SnpReport),
    (e: unknown) => (e as { field?: string }).field === 'SIGNATURE.S',
  );
});

test('caller misuse is a TypeError', () => {
  assert.throws(() => parseSnpReport('x' as unknown as Uint8Array), TypeError);
  assert.throws(
    () => parseSnpReport(new Uint8Array(1184), { product: 'Rome' as 'Milan' }),
    TypeError,
  );
});
