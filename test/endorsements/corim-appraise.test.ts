/**
 * CoRIM reference values drive real appraisals: for a real TDX, SEV-SNP and Nitro sample, a
 * CoRIM (unsigned, ES256- and ES384-signed) built from the manifest's measurements is decoded,
 * mapped and merged into a policy; the evidence, verified by the real verify stage at its
 * recorded instant, is affirming; one changed byte (or a raised floor) in any reference value
 * makes it contraindicated with a violation naming the field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCorim, signCorim } from '../../endorsements/corim/encode.js';
import { corimToPolicy, mergePolicies } from '../../endorsements/corim/policy.js';
import { decodeCorim } from '../../endorsements/corim/decode-corim.js';
import {
  nitroReferenceTriple,
  snpReferenceTriple,
  tdxReferenceTriple,
} from '../../endorsements/corim/templates.js';
import { SNP_PROFILE, TWI_PROFILE } from '../../endorsements/corim/profiles.js';
import type { Corim, ReferenceTriple } from '../../endorsements/corim/types.js';
import { loadAnchorStore } from '../../endorsements/anchors.js';
import { appraise } from '../../verifier/appraise/appraise.js';
import { defaultPolicy } from '../../verifier/policy/normalize.js';
import { parsePolicy } from '../../verifier/policy/loader.js';
import type { Policy } from '../../verifier/policy/types.js';
import { parseNitroDocument, verifyNitro } from '../../verifier/platforms/nitro/index.js';
import { parseSnpReport, verifySnp } from '../../verifier/platforms/sev-snp/index.js';
import { parseTdxQuote, verifyTdx } from '../../verifier/platforms/tdx/index.js';
import { createVerificationCache } from '../../verifier/verify/cache.js';
import type { VerifiedEvidence } from '../../verifier/verify/types.js';
import { haveVectors, loadManifest, readVector } from '../helpers/vectors.js';
import type { Sample } from '../helpers/vectors.js';
import { newKeyPair } from '../../common/key-pair.js';

const skip = haveVectors ? false : 'real vectors not present';
const manifest = haveVectors ? loadManifest() : { samples: [] as Sample[] };
const anchors = haveVectors ? loadAnchorStore() : undefined;
const sample = (name: string): Sample => manifest.samples.find((s) => s.name === name)!;

function verified(s: Sample): VerifiedEvidence {
  const ctx = { now: new Date(s.verify_at), anchors: anchors!, cache: createVerificationCache() };
  if (s.platform === 'tdx') {
    const tdxCollateral = readVector(s.files.collateral!);
    return verifyTdx(parseTdxQuote(readVector(s.files.quote!)), { tdxCollateral }, ctx);
  }
  if (s.platform === 'sev-snp') {
    const endorsements = {
      snpKeyCert: readVector(s.files.vcek!),
      snpCaChain: readVector(s.files.ca_chain!),
    };
    return verifySnp(parseSnpReport(readVector(s.files.report!)), endorsements, ctx);
  }
  return verifyNitro(parseNitroDocument(readVector(s.files.cose_sign1!)), {}, ctx);
}

type Claims = Record<string, string & unknown> & Record<string, unknown>;

/** Each platform's sample, and its reference triple with an optional change of one value. */
interface Case {
  readonly sample: string;
  readonly triple: (c: Claims, change?: string) => ReferenceTriple;
  /** The fields to change, with the violation code and field each change must produce. */
  readonly changes: readonly (readonly [string, string, string])[];
}

/** `hex` with its first byte changed. */
const flip = (hex: string): string =>
  ((parseInt(hex.slice(0, 2), 16) ^ 0x01) >>> 0).toString(16).padStart(2, '0') + hex.slice(2);
const pick = (change: string | undefined, key: string, value: string) =>
  change === key ? flip(value) : value;

