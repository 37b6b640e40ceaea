/**
 * The evidence the bench runs on: every real sample of the vectors manifest that twi
 * verifies at its `verify_at`, plus one simulated sample per platform (simulated PKI in a
 * temp directory, its roots configured). A {@link SampleSpec} is plain data so that it can
 * be sent to worker threads; {@link twiOperations} turns one into the operations timed.
 *
 * @module
 */
import { join } from 'node:path';
import { loadAnchorStore } from '../../endorsements/anchors.js';
import {
  openSimulatedPki,
  simulateNitro,
  simulateSnp,
  simulateTdx,
} from '../../simulators/index.js';
import {
  nitroSigStructure,
  parseNitroDocument,
  verifyNitro,
} from '../../verifier/platforms/nitro/index.js';
import {
  parseSnpReport,
  SNP_SIGNED_SIZE,
  verifySnp,
} from '../../verifier/platforms/sev-snp/index.js';
import { parseTdxQuote, quoteSignedBytes, verifyTdx } from '../../verifier/platforms/tdx/index.js';
import { createVerificationCache } from '../../verifier/verify/cache.js';
import type {
  SuppliedEndorsements,
  VerifiedEvidence,
  VerifyContext,
} from '../../verifier/verify/types.js';
import { haveVectors, loadManifest, readVector } from '../helpers/vectors.js';
import type { Sample } from '../helpers/vectors.js';
import type { Operation } from './timing.js';

/** The platforms the bench knows. */
export type BenchPlatform = 'tdx' | 'sev-snp' | 'nitro';

/** Every platform, in report order. */
export const BENCH_PLATFORMS: readonly BenchPlatform[] = ['tdx', 'sev-snp', 'nitro'];

/** The curve of the per-evidence signature (TDX: attestation key; SNP: VCEK/VLEK; Nitro: leaf). */
export type FloorCurve = 'P-256' | 'P-384';

/** One piece of evidence and everything needed to verify it; plain data (worker-safe). */
export interface SampleSpec {
  readonly platform: BenchPlatform;
  readonly name: string;
  readonly source: 'real' | 'simulated';
  readonly evidence: Uint8Array;
  readonly endorsements: {
    readonly tdxCollateral?: Uint8Array;
    readonly snpKeyCert?: Uint8Array;
    readonly snpCaChain?: Uint8Array;
  };
  /** ISO instant every check runs at. */
  readonly now: string;
  /** Extra trust-anchor directories (the simulated PKI's roots). */
  readonly rootDirs: readonly string[];
  /** The root the evidence chains to, DER, for peers that take a root (simulated only). */
  readonly rootDer?: Uint8Array;
  /** The TCB status twi found (TDX), for checking a peer's answer. */
  readonly tcbStatus?: string;
  readonly curve: FloorCurve;
  /** Length of the bytes the per-evidence signature covers (the floor signs as many). */
  readonly signedLength: number;
}

/** A sample left out, and why. */
export interface SkippedSample {
  readonly platform: BenchPlatform;
  readonly sample: string;
  readonly reason: string;
}

interface PlatformOps {
  parse(bytes: Uint8Array): unknown;
  verify(parsed: unknown, e: SuppliedEndorsements, ctx: VerifyContext): VerifiedEvidence;
  signedLength(bytes: Uint8Array): number;
  curve: FloorCurve;
}

const OPS: Record<BenchPlatform, PlatformOps> = {
  tdx: {
    parse: parseTdxQuote,
    verify: (p, e, ctx) => verifyTdx(p as ReturnType<typeof parseTdxQuote>, e, ctx),
    signedLength: (b) => quoteSignedBytes(parseTdxQuote(b)).length,
    curve: 'P-256',
  },
  'sev-snp': {
    parse: (b) => parseSnpReport(b),
    verify: (p, e, ctx) => verifySnp(p as ReturnType<typeof parseSnpReport>, e, ctx),
    signedLength: () => SNP_SIGNED_SIZE,
    curve: 'P-384',
  },
  nitro: {
    parse: parseNitroDocument,
    verify: (p, e, ctx) => verifyNitro(p as ReturnType<typeof parseNitroDocument>, e, ctx),
    signedLength: (b) => nitroSigStructure(parseNitroDocument(b)).length,
    curve: 'P-384',
  },
};

/** The operations timed for one sample, sharing one warm cache. */
export interface TwiOperations {
  /** bytes → parse → verify, what a service does per request. */
  readonly full: Operation;
  /** verify of an already parsed object (insight into the parse cost). */
  readonly verifyOnly: Operation;
  /** One full verification, for checking the outcome before timing. */
  readonly verifyOnce: () => VerifiedEvidence;
}

/**
 * The twi operations for `spec`: a context at `spec.now` with the vendor roots plus
 * `spec.rootDirs`, and one verification cache shared by both operations (warm after the
 * first call).
 *
 * @example
 * ```ts
 * const ops = twiOperations(spec);
 * ops.verifyOnce().tcbStatus;
 * ```
 */
export function twiOperations(spec: SampleSpec): TwiOperations {
  const p = OPS[spec.platform];
  const ctx: VerifyContext = {
    now: new Date(spec.now),
    anchors: loadAnchorStore([...spec.rootDirs]),
    cache: createVerificationCache(),
  };
  const e: SuppliedEndorsements = spec.endorsements;
  const evidence = spec.evidence;
  const parsed = p.parse(evidence);
  const full = (): VerifiedEvidence => p.verify(p.parse(evidence), e, ctx);
  return { full, verifyOnly: () => p.verify(parsed, e, ctx), verifyOnce: full };
}

