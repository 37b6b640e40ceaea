/**
 * The shim's X.509 workload certificate (docs/shim.md "X.509 mode"): the chain the verifier
 * issued for the shim's CSR, checked before it is served (the leaf carries the shim's key and
 * exactly the WIT's `sub` as its URI SAN, is not a CA and is valid now), and the PEM files the
 * workload reads: `svid.pem` (leaf, then its issuers) and `bundle.pem` (the trust bundle's
 * `x509-svid` authorities).
 *
 * @internal
 * @module
 */
import { X509Certificate } from 'node:crypto';
import { x509AuthoritiesOf, type X509Bundle } from '../wimse/x509-peer.js';
import { ShimError } from './errors.js';

/** An issued workload certificate. */
export interface X509Svid {
  /** DER certificates, leaf first. */
  readonly chain: readonly Uint8Array[];
  /** `svid.pem`: the chain as PEM, leaf first. */
  readonly pem: string;
  /** The leaf's URI SAN (the workload identifier). */
  readonly uri: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /**
   * The `jti` of the certificate's credential when it differs from the WIT's (a held key is
   * attested in its own exchange).
   */
  readonly jti?: string;
  /** `svid-key.pem`: the private key (PKCS#8 PEM), only when the workload holds the key. */
  readonly keyPem?: string;
}

/** PEM of one DER certificate. */
export function certificatePem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

function reject(message: string, cause?: unknown): never {
  throw new ShimError('ERR_SHIM_VERIFIER_RESPONSE', message, cause === undefined ? {} : { cause });
}

function uriSans(cert: X509Certificate): string[] {
  const text = cert.subjectAltName;
  if (!text) return [];
  // Node lists names as `TYPE:value, …` (values with separators are JSON-quoted).
  const uris: string[] = [];
  for (const m of text.matchAll(/(?:^|, )URI:("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    const v = m[1]!;
    uris.push(v.startsWith('"') ? (JSON.parse(v) as string) : v);
  }
  return uris;
}

/**
 * Checks the chain the verifier answered for the shim's request and returns it with its PEM.
 *
 * @throws {ShimError} `ERR_SHIM_VERIFIER_RESPONSE` when a certificate does not decode, the
 *   leaf's key is not `spki`, its URI SAN is not exactly `sub`, it is a CA, or it is not valid at
 *   `now`.
 */
export function checkSvid(
  chain: readonly Uint8Array[],
  spki: Uint8Array,
  sub: string,
  now: Date,
): X509Svid {
  let certs: X509Certificate[];
  try {
    certs = chain.map((der) => new X509Certificate(der));
  } catch (err) {
    return reject('the issued certificate chain does not decode', err);
  }
  const leaf = certs[0];
  if (!leaf) return reject('the issued certificate chain is empty');
  const leafSpki = leaf.publicKey.export({ type: 'spki', format: 'der' });
  if (!Buffer.from(spki).equals(leafSpki)) {
    reject('the issued certificate is not for the key the shim asked for');
  }
  const uris = uriSans(leaf);
  if (uris.length !== 1 || uris[0] !== sub) {
    reject(`the issued certificate names ${uris.join(', ') || 'no URI'}, not the WIT's ${sub}`);
  }
  if (leaf.ca) reject('the issued certificate is a CA certificate');
  const notBefore = new Date(leaf.validFrom);
  const notAfter = new Date(leaf.validTo);
  if (!(notAfter.getTime() > now.getTime())) reject('the issued certificate has expired');
  for (let i = 1; i < certs.length; i++) {
    if (!certs[i - 1]!.checkIssued(certs[i]!)) {
      reject(`certificate ${i} of the issued chain did not issue certificate ${i - 1}`);
    }
  }
  return { chain, pem: chain.map(certificatePem).join(''), uri: sub, notBefore, notAfter };
}

/**
 * `bundle.pem`: the bundle's X.509 authorities — the first `x5c` certificate of each
 * `x509-svid` key (SPIFFE X509-SVID §6.2), as the relying-party library trusts them
 * (`x509AuthoritiesOf`). Empty when the bundle has none.
 */
export function bundlePem(bundle: Record<string, unknown>): string {
  return x509AuthoritiesOf(bundle as unknown as X509Bundle).join('');
}
