/**
 * Builders for the standard X.509 extensions the vendor profiles use (RFC 5280 §4.2, §5.2),
 * and the two key-identifier conventions seen in the real certificates.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { der, integer } from './asn1.js';
import { Oids, type Extension } from './x509.js';

/** KeyUsage bits (RFC 5280 §4.2.1.3). */
export type KeyUsageFlag =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

const KEY_USAGE_BITS: Record<KeyUsageFlag, number> = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
};

/**
 * keyUsage. DER drops trailing zero bits; `unusedBits` overrides the count for issuers
 * that encode it otherwise (AMD's ASK/ASVK say 1 unused bit for keyCertSign alone).
 */
export function keyUsage(
  flags: readonly KeyUsageFlag[],
  opts: { critical?: boolean; unusedBits?: number } = {},
): Extension {
  const bits = flags.map((f) => KEY_USAGE_BITS[f]);
  const highest = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
  const unusedBits = opts.unusedBits ?? 7 - (highest & 7);
  if (!Number.isInteger(unusedBits) || unusedBits < 0 || unusedBits > 7) {
    throw new RangeError(`bad unused-bit count ${unusedBits}`);
  }
  return {
    oid: Oids.keyUsage,
    critical: opts.critical ?? true,
    value: der(new asn1js.BitString({ valueHex: bytes, unusedBits })),
  };
}

/** basicConstraints; `cA` FALSE is omitted (DER default), as in every vendor leaf. */
export function basicConstraints(ca: boolean, pathLen?: number, critical = true): Extension {
  return {
    oid: Oids.basicConstraints,
    critical,
    value: der(
      new pkijs.BasicConstraints({
        cA: ca,
        ...(pathLen === undefined ? {} : { pathLenConstraint: integer(pathLen) }),
      }).toSchema(),
    ),
  };
}

/** subjectKeyIdentifier. */
export function subjectKeyIdentifier(keyId: Uint8Array): Extension {
  return {
    oid: Oids.subjectKeyIdentifier,
    value: der(new asn1js.OctetString({ valueHex: keyId })),
  };
}

/** authorityKeyIdentifier with only `[0] keyIdentifier`. */
export function authorityKeyIdentifier(keyId: Uint8Array): Extension {
  const keyIdentifier = new asn1js.OctetString({ valueHex: keyId });
  const aki = new pkijs.AuthorityKeyIdentifier({ keyIdentifier });
  return { oid: Oids.authorityKeyIdentifier, value: der(aki.toSchema()) };
}

/** cRLDistributionPoints with one distribution point, one URI full name. */
export function crlDistributionPoint(uri: string): Extension {
  const point = new pkijs.DistributionPoint({
    distributionPoint: [new pkijs.GeneralName({ type: 6, value: uri })],
  });
  const points = new pkijs.CRLDistributionPoints({ distributionPoints: [point] });
  return { oid: Oids.crlDistributionPoints, value: der(points.toSchema()) };
}

/** cRLNumber (CRL extension). */
export function crlNumber(n: bigint | number): Extension {
  return { oid: Oids.crlNumber, value: der(integer(n)) };
}

/** reasonCode (CRL entry extension). @internal */
export function crlReason(code: number): Extension {
  return { oid: Oids.crlReason, value: der(new asn1js.Enumerated({ value: code })) };
}

/** SHA-1 over the whole SubjectPublicKeyInfo DER: the key identifier Intel's certificates use. */
export function keyIdOverSpki(spki: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha1').update(spki).digest());
}

/**
 * SHA-1 over the subjectPublicKey BIT STRING contents (RFC 5280 §4.2.1.2 method 1):
 * the key identifier AMD's and AWS's certificates use.
 */
export function keyIdOverPublicKey(spki: Uint8Array): Uint8Array {
  const bytes = pkijs.PublicKeyInfo.fromBER(spki).subjectPublicKey.valueBlock.valueHexView;
  return new Uint8Array(createHash('sha1').update(bytes).digest());
}
