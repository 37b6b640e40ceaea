/**
 * The service's issuing CA (ARCHITECTURE "X.509 workload credentials"): either a self-signed
 * root the service makes (ES256 on P-256 or ES384 on P-384; basicConstraints CA:true with
 * pathLen 0 and keyUsage keyCertSign + cRLSign, both critical; subject key identifier), or an
 * operator-supplied intermediate certificate with its chain and private key, checked before use:
 * the key matches the certificate, the certificate is a CA allowed to sign certificates and is
 * within its validity, and each chain certificate issued the one before it. Storage, rotation
 * and routes are not here.
 *
 * @internal
 * @module
 */
import {
  createPrivateKey,
  createPublicKey,
  X509Certificate,
  type KeyObject,
  type webcrypto,
} from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { decodeStrictDer } from '../../common/x509/twi-extension.js';
import {
  certificatesFromPem,
  certificateTime,
  ENGINE,
  extensionValue,
  findExtension,
  keyIdentifier,
  keyUsageBits,
  makeExtension,
  OID,
  randomSerial,
  readKeyUsage,
  toPem,
} from './asn1.js';
import { CaError } from './errors.js';
import { newKeyPair } from '../../common/key-pair.js';

/** The signature algorithms an issuing CA may use. */
export type CaAlg = 'ES256' | 'ES384';

/** Curve and hash of each CA algorithm. */
const CA_ALGS: Readonly<Record<CaAlg, { curve: string; webCurve: string; hash: string }>> = {
  ES256: { curve: 'prime256v1', webCurve: 'P-256', hash: 'SHA-256' },
  ES384: { curve: 'secp384r1', webCurve: 'P-384', hash: 'SHA-384' },
};

/** Default validity of a self-signed root: one year. */
export const DEFAULT_ROOT_VALIDITY_SECONDS = 365 * 24 * 3600;

/** KeyUsage bit numbers (RFC 5280 §4.2.1.3). */
export const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

/** An issuing CA ready to sign workload certificates. */
export interface IssuingCa {
  readonly alg: CaAlg;
  /** The hash the CA signs with (`SHA-256` for ES256, `SHA-384` for ES384). */
  readonly hash: string;
  /** The CA certificate, DER. */
  readonly certificate: Uint8Array;
  /** The CA certificate followed by its issuers up to the root, DER (a root: itself only). */
  readonly chain: readonly Uint8Array[];
  /** The CA's subject name, DER: the issuer name of what it issues. */
  readonly subject: Uint8Array;
  /** The CA's subject key identifier: the authority key identifier of what it issues. */
  readonly keyId: Uint8Array;
  /** The CA certificate's notAfter: nothing it issues outlives it. */
  readonly notAfter: Date;
  /** The private key (node:crypto), for storage by the caller. */
  readonly privateKey: KeyObject;
  /** The same key imported into WebCrypto for pkijs signing (not extractable). */
  readonly signingKey: webcrypto.CryptoKey;
}

/** How to make a self-signed root. */
export interface RootCaOptions {
  /** Subject commonName. */
  readonly commonName: string;
  /** Subject organizationName, when wanted. */
  readonly organization?: string;
  /** `ES256` (default) or `ES384`. */
  readonly alg?: CaAlg;
  /** Validity in seconds from `now` (default one year). */
  readonly validitySeconds?: number;
  /** The issuance time (default: the clock). */
  readonly now?: Date;
}

/** What an operator supplies to issue under an intermediate. */
export interface IntermediateCaInput {
  /** The CA certificate, PEM or DER. */
  readonly certificate: string | Uint8Array;
  /** Its issuers, nearest first, PEM (one bundle or one string each) or DER. */
  readonly chain?: readonly (string | Uint8Array)[];
  /** Its private key: PEM (PKCS#8 or SEC 1) or a KeyObject. */
  readonly privateKey: string | KeyObject;
  /** The load time for the validity check (default: the clock). */
  readonly now?: Date;
}

function algOfKey(key: KeyObject): CaAlg | undefined {
  if (key.asymmetricKeyType !== 'ec') return undefined;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return (Object.keys(CA_ALGS) as CaAlg[]).find((alg) => CA_ALGS[alg].curve === curve);
}

async function importSigningKey(privateKey: KeyObject, alg: CaAlg): Promise<webcrypto.CryptoKey> {
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  return ENGINE.subtle.importKey(
    'pkcs8',
    pkcs8,
    { name: 'ECDSA', namedCurve: CA_ALGS[alg].webCurve },
    false,
    ['sign'],
  );
}

