/**
 * Parsed X.509 certificates: Node's `X509Certificate` (signatures, public key) plus the
 * TBS fields decoded as strict DER on asn1js (`decode.ts`: serial, validity, names,
 * extensions, algorithm), so nothing depends on the text forms Node prints.
 *
 * @internal
 * @module
 */
import { X509Certificate } from 'node:crypto';
import { EvidenceMalformedError } from '../errors.js';
import { sha256Hex } from '../bytes.js';
import { parseSignatureAlgorithm } from './algorithm.js';
import type { SignatureAlgorithm } from './algorithm.js';
import {
  childrenOf,
  contextTag,
  decodeDer,
  expectTag,
  offsetOf,
  readBitString,
  readBoolean,
  readInteger,
  readOctetString,
  readOid,
  readSequence,
  readSmallInt,
  readTime,
  Tag,
  tagOf,
  tlvOf,
} from './decode.js';
import type { Block } from './decode.js';
import { parseName } from './name.js';
import type { Name } from './name.js';

/** One certificate extension. */
export interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  /** The contents of extnValue (the DER the extension defines). */
  readonly value: Uint8Array;
}

/** basicConstraints (RFC 5280 §4.2.1.9). */
export interface BasicConstraints {
  readonly ca: boolean;
  readonly pathLen: number | undefined;
}

/** keyUsage bit names (RFC 5280 §4.2.1.3), in bit order. */
export const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;

/** One keyUsage bit name. */
export type KeyUsage = (typeof KEY_USAGE_BITS)[number];

/** A parsed certificate. */
export interface Certificate {
  /** The DER bytes. */
  readonly der: Uint8Array;
  /** Lowercase hex SHA-256 of the DER: the identity used for pinning and caching. */
  readonly sha256: string;
  /** Node's view, for signature checks and the public key. */
  readonly x509: X509Certificate;
  /** 1, 2 or 3. */
  readonly version: number;
  readonly serial: bigint;
  readonly issuer: Name;
  readonly subject: Name;
  /** Convenience: `issuer.cn`, `subject.cn`. */
  readonly issuerCn: string | undefined;
  readonly subjectCn: string | undefined;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /**
   * The SubjectPublicKeyInfo DER exactly as encoded (a view into `der`). Use it to compare
   * key algorithms or derive key identifiers; `x509.publicKey.export()` may re-encode it.
   */
  readonly spki: Uint8Array;
  readonly signatureAlgorithm: SignatureAlgorithm;
  /** Extensions by dotted OID, in encoding order. */
  readonly extensions: ReadonlyMap<string, Extension>;
  readonly basicConstraints: BasicConstraints | undefined;
  /** Set bits of keyUsage, or undefined when the extension is absent. */
  readonly keyUsage: ReadonlySet<KeyUsage> | undefined;
  /** The signed TBSCertificate bytes and the signature value. */
  readonly tbs: Uint8Array;
  readonly signature: Uint8Array;
}

/** id-ce-basicConstraints. */
export const OID_BASIC_CONSTRAINTS = '2.5.29.19';
/** id-ce-keyUsage. */
export const OID_KEY_USAGE = '2.5.29.15';

/** A label for messages: the subject CN, else the SHA-256 prefix. */
export function certLabel(cert: Certificate): string {
  return cert.subjectCn ?? `certificate ${cert.sha256.slice(0, 16)}`;
}

/**
 * Parses one DER certificate.
 *
 * @throws {EvidenceMalformedError} when the DER or a TBS field is malformed, or the
 *   subjectPublicKeyInfo does not decode to a key.
 * @example
 * const cert = parseCertificateDer(readFileSync('vcek.der'));
 * cert.subjectCn; // 'SEV-VCEK'
 */
