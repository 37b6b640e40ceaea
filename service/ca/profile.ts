/**
 * The workload identity certificate (docs/x509.md): a short-lived X.509 v3 certificate for one
 * workload identifier, following draft-ietf-wimse-workload-creds, draft-ietf-wimse-mutual-tls
 * and SPIFFE X509-SVID. Empty subject; exactly one URI SAN, the identifier, critical because the
 * subject is empty (RFC 5280 §4.1.2.6, X509-SVID §3.1); keyUsage digitalSignature (critical);
 * EKU clientAuth + serverAuth; basicConstraints CA:false (critical); AKI = the CA's SKI; SKI; a
 * 16-byte CSPRNG serial; and the non-critical twi extension carrying the credential's `jti` and
 * the SHA-256 of the EAR, so a relying party can find the provenance of a TLS peer.
 *
 * @internal
 * @module
 */
import { createHash, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import {
  checkTwiExtension,
  encodeTwiExtension,
  TWI_EXTENSION_OID,
  type TwiExtension,
} from '../../common/x509/twi-extension.js';
import { workloadIdProblem } from '../../wimse/identifier.js';
import {
  certificateTime,
  ENGINE,
  keyIdentifierExtensions,
  keyUsageBits,
  makeExtension,
  OID,
  randomSerial,
  toPem,
} from './asn1.js';
import { CaError } from './errors.js';
import { KEY_USAGE, type IssuingCa } from './issuer.js';

/** Default certificate lifetime: one hour. */
export const DEFAULT_CERT_LIFETIME_SECONDS = 3600;

/** Longest certificate lifetime accepted: one day (these are short-lived credentials). */
export const MAX_CERT_LIFETIME_SECONDS = 24 * 3600;

/** What to certify. */
export interface WorkloadCertificateRequest extends TwiExtension {
  /** The workload's public key (from a checked CSR). */
  readonly publicKey: KeyObject;
  /** The workload identifier (`spiffe://` or `wimse://`), the only SAN. */
  readonly workloadId: string;
  /** Lifetime in seconds (default one hour, at most one day); never past the CA's notAfter. */
  readonly lifetimeSeconds?: number;
  /** The issuance time (default: the clock). */
  readonly now?: Date;
}

/** An issued workload certificate. */
export interface IssuedCertificate {
  /** The certificate, DER. */
  readonly der: Uint8Array;
  /** The certificate, PEM. */
  readonly pem: string;
  /** Leaf, then the CA certificate and its issuers, DER: what `x509.chain` carries. */
  readonly chain: readonly Uint8Array[];
  /** The same chain as one PEM bundle. */
  readonly chainPem: string;
  /** The serial number, lowercase hex (16 bytes). */
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** The SHA-256 of an EAR as returned by the service (the compact JWS, ASCII bytes). */
export function earDigest(ear: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(ear, 'utf8').digest());
}

/**
 * Issues a workload identity certificate under `ca` (profile above).
 *
 * @throws TypeError on a bad request (identifier, key, jti, digest or lifetime).
 * @throws CaError `ERR_CA_EXPIRED` when the CA has no validity left to give.
 */
export async function issueWorkloadCertificate(
  ca: IssuingCa,
  request: WorkloadCertificateRequest,
): Promise<IssuedCertificate> {
  const problem = workloadIdProblem(request.workloadId);
  if (problem) throw new TypeError(`not a workload identifier: ${problem}`);
  checkTwiExtension(request);
  const lifetime = request.lifetimeSeconds ?? DEFAULT_CERT_LIFETIME_SECONDS;
  if (!Number.isInteger(lifetime) || lifetime <= 0 || lifetime > MAX_CERT_LIFETIME_SECONDS) {
    throw new TypeError(`lifetimeSeconds must be an integer in 1..${MAX_CERT_LIFETIME_SECONDS}`);
  }
  if (request.publicKey.type !== 'public') throw new TypeError('publicKey must be a public key');
  const now = new Date(Math.floor((request.now ?? new Date()).getTime() / 1000) * 1000);
  const end = new Date(Math.min(now.getTime() + lifetime * 1000, ca.notAfter.getTime()));
  if (end <= now) throw new CaError('ERR_CA_EXPIRED', 'the CA certificate has expired');

  const spki = pkijs.PublicKeyInfo.fromBER(
    request.publicKey.export({ format: 'der', type: 'spki' }),
  );
  const serial = randomSerial();
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ valueHex: serial });
  cert.issuer = pkijs.RelativeDistinguishedNames.fromBER(ca.subject);
  cert.subject = pkijs.RelativeDistinguishedNames.fromBER(new asn1js.Sequence().toBER(false));
  cert.notBefore = certificateTime(now);
  cert.notAfter = certificateTime(end);
  cert.subjectPublicKeyInfo = spki;
  cert.extensions = [
    makeExtension(OID.basicConstraints, true, new pkijs.BasicConstraints({ cA: false }).toSchema()),
    makeExtension(OID.keyUsage, true, keyUsageBits([KEY_USAGE.digitalSignature])),
    makeExtension(
      OID.extKeyUsage,
      false,
      new pkijs.ExtKeyUsage({ keyPurposes: [OID.clientAuth, OID.serverAuth] }).toSchema(),
    ),
    makeExtension(
      OID.subjectAltName,
      true,
      new pkijs.GeneralNames({
        names: [new pkijs.GeneralName({ type: 6, value: request.workloadId })],
      }).toSchema(),
    ),
    ...keyIdentifierExtensions(ca.keyId, spki),
    new pkijs.Extension({
      extnID: TWI_EXTENSION_OID,
      critical: false,
      extnValue: encodeTwiExtension(request).slice().buffer,
    }),
  ];
  await cert.sign(ca.signingKey, ca.hash, ENGINE);
  const der = new Uint8Array(cert.toSchema().toBER(false));
  const chain = [der, ...ca.chain];
  return {
    der,
    pem: toPem('CERTIFICATE', der),
    chain,
    chainPem: chain.map((c) => toPem('CERTIFICATE', c)).join(''),
    serial: Buffer.from(serial).toString('hex'),
    notBefore: now,
    notAfter: end,
  };
}