function spkiDer(key: KeyObject): Buffer {
  return createPublicKey(key).export({ format: 'der', type: 'spki' });
}

/**
 * A distinguished name with one attribute per RDN, organizationName first (pkijs would put every
 * attribute into one multi-valued RDN), built as DER and read back so its bytes are kept.
 */
function name(commonName: string, organization?: string): pkijs.RelativeDistinguishedNames {
  const rdn = (type: string, value: string): asn1js.Set =>
    new asn1js.Set({
      value: [
        new asn1js.Sequence({
          value: [new asn1js.ObjectIdentifier({ value: type }), new asn1js.Utf8String({ value })],
        }),
      ],
    });
  const rdns = organization === undefined ? [] : [rdn(OID.organization, organization)];
  rdns.push(rdn(OID.commonName, commonName));
  return pkijs.RelativeDistinguishedNames.fromBER(
    new asn1js.Sequence({ value: rdns }).toBER(false),
  );
}

/**
 * Makes a self-signed root CA with a new key: version 3, a random 16-byte serial, subject =
 * issuer = O/CN as given, basicConstraints CA:true pathLen 0 (critical), keyUsage keyCertSign +
 * cRLSign (critical), subject key identifier.
 *
 * @throws TypeError on a bad option.
 */
export async function createRootCa(options: RootCaOptions): Promise<IssuingCa> {
  const alg = options.alg ?? 'ES256';
  if (!(alg in CA_ALGS)) throw new TypeError(`CA algorithm must be ES256 or ES384, not ${alg}`);
  if (typeof options.commonName !== 'string' || options.commonName === '') {
    throw new TypeError('the CA needs a non-empty commonName');
  }
  const validity = options.validitySeconds ?? DEFAULT_ROOT_VALIDITY_SECONDS;
  if (!Number.isInteger(validity) || validity <= 0) {
    throw new TypeError('validitySeconds must be a positive integer');
  }
  const now = options.now ?? new Date();
  const { privateKey } = newKeyPair('ec', { namedCurve: CA_ALGS[alg].curve });
  const spki = pkijs.PublicKeyInfo.fromBER(spkiDer(privateKey));
  const keyId = keyIdentifier(spki);
  const subject = name(options.commonName, options.organization);

  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ valueHex: randomSerial() });
  cert.issuer = subject;
  cert.subject = name(options.commonName, options.organization);
  cert.notBefore = certificateTime(now);
  cert.notAfter = certificateTime(new Date(now.getTime() + validity * 1000));
  cert.subjectPublicKeyInfo = spki;
  cert.extensions = [
    makeExtension(
      OID.basicConstraints,
      true,
      new pkijs.BasicConstraints({ cA: true, pathLenConstraint: 0 }).toSchema(),
    ),
    makeExtension(OID.keyUsage, true, keyUsageBits([KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign])),
    makeExtension(OID.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: keyId })),
  ];
  const signingKey = await importSigningKey(privateKey, alg);
  await cert.sign(signingKey, CA_ALGS[alg].hash, ENGINE);
  const der = new Uint8Array(cert.toSchema().toBER(false));
  return {
    alg,
    hash: CA_ALGS[alg].hash,
    certificate: der,
    chain: [der],
    subject: new Uint8Array(cert.subject.toSchema().toBER(false)),
    keyId,
    notAfter: cert.notAfter.value,
    privateKey,
    signingKey,
  };
}

function certificatesOf(input: string | Uint8Array, what: string): Uint8Array[] {
  if (typeof input !== 'string') return [input];
  const found = certificatesFromPem(input);
  if (found.length === 0) throw new CaError('ERR_CA_INVALID', `${what}: no PEM certificate`);
  return found;
}

function parseCertificate(der: Uint8Array, what: string): [X509Certificate, pkijs.Certificate] {
  const asn1 = decodeStrictDer(der);
  try {
    if (!asn1) throw new Error('not one DER value');
    return [new X509Certificate(der), new pkijs.Certificate({ schema: asn1 })];
  } catch (err) {
    throw new CaError('ERR_CA_INVALID', `${what} is not an X.509 certificate`, { cause: err });
  }
}