const CASES: readonly Case[] = [
  {
    sample: 'tdx-v4-dcapqvl-b0c06f-uptodate',
    triple: (c, x) =>
      tdxReferenceTriple({
        mrtd: pick(x, 'mrtd', c.mrtd),
        mrseam: pick(x, 'mrseam', c.mrseam),
        mrconfigid: pick(x, 'mrconfigid', c.mrconfigid),
        mrowner: pick(x, 'mrowner', c.mrowner),
        rtmrs: [c.rtmr0, pick(x, 'rtmr1', c.rtmr1), c.rtmr2, pick(x, 'rtmr3', c.rtmr3)],
        td_attributes: {
          value: pick(x, 'td_attributes', c.td_attributes),
          mask: 'ffffffffffffff' + '00',
        },
        xfam: pick(x, 'xfam', c.xfam),
      }),
    changes: [
      ['mrtd', 'ERR_REFERENCE_MISMATCH', 'MRTD'],
      ['rtmr1', 'ERR_REFERENCE_MISMATCH', 'RTMR1'],
      ['rtmr3', 'ERR_REFERENCE_MISMATCH', 'RTMR3'],
      ['mrseam', 'ERR_REFERENCE_MISMATCH', 'MRSEAM'],
      ['mrconfigid', 'ERR_REFERENCE_MISMATCH', 'MRCONFIGID'],
      ['mrowner', 'ERR_REFERENCE_MISMATCH', 'MROWNER'],
      ['xfam', 'ERR_REFERENCE_MISMATCH', 'XFAM'],
      ['td_attributes', 'ERR_ATTRIBUTES_MISMATCH', 'TDATTRIBUTES'],
    ],
  },
  {
    sample: 'snp-v2-milan-virtee',
    triple: (c, x) =>
      snpReferenceTriple({
        measurement: pick(x, 'measurement', c.measurement),
        host_data: pick(x, 'host_data', c.host_data),
        id_key_digest: pick(x, 'id_key_digest', c.id_key_digest),
        chip_id: pick(x, 'chip_id', c.chip_id),
        policy: { value: BigInt(c.policy) ^ (x === 'policy' ? 1n << 16n : 0n) },
        guest_svn_min: Number(c.guest_svn) + (x === 'guest_svn' ? 1 : 0),
        vmpl: x === 'vmpl' ? 1 : Number(c.vmpl),
        reported_tcb_min: BigInt('0x' + c.reported_tcb) + (x === 'reported_tcb' ? 1n << 48n : 0n),
      }),
    changes: [
      ['measurement', 'ERR_REFERENCE_MISMATCH', 'MEASUREMENT'],
      ['host_data', 'ERR_REFERENCE_MISMATCH', 'HOST_DATA'],
      ['id_key_digest', 'ERR_REFERENCE_MISMATCH', 'ID_KEY_DIGEST'],
      ['chip_id', 'ERR_REFERENCE_MISMATCH', 'CHIP_ID'],
      ['policy', 'ERR_POLICY_BIT', 'POLICY.SMT'],
      ['guest_svn', 'ERR_SVN_TOO_LOW', 'GUEST_SVN'],
      ['vmpl', 'ERR_VMPL_NOT_ALLOWED', 'VMPL'],
      ['reported_tcb', 'ERR_TCB_TOO_LOW', 'REPORTED_TCB.SNP'],
    ],
  },
  {
    sample: 'nitro-dstack-20251225-prod',
    triple: (c, x) => {
      const pcrs = c.pcrs as unknown as Record<string, string>;
      return nitroReferenceTriple({
        0: pick(x, '0', pcrs['0']!),
        1: pcrs['1']!,
        2: pick(x, '2', pcrs['2']!),
        8: pick(x, '8', pcrs['8']!),
      });
    },
    changes: [
      ['0', 'ERR_REFERENCE_MISMATCH', 'PCR0'],
      ['2', 'ERR_REFERENCE_MISMATCH', 'PCR2'],
      ['8', 'ERR_REFERENCE_MISMATCH', 'PCR8'],
    ],
  },
];

