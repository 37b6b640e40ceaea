/**
 * The shim's PKCS#10 certificate signing request (RFC 2986) for the X.509 mode: built with
 * pkijs and asn1js, for the workload key bound into the evidence and signed by that key inside
 * the TEE (proof of possession), so the private key never leaves it. The request names no
 * subject alternative name (the service puts the workload identifier the policy assigns) and a
 * fixed subject the CA does not copy.
 *
 * @internal
 * @module
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { WorkloadKey } from './attester.js';

/** ECDSA signature algorithm OIDs (RFC 5758 §3.2) by the key's JWS algorithm. */
const ECDSA_WITH: Readonly<Record<WorkloadKey['alg'], string>> = {
  ES256: '1.2.840.10045.4.3.2',
  ES384: '1.2.840.10045.4.3.3',
};

/** The commonName of the request's subject (informative: the CA copies only the key). */
export const CSR_COMMON_NAME = 'twi workload';

/** A DER INTEGER's content for an unsigned big-endian number: minimal, non-negative. */
function unsignedInteger(bytes: Uint8Array): asn1js.Integer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const trimmed = bytes.subarray(i);
  const value = new Uint8Array(trimmed.length + ((trimmed[0] ?? 0) & 0x80 ? 1 : 0));
  value.set(trimmed, value.length - trimmed.length);
  return new asn1js.Integer({ valueHex: value });
}

/**
 * Converts a raw `r ‖ s` ECDSA signature (RFC 7518 §3.4) to the DER `ECDSA-Sig-Value` that
 * X.509 and PKCS#10 carry (RFC 5480 §2.2 / RFC 3279 §2.2.3).
 *
 * @throws {RangeError} when the length is odd or zero.
 */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0) {
    throw new RangeError('a raw ECDSA signature has two halves of equal length');
  }
  const half = raw.length / 2;
  const seq = new asn1js.Sequence({
    value: [unsignedInteger(raw.subarray(0, half)), unsignedInteger(raw.subarray(half))],
  });
  return new Uint8Array(seq.toBER(false));
}

/**
 * Builds a PKCS#10 request for `key`, signed by it (ECDSA with SHA-256 for ES256, SHA-384 for
 * ES384). Returns the DER CertificationRequest.
 */
export async function buildCsr(key: WorkloadKey): Promise<Uint8Array> {
  const csr = new pkijs.CertificationRequest();
  csr.version = 0;
  csr.subject.typesAndValues.push(
    new pkijs.AttributeTypeAndValue({
      type: '2.5.4.3',
      value: new asn1js.Utf8String({ value: CSR_COMMON_NAME }),
    }),
  );
  csr.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(key.spki);
  csr.signatureAlgorithm = new pkijs.AlgorithmIdentifier({ algorithmId: ECDSA_WITH[key.alg] });
  // encodeTBS is protected in the typings; it is the schema of certificationRequestInfo.
  const encoder = csr as unknown as { encodeTBS(): asn1js.Sequence };
  const tbs = new Uint8Array(encoder.encodeTBS().toBER(false));
  csr.tbsView = tbs;
  const signature = ecdsaRawToDer(await key.sign(tbs));
  csr.signatureValue = new asn1js.BitString({ valueHex: signature });
  return new Uint8Array(csr.toSchema().toBER(false));
}