export function parseCertificateDer(der: Uint8Array, field = 'certificate'): Certificate {
  const bytes = new Uint8Array(der);
  const [tbsNode, algNode, sigNode, ...extra] = readSequence(decodeDer(bytes, field), field);
  if (extra.length > 0) throw new EvidenceMalformedError('extra fields', { field, offset: 0 });
  const tbs = parseTbs(tbsNode, `${field}.tbsCertificate`);
  const signatureAlgorithm = parseSignatureAlgorithm(algNode, `${field}.signatureAlgorithm`);
  if (!Buffer.from(signatureAlgorithm.der).equals(tbs.signatureDer)) {
    // RFC 5280 §4.1.1.2: the outer algorithm MUST equal the TBS `signature` field.
    throw new EvidenceMalformedError('signatureAlgorithm differs from tbsCertificate.signature', {
      field,
      offset: offsetOf(algNode!),
    });
  }
  const signature = readBitString(sigNode, `${field}.signatureValue`).bytes;
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(bytes);
  } catch (err) {
    throw new EvidenceMalformedError('rejected by the X.509 parser', { field }, { cause: err });
  }
  checkPublicKey(x509, `${field}.tbsCertificate.subjectPublicKeyInfo`);
  const cert: Certificate = {
    der: bytes,
    sha256: sha256Hex(bytes),
    x509,
    ...tbs.fields,
    issuerCn: tbs.fields.issuer.cn,
    subjectCn: tbs.fields.subject.cn,
    signatureAlgorithm,
    tbs: tlvOf(tbsNode!),
    signature,
  };
  return Object.freeze(cert);
}

/**
 * Decodes the certificate's public key once, so that every later `x509.publicKey` of a
 * parsed certificate is safe: Node's X.509 parser accepts a SubjectPublicKeyInfo it cannot
 * turn into a key (unknown curve, point not on the curve, bad RSA integers) and only
 * throws, untyped, when the key is read.
 */
function checkPublicKey(x509: X509Certificate, field: string): void {
  try {
    void x509.publicKey;
  } catch (err) {
    throw new EvidenceMalformedError('the public key does not decode', { field }, { cause: err });
  }
}

type TbsFields = Pick<
  Certificate,
  | 'version'
  | 'serial'
  | 'issuer'
  | 'subject'
  | 'notBefore'
  | 'notAfter'
  | 'spki'
  | 'extensions'
  | 'basicConstraints'
  | 'keyUsage'
>;

function parseTbs(
  node: Block | undefined,
  field: string,
): { fields: TbsFields; signatureDer: Buffer } {
  const items = readSequence(node, field);
  let i = 0;
  let version = 1;
  if (items[0] !== undefined && tagOf(items[0]) === contextTag(0, true)) {
    const [v] = childrenOf(items[0], `${field}.version`);
    version = readSmallInt(v, `${field}.version`, 0, 2) + 1;
    i = 1;
  }
  const serial = readInteger(items[i], `${field}.serialNumber`);
  const signatureDer = Buffer.from(
    tlvOf(expectTag(items[i + 1], Tag.SEQUENCE, `${field}.signature`)),
  );
  const issuer = parseName(items[i + 2], `${field}.issuer`);
  const [nb, na] = readSequence(items[i + 3], `${field}.validity`);
  const notBefore = readTime(nb, `${field}.validity.notBefore`);
  const notAfter = readTime(na, `${field}.validity.notAfter`);
  const subject = parseName(items[i + 4], `${field}.subject`);
  const spki = tlvOf(expectTag(items[i + 5], Tag.SEQUENCE, `${field}.subjectPublicKeyInfo`));
  let extensions: Map<string, Extension> = new Map();
  for (const item of items.slice(i + 6)) {
    const tag = tagOf(item);
    if (tag === contextTag(3, true) && version === 3) {
      const [exts] = childrenOf(item, `${field}.extensions`);
      extensions = parseExtensions(exts, `${field}.extensions`);
    } else if (tag !== contextTag(1, false) && tag !== contextTag(2, false)) {
      throw new EvidenceMalformedError('unexpected field', { field, offset: offsetOf(item) });
    }
  }
  const fields: TbsFields = {
    version,
    serial,
    issuer,
    subject,
    notBefore,
    notAfter,
    spki,
    extensions,
    basicConstraints: basicConstraintsOf(extensions, field),
    keyUsage: keyUsageOf(extensions, field),
  };
  return { fields, signatureDer };
}

