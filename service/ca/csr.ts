/**
 * The PKCS#10 certificate signing request (RFC 2986) of `POST /v1/attest`, as on the wire:
 * base64url DER, at most 8 KiB. `checkCsr` accepts a request only when it is one well-formed DER
 * CertificationRequest (version 1), its key is EC P-256, EC P-384 or Ed25519, its signature
 * verifies with that key (proof of possession; ECDSA with SHA-256/384/512, or Ed25519), the key is
 * the one bound into the evidence, it does not ask for a CA, and it names no subject alternative
 * name but, at most, exactly the workload identifier the policy assigned. The CA copies nothing
 * from the request but the public key. Every refusal is a `CsrError` with its code.
 *
 * @internal
 * @module
 */
import { createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import * as pkijs from 'pkijs';
import { decodeStrictDer } from '../../common/x509/twi-extension.js';
import { extensionValue, OID } from './asn1.js';
import { CsrError } from './errors.js';

/** Largest CSR accepted, in DER bytes. */
export const MAX_CSR_BYTES = 8192;

/** Largest CSR accepted, in base64url characters (the encoding of `MAX_CSR_BYTES`). */
export const MAX_CSR_CHARS = Math.ceil((MAX_CSR_BYTES * 4) / 3);

/** The key algorithms a CSR may carry, named by their JWS algorithm. */
export type CsrKeyAlg = 'ES256' | 'ES384' | 'EdDSA';

/** Node curve name → CSR key algorithm. */
const EC_CURVES: Readonly<Record<string, CsrKeyAlg>> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
};

/** ECDSA signature algorithm OID → hash (RFC 5758 §3.2). */
const ECDSA_HASHES: Readonly<Record<string, string>> = {
  [OID.ecdsaSha256]: 'sha256',
  [OID.ecdsaSha384]: 'sha384',
  [OID.ecdsaSha512]: 'sha512',
};

/** What the request must match. */
export interface CsrExpectation {
  /** The public key bound into the evidence (a JWK). */
  readonly key: JsonWebKey;
  /**
   * The workload identifier the policy assigned: the only SAN the request may name. When it is
   * not known yet (the service checks the request before it consumes the nonce), the request
   * may name no SAN or exactly one URI, returned as {@link CheckedCsr.requestedUri} for
   * {@link checkRequestedUri} once the identifier is assigned.
   */
  readonly workloadId?: string;
}

/** A request that passed every check. */
export interface CheckedCsr {
  /** The request's public key (equal to the expected key). */
  readonly publicKey: KeyObject;
  readonly keyAlg: CsrKeyAlg;
  /** The DER CertificationRequest. */
  readonly der: Uint8Array;
  /** The one URI the request names as subjectAltName, if any. */
  readonly requestedUri?: string;
}

const B64U = /^[A-Za-z0-9_-]*$/;

function refuse(
  code: ConstructorParameters<typeof CsrError>[0],
  message: string,
  cause?: unknown,
): never {
  throw new CsrError(code, message, cause === undefined ? undefined : { cause });
}

function decodeWire(csr: string | Uint8Array): Uint8Array {
  if (typeof csr !== 'string') {
    if (!(csr instanceof Uint8Array)) refuse('ERR_CSR_INVALID', 'the CSR is not a string');
    if (csr.byteLength > MAX_CSR_BYTES)
      refuse('ERR_CSR_TOO_LARGE', `the CSR is over ${MAX_CSR_BYTES} bytes`);
    return csr;
  }
  if (csr.length > MAX_CSR_CHARS)
    refuse('ERR_CSR_TOO_LARGE', `the CSR is over ${MAX_CSR_BYTES} bytes`);
  if (csr === '' || !B64U.test(csr) || csr.length % 4 === 1) {
    refuse('ERR_CSR_INVALID', 'the CSR is not base64url (unpadded)');
  }
  const der = new Uint8Array(Buffer.from(csr, 'base64url'));
  if (der.byteLength > MAX_CSR_BYTES)
    refuse('ERR_CSR_TOO_LARGE', `the CSR is over ${MAX_CSR_BYTES} bytes`);
  return der;
}

