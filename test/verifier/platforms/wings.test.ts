/**
 * The wing contract of the platform registry: every wing provides every member, and the
 * knowledge that moved into the wings (provenance measurements, the launch identity the
 * measurement digest covers, the EAR collateral marks) gives, on the real vectors, the same
 * values as the per-platform code it replaced (kept below as the reference, verbatim in
 * behaviour).
 */
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadAnchorStore } from '../../../endorsements/anchors.js';
import { measurementsOf } from '../../../provenance/measurements.js';
import { IDENTITY_FIELDS, measurementDigest } from '../../../service/subject.js';
import type { MeasuredEvidence } from '../../../service/subject.js';
import { describeCollateral } from '../../../verifier/verify/collateral-sources.js';
import { getPlatform, platforms } from '../../../verifier/platforms/registry.js';
import type { PlatformCodec } from '../../../verifier/platforms/registry.js';
import { createVerificationCache } from '../../../verifier/verify/cache.js';
import type {
  PlatformName,
  SuppliedEndorsements,
  VerifiedEvidence,
} from '../../../verifier/verify/types.js';
import type { Appraisal } from '../../../verifier/appraise/types.js';
import { haveVectors, loadManifest, readVector } from '../../helpers/vectors.js';
import type { Sample } from '../../helpers/vectors.js';

const skip = haveVectors ? false : 'real vectors not present';
const manifest = haveVectors ? loadManifest() : { samples: [] as Sample[], roots: [] };
const anchors = haveVectors ? loadAnchorStore() : undefined;

const NAMES: readonly PlatformName[] = ['tdx', 'sev-snp', 'nitro'];

const EVIDENCE_FILE: Readonly<Record<PlatformName, string>> = {
  tdx: 'quote',
  'sev-snp': 'report',
  nitro: 'cose_sign1',
};

/** Samples that carry evidence (certificate-only samples have none). */
const withEvidence = manifest.samples.filter((s) => s.files[EVIDENCE_FILE[s.platform]]);

function evidenceBytes(s: Sample): Uint8Array {
  return readVector(s.files[EVIDENCE_FILE[s.platform]]!);
}

function endorsementsOf(s: Sample): SuppliedEndorsements {
  if (s.platform === 'tdx') return { tdxCollateral: readVector(s.files.collateral!) };
  if (s.platform === 'sev-snp') {
    return {
      snpKeyCert: readVector((s.files.vcek ?? s.files.vlek)!),
      snpCaChain: readVector(s.files.ca_chain!),
    };
  }
  return {};
}

/** The sample verified by its wing at its recorded instant. */
function verified(s: Sample): VerifiedEvidence {
  const wing = getPlatform(s.platform);
  const ctx = { now: new Date(s.verify_at), anchors: anchors!, cache: createVerificationCache() };
  return wing.verify(wing.parse(evidenceBytes(s)), endorsementsOf(s), ctx);
}

// ---- The code the wings replaced, as the reference ----------------------------------------

function referenceMeasurements(platform: string, claims: Readonly<Record<string, unknown>>) {
  const out: { platform: string; field: string; value: string }[] = [];
  const push = (p: string, field: string, value: unknown) => {
    if (typeof value !== 'string') return;
    const known = /^[0-9a-f]+$/.test(value) && [64, 96, 128].includes(value.length);
    if (known && !/^0+$/.test(value)) out.push({ platform: p, field, value });
  };
  if (platform === 'tdx') {
    for (const f of ['mrtd', 'rtmr0', 'rtmr1', 'rtmr2', 'rtmr3']) push(platform, f, claims[f]);
  } else if (platform === 'sev-snp') {
    push(platform, 'measurement', claims.measurement);
    push(platform, 'host_data', claims.host_data);
  } else if (platform === 'nitro') {
    const pcrs = (claims.pcrs ?? {}) as Record<string, unknown>;
    for (const [i, v] of Object.entries(pcrs)) push(platform, `pcr${i}`, v);
  }
  push('any', 'shim', claims.shim_digest);
  return out;
}

const REFERENCE_IDENTITY_FIELDS = {
  tdx: [
    ['MRTD', 'claims', 'mrtd'],
    ['RTMR0', 'claims', 'rtmr0'],
    ['RTMR1', 'claims', 'rtmr1'],
    ['RTMR2', 'claims', 'rtmr2'],
    ['RTMR3', 'claims', 'rtmr3'],
    ['MRCONFIGID', 'claims', 'mrconfigid'],
    ['MROWNER', 'claims', 'mrowner'],
    ['MROWNERCONFIG', 'details', 'mrOwnerConfig'],
  ],
  'sev-snp': [
    ['MEASUREMENT', 'claims', 'measurement'],
    ['HOST_DATA', 'claims', 'host_data'],
    ['ID_KEY_DIGEST', 'claims', 'id_key_digest'],
    ['AUTHOR_KEY_DIGEST', 'details', 'authorKeyDigest'],
    ['FAMILY_ID', 'details', 'familyId'],
    ['IMAGE_ID', 'details', 'imageId'],
    ['VMPL', 'claims', 'vmpl'],
  ],
  nitro: [
    ['PCR0', 'claims', 'pcrs.0'],
    ['PCR1', 'claims', 'pcrs.1'],
    ['PCR2', 'claims', 'pcrs.2'],
    ['PCR8', 'claims', 'pcrs.8'],
  ],
} as const;