function codeOf(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  return `${typeof e.code === 'string' ? e.code + ': ' : ''}${String(e.message ?? err)}`;
}

function specOf(
  platform: BenchPlatform,
  name: string,
  rest: Omit<SampleSpec, 'platform' | 'name' | 'curve' | 'signedLength'>,
): SampleSpec {
  const p = OPS[platform];
  return { platform, name, ...rest, curve: p.curve, signedLength: p.signedLength(rest.evidence) };
}

function realSpec(s: Sample): SampleSpec | string {
  const f = s.files;
  const base = { source: 'real' as const, now: new Date(s.verify_at).toISOString(), rootDirs: [] };
  if (s.platform === 'tdx') {
    return specOf('tdx', s.name, {
      ...base,
      evidence: readVector(f.quote!),
      endorsements: { tdxCollateral: readVector(f.collateral!) },
    });
  }
  if (s.platform === 'sev-snp') {
    if (f.report === undefined) return 'certificate chain only (no report)';
    return specOf('sev-snp', s.name, {
      ...base,
      evidence: readVector(f.report),
      endorsements: {
        snpKeyCert: readVector((f.vcek ?? f.vlek)!),
        snpCaChain: readVector(f.ca_chain!),
      },
    });
  }
  return specOf('nitro', s.name, {
    ...base,
    evidence: readVector(f.cose_sign1!),
    endorsements: {},
  });
}

/** Keeps `spec` when twi verifies it (recording the TCB status), else says why not. */
function checked(spec: SampleSpec): SampleSpec | string {
  try {
    const v = twiOperations(spec).verifyOnce();
    return v.tcbStatus === undefined ? spec : { ...spec, tcbStatus: v.tcbStatus };
  } catch (err) {
    return `does not verify at ${spec.now}: ${codeOf(err)}`;
  }
}

/**
 * The real samples of the manifest for `platforms`, those twi verifies at their
 * `verify_at` kept and the rest listed with the reason.
 *
 * @example
 * ```ts
 * const { specs, skipped } = loadRealSamples(['tdx']);
 * ```
 */
export function loadRealSamples(platforms: readonly BenchPlatform[]): {
  specs: SampleSpec[];
  skipped: SkippedSample[];
} {
  const specs: SampleSpec[] = [];
  const skipped: SkippedSample[] = [];
  if (!haveVectors) return { specs, skipped };
  for (const s of loadManifest().samples) {
    const platform = s.platform as BenchPlatform;
    if (!platforms.includes(platform)) continue;
    const spec = realSpec(s);
    const kept = typeof spec === 'string' ? spec : checked(spec);
    if (typeof kept === 'string') skipped.push({ platform, sample: s.name, reason: kept });
    else specs.push(kept);
  }
  return { specs, skipped };
}

/** Creation instant of the simulated PKI and the instant its evidence is verified at. */
const SIM_PKI_CREATED = new Date('2025-01-01T00:00:00Z');
const SIM_NOW = new Date('2025-06-01T00:00:00Z');

/**
 * One simulated sample per platform in `platforms`, from a simulated PKI created in `dir`
 * (whose `roots/` the specs configure). Each is checked to verify before it is returned.
 *
 * @throws Error when twi does not verify a simulated sample (a broken simulator or verifier).
 * @example
 * ```ts
 * const specs = await simulatedSamples(mkdtempSync(join(tmpdir(), 'twi-bench-')), ['nitro']);
 * ```
 */
export async function simulatedSamples(
  dir: string,
  platforms: readonly BenchPlatform[],
): Promise<SampleSpec[]> {
  const pki = await openSimulatedPki(dir, { seed: 'twi-bench', now: SIM_PKI_CREATED });
  const base = { source: 'simulated' as const, now: SIM_NOW.toISOString() };
  const rootDirs = [join(dir, 'roots')];
  const out: SampleSpec[] = [];
  for (const platform of platforms) {
    if (platform === 'tdx') {
      const intel = pki.intel();
      const sim = simulateTdx(intel, { seed: 'twi-bench-td', now: SIM_NOW });
      const collateral = new TextEncoder().encode(JSON.stringify(sim.collateral));
      out.push(
        specOf('tdx', 'simulated-tdx-v4', {
          ...base,
          rootDirs,
          evidence: sim.quote,
          endorsements: { tdxCollateral: collateral },
          rootDer: intel.root.der,
        }),
      );
    } else if (platform === 'sev-snp') {
      const amd = pki.amd('Genoa');
      const sim = simulateSnp(amd, { seed: 'twi-bench-snp', version: 5 });
      out.push(
        specOf('sev-snp', 'simulated-snp-v5-genoa-vcek', {
          ...base,
          rootDirs,
          evidence: sim.report,
          endorsements: {
            snpKeyCert: sim.vcekDer,
            snpCaChain: new TextEncoder().encode(sim.caChainPem),
          },
          rootDer: amd.ark.der,
        }),
      );
    } else {
      const aws = pki.nitro();
      const sim = simulateNitro(aws, { now: SIM_NOW, seed: 'twi-bench-nitro' });
      out.push(
        specOf('nitro', 'simulated-nitro', {
          ...base,
          rootDirs,
          evidence: sim.document,
          endorsements: {},
          rootDer: aws.root.der,
        }),
      );
    }
  }
  return out.map((spec) => {
    const kept = checked(spec);
    if (typeof kept === 'string') throw new Error(`${spec.name}: ${kept}`);
    return kept;
  });
}
