/**
 * Small ASN.1 and PEM helpers the CA shares, on asn1js and pkijs: strict DER decoding (no
 * truncation, no trailing bytes, definite lengths only), PEM armour, the object identifiers of
 * the profile, key identifiers and certificate times. node:crypto does the signature math; the
 * pkijs engine used for signing wraps Node's WebCrypto (`globalThis.crypto`).
 *
 * @internal
 * @module
 */
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { decodeStrictDer, oidAsDecoded } from '../../common/x509/twi-extension.js';

/** Object identifiers the profile uses (RFC 5280, RFC 5480, RFC 8410, RFC 2985). */
export const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  p256: '1.2.840.10045.3.1.7',
  p384: '1.3.132.0.34',
  ed25519: '1.3.101.112',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  ecdsaSha512: '1.2.840.10045.4.3.4',
  extensionRequest: '1.2.840.113549.1.9.14',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** The pkijs crypto engine over Node's WebCrypto, passed explicitly (no global engine state). */
export const ENGINE = new pkijs.CryptoEngine({
  name: 'node-webcrypto',
  crypto: (globalThis.crypto ?? webcrypto) as unknown as pkijs.CryptoEngineParameters['crypto'],
});

/** PEM armour of DER bytes (RFC 7468), 64 characters a line. */
export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Every certificate of a PEM bundle, in order, as DER. */
export function certificatesFromPem(pem: string): Uint8Array[] {
  const re = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*)-----END CERTIFICATE-----/g;
  return [...pem.matchAll(re)].map(
    (m) => new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')),
  );
}

/**
 * A key identifier: the leftmost 160 bits of the SHA-256 of the subjectPublicKey BIT STRING
 * value (RFC 7093 §2 method 1).
 */
export function keyIdentifier(spki: pkijs.PublicKeyInfo): Uint8Array {
  const bits = spki.subjectPublicKey.valueBlock.valueHexView;
  return new Uint8Array(createHash('sha256').update(bits).digest().subarray(0, 20));
}

/**
 * A certificate serial number: 16 bytes from the CSPRNG, the top bit cleared so the INTEGER is
 * positive and drawn again while the first byte is zero so the DER stays 16 bytes and minimal.
 */
export function randomSerial(): Uint8Array {
  for (;;) {
    const bytes = randomBytes(16);
    bytes[0]! &= 0x7f;
    if (bytes[0] !== 0) return new Uint8Array(bytes);
  }
}

/** A certificate time: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
export function certificateTime(date: Date): pkijs.Time {
  const whole = new Date(Math.floor(date.getTime() / 1000) * 1000);
  const type =
    whole.getUTCFullYear() < 2050 ? pkijs.TimeType.UTCTime : pkijs.TimeType.GeneralizedTime;
  return new pkijs.Time({ type, value: whole });
}

/** A KeyUsage BIT STRING with the named bits (0 = digitalSignature … 6 = cRLSign) set, in DER. */
export function keyUsageBits(bits: readonly number[]): asn1js.BitString {
  const byte = bits.reduce((acc, bit) => acc | (0x80 >> bit), 0);
  const last = Math.max(...bits);
  return new asn1js.BitString({ valueHex: new Uint8Array([byte]), unusedBits: 7 - last });
}

/** The KeyUsage bits set in an extension value, or `undefined` when it does not decode. */
export function readKeyUsage(extnValue: Uint8Array): Set<number> | undefined {
  const value = decodeStrictDer(extnValue);
  if (!(value instanceof asn1js.BitString)) return undefined;
  const bytes = value.valueBlock.valueHexView;
  const set = new Set<number>();
  bytes.forEach((byte, i) => {
    for (let bit = 0; bit < 8; bit++) if (byte & (0x80 >> bit)) set.add(i * 8 + bit);
  });
  return set;
}

/** One extension of a certificate or request, by OID (as written or as asn1js reads it). */
export function findExtension(
  extensions: readonly pkijs.Extension[] | undefined,
  oid: string,
): pkijs.Extension | undefined {
  const read = oidAsDecoded(oid);
  return extensions?.find((e) => e.extnID === oid || e.extnID === read);
}

/** The DER bytes of an extension's value (the contents of extnValue). */
export function extensionValue(extension: pkijs.Extension): Uint8Array {
  return extension.extnValue.valueBlock.valueHexView;
}

/** A new extension with its value encoded from an ASN.1 object. */
export function makeExtension(
  extnID: string,
  critical: boolean,
  value: { toBER(sizeOnly?: boolean): ArrayBuffer },
): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical, extnValue: value.toBER(false) });
}

/**
 * The key-identifier pair of an end-entity certificate: authorityKeyIdentifier naming the
 * issuing CA's `caKeyId`, subjectKeyIdentifier of `spki` (both non-critical, RFC 5280 §4.2.1.1-2).
 */
export function keyIdentifierExtensions(
  caKeyId: Uint8Array,
  spki: pkijs.PublicKeyInfo,
): pkijs.Extension[] {
  return [
    makeExtension(
      OID.authorityKeyIdentifier,
      false,
      new pkijs.AuthorityKeyIdentifier({
        keyIdentifier: new asn1js.OctetString({ valueHex: caKeyId }),
      }).toSchema(),
    ),
    makeExtension(
      OID.subjectKeyIdentifier,
      false,
      new asn1js.OctetString({ valueHex: keyIdentifier(spki) }),
    ),
  ];
}
