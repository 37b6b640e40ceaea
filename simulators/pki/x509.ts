/**
 * X.509 v3 certificates and v2 CRLs (RFC 5280) built from a plain description and signed
 * with a simulator key: ecdsa-with-SHA256 (P-256), ecdsa-with-SHA384 (P-384) or
 * RSASSA-PSS with SHA-384 (RSA), the algorithm following the issuer key.
 *
 * @module
 */
import {
  bitString,
  boolean,
  enumerated,
  explicit,
  integer,
  nullValue,
  octetString,
  oid,
  printableString,
  sequence,
  set,
  time,
  utf8String,
} from './der.js';
import { ecdsaRawToDer, type SimKeyPair } from './keys.js';

/** Attribute types the vendors' names use. */
export type DnAttribute = 'C' | 'ST' | 'L' | 'O' | 'OU' | 'CN';

/** A distinguished name as an ordered list of single-attribute RDNs, encoded in this order. */
export type DistinguishedName = readonly (readonly [DnAttribute, string])[];

/** One certificate or CRL extension; `value` is the DER that goes inside extnValue. */
export interface Extension {
  oid: string;
  critical?: boolean;
  value: Uint8Array;
}

/** Description of a certificate to issue. */
export interface CertificateSpec {
  serial: bigint;
  issuer: DistinguishedName;
  subject: DistinguishedName;
  notBefore: Date;
  notAfter: Date;
  /** Key whose SubjectPublicKeyInfo the certificate carries. */
  subjectKey: SimKeyPair;
  /** Key that signs; an EC key signs with ECDSA, an RSA key with RSASSA-PSS-SHA384. */
  issuerKey: SimKeyPair;
  extensions: readonly Extension[];
  /** Encode RSASSA-PSS-params with an explicit `trailerField 1`, as AMD's ARK/ASK/ASVK do. */
  pssTrailerField?: boolean;
}

/** A certificate issued by a simulated CA, with the key it certifies. */
export interface IssuedCert<K extends SimKeyPair = SimKeyPair> {
  der: Uint8Array;
  pem: string;
  key: K;
  serial: bigint;
}

/** One revoked certificate in a CRL. */
export interface RevokedEntry {
  serial: bigint;
  /** Defaults to the CRL's thisUpdate. */
  revocationDate?: Date;
  /** CRLReason code (RFC 5280 §5.3.1); defaults to 1, keyCompromise, as Intel's PCK CRLs carry. */
  reason?: number | null;
}

/** Description of a CRL to sign. */
export interface CrlSpec {
  issuer: DistinguishedName;
  issuerKey: SimKeyPair;
  thisUpdate: Date;
  nextUpdate: Date;
  revoked?: readonly (bigint | RevokedEntry)[];
  extensions: readonly Extension[];
  pssTrailerField?: boolean;
}

/** Object identifiers used across the profiles. */
export const Oids = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  rsassaPss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  sha384: '2.16.840.1.101.3.4.2.2',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  crlNumber: '2.5.29.20',
  crlReason: '2.5.29.21',
  crlDistributionPoints: '2.5.29.31',
  authorityKeyIdentifier: '2.5.29.35',
} as const;

const ATTRIBUTE_OIDS: Record<DnAttribute, string> = {
  C: '2.5.4.6',
  ST: '2.5.4.8',
  L: '2.5.4.7',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  CN: '2.5.4.3',
};

/** Name DER: countryName as PrintableString, every other attribute as UTF8String (all three vendors). */
export function encodeName(dn: DistinguishedName): Uint8Array {
  return sequence(
    ...dn.map(([type, value]) =>
      set(
        sequence(
          oid(ATTRIBUTE_OIDS[type]),
          type === 'C' ? printableString(value) : utf8String(value),
        ),
      ),
    ),
  );
}

function rsassaPssSha384(trailerField: boolean): Uint8Array {
  const sha384 = sequence(oid(Oids.sha384), nullValue());
  return sequence(
    oid(Oids.rsassaPss),
    sequence(
      explicit(0, sha384),
      explicit(1, sequence(oid(Oids.mgf1), sha384)),
      explicit(2, integer(48)),
      ...(trailerField ? [explicit(3, integer(1))] : []),
    ),
  );
}

