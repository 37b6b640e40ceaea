/**
 * X.509 v2 certificate revocation lists (RFC 5280 §5): parsing, signature verification
 * with the issuing certificate (ECDSA for Intel, RSASSA-PSS for AMD), the
 * thisUpdate/nextUpdate window at an injected `now`, and the revoked serial set.
 *
 * @internal
 * @module
 */
import { isTwiError, VerificationError } from '../errors.js';
import { sha256Hex } from '../bytes.js';
import { isSupportedAlgorithm, parseSignatureAlgorithm, verifySignature } from './algorithm.js';
import type { SignatureAlgorithm } from './algorithm.js';
import { certLabel, parseExtensions } from './certificate.js';
import type { Certificate, Extension } from './certificate.js';
import {
  childrenOf,
  contextTag,
  decodeDer,
  readBitString,
  readInteger,
  readSequence,
  readSmallInt,
  readTime,
  Tag,
  tagOf,
  tlvOf,
} from './decode.js';
import type { Block } from './decode.js';
import { describeName, parseName } from './name.js';
import type { Name } from './name.js';

/** One revoked certificate entry. */
export interface RevokedEntry {
  readonly serial: bigint;
  readonly revocationDate: Date;
  /** crlEntryExtensions by dotted OID (e.g. reasonCode 2.5.29.21), in encoding order. */
  readonly extensions: ReadonlyMap<string, Extension>;
}

/** A parsed (not yet verified) CRL. */
export interface Crl {
  readonly der: Uint8Array;
  /** Lowercase hex SHA-256 of the DER. */
  readonly sha256: string;
  /** 1 or 2. */
  readonly version: number;
  readonly issuer: Name;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  /** Revoked entries by serial number (a repeated serial keeps its last entry). */
  readonly revoked: ReadonlyMap<bigint, RevokedEntry>;
  /**
   * Every revokedCertificates entry in encoding order, repeated serials included: the
   * list as issued, for comparing or re-encoding a CRL. Lookups should use `revoked`.
   */
  readonly entries: readonly RevokedEntry[];
  /** The cRLNumber extension, when present. */
  readonly crlNumber: bigint | undefined;
  readonly extensions: ReadonlyMap<string, Extension>;
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly tbs: Uint8Array;
  readonly signature: Uint8Array;
}

/** A CRL whose signature was checked against a specific issuer certificate. */
export interface VerifiedCrl {
  readonly crl: Crl;
  /** SHA-256 of the issuer certificate that verified the signature. */
  readonly issuerSha256: string;
  readonly issuerCn: string | undefined;
}

const OID_CRL_NUMBER = '2.5.29.20';
/** CRL and entry extensions twi understands; any other critical one makes the CRL unusable. */
const KNOWN_CRL_EXTENSIONS = new Set([OID_CRL_NUMBER, '2.5.29.35']);
const KNOWN_ENTRY_EXTENSIONS = new Set(['2.5.29.21', '2.5.29.24']);

function crlLabel(crl: Pick<Crl, 'issuer'>): string {
  return `CRL of ${describeName(crl.issuer)}`;
}

/**
 * Parses a DER CRL.
 *
 * @throws {VerificationError} `ERR_CRL_INVALID` when the DER is malformed, the version is
 *   not 1 or 2, or it carries a critical extension twi does not process (RFC 5280 §5.2).
 */
export function parseCrlDer(der: Uint8Array, field = 'crl'): Crl {
  try {
    return parseCrlUnchecked(new Uint8Array(der), field);
  } catch (err) {
    if (isTwiError(err) && err.code === 'ERR_CRL_INVALID') throw err;
    const msg = err instanceof Error ? err.message : String(err);
    throw new VerificationError('ERR_CRL_INVALID', `malformed CRL: ${msg}`, field, { cause: err });
  }
}

function parseCrlUnchecked(der: Uint8Array, field: string): Crl {
  const [tbsNode, algNode, sigNode] = readSequence(decodeDer(der, field), field);
  const items = readSequence(tbsNode, `${field}.tbsCertList`);
  const tagAt = (k: number): number | undefined =>
    items[k] === undefined ? undefined : tagOf(items[k]!);
  let i = 0;
  let version = 1;
  if (tagAt(0) === Tag.INTEGER) version = readSmallInt(items[i++], `${field}.version`, 1, 1) + 1;
  const tbsAlg = parseSignatureAlgorithm(items[i++], `${field}.signature`);
  const issuer = parseName(items[i++], `${field}.issuer`);
  const thisUpdate = readTime(items[i++], `${field}.thisUpdate`);
  let nextUpdate: Date | undefined;
  if (tagAt(i) === Tag.UTC_TIME || tagAt(i) === Tag.GENERALIZED_TIME) {
    nextUpdate = readTime(items[i++], `${field}.nextUpdate`);
  }
  let entries: RevokedEntry[] = [];
  if (tagAt(i) === Tag.SEQUENCE) entries = parseRevoked(items[i++]!, `${field}.revoked`);
  let extensions = new Map<string, Extension>();
  if (tagAt(i) === contextTag(0, true)) {
    const [exts] = childrenOf(items[i++]!, `${field}.crlExtensions`);
    extensions = parseExtensions(exts, `${field}.crlExtensions`);
  }
  if (i !== items.length) throw invalid(`unexpected field in ${field}`, field);
  const signatureAlgorithm = parseSignatureAlgorithm(algNode, `${field}.signatureAlgorithm`);
  if (!Buffer.from(signatureAlgorithm.der).equals(tbsAlg.der)) {
    throw invalid('signatureAlgorithm differs from tbsCertList.signature', field);
  }
  rejectUnknownCritical(extensions, KNOWN_CRL_EXTENSIONS, field);
  const crlNumberExt = extensions.get(OID_CRL_NUMBER);
  const crl: Crl = {
    der,
    sha256: sha256Hex(der),
    version,
    issuer,
    thisUpdate,
    nextUpdate,
    revoked: new Map(entries.map((e) => [e.serial, e])),
    entries: Object.freeze(entries),
    crlNumber: crlNumberExt && readInteger(decodeDer(crlNumberExt.value, 'cRLNumber'), 'cRLNumber'),
    extensions,
    signatureAlgorithm,
    tbs: tlvOf(tbsNode!),
    signature: readBitString(sigNode, `${field}.signatureValue`).bytes,
  };
  return Object.freeze(crl);
}