/** Parses an Extensions SEQUENCE (shared with CRLs). Duplicate OIDs are malformed (RFC 5280 §4.2). */
export function parseExtensions(node: Block | undefined, field: string): Map<string, Extension> {
  const out = new Map<string, Extension>();
  for (const ext of readSequence(node, field)) {
    const parts = readSequence(ext, field);
    const oid = readOid(parts[0], `${field}.extnID`);
    if (parts.length < 2 || parts.length > 3 || out.has(oid)) {
      throw new EvidenceMalformedError(`invalid or duplicate extension ${oid}`, {
        field,
        offset: offsetOf(ext),
      });
    }
    const critical = parts.length === 3 ? readBoolean(parts[1], `${field}.${oid}.critical`) : false;
    const value = readOctetString(parts[parts.length - 1], `${field}.${oid}.extnValue`);
    out.set(oid, { oid, critical, value });
  }
  return out;
}

function basicConstraintsOf(
  exts: ReadonlyMap<string, Extension>,
  field: string,
): BasicConstraints | undefined {
  const ext = exts.get(OID_BASIC_CONSTRAINTS);
  if (ext === undefined) return undefined;
  const f = `${field}.basicConstraints`;
  const items = readSequence(decodeDer(ext.value, f), f);
  let k = 0;
  let ca = false;
  if (items[k] !== undefined && tagOf(items[k]!) === Tag.BOOLEAN) {
    ca = readBoolean(items[k++], `${f}.cA`);
  }
  const pathLen =
    items[k] !== undefined ? readSmallInt(items[k++], `${f}.pathLen`, 0, 255) : undefined;
  if (k !== items.length) throw new EvidenceMalformedError('extra fields', { field: f });
  return { ca, pathLen };
}

function keyUsageOf(
  exts: ReadonlyMap<string, Extension>,
  field: string,
): ReadonlySet<KeyUsage> | undefined {
  const ext = exts.get(OID_KEY_USAGE);
  if (ext === undefined) return undefined;
  const f = `${field}.keyUsage`;
  const { bytes } = readBitString(decodeDer(ext.value, f), f);
  const set = new Set<KeyUsage>();
  KEY_USAGE_BITS.forEach((name, bit) => {
    const byte = bytes[bit >> 3];
    if (byte !== undefined && byte & (0x80 >> (bit & 7))) set.add(name);
  });
  return set;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----/g;

/**
 * Parses every PEM certificate in `text`, in order. Whitespace and NUL bytes between and
 * after the blocks are tolerated (quotes end their PCK chain with a NUL); any other text
 * outside a block is malformed.
 *
 * @throws {EvidenceMalformedError} when there is no block, stray text, or a bad certificate.
 * @example
 * const [leaf, ...rest] = parsePemChain(pemText);
 */
export function parsePemChain(text: string | Uint8Array, field = 'pem'): Certificate[] {
  const s = typeof text === 'string' ? text : Buffer.from(text).toString('latin1');
  const certs: Certificate[] = [];
  let last = 0;
  for (const m of s.matchAll(PEM_BLOCK)) {
    checkGap(s.slice(last, m.index), field, last);
    const b64 = m[1]!.replace(/\s+/g, '');
    if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
      throw new EvidenceMalformedError('PEM block is not valid base64', { field, offset: m.index });
    }
    const der = new Uint8Array(Buffer.from(b64, 'base64'));
    certs.push(parseCertificateDer(der, `${field}[${certs.length}]`));
    last = m.index + m[0].length;
  }
  checkGap(s.slice(last), field, last);
  if (certs.length === 0) throw new EvidenceMalformedError('no PEM certificate', { field });
  return certs;
}

function checkGap(gap: string, field: string, offset: number): void {
  if (!/^[\s\0]*$/.test(gap)) {
    throw new EvidenceMalformedError('unexpected text outside PEM blocks', { field, offset });
  }
}

/**
 * The subject CN of a DER certificate for descriptions (`twi inspect`), or null when the
 * bytes are not a certificate Node can read. Never throws.
 */
export function subjectCnOrNull(der: Uint8Array): string | null {
  try {
    const subject = new X509Certificate(der).subject;
    const line = subject.split('\n').find((l) => l.startsWith('CN='));
    return line === undefined ? null : line.slice(3);
  } catch {
    return null;
  }
}
