/**
 * VerifiedEvidence values for appraisal tests, built through `mintVerified` from the claims
 * the real-vector manifest records for each sample (so appraisal is tested on real
 * measurements without running the verify stage).
 */
import { haveVectors, loadManifest } from '../../helpers/vectors.js';
import type { Sample } from '../../helpers/vectors.js';
import { mintVerified } from '../../../verifier/verify/mint.js';
import type {
  AnchorInfo,
  TcbStatus,
  VerifiedEvidence,
  VerifiedFields,
} from '../../../verifier/verify/types.js';
import type { VerificationFailure } from '../../../verifier/appraise/types.js';

export const manifest = haveVectors ? loadManifest() : { samples: [], roots: [] };

/** Samples with appraisable claims (certificate-only samples have none). */
export const samples: Sample[] = manifest.samples.filter((s) => s.measurements !== undefined);

export function sample(name: string): Sample {
  const s = manifest.samples.find((x) => x.name === name);
  if (!s) throw new Error(`no sample ${name}`);
  return s;
}

const ROOTS: Record<Sample['platform'], AnchorInfo> = {
  tdx: {
    sha256: '44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3',
    subject: 'Intel SGX Root CA',
    source: 'vendor',
  },
  'sev-snp': {
    sha256: '69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd',
    subject: 'ARK-Milan',
    source: 'vendor',
  },
  nitro: {
    sha256: '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b',
    subject: 'aws.nitro-enclaves',
    source: 'vendor',
  },
};

function detailsOf(s: Sample): Record<string, unknown> {
  if (s.platform === 'tdx') return { fmspc: s.fmspc };
  if (s.platform === 'sev-snp') {
    const product = (s.key_cert as { product_ext?: string } | undefined)?.product_ext;
    return { product: product?.split('-')[0], keyKind: s.signing_key };
  }
  return { moduleId: s.module_id };
}

/** Per-test changes to a sample's verified evidence. */
export interface EvidenceChanges {
  claims?: Record<string, unknown>;
  tcbStatus?: TcbStatus | null;
  anchor?: Partial<AnchorInfo>;
  details?: Record<string, unknown>;
}

/** The sample's manifest claims as verified evidence (expected TCB status, vendor anchor). */
export function verifiedOf(s: Sample, changes: EvidenceChanges = {}): VerifiedEvidence {
  const claims = {
    ...structuredClone(s.measurements as Record<string, unknown>),
    ...changes.claims,
  };
  const expected = s.expected.tcb_status as TcbStatus | undefined;
  const tcbStatus = changes.tcbStatus === null ? undefined : (changes.tcbStatus ?? expected);
  const digests = Object.entries((s.sha256 ?? {}) as Record<string, string>);
  // Manifest claims (possibly changed by a test) stand in for the codec's typed claims.
  const fields = {
    platform: s.platform,
    claims,
    tcbStatus: s.platform === 'tdx' ? tcbStatus : (changes.tcbStatus ?? undefined),
    advisoryIds: s.expected.advisory_ids ?? [],
    anchor: { ...ROOTS[s.platform], ...changes.anchor },
    collateral: digests.map(([kind, sha256]) => ({ kind, sha256 })),
    details: { ...detailsOf(s), ...changes.details },
  } as unknown as VerifiedFields;
  return mintVerified(fields) as VerifiedEvidence;
}

/** The verify stage's answer for a sample that does not verify. */
export function failureOf(s: Sample): VerificationFailure {
  const tcb = /TCB level/i.test(s.expected.reason ?? '');
  return {
    platform: s.platform,
    error: {
      code: tcb ? 'ERR_TCB_LEVEL_NOT_FOUND' : 'ERR_SIGNATURE_INVALID',
      message: s.expected.reason ?? 'does not verify',
    },
  };
}

/** True for samples the manifest marks as debug TEEs. */
export function isDebugSample(s: Sample): boolean {
  const m = s.measurements as Record<string, unknown>;
  if (s.platform === 'tdx') return (m.td_attribute_flags as { debug: boolean }).debug;
  if (s.platform === 'sev-snp') return (BigInt(m.policy as string) & (1n << 19n)) !== 0n;
  const pcrs = m.pcrs as Record<string, string>;
  return ['0', '1', '2'].every((i) => /^0+$/.test(pcrs[i] ?? ''));
}