function parseRevoked(node: Block, field: string): RevokedEntry[] {
  const out: RevokedEntry[] = [];
  for (const entry of readSequence(node, field)) {
    const [serialNode, dateNode, extsNode, ...extra] = readSequence(entry, field);
    if (extra.length > 0) throw invalid('extra fields in a revoked entry', field);
    const serial = readInteger(serialNode, `${field}.userCertificate`);
    const revocationDate = readTime(dateNode, `${field}.revocationDate`);
    let extensions = new Map<string, Extension>();
    if (extsNode !== undefined) {
      extensions = parseExtensions(extsNode, `${field}.crlEntryExtensions`);
      rejectUnknownCritical(extensions, KNOWN_ENTRY_EXTENSIONS, field);
    }
    out.push(Object.freeze({ serial, revocationDate, extensions }));
  }
  return out;
}

function rejectUnknownCritical(
  exts: ReadonlyMap<string, Extension>,
  known: ReadonlySet<string>,
  field: string,
): void {
  for (const ext of exts.values()) {
    if (ext.critical && !known.has(ext.oid)) {
      throw invalid(`unsupported critical extension ${ext.oid}`, field);
    }
  }
}

function invalid(message: string, subject: string): VerificationError {
  return new VerificationError('ERR_CRL_INVALID', message, subject);
}

/**
 * Checks the CRL's signature with `issuer`'s public key; the CRL's issuer name must equal
 * the certificate's subject, and a keyUsage on the issuer must include cRLSign.
 *
 * @throws {VerificationError} `ERR_CRL_INVALID` on a name mismatch, unsupported algorithm
 *   or bad signature.
 */
export function verifyCrlSignature(crl: Crl, issuer: Certificate): VerifiedCrl {
  const label = crlLabel(crl);
  if (!Buffer.from(crl.issuer.der).equals(issuer.subject.der)) {
    throw invalid(`${label} is not issued by ${certLabel(issuer)}`, label);
  }
  // RFC 5280 §6.3.3 (f): the CRL issuer's key must be allowed to sign CRLs.
  if (issuer.keyUsage !== undefined && !issuer.keyUsage.has('cRLSign')) {
    throw invalid(`${label}: ${certLabel(issuer)} may not sign CRLs (keyUsage)`, label);
  }
  if (!isSupportedAlgorithm(crl.signatureAlgorithm)) {
    throw invalid(`${label}: unsupported signature algorithm ${crl.signatureAlgorithm.oid}`, label);
  }
  if (!verifySignature(crl.signatureAlgorithm, crl.tbs, crl.signature, issuer.x509.publicKey)) {
    throw invalid(`${label}: signature does not verify with ${certLabel(issuer)}`, label);
  }
  return Object.freeze({ crl, issuerSha256: issuer.sha256, issuerCn: issuer.subjectCn });
}

/**
 * Checks `thisUpdate <= now <= nextUpdate` (RFC 5280 §6.3.3 (a)). A CRL without
 * nextUpdate cannot be judged current and is refused.
 *
 * @throws {VerificationError} `ERR_CRL_EXPIRED` outside the window, `ERR_CRL_INVALID`
 *   without nextUpdate.
 */
export function checkCrlCurrent(crl: Crl, now: Date): void {
  const label = crlLabel(crl);
  if (crl.nextUpdate === undefined) throw invalid(`${label} has no nextUpdate`, label);
  if (now.getTime() < crl.thisUpdate.getTime()) {
    throw new VerificationError(
      'ERR_CRL_EXPIRED',
      `${label} is not yet valid: thisUpdate ${crl.thisUpdate.toISOString()} is after ${now.toISOString()}`,
      label,
    );
  }
  if (now.getTime() > crl.nextUpdate.getTime()) {
    throw new VerificationError(
      'ERR_CRL_EXPIRED',
      `${label} expired: nextUpdate ${crl.nextUpdate.toISOString()} is before ${now.toISOString()}`,
      label,
    );
  }
}

/** True when `serial` is listed. */
export function isRevoked(crl: Crl, serial: bigint): boolean {
  return crl.revoked.has(serial);
}
