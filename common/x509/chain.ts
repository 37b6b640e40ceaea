/**
 * Certificate path validation against pinned trust anchors.
 *
 * The work is split so the verifier can cache it by content hash:
 * - {@link verifyChainSignatures} is a pure function of the DER bytes (leaf,
 *   intermediates, anchors, CRLs): it builds the path, checks profiles and every
 *   signature, and verifies the CRLs that apply. Its result is immutable.
 * - {@link checkChainAt} is the cheap, time-dependent part: validity periods,
 *   CRL windows and revoked serials at an injected `now`.
 * - {@link verifyChain} does both.
 *
 * A presented root is never trusted for itself: a path ends only at a certificate whose
 * SHA-256 is in the anchor set.
 *
 * @internal
 * @module
 */
import { createHash } from 'node:crypto';
import { VerificationError } from '../errors.js';
import { isSupportedAlgorithm } from './algorithm.js';
import { certLabel, OID_BASIC_CONSTRAINTS, OID_KEY_USAGE } from './certificate.js';
import type { Certificate } from './certificate.js';
import { checkCrlCurrent, verifyCrlSignature } from './crl.js';
import type { Crl, VerifiedCrl } from './crl.js';

/** Pinned trust anchors. Build with {@link createTrustAnchors}. */
export interface TrustAnchors {
  readonly certificates: readonly Certificate[];
  /** Lowercase hex SHA-256 of each anchor's DER. */
  readonly fingerprints: ReadonlySet<string>;
}

/**
 * Pins `certs` as trust anchors. With `pinnedSha256`, every certificate must match one of
 * the given fingerprints (lowercase or uppercase hex, colons allowed).
 *
 * @throws {VerificationError} `ERR_CHAIN_UNTRUSTED_ROOT` when a certificate is not pinned.
 */
export function createTrustAnchors(
  certs: readonly Certificate[],
  pinnedSha256?: readonly string[],
): TrustAnchors {
  if (pinnedSha256 !== undefined) {
    const pins = new Set(pinnedSha256.map((p) => p.replace(/:/g, '').toLowerCase()));
    for (const c of certs) {
      if (!pins.has(c.sha256)) {
        throw new VerificationError(
          'ERR_CHAIN_UNTRUSTED_ROOT',
          `${certLabel(c)} (SHA-256 ${c.sha256}) is not a pinned root`,
          certLabel(c),
        );
      }
    }
  }
  return Object.freeze({
    certificates: Object.freeze([...certs]),
    fingerprints: new Set(certs.map((c) => c.sha256)),
  });
}

/** Input of the pure, cacheable part of path validation. */
export interface ChainInput {
  readonly leaf: Certificate;
  /** Candidate intermediates in any order; may include a copy of the root. */
  readonly intermediates?: readonly Certificate[];
  readonly anchors: TrustAnchors;
  /** CRLs to apply; those whose issuer is not on the path are ignored. */
  readonly crls?: readonly Crl[];
}

/** Which certificates must be covered by a CRL from their issuer. */
export type CrlRequirement = 'none' | 'all' | readonly string[];

/** Options of the time-dependent part. */
export interface ChainTimeOptions {
  readonly now: Date;
  /**
   * `'all'`: every certificate below the anchor needs a CRL from its issuer; a list:
   * certificates whose issuer's subject CN is listed need one; `'none'` (default): CRLs
   * are applied where given.
   */
  readonly requireCrlFor?: CrlRequirement;
}

/** Options of {@link verifyChain}. */
export type VerifyChainOptions = ChainInput & ChainTimeOptions;

/** An immutable, validated path. */
export interface VerifiedChain {
  /** Leaf first, trust anchor last. */
  readonly path: readonly Certificate[];
  readonly anchor: Certificate;
  /** CRLs whose signature verified with an issuer on the path. */
  readonly crls: readonly VerifiedCrl[];
}

/** Longest path considered; the vendor PKIs here use at most five certificates. */
const MAX_PATH = 8;

/** Extensions twi processes or may safely ignore when marked critical (RFC 5280 §4.2). */
const KNOWN_CRITICAL = new Set([OID_BASIC_CONSTRAINTS, OID_KEY_USAGE, '2.5.29.37', '2.5.29.17']);