function parseRequest(der: Uint8Array): pkijs.CertificationRequest {
  const asn1 = decodeStrictDer(der);
  if (!asn1)
    refuse(
      'ERR_CSR_INVALID',
      'the CSR is not one DER value (truncated, trailing bytes or not DER)',
    );
  let request: pkijs.CertificationRequest;
  try {
    request = new pkijs.CertificationRequest({ schema: asn1 });
  } catch (err) {
    return refuse('ERR_CSR_INVALID', 'the CSR is not a PKCS#10 CertificationRequest', err);
  }
  if (request.version !== 0)
    refuse('ERR_CSR_INVALID', `CSR version ${request.version} (only v1, 0)`);
  return request;
}

function requestKey(request: pkijs.CertificationRequest): { key: KeyObject; alg: CsrKeyAlg } {
  const spki = request.subjectPublicKeyInfo;
  const oid = spki.algorithm.algorithmId;
  if (oid !== OID.ecPublicKey && oid !== OID.ed25519) {
    refuse(
      'ERR_CSR_UNSUPPORTED_ALG',
      `CSR key algorithm ${oid}: only EC P-256, EC P-384 and Ed25519`,
    );
  }
  let key: KeyObject;
  try {
    key = createPublicKey({
      key: Buffer.from(spki.toSchema().toBER(false)),
      format: 'der',
      type: 'spki',
    });
  } catch (err) {
    return refuse('ERR_CSR_INVALID', 'the CSR public key does not decode', err);
  }
  if (key.asymmetricKeyType === 'ed25519') return { key, alg: 'EdDSA' };
  const alg =
    key.asymmetricKeyType === 'ec'
      ? EC_CURVES[key.asymmetricKeyDetails?.namedCurve ?? '']
      : undefined;
  if (!alg) {
    refuse(
      'ERR_CSR_UNSUPPORTED_ALG',
      `CSR key curve ${key.asymmetricKeyDetails?.namedCurve ?? '?'}: only P-256 and P-384`,
    );
  }
  return { key, alg };
}

function checkSignature(request: pkijs.CertificationRequest, key: KeyObject, alg: CsrKeyAlg): void {
  const sigAlg = request.signatureAlgorithm;
  const oid = sigAlg.algorithmId;
  if (oid !== OID.ed25519 && !(oid in ECDSA_HASHES)) {
    refuse(
      'ERR_CSR_UNSUPPORTED_ALG',
      `CSR signature algorithm ${oid}: only ECDSA with SHA-2 and Ed25519`,
    );
  }
  if ((oid === OID.ed25519) !== (alg === 'EdDSA')) {
    refuse('ERR_CSR_INVALID', `CSR signature algorithm ${oid} does not fit its ${alg} key`);
  }
  if (sigAlg.algorithmParams !== undefined) {
    refuse('ERR_CSR_INVALID', 'CSR signature algorithm parameters must be absent');
  }
  const bits = request.signatureValue;
  if (bits.valueBlock.unusedBits !== 0)
    refuse('ERR_CSR_SIGNATURE', 'CSR signature has unused bits');
  let ok = false;
  try {
    ok = verify(
      oid === OID.ed25519 ? null : ECDSA_HASHES[oid]!,
      request.tbsView,
      key,
      bits.valueBlock.valueHexView,
    );
  } catch {
    ok = false;
  }
  if (!ok)
    refuse(
      'ERR_CSR_SIGNATURE',
      'the CSR signature does not verify with its key (no proof of possession)',
    );
}

function requestedExtensions(request: pkijs.CertificationRequest): pkijs.Extension[] {
  const requests = (request.attributes ?? []).filter((a) => a.type === OID.extensionRequest);
  if (requests.length === 0) return [];
  if (requests.length > 1 || requests[0]!.values.length !== 1) {
    refuse('ERR_CSR_INVALID', 'the CSR has more than one extensionRequest');
  }
  let extensions: pkijs.Extension[];
  try {
    extensions = new pkijs.Extensions({ schema: requests[0]!.values[0] }).extensions;
  } catch (err) {
    return refuse('ERR_CSR_INVALID', 'the CSR extensionRequest does not decode', err);
  }
  const ids = extensions.map((e) => e.extnID);
  if (new Set(ids).size !== ids.length)
    refuse('ERR_CSR_INVALID', 'the CSR requests an extension twice');
  return extensions;
}

