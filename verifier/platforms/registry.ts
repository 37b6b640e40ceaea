/**
 * The platform registry: one plugin object per TEE (its wing), listed literally. Each carries
 * everything the rest of twi needs to know about its TEE: codec, verify stage, appraisal
 * checks, measurements, launch identity and collateral marks. Duplicate platform names or
 * media types are a programming error and fail at load.
 *
 * @module
 */
import { UnknownPlatformError } from '../../common/errors.js';
import {
  NITRO_ATTESTATION_MEDIA_TYPE,
  SEV_SNP_REPORT_MEDIA_TYPE,
  TDX_QUOTE_MEDIA_TYPE,
} from '../../wire/media-types.js';
import type { VerificationCache } from '../verify/cache.js';
import type { EndorsementWing } from '../verify/collect.js';
import type { WingChecks } from '../appraise/check-kit.js';
import type {
  ClaimsOf,
  CollateralMark,
  LaunchIdentityField,
  NamedMeasurement,
  PlatformName,
  SuppliedEndorsements,
  VerifiedEvidence,
  VerifyContext,
} from '../verify/types.js';
import { nitroChecks } from './nitro/checks.js';
import { describeNitroFormat, nitroClaims } from './nitro/claims.js';
import {
  looksLikeNitroDocument,
  parseNitroDocument,
  serializeNitroDocument,
} from './nitro/document.js';
import { NITRO_LAUNCH_IDENTITY, nitroMeasurements } from './nitro/measurements.js';
import { verifyNitro } from './nitro/verify.js';
import type { NitroClaims, NitroDetails } from './nitro/claims.js';
import type { SnpClaims, SnpDetails } from './sev-snp/abi/claims.js';
import type { TdxClaims, TdxDetails } from './tdx/abi/claims.js';
import { describeSnpFormat, looksLikeSnpReport, snpClaims } from './sev-snp/abi/claims.js';
import { parseSnpReport, serializeSnpReport } from './sev-snp/abi/report.js';
import { checkSnpEndorsementSyntax } from './sev-snp/collateral/endorsement-syntax.js';
import { snpEndorsements } from './sev-snp/verify/endorsements.js';
import { snpChecks } from './sev-snp/checks.js';
import { SNP_LAUNCH_IDENTITY, snpMeasurements } from './sev-snp/measurements.js';
import { verifySnp } from './sev-snp/verify/verify.js';
import { describeTdxFormat } from './tdx/abi/describe.js';
import { looksLikeTdxQuote, parseTdxQuote, serializeTdxQuote } from './tdx/abi/quote.js';
import { tdxClaims } from './tdx/abi/claims.js';
import { tdxEndorsements } from './tdx/verify/endorsements.js';
import { tdxChecks } from './tdx/checks.js';
import { tdxCollateralMarks } from './tdx/collateral-marks.js';
import { TDX_LAUNCH_IDENTITY, tdxMeasurements } from './tdx/measurements.js';
import { verifyTdx } from './tdx/verify/verify.js';
import { replayTdxEventLog } from './tdx/event-log-replay.js';
import type { AttesterEventLog } from '../../wire/messages.js';

/** Names of the supported TEE platforms (the keys of {@link PlatformEvidence}). */
export type { PlatformName };

/**
 * What verified evidence of each platform carries, as its wing declares it: the codec's claims
 * and the verify stage's details. Its keys are the platform names; {@link platforms} holds one
 * plugin per key, typed against this map. Adding a TEE adds one entry here and one there.
 */
export interface PlatformEvidence {
  tdx: { readonly claims: TdxClaims; readonly details: TdxDetails };
  'sev-snp': { readonly claims: SnpClaims; readonly details: SnpDetails };
  nitro: { readonly claims: NitroClaims; readonly details: NitroDetails };
}

/**
 * What every platform plugin (wing) offers, for its evidence type `E` and platform `P`. The
 * registry's list holds them as `PlatformCodec` (any evidence, any platform): look a plugin up
 * by the evidence's platform before handing it that platform's values.
 */