function fail(
  code: ConstructorParameters<typeof VerificationError>[0],
  cert: Certificate,
  message: string,
): never {
  throw new VerificationError(code, `${certLabel(cert)}: ${message}`, certLabel(cert));
}

/**
 * A content key for caching {@link verifyChainSignatures}: SHA-256 over the leaf,
 * intermediates, anchor fingerprints and CRLs.
 */
export function chainCacheKey(input: ChainInput): string {
  const h = createHash('sha256');
  const parts = [
    input.leaf.sha256,
    ...(input.intermediates ?? []).map((c) => c.sha256),
    '|',
    ...[...input.anchors.fingerprints].sort(),
    '|',
    ...(input.crls ?? []).map((c) => c.sha256),
  ];
  for (const p of parts) h.update(p).update(',');
  return h.digest('hex');
}

/**
 * Builds and checks the path from `leaf` to a pinned anchor, independent of time.
 *
 * @throws {VerificationError} `ERR_CHAIN_UNTRUSTED_ROOT`, `ERR_CHAIN_BROKEN`,
 *   `ERR_SIGNATURE_INVALID`, `ERR_CERT_PROFILE`, `ERR_CRL_INVALID`.
 */
export function verifyChainSignatures(input: ChainInput): VerifiedChain {
  const path = buildPath(input);
  path.forEach((cert, i) => checkProfile(cert, i, path));
  const crls = (input.crls ?? []).flatMap((crl) => matchCrl(crl, path));
  return Object.freeze({
    path: Object.freeze(path),
    anchor: path[path.length - 1]!,
    crls: Object.freeze(crls),
  });
}

function sameName(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(b);
}

function signedBy(cert: Certificate, issuer: Certificate): boolean {
  try {
    return cert.x509.verify(issuer.x509.publicKey);
  } catch {
    return false;
  }
}

function buildPath(input: ChainInput): Certificate[] {
  const { anchors } = input;
  const path: Certificate[] = [input.leaf];
  const used = new Set([input.leaf.sha256]);
  while (!anchors.fingerprints.has(path[path.length - 1]!.sha256)) {
    const cert = path[path.length - 1]!;
    if (path.length >= MAX_PATH) fail('ERR_CHAIN_BROKEN', cert, 'path too long');
    // Anchors first, so a presented copy of a pinned root resolves to the pinned one.
    const candidates = [...anchors.certificates, ...(input.intermediates ?? [])].filter(
      (c) => !used.has(c.sha256) && sameName(c.subject.der, cert.issuer.der),
    );
    const issuer = candidates.find((c) => signedBy(cert, c));
    if (issuer === undefined) return noIssuer(cert, candidates.length > 0);
    path.push(issuer);
    used.add(issuer.sha256);
  }
  return path;
}

function noIssuer(cert: Certificate, hadCandidates: boolean): never {
  if (sameName(cert.subject.der, cert.issuer.der)) {
    fail('ERR_CHAIN_UNTRUSTED_ROOT', cert, `self-issued root ${cert.sha256} is not pinned`);
  }
  if (hadCandidates) {
    fail('ERR_SIGNATURE_INVALID', cert, `signature does not verify with issuer '${cert.issuerCn}'`);
  }
  fail(
    'ERR_CHAIN_BROKEN',
    cert,
    `no certificate for issuer '${cert.issuerCn}' leads to a pinned root`,
  );
}