function checkExtensions(
  extensions: pkijs.Extension[],
  workloadId: string | undefined,
): string | undefined {
  let requested: string | undefined;
  for (const ext of extensions) {
    if (ext.extnID === OID.basicConstraints) {
      const value = decodeStrictDer(extensionValue(ext));
      let ca: boolean;
      try {
        if (!value) throw new Error('not DER');
        ca = new pkijs.BasicConstraints({ schema: value }).cA === true;
      } catch (err) {
        return refuse('ERR_CSR_INVALID', 'the CSR basicConstraints does not decode', err);
      }
      if (ca)
        refuse(
          'ERR_CSR_CA_REQUESTED',
          'the CSR asks for a CA certificate (basicConstraints CA:true)',
        );
    } else if (ext.extnID === OID.subjectAltName) {
      const value = decodeStrictDer(extensionValue(ext));
      let names: pkijs.GeneralName[];
      try {
        if (!value) throw new Error('not DER');
        names = new pkijs.GeneralNames({ schema: value }).names;
      } catch (err) {
        return refuse('ERR_CSR_SAN', 'the CSR subjectAltName does not decode', err);
      }
      const [only] = names;
      const uri = only?.type === 6 && typeof only.value === 'string' ? only.value : undefined;
      if (names.length !== 1 || uri === undefined) {
        refuse('ERR_CSR_SAN', 'the CSR may name no SAN or exactly one URI');
      }
      requested = uri;
    }
  }
  if (workloadId !== undefined) checkRequestedUri(requested, workloadId);
  return requested;
}

/**
 * Checks the URI a request named (see {@link CheckedCsr.requestedUri}) against the workload
 * identifier the policy assigned.
 *
 * @throws CsrError `ERR_CSR_SAN` when it names another identifier.
 */
export function checkRequestedUri(requested: string | undefined, workloadId: string): void {
  if (requested !== undefined && requested !== workloadId) {
    refuse('ERR_CSR_SAN', `the CSR may name no SAN or exactly the URI ${workloadId}`);
  }
}

/**
 * Checks a certificate signing request against the key bound into the evidence and the
 * workload identifier the policy assigned.
 *
 * @param csr base64url DER (as on the wire) or DER bytes.
 * @throws CsrError `ERR_CSR_TOO_LARGE`, `ERR_CSR_INVALID` (not base64url, not one DER
 *   CertificationRequest v1: garbage, truncation, trailing bytes), `ERR_CSR_UNSUPPORTED_ALG`
 *   (a key other than EC P-256/P-384 or Ed25519, or another signature algorithm),
 *   `ERR_CSR_SIGNATURE`, `ERR_CSR_KEY_MISMATCH`, `ERR_CSR_CA_REQUESTED`, `ERR_CSR_SAN`.
 * @throws TypeError when `expect.key` is not a public key JWK (caller misuse).
 */
export function checkCsr(csr: string | Uint8Array, expect: CsrExpectation): CheckedCsr {
  let expected: KeyObject;
  try {
    expected = createPublicKey({ key: expect.key, format: 'jwk' });
  } catch (err) {
    throw new TypeError('the expected key is not a JWK', { cause: err });
  }
  const der = decodeWire(csr);
  const request = parseRequest(der);
  const { key, alg } = requestKey(request);
  checkSignature(request, key, alg);
  if (!key.equals(expected)) {
    refuse('ERR_CSR_KEY_MISMATCH', 'the CSR key is not the key bound into the evidence');
  }
  const requestedUri = checkExtensions(requestedExtensions(request), expect.workloadId);
  return { publicKey: key, keyAlg: alg, der, ...(requestedUri !== undefined && { requestedUri }) };
}
