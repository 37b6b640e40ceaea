/**
 * The SEV-SNP endorsements a caller supplied (spec digest C2): the VCEK or VLEK from
 * `snpKeyCert` or the GHCB certificate table, candidate ASK/ASVK/ARK certificates and the
 * AMD CRL. Every parse is cached under the SHA-256 of the bytes received, so a certificate
 * seen before costs one hash: its extensions, its profile checks and its public
 * `KeyObject` are computed once.
 *
 * @internal
 * @module
 */
import { sha256Hex } from '../../../../common/bytes.js';
import type { KeyObject } from 'node:crypto';
import { VerificationError } from '../../../../common/errors.js';
import { cached } from '../../../verify/cache.js';
import type { VerificationCache } from '../../../verify/cache.js';
import type { SuppliedEndorsements } from '../../../verify/types.js';
import {
  certLabel,
  parseCertificateDer,
  parsePemChain,
} from '../../../../common/x509/certificate.js';
import type { Certificate } from '../../../../common/x509/certificate.js';
import { parseCrlDer } from '../../../../common/x509/crl.js';
import type { Crl } from '../../../../common/x509/crl.js';
import type { SnpSigningKey } from '../abi/bit-fields.js';
import { parseSnpCertTable } from '../abi/cert-table.js';
import { SNP_PRODUCTS } from '../abi/types.js';
import type { SnpProduct } from '../abi/types.js';
import { parseVcekExtensions, productFromCertificate } from './vcek-extensions.js';
import type { VcekExtensions } from './vcek-extensions.js';

/** A VCEK or VLEK with everything the per-report checks need, computed once per certificate. */
export interface SnpKeyMaterial {
  readonly cert: Certificate;
  readonly kind: 'vcek' | 'vlek';
  readonly extensions: VcekExtensions;
  /** Product family from the productName extension (or the issuer CN). */
  readonly product: SnpProduct;
  /** The certificate's P-384 public key, ready for `crypto.verify`. */
  readonly publicKey: KeyObject;
}

/** The endorsements of one report, resolved. */
export interface SnpEndorsementSet {
  readonly key: SnpKeyMaterial;
  /** ASK/ASVK/ARK candidates the caller supplied (`snpCaChain`, then the cert table). */
  readonly intermediates: readonly Certificate[];
  /** The AMD CRL (`snpCrl`, else the cert table's CRL entry), parsed, not yet verified. */
  readonly crl: Crl | undefined;
}

interface CertTableContents {
  readonly vcek: Uint8Array | undefined;
  readonly vlek: Uint8Array | undefined;
  readonly cas: readonly Certificate[];
  readonly crl: Uint8Array | undefined;
}

const OID_RSASSA_PSS = '1.2.840.113549.1.1.10';

function isPem(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || (bytes[i]! >= 0x09 && bytes[i]! <= 0x0d))) i++;
  return Buffer.from(bytes.subarray(i, i + 11)).toString('latin1') === '-----BEGIN ';
}

/** PEM text, or one or more DER certificates back to back. */
function parseCertificates(bytes: Uint8Array, field: string): Certificate[] {
  if (isPem(bytes)) return parsePemChain(bytes, field);
  const out: Certificate[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const len = derLength(bytes, pos);
    out.push(parseCertificateDer(bytes.subarray(pos, pos + len), `${field}[${out.length}]`));
    pos += len;
  }
  if (out.length === 0) return parsePemChain(bytes, field);
  return out;
}

/** Total length of the TLV at `pos` (header + contents), clamped to the buffer. */
function derLength(bytes: Uint8Array, pos: number): number {
  const first = bytes[pos + 1] ?? 0;
  if ((first & 0x80) === 0) return Math.min(2 + first, bytes.length - pos);
  const n = first & 0x7f;
  let len = 0;
  for (let i = 0; i < n && i < 4; i++) len = len * 256 + (bytes[pos + 2 + i] ?? 0);
  return Math.min(2 + n + len, bytes.length - pos);
}

function profileError(cert: Certificate, message: string): VerificationError {
  return new VerificationError(
    'ERR_CERT_PROFILE',
    `${certLabel(cert)}: ${message}`,
    certLabel(cert),
  );
}

/** The VCEK/VLEK profile of spec digest C2.2 and C2.3, and the public key. */
function keyMaterialOf(cert: Certificate): SnpKeyMaterial {
  const extensions = parseVcekExtensions(cert);
  if (cert.signatureAlgorithm.oid !== OID_RSASSA_PSS || cert.signatureAlgorithm.hash !== 'sha384') {
    throw profileError(cert, 'signatureAlgorithm must be RSASSA-PSS with SHA-384');
  }
  const publicKey = cert.x509.publicKey;
  if (
    publicKey.asymmetricKeyType !== 'ec' ||
    publicKey.asymmetricKeyDetails?.namedCurve !== 'secp384r1'
  ) {
    throw profileError(cert, 'subjectPublicKeyInfo must be an ECDSA P-384 key');
  }
  const product = productFromCertificate(cert);
  if (!(SNP_PRODUCTS as readonly string[]).includes(product)) {
    throw profileError(cert, `product '${product}' is not an SEV-SNP product`);
  }
  return Object.freeze({
    cert,
    kind: extensions.keyKind === 'VLEK' ? 'vlek' : 'vcek',
    extensions,
    product: product as SnpProduct,
    publicKey,
  });
}