function referenceDigest(platform: PlatformName, e: MeasuredEvidence): string {
  const h = createHash('sha256');
  h.update(`twi-measurement-id-v1\0${platform}\0`, 'ascii');
  for (const [name, source, key] of REFERENCE_IDENTITY_FIELDS[platform]) {
    let v: unknown = source === 'claims' ? e.claims : e.details;
    for (const part of key.split('.')) v = (v as Record<string, unknown> | undefined)?.[part];
    let hex: string;
    if (typeof v === 'number') {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(v);
      hex = b.toString('hex');
    } else hex = v === undefined || v === null ? '' : String(v).toLowerCase();
    const bytes = Buffer.from(hex, 'hex');
    const len = Buffer.alloc(2);
    len.writeUInt16BE(bytes.length);
    h.update(`${name}\0`, 'ascii').update(len).update(bytes);
  }
  return h.digest().subarray(0, 16).toString('hex');
}

function referenceMarks(e: VerifiedEvidence, kind: string): Record<string, unknown> {
  if (e.platform !== 'tdx') return {};
  const d = e.details as Readonly<Record<string, unknown>>;
  const [n, date] =
    kind === 'tcb-info'
      ? [d.tcbEvaluationDataNumber, d.tcbInfoIssueDate]
      : kind === 'qe-identity'
        ? [d.qeIdentityTcbEvaluationDataNumber, d.qeIdentityIssueDate]
        : [undefined, undefined];
  return {
    ...(typeof n === 'number' && { tcbEvaluationDataNumber: n }),
    ...(typeof date === 'string' && { issueDate: date }),
  };
}

// ---- The contract ---------------------------------------------------------------------------

describe('the wing contract', () => {
  test('the registry holds one wing per platform name, in detection order', () => {
    assert.deepEqual(
      platforms.map((p) => p.platform),
      NAMES,
    );
    for (const name of NAMES) assert.equal(getPlatform(name).platform, name);
  });

  for (const name of NAMES) {
    test(`${name}: the wing provides every member`, () => {
      const wing: PlatformCodec = getPlatform(name);
      assert.ok(wing.mediaTypes.length > 0);
      for (const m of [
        'looksLike',
        'parse',
        'serialize',
        'claims',
        'describe',
        'verify',
        'measurements',
        'collateralMarks',
      ] as const) {
        assert.equal(typeof wing[m], 'function', m);
      }
      assert.equal(typeof wing.checks.references, 'function');
      assert.equal(typeof wing.checks.binding, 'function');
      assert.equal(typeof wing.checks.debug.test, 'function');
      assert.match(wing.checks.debug.field, /^[A-Z]/);
      assert.equal(typeof wing.checks.debug.wanted, 'string');
      assert.equal(typeof wing.checks.tcbStatusRequired, 'boolean');
      assert.ok(wing.launchIdentity.length > 0);
      for (const [field, source, key] of wing.launchIdentity) {
        assert.match(field, /^[A-Z0-9_]+$/);
        assert.ok(source === 'claims' || source === 'details');
        assert.ok(key.length > 0);
      }
    });
  }

  test('only TDX requires a TCB status', () => {
    assert.deepEqual(
      NAMES.map((n) => getPlatform(n).checks.tcbStatusRequired),
      [true, false, false],
    );
  });

  test('the launch identity of each wing is the table the digest always used', () => {
    for (const name of NAMES) {
      assert.deepEqual(
        getPlatform(name).launchIdentity.map((f) => [...f]),
        REFERENCE_IDENTITY_FIELDS[name].map((f) => [...f]),
        name,
      );
      assert.equal(IDENTITY_FIELDS[name], getPlatform(name).launchIdentity);
    }
  });
});

describe('wing knowledge on the real vectors', { skip, timeout: 300_000 }, () => {
  test('there are samples of every platform', () => {
    for (const name of NAMES)
      assert.ok(
        withEvidence.some((s) => s.platform === name),
        name,
      );
  });

  for (const s of withEvidence) {
    test(`${s.name}: measurements as before, from the codec's claims`, () => {
      const wing = getPlatform(s.platform);
      const claims = wing.claims(wing.parse(evidenceBytes(s)));
      const got = measurementsOf(s.platform, claims);
      assert.deepEqual(
        got.map(({ platform, field, value }) => ({ platform, field, value })),
        referenceMeasurements(s.platform, claims),
      );
      assert.ok(got.length > 0);
      // The manifest's measurements give the same answer as the parsed claims.
      const manifestClaims = (s.measurements ?? {}) as Readonly<Record<string, unknown>>;
      assert.deepEqual(
        measurementsOf(s.platform, manifestClaims).map((m) => m.field),
        referenceMeasurements(s.platform, manifestClaims).map((m) => m.field),
      );
    });
  }

  for (const s of withEvidence.filter((x) => x.expected.verifies)) {
    test(`${s.name}: launch identity digest and collateral marks as before`, () => {
      const v = verified(s);
      assert.equal(v.platform, s.platform);
      const digest = measurementDigest(v.platform, v);
      assert.match(digest, /^[0-9a-f]{32}$/);
      assert.equal(digest, referenceDigest(v.platform, v));
      const appraisal = { verification: { collateral: [] } } as unknown as Appraisal;
      const described = describeCollateral(appraisal, v, {});
      assert.deepEqual(
        described.verification.collateral.map((c) => ({ ...c })),
        v.collateral.map((c) => ({
          kind: c.kind,
          sha256: c.sha256,
          ...referenceMarks(v, c.kind),
        })),
      );
      if (v.platform === 'tdx') {
        const marks = getPlatform('tdx').collateralMarks(v);
        assert.equal(marks['tcb-info']?.tcbEvaluationDataNumber, v.details.tcbEvaluationDataNumber);
        assert.equal(marks['qe-identity']?.issueDate, v.details.qeIdentityIssueDate);
      }
    });
  }
});