/** AlgorithmIdentifier for signatures made by `key`. @internal */
export function signatureAlgorithmFor(key: SimKeyPair, pssTrailerField = false): Uint8Array {
  if (key.kind === 'rsa') return rsassaPssSha384(pssTrailerField);
  return sequence(oid(key.curve === 'P-256' ? Oids.ecdsaWithSha256 : Oids.ecdsaWithSha384));
}

/** Signature value bytes (DER ECDSA-Sig-Value, or the raw RSASSA-PSS block). @internal */
export function signWith(key: SimKeyPair, data: Uint8Array): Uint8Array {
  return key.kind === 'rsa' ? key.signPss(data) : ecdsaRawToDer(key.signRaw(data));
}

function encodeExtensions(extensions: readonly Extension[]): Uint8Array {
  return sequence(
    ...extensions.map((e) =>
      sequence(oid(e.oid), ...(e.critical ? [boolean(true)] : []), octetString(e.value)),
    ),
  );
}

function signed(tbs: Uint8Array, key: SimKeyPair, pssTrailerField = false): Uint8Array {
  const algorithm = signatureAlgorithmFor(key, pssTrailerField);
  return sequence(tbs, algorithm, bitString(signWith(key, tbs)));
}

/** The TBSCertificate DER of `spec` (RFC 5280 §4.1). @internal */
export function encodeTbsCertificate(spec: CertificateSpec): Uint8Array {
  if (spec.notAfter.getTime() < spec.notBefore.getTime()) {
    throw new RangeError('notAfter is before notBefore');
  }
  return sequence(
    explicit(0, integer(2)),
    integer(spec.serial),
    signatureAlgorithmFor(spec.issuerKey, spec.pssTrailerField),
    encodeName(spec.issuer),
    sequence(time(spec.notBefore), time(spec.notAfter)),
    encodeName(spec.subject),
    spec.subjectKey.spki,
    ...(spec.extensions.length ? [explicit(3, encodeExtensions(spec.extensions))] : []),
  );
}

/**
 * Issues a certificate: encodes the TBSCertificate and signs it with `spec.issuerKey`.
 *
 * @example
 * ```ts
 * const root = issueCertificate({ serial: 1n, issuer: dn, subject: dn, notBefore, notAfter,
 *   subjectKey: key, issuerKey: key, extensions: [basicConstraints(true)] });
 * new X509Certificate(root.der).verify(key.publicKey); // true
 * ```
 */
export function issueCertificate<K extends SimKeyPair>(
  spec: CertificateSpec & { subjectKey: K },
): IssuedCert<K> {
  const der = signed(encodeTbsCertificate(spec), spec.issuerKey, spec.pssTrailerField);
  return { der, pem: toPem(der), key: spec.subjectKey, serial: spec.serial };
}

function encodeRevoked(entry: bigint | RevokedEntry, thisUpdate: Date): Uint8Array {
  const e = typeof entry === 'bigint' ? { serial: entry } : entry;
  const reason = e.reason === undefined ? 1 : e.reason;
  return sequence(
    integer(e.serial),
    time(e.revocationDate ?? thisUpdate),
    ...(reason === null
      ? []
      : [sequence(sequence(oid(Oids.crlReason), octetString(enumerated(reason))))]),
  );
}

/** Signs a v2 CRL (RFC 5280 §5.1) and returns its DER. */
export function buildCrl(spec: CrlSpec): Uint8Array {
  const revoked = spec.revoked ?? [];
  const tbs = sequence(
    integer(1),
    signatureAlgorithmFor(spec.issuerKey, spec.pssTrailerField),
    encodeName(spec.issuer),
    time(spec.thisUpdate),
    time(spec.nextUpdate),
    ...(revoked.length ? [sequence(...revoked.map((r) => encodeRevoked(r, spec.thisUpdate)))] : []),
    ...(spec.extensions.length ? [explicit(0, encodeExtensions(spec.extensions))] : []),
  );
  return signed(tbs, spec.issuerKey, spec.pssTrailerField);
}

/** PEM armour with 64-character lines and a final newline. */
export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Concatenated PEM of several certificates, in the order given. */
export function pemChain(...certs: readonly { pem: string }[]): string {
  return certs.map((c) => c.pem).join('');
}