export interface PlatformCodec<E = unknown, P extends PlatformName = PlatformName> {
  readonly platform: P;
  /** CMW media types of this platform's evidence (ARCHITECTURE "Wire contracts"). */
  readonly mediaTypes: readonly string[];
  /** Cheap sniff used for auto-detection; never throws. */
  looksLike(bytes: Uint8Array): boolean;
  /** Bytes → typed evidence; throws ERR_EVIDENCE_MALFORMED / ERR_EVIDENCE_UNSUPPORTED. */
  parse(bytes: Uint8Array): E;
  /** Typed evidence → the exact bytes it was parsed from (without trailing bytes). */
  serialize(evidence: E): Uint8Array;
  /** The measurements, with the field names and encodings of the vectors' manifest. */
  claims(evidence: E): ClaimsOf<P>;
  /** Structural description (versions, sizes, decoded fields) for `twi inspect`. */
  describe(evidence: E): Record<string, unknown>;
  /**
   * The verify stage: signatures, chains to the pinned roots, revocation, collateral and TCB
   * at `ctx.now`. Throws a typed error on the first failure; only it mints VerifiedEvidence
   * (whose `platform` narrows its claims and details).
   */
  verify(evidence: E, endorsements: SuppliedEndorsements, ctx: VerifyContext): VerifiedEvidence;
  /**
   * Checks the attester's event log against the parsed evidence before verification (TDX:
   * replays RTMR0-3); throws `ERR_EVENT_LOG_MALFORMED` / `ERR_EVENT_LOG_MISMATCH`. Platforms
   * without one accept a log without a CC event log and appraise nothing from it.
   */
  replayEventLog?(evidence: E, log: AttesterEventLog): void;
  /** What the evidence needs from the endorsement provider and how the answers are used. */
  readonly endorsements: EndorsementWing<E>;
  /**
   * Syntax of the supplied endorsements, checked before the verify stage: one that does not
   * parse is bad input (thrown), not a failed verification (reported).
   */
  checkSupplied?(evidence: E, endorsements: SuppliedEndorsements, cache: VerificationCache): void;
  /**
   * The appraisal checks of this platform: its reference values, its freshness and key
   * binding, how it shows a debug TEE and whether it carries a TCB status.
   */
  readonly checks: WingChecks<P>;
  /**
   * The measurements of verified claims that supply-chain records can name (provenance
   * linking), in a fixed order.
   */
  measurements(claims: Readonly<ClaimsOf<P>>): NamedMeasurement[];
  /**
   * The code-identifying measurements, in digest order, that the service's measurement
   * digest (and so every derived identifier) covers. Changing it changes identifiers.
   */
  readonly launchIdentity: readonly LaunchIdentityField[];
  /** The EAR marks of each collateral kind of verified evidence (TDX: TCB Info, QE identity). */
  collateralMarks(evidence: VerifiedEvidence<P>): Readonly<Record<string, CollateralMark>>;
}

/** A wing, typed against its evidence and platform, as the registry's list holds it. */
function codec<E, P extends PlatformName>(c: PlatformCodec<E, P>): PlatformCodec {
  return c;
}

/** The built-in platforms, in auto-detection order. */
export const platforms: readonly PlatformCodec[] = [
  codec({
    platform: 'tdx',
    mediaTypes: [TDX_QUOTE_MEDIA_TYPE],
    looksLike: looksLikeTdxQuote,
    parse: parseTdxQuote,
    serialize: serializeTdxQuote,
    claims: tdxClaims,
    describe: describeTdxFormat,
    verify: verifyTdx,
    replayEventLog: (quote, log) => void replayTdxEventLog(quote, log),
    endorsements: tdxEndorsements,
    checks: tdxChecks,
    measurements: tdxMeasurements,
    launchIdentity: TDX_LAUNCH_IDENTITY,
    collateralMarks: tdxCollateralMarks,
  }),
  codec({
    platform: 'sev-snp',
    mediaTypes: [SEV_SNP_REPORT_MEDIA_TYPE],
    looksLike: looksLikeSnpReport,
    parse: (b) => parseSnpReport(b),
    serialize: serializeSnpReport,
    claims: snpClaims,
    describe: describeSnpFormat,
    verify: verifySnp,
    endorsements: snpEndorsements,
    checkSupplied: checkSnpEndorsementSyntax,
    checks: snpChecks,
    measurements: snpMeasurements,
    launchIdentity: SNP_LAUNCH_IDENTITY,
    collateralMarks: () => ({}),
  }),
  codec({
    platform: 'nitro',
    mediaTypes: [NITRO_ATTESTATION_MEDIA_TYPE],
    looksLike: looksLikeNitroDocument,
    parse: parseNitroDocument,
    serialize: serializeNitroDocument,
    claims: nitroClaims,
    describe: describeNitroFormat,
    verify: verifyNitro,
    endorsements: { suppliedSources: { 'nitro-chain': 'attester' } },
    checks: nitroChecks,
    measurements: nitroMeasurements,
    launchIdentity: NITRO_LAUNCH_IDENTITY,
    collateralMarks: () => ({}),
  }),
];

function checkUnique(list: readonly PlatformCodec[]): void {
  const seen = new Set<string>();
  for (const p of list) {
    for (const key of [`platform:${p.platform}`, ...p.mediaTypes.map((m) => `media:${m}`)]) {
      if (seen.has(key)) throw new Error(`duplicate platform registration: ${key}`);
      seen.add(key);
    }
  }
}
checkUnique(platforms);

/** True when `name` is a supported platform name. */
export function isPlatformName(name: string): name is PlatformName {
  return platforms.some((p) => p.platform === name);
}

/** The codec of a named platform. */
export function getPlatform(name: PlatformName): PlatformCodec {
  const found = platforms.find((p) => p.platform === name);
  if (!found) throw new TypeError(`unknown platform ${name}`);
  return found;
}

/** The codec of a CMW media type, or undefined. */
export function platformForMediaType(mediaType: string): PlatformCodec | undefined {
  return platforms.find((p) => p.mediaTypes.includes(mediaType));
}

/**
 * Recognises the platform of raw evidence bytes.
 *
 * @throws {UnknownPlatformError} when no codec recognises them.
 */
export function detectPlatform(bytes: Uint8Array): PlatformCodec {
  const found = platforms.find((p) => p.looksLike(bytes));
  if (!found) {
    throw new UnknownPlatformError(
      'evidence is not a TDX quote, an SEV-SNP report or a Nitro attestation document',
    );
  }
  return found;
}