/**
 * Parses a VCEK or VLEK (DER or PEM) and prepares it for report verification: AMD
 * extensions, the certificate profile (RSASSA-PSS/SHA-384 signature, P-384 key, SEV-VCEK
 * or SEV-VLEK subject) and the public `KeyObject`. Cached by the SHA-256 of `bytes`,
 * failures included.
 *
 * @throws {EvidenceMalformedError} when the bytes are not one certificate.
 * @throws {VerificationError} `ERR_CERT_PROFILE` when the certificate breaks the profile.
 * @example
 * const key = loadSnpKeyCert(vcekDer, ctx.cache);
 * key.kind; // 'vcek'
 * key.product; // 'Milan'
 */
export function loadSnpKeyCert(bytes: Uint8Array, cache: VerificationCache): SnpKeyMaterial {
  return cached(cache, `sev-snp:key-cert:${sha256Hex(bytes)}`, () => {
    const certs = parseCertificates(bytes, 'snpKeyCert');
    if (certs.length !== 1) {
      throw profileError(certs[0]!, `snpKeyCert holds ${certs.length} certificates, not one`);
    }
    return keyMaterialOf(certs[0]!);
  });
}

/**
 * Parses ASK/ASVK/ARK certificates (PEM text, or DER certificates back to back), cached by
 * the SHA-256 of `bytes`.
 *
 * @throws {EvidenceMalformedError} when a certificate is malformed.
 * @example
 * const [ask, ark] = loadSnpCaCertificates(readFileSync('cert_chain.pem'), ctx.cache);
 */
export function loadSnpCaCertificates(
  bytes: Uint8Array,
  cache: VerificationCache,
): readonly Certificate[] {
  return cached(cache, `sev-snp:ca-certs:${sha256Hex(bytes)}`, () =>
    Object.freeze(parseCertificates(bytes, 'snpCaChain')),
  );
}

function loadCertTable(bytes: Uint8Array, cache: VerificationCache): CertTableContents {
  return cached(cache, `sev-snp:cert-table:${sha256Hex(bytes)}`, () => {
    const entries = parseSnpCertTable(bytes);
    const first = (kind: string) => entries.find((e) => e.kind === kind)?.data;
    const cas = entries
      .filter((e) => e.kind === 'ask' || e.kind === 'ark')
      .map((e, i) => parseCertificateDer(e.data, `snpCertTable.${e.kind}[${i}]`));
    return Object.freeze({
      vcek: first('vcek'),
      vlek: first('vlek'),
      cas: Object.freeze(cas),
      crl: first('crl'),
    });
  });
}

function loadCrl(bytes: Uint8Array, cache: VerificationCache): Crl {
  return cached(cache, `sev-snp:crl:${sha256Hex(bytes)}`, () => parseCrlDer(bytes, 'snpCrl'));
}

function pickKeyCert(
  e: SuppliedEndorsements,
  table: CertTableContents | undefined,
  signingKey: SnpSigningKey,
): Uint8Array {
  if (e.snpKeyCert !== undefined) return e.snpKeyCert;
  const fromTable =
    signingKey === 'vlek' ? (table?.vlek ?? table?.vcek) : (table?.vcek ?? table?.vlek);
  if (fromTable !== undefined) return fromTable;
  throw new VerificationError(
    'ERR_ENDORSEMENT_MISSING',
    `no ${signingKey === 'vlek' ? 'VLEK' : 'VCEK'} to verify the report with: supply snpKeyCert ` +
      'or a certificate table with a VCEK or VLEK entry',
    'snpKeyCert',
  );
}

/**
 * Resolves the key certificate, the supplied CA certificates and the CRL of one report.
 * The key certificate is `snpKeyCert` when given, else the cert table's entry for the
 * report's SIGNING_KEY (VCEK or VLEK GUID), else its other key entry.
 *
 * @throws {VerificationError} `ERR_ENDORSEMENT_MISSING` without any key certificate,
 *   `ERR_CERT_PROFILE`, `ERR_CRL_INVALID`; {@link EvidenceMalformedError} for bad bytes.
 * @example
 * const { key, intermediates, crl } = resolveSnpEndorsements(
 *   { snpCertTable: auxblob }, 'vcek', ctx.cache);
 */
export function resolveSnpEndorsements(
  e: SuppliedEndorsements,
  signingKey: SnpSigningKey,
  cache: VerificationCache,
): SnpEndorsementSet {
  const table = e.snpCertTable === undefined ? undefined : loadCertTable(e.snpCertTable, cache);
  const key = loadSnpKeyCert(pickKeyCert(e, table, signingKey), cache);
  const supplied = e.snpCaChain === undefined ? [] : loadSnpCaCertificates(e.snpCaChain, cache);
  const intermediates = table === undefined ? supplied : [...supplied, ...table.cas];
  const crlBytes = e.snpCrl ?? table?.crl;
  return {
    key,
    intermediates,
    crl: crlBytes === undefined ? undefined : loadCrl(crlBytes, cache),
  };
}
