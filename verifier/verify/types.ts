/**
 * The contract of the `verify` stage (ARCHITECTURE "The appraisal pipeline"): what each
 * platform's verifier takes and the {@link VerifiedEvidence} value only that stage mints.
 *
 * @module
 */
import type { AttesterEventLog } from '../../wire/messages.js';
import type { TrustAnchors } from '../../common/x509/chain.js';
import type { PlatformEvidence } from '../platforms/registry.js';
import type { TcbStatus } from '../platforms/tdx/verify/tcb-status.js';
import type { TdxCollateral } from '../platforms/tdx/collateral/v3.js';
import type { VerificationCache } from './cache.js';

export type { TcbStatus };

/** Brand that only {@link mintVerified} (module `./mint.js`) sets. @internal */
export declare const VERIFIED: unique symbol;

/** Where the trust anchor a chain ended at came from. @internal */
export type AnchorSource = 'vendor' | 'configured';

/** The root a verified chain ends at. */
export interface AnchorInfo {
  /** Lowercase hex SHA-256 of the root's DER. */
  readonly sha256: string;
  /** Subject CN of the root. */
  readonly subject: string;
  /** `vendor` for the pinned vendor roots, `configured` for operator-added ones (e.g. simulators). */
  readonly source: AnchorSource;
}

/**
 * Where a piece of collateral came from: sent by the `attester` (CMW endorsement items, or
 * carried in the evidence itself), fetched from Intel's `pcs` or AMD's `kds`, served from the
 * verifier's `cache`, or from an offline `bundle`.
 *
 * @internal
 */
export type CollateralSource = 'attester' | 'pcs' | 'kds' | 'cache' | 'bundle';

/** A piece of collateral an appraisal relied on, by content hash. */
export interface CollateralRef {
  /** e.g. `tcb-info`, `qe-identity`, `pck-crl`, `root-ca-crl`, `pck-chain`, `vcek`, `vlek`, `ask`, `amd-crl`, `nitro-chain`. */
  readonly kind: string;
  /** Lowercase hex SHA-256 of the exact bytes used. */
  readonly sha256: string;
  /** Where it came from; set by the pipeline (the verify stage cannot know). */
  readonly source?: CollateralSource;
  /** TDX TCB Info / QE identity: its `tcbEvaluationDataNumber`. */
  readonly tcbEvaluationDataNumber?: number;
  /** TDX TCB Info / QE identity: its `issueDate` (ISO 8601). */
  readonly issueDate?: string;
}

/** Names of the supported TEE platforms. */
export type PlatformName = keyof PlatformEvidence;

/** The claims of a platform's evidence (manifest field names and encodings). */
export type ClaimsOf<P extends PlatformName> = PlatformEvidence[P]['claims'];

/** The verify stage's details of a platform's evidence (JSON-safe). */
export type DetailsOf<P extends PlatformName> = PlatformEvidence[P]['details'];

/** Verified evidence of one platform `P` (see {@link VerifiedEvidence}). @internal */
export interface VerifiedEvidenceOf<P extends PlatformName> {
  readonly platform: P;
  /** The codec's claims (manifest field names and encodings). */
  readonly claims: Readonly<ClaimsOf<P>>;
  /** TDX: the converged TCB status; SEV-SNP and Nitro: undefined. */
  readonly tcbStatus?: TcbStatus;
  /** Union of advisory IDs (TDX), empty elsewhere. */
  readonly advisoryIds: readonly string[];
  readonly anchor: AnchorInfo;
  readonly collateral: readonly CollateralRef[];
  /** Platform specifics for appraisal and reports (JSON-safe). */
  readonly details: Readonly<DetailsOf<P>>;
  readonly [VERIFIED]: true;
}

/**
 * Evidence whose signatures, chains, revocation, collateral and TCB checks all passed. Without
 * a type argument it is the union over the platforms, so checking `platform` narrows `claims`
 * and `details` to that platform's types.
 *
 * @example
 * ```ts
 * if (verified.platform === 'tdx') verified.claims.mrtd; // string
 * ```
 */
export type VerifiedEvidence<P extends PlatformName = PlatformName> = P extends PlatformName
  ? VerifiedEvidenceOf<P>
  : never;

/**
 * What the verify stage hands to `mintVerified` (module `./mint.js`): all but the brand.
 *
 * @internal
 */
export type VerifiedFields<P extends PlatformName = PlatformName> = Omit<
  VerifiedEvidenceOf<P>,
  typeof VERIFIED
>;

/**
 * One measurement of a platform's claims that supply-chain records can name: its field
 * (e.g. `mrtd`, `measurement`, `pcr0`) and its value, lowercase hex of the raw bytes.
 *
 * @internal
 */
export interface NamedMeasurement {
  readonly field: string;
  readonly value: string;
}

/**
 * One code-identifying measurement of a platform's launch identity: its name in the
 * measurement digest (e.g. `MRTD`), and where verified evidence carries it — `claims` or
 * `details`, and the key (a dotted path, e.g. `pcrs.0`).
 *
 * @internal
 */
export type LaunchIdentityField = readonly [
  name: string,
  source: 'claims' | 'details',
  key: string,
];

/**
 * The marks collateral of one kind carries in the EAR: TDX TCB Info / QE identity version.
 *
 * @internal
 */
export type CollateralMark = Pick<CollateralRef, 'tcbEvaluationDataNumber' | 'issueDate'>;

/** The roots verification may end at, per vendor. */
export interface AnchorStore {
  /** Intel SGX Root CA(s). */
  readonly intel: TrustAnchors;
  /** AMD ARKs (one per product; a chain must end at the ARK of the report's product). */
  readonly amd: TrustAnchors;
  /** AWS Nitro Enclaves root(s). */
  readonly aws: TrustAnchors;
  /** Fingerprints of roots the operator configured (not pinned vendor roots). */
  readonly configured: ReadonlySet<string>;
  /** Known AMD intermediates (ASK/ASVK) as DER, used when the caller supplies no chain. */
  readonly amdIntermediates: readonly Uint8Array[];
}

/** Everything a platform verifier needs besides the evidence. */
export interface VerifyContext {
  /** The instant every validity window is checked at; never the wall clock implicitly. */
  readonly now: Date;
  readonly anchors: AnchorStore;
  /** Content-hash keyed cache of chain and collateral results. */
  readonly cache: VerificationCache;
  /**
   * The attester's event log, already checked against the evidence by the wing's
   * `replayEventLog`; the TDX verify stage turns its replayed shim digest into the `shim` claim.
   */
  readonly eventLog?: AttesterEventLog;
}

/** Endorsements supplied with the evidence (files on the CLI, CMW items on the wire). */
export interface SuppliedEndorsements {
  /**
   * TDX collateral: the `QuoteCollateralV3` JSON (text or bytes of it), or typed as the TDX
   * wing's endorsement collection hands it on (`tdxCollateralOf`).
   */
  readonly tdxCollateral?: string | Uint8Array | TdxCollateral;
  /** SEV-SNP VCEK or VLEK certificate (DER or PEM). */
  readonly snpKeyCert?: Uint8Array;
  /** SEV-SNP ASK/ASVK (and optionally ARK) certificates (PEM text or DER each). */
  readonly snpCaChain?: Uint8Array;
  /** SEV-SNP GHCB certificate table (extended report / configfs auxblob). */
  readonly snpCertTable?: Uint8Array;
  /** AMD KDS CRL (DER), checked when given. */
  readonly snpCrl?: Uint8Array;
}