const es256 = newKeyPair('ec', { namedCurve: 'P-256' });
const es384 = newKeyPair('ec', { namedCurve: 'P-384' });

/** The CoRIM bytes of a triple: unsigned, or signed with the ES256 or ES384 test key. */
function corimBytes(triple: ReferenceTriple, form: 'unsigned' | 'ES256' | 'ES384'): Uint8Array {
  const corim: Corim = {
    id: `tag:twi.dev,2026:test/${form}`,
    comids: [{ tagId: 'refs', referenceTriples: [triple] }],
    profile:
      triple.environment.class?.classId && 'oid' in triple.environment.class.classId
        ? SNP_PROFILE
        : TWI_PROFILE,
    validity: {
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: new Date('2030-01-01T00:00:00Z'),
    },
  };
  if (form === 'unsigned') return buildCorim(corim);
  const key = form === 'ES256' ? es256.privateKey : es384.privateKey;
  return signCorim(corim, { key, alg: form, signer: { name: 'twi tests' } });
}

function policyFrom(bytes: Uint8Array, at: string, base?: Policy): Policy {
  const trustedKeys = bytes[0] === 0xd2 ? [es256.publicKey, es384.publicKey] : undefined;
  const decoded = decodeCorim(bytes, { now: new Date(at), ...(trustedKeys && { trustedKeys }) });
  assert.equal(decoded.signature?.verified ?? true, true);
  return mergePolicies(base, corimToPolicy(decoded));
}

for (const c of CASES) {
  test(
    `${c.sample}: matching CoRIM reference values affirm, each changed value contraindicates`,
    { skip },
    () => {
      const s = sample(c.sample);
      const evidence = verified(s);
      const claims = evidence.claims as Readonly<Record<string, unknown>> as Claims;
      for (const form of ['unsigned', 'ES256', 'ES384'] as const) {
        const policy = policyFrom(corimBytes(c.triple(claims), form), s.verify_at);
        assert.deepEqual(policy.platforms, [s.platform]);
        const a = appraise(evidence, policy);
        assert.equal(a.status, 'affirming', `${form}: ${JSON.stringify(a.violations)}`);
        assert.equal(a.trustVector.executables, 2);
      }
      for (const [change, code, field] of c.changes) {
        const policy = policyFrom(corimBytes(c.triple(claims, change), 'ES384'), s.verify_at);
        const a = appraise(evidence, policy);
        assert.equal(a.status, 'contraindicated', change);
        assert.deepEqual(
          a.violations.map((v) => [v.code, v.field]),
          [[code, field]],
          `${change}: ${JSON.stringify(a.violations)}`,
        );
      }
    },
  );
}

test('CoRIM values merge with a policy file as alternatives', { skip }, () => {
  const s = sample('tdx-v4-dcapqvl-b0c06f-uptodate');
  const evidence = verified(s);
  const claims = evidence.claims as Readonly<Record<string, unknown>> as Claims;
  const base = parsePolicy({
    id: 'prod',
    tdx: { mrtd: 'ee'.repeat(48), fmspcs: ['b0c06f000000'] },
  });
  assert.equal(appraise(evidence, base).status, 'contraindicated');
  const merged = policyFrom(
    corimBytes(tdxReferenceTriple({ mrtd: claims.mrtd }), 'unsigned'),
    s.verify_at,
    base,
  );
  assert.equal(merged.id, 'prod');
  assert.deepEqual(merged.tdx?.mrtd, ['ee'.repeat(48), claims.mrtd]);
  assert.deepEqual(merged.tdx?.fmspcs, ['b0c06f000000']);
  assert.equal(appraise(evidence, merged).status, 'affirming');
  assert.equal(appraise(evidence, mergePolicies(defaultPolicy())).status, 'affirming');
});
