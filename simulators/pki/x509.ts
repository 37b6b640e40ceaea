/**
 * X.509 v3 certificates and v2 CRLs (RFC 5280) built from a plain description and signed
 * with a simulator key: ecdsa-with-SHA256 (P-256), ecdsa-with-SHA384 (P-384) or
 * RSASSA-PSS with SHA-384 (RSA), the algorithm following the issuer key. The structures
 * are pkijs objects encoded as DER; the signatures are the simulator keys' own
 * deterministic ones (WebCrypto ECDSA is randomised), made over the encoded TBS.
 *
 * @module
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { der, integer, name, time } from './asn1.js';
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

/** countryName as PrintableString, every other attribute as UTF8String (all three vendors). */
function nameOf(dn: DistinguishedName): pkijs.RelativeDistinguishedNames {
  return name(
    dn.map(([type, value]) => {
      if (type !== 'C') return [ATTRIBUTE_OIDS[type], new asn1js.Utf8String({ value })];
      if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value)) {
        throw new TypeError(`${JSON.stringify(value)} is not a PrintableString`);
      }
      return [ATTRIBUTE_OIDS.C, new asn1js.PrintableString({ value })];
    }),
  );
}

/** Name DER: countryName as PrintableString, every other attribute as UTF8String (all three vendors). */
export function encodeName(dn: DistinguishedName): Uint8Array {
  return der(nameOf(dn).toSchema());
}

/** RSASSA-PSS-params for SHA-384; pkijs omits a default trailerField, AMD writes it out. */
function rsassaPssSha384(trailerField: boolean): pkijs.AlgorithmIdentifier {
  const sha384 = new pkijs.AlgorithmIdentifier({
    algorithmId: Oids.sha384,
    algorithmParams: new asn1js.Null(),
  });
  const params = new pkijs.RSASSAPSSParams({
    hashAlgorithm: sha384,
    maskGenAlgorithm: new pkijs.AlgorithmIdentifier({
      algorithmId: Oids.mgf1,
      algorithmParams: sha384.toSchema(),
    }),
    saltLength: 48,
  }).toSchema();
  if (trailerField) {
    params.valueBlock.value.push(
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 3 },
        value: [new asn1js.Integer({ value: 1 })],
      }),
    );
  }
  return new pkijs.AlgorithmIdentifier({ algorithmId: Oids.rsassaPss, algorithmParams: params });
}

function algorithmFor(key: SimKeyPair, pssTrailerField: boolean): pkijs.AlgorithmIdentifier {
  if (key.kind === 'rsa') return rsassaPssSha384(pssTrailerField);
  const algorithmId = key.curve === 'P-256' ? Oids.ecdsaWithSha256 : Oids.ecdsaWithSha384;
  return new pkijs.AlgorithmIdentifier({ algorithmId });
}

/** AlgorithmIdentifier DER for signatures made by `key`. @internal */
export function signatureAlgorithmFor(key: SimKeyPair, pssTrailerField = false): Uint8Array {
  return der(algorithmFor(key, pssTrailerField).toSchema());
}

/** Signature value bytes (DER ECDSA-Sig-Value, or the raw RSASSA-PSS block). @internal */
export function signWith(key: SimKeyPair, data: Uint8Array): Uint8Array {
  return key.kind === 'rsa' ? key.signPss(data) : ecdsaRawToDer(key.signRaw(data));
}

function extensionsOf(extensions: readonly Extension[]): pkijs.Extension[] {
  return extensions.map(
    (e) =>
      new pkijs.Extension({
        extnID: e.oid,
        critical: e.critical ?? false,
        extnValue: new Uint8Array(e.value).buffer,
      }),
  );
}

/**
 * Encodes `doc` and signs its TBS with the simulator key (deterministic, unlike WebCrypto's
 * ECDSA, which pkijs's own signing would use); returns the signed structure's DER.
 */
function signed(
  doc: pkijs.Certificate | pkijs.CertificateRevocationList,
  key: SimKeyPair,
): Uint8Array {
  const whole = doc.toSchema(true);
  const [tbs] = whole.valueBlock.value;
  const signature = signWith(key, der(tbs!));
  whole.valueBlock.value[2] = new asn1js.BitString({ valueHex: signature });
  return der(whole);
}

function certificateOf(spec: CertificateSpec): pkijs.Certificate {
  if (spec.notAfter.getTime() < spec.notBefore.getTime()) {
    throw new RangeError('notAfter is before notBefore');
  }
  const algorithm = algorithmFor(spec.issuerKey, spec.pssTrailerField ?? false);
  return new pkijs.Certificate({
    version: 2,
    serialNumber: integer(spec.serial),
    signature: algorithm,
    issuer: nameOf(spec.issuer),
    notBefore: time(spec.notBefore),
    notAfter: time(spec.notAfter),
    subject: nameOf(spec.subject),
    subjectPublicKeyInfo: pkijs.PublicKeyInfo.fromBER(spec.subjectKey.spki),
    ...(spec.extensions.length ? { extensions: extensionsOf(spec.extensions) } : {}),
    signatureAlgorithm: algorithm,
  });
}

/** The TBSCertificate DER of `spec` (RFC 5280 §4.1). @internal */
export function encodeTbsCertificate(spec: CertificateSpec): Uint8Array {
  return der(certificateOf(spec).encodeTBS());
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
  const der = signed(certificateOf(spec), spec.issuerKey);
  return { der, pem: toPem(der), key: spec.subjectKey, serial: spec.serial };
}

function revokedOf(entry: bigint | RevokedEntry, thisUpdate: Date): pkijs.RevokedCertificate {
  const e = typeof entry === 'bigint' ? { serial: entry } : entry;
  const reason = e.reason === undefined ? 1 : e.reason;
  return new pkijs.RevokedCertificate({
    userCertificate: integer(e.serial),
    revocationDate: time(e.revocationDate ?? thisUpdate),
    ...(reason === null
      ? {}
      : {
          crlEntryExtensions: new pkijs.Extensions({
            extensions: extensionsOf([
              { oid: Oids.crlReason, value: der(new asn1js.Enumerated({ value: reason })) },
            ]),
          }),
        }),
  });
}

/** Signs a v2 CRL (RFC 5280 §5.1) and returns its DER. */
export function buildCrl(spec: CrlSpec): Uint8Array {
  const revoked = spec.revoked ?? [];
  const algorithm = algorithmFor(spec.issuerKey, spec.pssTrailerField ?? false);
  const crl = new pkijs.CertificateRevocationList({
    version: 1,
    signature: algorithm,
    issuer: nameOf(spec.issuer),
    thisUpdate: time(spec.thisUpdate),
    nextUpdate: time(spec.nextUpdate),
    ...(revoked.length
      ? { revokedCertificates: revoked.map((r) => revokedOf(r, spec.thisUpdate)) }
      : {}),
    ...(spec.extensions.length
      ? { crlExtensions: new pkijs.Extensions({ extensions: extensionsOf(spec.extensions) }) }
      : {}),
    signatureAlgorithm: algorithm,
  });
  return signed(crl, spec.issuerKey);
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
