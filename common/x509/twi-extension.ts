/**
 * The twi extension of workload identity certificates (docs/x509.md): a non-critical X.509
 * extension under a UUID arc (`2.25`, ITU-T X.667) carrying the credential's `jti` and the
 * SHA-256 of the EAR it was issued on, so a relying party can go from a TLS peer to its
 * provenance record.
 *
 * `TwiCredential ::= SEQUENCE { jti UTF8String, earDigest OCTET STRING (SIZE(32)) }`
 *
 * The CA (`service/ca/profile.ts`) writes it; relying parties (`wimse/mtls.ts`) read it. Decoding
 * is strict DER on asn1js and pkijs.
 *
 * @module
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { VerificationError } from '../errors.js';
import { isDerEncoded } from './decode.js';

/**
 * The twi extension's OID: `2.25.<UUID as a decimal integer>` (ITU-T X.667), from the UUID
 * 44df05f0-f841-4242-badd-aa994eb662f6, generated once for twi.
 */
export const TWI_EXTENSION_OID = '2.25.91545506416465743121520935205135082230';

/** Longest `jti` the extension carries, in UTF-8 bytes. */
export const MAX_JTI_BYTES = 256;

/** The content of the twi extension. */
export interface TwiExtension {
  /** The credential's `jti`: the key of its provenance record. */
  readonly jti: string;
  /** SHA-256 of the EAR (the compact JWS bytes) the credential was issued on. */
  readonly earSha256: Uint8Array;
}

/**
 * Decodes one DER value that fills `bytes` exactly, or returns `undefined`: truncated input,
 * trailing bytes, indefinite lengths and other non-DER encodings are refused: the headers must
 * pass the DER walk of `decode.ts`, and the value must encode back to the same bytes (which
 * also holds times to their canonical form). Unlike `decodeDer`, the contents of OCTET and BIT
 * STRINGs are decoded too, as pkijs expects.
 *
 * @internal
 */
export function decodeStrictDer(bytes: Uint8Array): asn1js.AsnType | undefined {
  if (bytes.byteLength === 0) return undefined;
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let parsed: asn1js.FromBerResult;
  try {
    parsed = asn1js.fromBER(view);
  } catch {
    return undefined;
  }
  if (parsed.offset !== bytes.byteLength || parsed.result.error !== '') return undefined;
  if (!isDerEncoded(parsed.result as asn1js.BaseBlock)) return undefined;
  const again = new Uint8Array(parsed.result.toBER(false));
  return Buffer.from(again).equals(Buffer.from(view)) ? parsed.result : undefined;
}

/**
 * How asn1js spells `oid` after decoding it. Arcs above 2^53 (a `2.25` UUID arc) come back as
 * `{hex}` rather than decimal, while they encode correctly; extensions read from DER are matched
 * on this spelling.
 *
 * @internal
 */
export function oidAsDecoded(oid: string): string {
  const der = new asn1js.ObjectIdentifier({ value: oid }).toBER(false);
  return (asn1js.fromBER(der).result as asn1js.ObjectIdentifier).getValue();
}

/** The twi extension's OID as asn1js spells it when decoding. */
const TWI_OID_AS_READ = oidAsDecoded(TWI_EXTENSION_OID);

/** Throws a `TypeError` naming what is wrong with an extension value. @internal */
export function checkTwiExtension(value: TwiExtension): void {
  if (typeof value.jti !== 'string' || value.jti === '')
    throw new TypeError('jti must be a non-empty string');
  if (Buffer.byteLength(value.jti, 'utf8') > MAX_JTI_BYTES)
    throw new TypeError(`jti is over ${MAX_JTI_BYTES} bytes`);
  if (!(value.earSha256 instanceof Uint8Array) || value.earSha256.byteLength !== 32) {
    throw new TypeError('earSha256 must be 32 bytes');
  }
}

/**
 * The DER value of the twi extension.
 *
 * @throws TypeError when the `jti` is empty or too long or the digest is not 32 bytes.
 * @internal
 */
export function encodeTwiExtension(value: TwiExtension): Uint8Array {
  checkTwiExtension(value);
  const seq = new asn1js.Sequence({
    value: [
      new asn1js.Utf8String({ value: value.jti }),
      new asn1js.OctetString({ valueHex: value.earSha256 }),
    ],
  });
  return new Uint8Array(seq.toBER(false));
}

function profileError(message: string): VerificationError {
  return new VerificationError('ERR_CERT_PROFILE', message, 'twi extension');
}

function parseCertificate(certDer: Uint8Array): pkijs.Certificate {
  const asn1 = decodeStrictDer(certDer);
  try {
    if (!asn1) throw new Error('not one DER value');
    return new pkijs.Certificate({ schema: asn1 });
  } catch {
    throw profileError('not a DER X.509 certificate');
  }
}

/** The certificate's twi extensions (matched on both spellings of the OID). */
function twiExtensions(cert: pkijs.Certificate): pkijs.Extension[] {
  return (cert.extensions ?? []).filter(
    (e) => e.extnID === TWI_EXTENSION_OID || e.extnID === TWI_OID_AS_READ,
  );
}

/**
 * Whether a certificate carries a twi extension at all (well-formed or not).
 *
 * @throws VerificationError `ERR_CERT_PROFILE` when the bytes are not a certificate.
 */
export function hasTwiExtension(certDer: Uint8Array): boolean {
  return twiExtensions(parseCertificate(certDer)).length > 0;
}

/**
 * Reads the twi extension of a certificate (for relying parties: from a TLS peer's certificate
 * to its provenance record).
 *
 * @example
 * ```ts
 * const { jti } = readTwiExtension(new Uint8Array(tlsSocket.getPeerCertificate().raw));
 * ```
 * @throws VerificationError `ERR_CERT_PROFILE` when the bytes are not a certificate or the
 *   extension is absent, critical, repeated or malformed.
 */
export function readTwiExtension(certDer: Uint8Array): TwiExtension {
  const found = twiExtensions(parseCertificate(certDer));
  if (found.length !== 1) throw profileError(`${found.length} twi extensions (one expected)`);
  if (found[0]!.critical) throw profileError('the twi extension must not be critical');
  const value = decodeStrictDer(found[0]!.extnValue.valueBlock.valueHexView);
  if (!(value instanceof asn1js.Sequence) || value.valueBlock.value.length !== 2) {
    throw profileError('the twi extension is not SEQUENCE { jti, earDigest }');
  }
  const [jti, digest] = value.valueBlock.value;
  if (!(jti instanceof asn1js.Utf8String) || !(digest instanceof asn1js.OctetString)) {
    throw profileError('the twi extension is not SEQUENCE { UTF8String, OCTET STRING }');
  }
  const out = {
    jti: jti.valueBlock.value,
    earSha256: new Uint8Array(digest.valueBlock.valueHexView),
  };
  try {
    checkTwiExtension(out);
  } catch (err) {
    throw profileError((err as Error).message);
  }
  return out;
}