function isCaCertificate(cert: pkijs.Certificate): { ca: boolean; keyCertSign: boolean } {
  const bc = findExtension(cert.extensions, OID.basicConstraints);
  let ca = false;
  if (bc) {
    const value = decodeStrictDer(extensionValue(bc));
    try {
      ca = value !== undefined && new pkijs.BasicConstraints({ schema: value }).cA === true;
    } catch {
      ca = false;
    }
  }
  const ku = findExtension(cert.extensions, OID.keyUsage);
  const bits = ku ? readKeyUsage(extensionValue(ku)) : undefined;
  return { ca, keyCertSign: bits?.has(KEY_USAGE.keyCertSign) === true };
}

function readPrivateKey(input: string | KeyObject): KeyObject {
  if (typeof input !== 'string') {
    if (input.type !== 'private') throw new CaError('ERR_CA_INVALID', 'the CA key is not private');
    return input;
  }
  try {
    return createPrivateKey(input);
  } catch (err) {
    throw new CaError('ERR_CA_INVALID', 'the CA key is not a PEM private key', { cause: err });
  }
}

/**
 * Loads an operator-supplied intermediate (or root) CA: certificate, chain and private key.
 *
 * @throws CaError `ERR_CA_INVALID` (bytes that are not a certificate or key),
 *   `ERR_CA_UNSUPPORTED_ALG` (a key other than EC P-256/P-384), `ERR_CA_KEY_MISMATCH` (the key
 *   is not the certificate's), `ERR_CA_NOT_CA` (no basicConstraints CA:true or no keyCertSign),
 *   `ERR_CA_EXPIRED` (outside its validity), `ERR_CA_CHAIN` (a chain certificate that did not
 *   issue the one before it, or is not a CA).
 */
export async function loadIssuingCa(input: IntermediateCaInput): Promise<IssuingCa> {
  const now = input.now ?? new Date();
  const [leafDer, ...extra] = certificatesOf(input.certificate, 'the CA certificate');
  const chainDer = [...extra, ...(input.chain ?? []).flatMap((c) => certificatesOf(c, 'chain'))];
  const [x509, cert] = parseCertificate(leafDer!, 'the CA certificate');

  const privateKey = readPrivateKey(input.privateKey);
  const alg = algOfKey(privateKey);
  if (!alg) {
    throw new CaError(
      'ERR_CA_UNSUPPORTED_ALG',
      'the CA key must be EC P-256 (ES256) or P-384 (ES384)',
    );
  }
  if (!spkiDer(privateKey).equals(x509.publicKey.export({ format: 'der', type: 'spki' }))) {
    throw new CaError('ERR_CA_KEY_MISMATCH', 'the private key does not match the CA certificate');
  }
  const { ca, keyCertSign } = isCaCertificate(cert);
  if (!ca)
    throw new CaError('ERR_CA_NOT_CA', 'the certificate is not a CA (basicConstraints CA:true)');
  if (!keyCertSign)
    throw new CaError(
      'ERR_CA_NOT_CA',
      'the certificate may not sign certificates (keyUsage keyCertSign)',
    );
  if (now < cert.notBefore.value || now >= cert.notAfter.value) {
    throw new CaError('ERR_CA_EXPIRED', 'the CA certificate is outside its validity');
  }

  let child = x509;
  for (const [i, der] of chainDer.entries()) {
    const [parent, parsed] = parseCertificate(der, `chain certificate ${i}`);
    if (!isCaCertificate(parsed).ca) {
      throw new CaError('ERR_CA_CHAIN', `chain certificate ${i} is not a CA`);
    }
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      throw new CaError(
        'ERR_CA_CHAIN',
        `chain certificate ${i} did not issue the certificate before it`,
      );
    }
    child = parent;
  }

  const ski = findExtension(cert.extensions, OID.subjectKeyIdentifier);
  const skiValue = ski ? decodeStrictDer(extensionValue(ski)) : undefined;
  const keyId =
    skiValue instanceof asn1js.OctetString
      ? new Uint8Array(skiValue.valueBlock.valueHexView)
      : keyIdentifier(cert.subjectPublicKeyInfo);
  return {
    alg,
    hash: CA_ALGS[alg].hash,
    certificate: leafDer!,
    chain: [leafDer!, ...chainDer],
    subject: new Uint8Array(cert.subject.toSchema().toBER(false)),
    keyId,
    notAfter: cert.notAfter.value,
    privateKey,
    signingKey: await importSigningKey(privateKey, alg),
  };
}

/** The CA chain as one PEM bundle, CA certificate first. */
export function caChainPem(ca: IssuingCa): string {
  return ca.chain.map((der) => toPem('CERTIFICATE', der)).join('');
}