function checkProfile(cert: Certificate, index: number, path: readonly Certificate[]): void {
  if (cert.version !== 3) fail('ERR_CERT_PROFILE', cert, `X.509 version ${cert.version}, not 3`);
  if (!isSupportedAlgorithm(cert.signatureAlgorithm)) {
    fail(
      'ERR_CERT_PROFILE',
      cert,
      `unsupported signature algorithm ${cert.signatureAlgorithm.oid}`,
    );
  }
  for (const ext of cert.extensions.values()) {
    if (ext.critical && !KNOWN_CRITICAL.has(ext.oid)) {
      fail('ERR_CERT_PROFILE', cert, `unsupported critical extension ${ext.oid}`);
    }
  }
  if (index === 0) return;
  // RFC 5280 §6.1.4 (k), (l), (n): issuers must be CAs, respect pathLen, and may sign certificates.
  const bc = cert.basicConstraints;
  if (bc === undefined || !bc.ca)
    fail('ERR_CERT_PROFILE', cert, 'issuer is not a CA (basicConstraints)');
  const below = path.slice(1, index).filter((c) => !sameName(c.subject.der, c.issuer.der)).length;
  if (bc.pathLen !== undefined && below > bc.pathLen) {
    fail(
      'ERR_CERT_PROFILE',
      cert,
      `pathLenConstraint ${bc.pathLen} exceeded by ${below} CAs below`,
    );
  }
  if (cert.keyUsage === undefined || !cert.keyUsage.has('keyCertSign')) {
    fail('ERR_CERT_PROFILE', cert, 'issuer keyUsage lacks keyCertSign');
  }
}

function matchCrl(crl: Crl, path: readonly Certificate[]): VerifiedCrl[] {
  const issuers = path.filter((c) => sameName(c.subject.der, crl.issuer.der));
  if (issuers.length === 0) return [];
  let lastError: unknown;
  for (const issuer of issuers) {
    try {
      return [verifyCrlSignature(crl, issuer)];
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

/**
 * The time-dependent checks on a verified path: every certificate valid at `now`
 * (notBefore <= now <= notAfter, RFC 5280 §4.1.2.5), the applicable CRLs current and
 * not listing any certificate's serial.
 *
 * @throws {VerificationError} `ERR_CERT_NOT_YET_VALID`, `ERR_CERT_EXPIRED`,
 *   `ERR_CRL_EXPIRED`, `ERR_CRL_INVALID`, `ERR_CERT_REVOKED`, `ERR_ENDORSEMENT_MISSING`.
 */
export function checkChainAt(chain: VerifiedChain, options: ChainTimeOptions): void {
  const t = options.now.getTime();
  for (const cert of chain.path) {
    if (t < cert.notBefore.getTime()) {
      fail('ERR_CERT_NOT_YET_VALID', cert, `not valid before ${cert.notBefore.toISOString()}`);
    }
    if (t > cert.notAfter.getTime()) {
      fail('ERR_CERT_EXPIRED', cert, `expired at ${cert.notAfter.toISOString()}`);
    }
  }
  const required = options.requireCrlFor ?? 'none';
  for (let i = 0; i < chain.path.length - 1; i++) {
    const cert = chain.path[i]!;
    const issuer = chain.path[i + 1]!;
    const covering = chain.crls.filter((v) => v.issuerSha256 === issuer.sha256);
    if (covering.length === 0 && isRequired(required, issuer)) {
      throw new VerificationError(
        'ERR_ENDORSEMENT_MISSING',
        `${certLabel(cert)}: no CRL from '${issuer.subjectCn}' to check revocation`,
        certLabel(cert),
      );
    }
    for (const v of covering) {
      checkCrlCurrent(v.crl, options.now);
      if (v.crl.revoked.has(cert.serial)) {
        fail(
          'ERR_CERT_REVOKED',
          cert,
          `serial ${cert.serial.toString(16)} is revoked by ${issuer.subjectCn}`,
        );
      }
    }
  }
}

function isRequired(required: CrlRequirement, issuer: Certificate): boolean {
  if (required === 'all') return true;
  if (required === 'none') return false;
  return issuer.subjectCn !== undefined && required.includes(issuer.subjectCn);
}

/**
 * Validates `leaf` up to a pinned anchor at `now`: {@link verifyChainSignatures} then
 * {@link checkChainAt}.
 *
 * @example
 * const chain = verifyChain({
 *   leaf, intermediates, anchors: createTrustAnchors([intelRoot]),
 *   crls: [pckCrl, rootCaCrl], requireCrlFor: 'all', now: new Date(verifyAt),
 * });
 */
export function verifyChain(options: VerifyChainOptions): VerifiedChain {
  const chain = verifyChainSignatures(options);
  checkChainAt(chain, options);
  return chain;
}
