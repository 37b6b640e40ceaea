/**
 * Verification of an X.509 workload certificate (X509-SVID) presented by a TLS peer, against
 * the X.509 authorities of a SPIFFE trust bundle: the path to an authority, the X509-SVID leaf
 * rules, the validity window at an injected time, revocation pushed in the bundle
 * (`revoked_jtis`, `revoked_serials`) and an allow-list of workload identifiers or trust
 * domains. Pure and synchronous; `wimse/mtls.ts` runs it on every TLS connection and
 * `twi rp verify-cert` on a file.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { TwiError } from '../common/errors.js';
import { parseCertificateDer, type Certificate } from '../common/x509/certificate.js';
import {
  checkChainAt,
  createTrustAnchors,
  verifyChainSignatures,
  type TrustAnchors,
  type VerifiedChain,
} from '../common/x509/chain.js';
import { hasTwiExtension, readTwiExtension } from '../common/x509/twi-extension.js';
import type { WatchedBundle } from './bundle-watch.js';
import { MtlsError } from './errors.js';
import { parseWorkloadId, workloadIdProblem } from './identifier.js';

/** A SPIFFE bundle as a TLS relying party reads it. */
export interface X509Bundle extends WatchedBundle {
  /**
   * Serial numbers (hex, any case, colons and leading zeros ignored) of revoked X.509
   * credentials, when the issuer pushes them beside `revoked_jtis`.
   */
  readonly revoked_serials?: readonly string[];
}

/**
 * Which peers are accepted: a peer passes when its identifier is one of `ids` (exact match) or
 * belongs to one of `trustDomains`. At least one entry is required (or `anyId`).
 */
export interface MtlsAllowList {
  readonly ids?: readonly string[];
  readonly trustDomains?: readonly string[];
  /**
   * Accept any identifier the bundle's authorities certified: for tools that only report who
   * the peer is (`twi rp verify-cert` without `--allow`), not for servers.
   */
  readonly anyId?: boolean;
}

/** The role the peer plays, checked against its extended key usage. */
export type PeerRole = 'client' | 'server';

/** Options of {@link verifyPeerCertificate}. */
export interface PeerCheckOptions {
  /** The trust bundle: its `x509-svid` authorities and its revocations. */
  readonly bundle: X509Bundle;
  readonly allow: MtlsAllowList;
  /** The time to check validity at (default: the clock). */
  readonly now?: Date;
  /** The peer's role: its EKU, when present, must allow it (default: no EKU check). */
  readonly role?: PeerRole;
}

/** A verified TLS peer. */
export interface MtlsPeer {
  /** The workload identifier: the certificate's only URI SAN. */
  readonly workloadId: string;
  readonly trustDomain: string;
  /** The credential's `jti` from the twi extension (absent on certificates without it). */
  readonly jti?: string;
  /** SHA-256 of the EAR the certificate was issued on, from the twi extension. */
  readonly earSha256?: Uint8Array;
  /** The serial number, lowercase hex, an even number of digits. */
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The leaf certificate, DER. */
  readonly certificate: Uint8Array;
}

const SAN_OID = '2.5.29.17';
const EKU_OID = '2.5.29.37';
const ANY_EKU = '2.5.29.37.0';
const ROLE_EKU: Record<PeerRole, string> = {
  server: '1.3.6.1.5.5.7.3.1',
  client: '1.3.6.1.5.5.7.3.2',
};

interface BundleAuthorities {
  readonly certificates: readonly Certificate[];
  readonly anchors: TrustAnchors;
  /**
   * Chains already verified against these authorities, by the digest of their DER: a peer that
   * reconnects is not parsed and checked again. Signatures do not depend on the time, so only
   * the validity window, revocation and the allow-list run per handshake. Bounded (FIFO).
   */
  readonly verified: Map<string, VerifiedChain>;
}

/** Verified chains kept per bundle object. */
const VERIFIED_CHAINS_PER_BUNDLE = 256;

const authorityCache = new WeakMap<X509Bundle, BundleAuthorities>();

/** The `x509-svid` authorities of a bundle, parsed once per bundle object. */
function authoritiesOf(bundle: X509Bundle): BundleAuthorities {
  let found = authorityCache.get(bundle);
  if (found) return found;
  const certificates: Certificate[] = [];
  for (const jwk of Array.isArray(bundle?.keys) ? bundle.keys : []) {
    // X509-SVID §6.2: `use` x509-svid, the first `x5c` value is the CA; others are ignored,
    // and so is an entry without x5c (and, here, one whose certificate does not parse).
    const x5c = jwk?.x5c;
    if (jwk?.use !== 'x509-svid' || !Array.isArray(x5c) || typeof x5c[0] !== 'string') continue;
    try {
      certificates.push(parseCertificateDer(Buffer.from(x5c[0], 'base64'), 'x5c'));
    } catch {
      continue;
    }
  }
  found = { certificates, anchors: createTrustAnchors(certificates), verified: new Map() };
  authorityCache.set(bundle, found);
  return found;
}

function pem(der: Uint8Array): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/**
 * The X.509 authorities of a SPIFFE trust bundle as PEM, ready for a `tls` `ca` option: the
 * first `x5c` certificate of every key with `use: "x509-svid"` (SPIFFE X509-SVID §6.2). Keys of
 * other uses, and `x509-svid` keys without a parsable `x5c`, are ignored.
 *
 * @example
 * ```ts
 * const ca = x509AuthoritiesOf(await (await fetch(bundleUrl)).json());
 * ```
 */
export function x509AuthoritiesOf(bundle: X509Bundle): string[] {
  return authoritiesOf(bundle).certificates.map((c) => pem(c.der));
}

/** Canonical serial hex: lowercase, no colons, no leading zeros. */
function serialKey(hex: string): string {
  return hex.replace(/:/g, '').toLowerCase().replace(/^0+/, '');
}

/**
 * Checks an allow-list before use.
 *
 * @throws TypeError unless `allow` names at least one identifier or trust domain.
 */
export function checkAllowList(allow: MtlsAllowList): void {
  if (allow === null || typeof allow !== 'object') throw new TypeError('allow must be an object');
  const n = (allow.ids?.length ?? 0) + (allow.trustDomains?.length ?? 0);
  if (n === 0 && allow.anyId !== true)
    throw new TypeError('allow must name at least one id or trust domain');
}

function invalid(message: string, cause?: unknown): MtlsError {
  return new MtlsError('ERR_PEER_INVALID', message, cause ? { cause } : undefined);
}

function codeOf(err: unknown): string | undefined {
  return err instanceof TwiError ? err.code : undefined;
}

function chainDigest(chain: readonly Uint8Array[]): string {
  const h = createHash('sha256');
  for (const der of chain) h.update(`${der.length}:`).update(der);
  return h.digest('hex');
}

function buildPath(chain: readonly Uint8Array[], bundle: X509Bundle): VerifiedChain {
  const authorities = authoritiesOf(bundle);
  const key = chainDigest(chain);
  const known = authorities.verified.get(key);
  if (known !== undefined) return known;
  const path = verifyPath(chain, authorities);
  if (authorities.verified.size >= VERIFIED_CHAINS_PER_BUNDLE) {
    authorities.verified.delete(authorities.verified.keys().next().value!);
  }
  authorities.verified.set(key, path);
  return path;
}

function verifyPath(chain: readonly Uint8Array[], authorities: BundleAuthorities): VerifiedChain {
  let certs: Certificate[];
  try {
    certs = chain.map((der, i) => parseCertificateDer(der, `certificate ${i}`));
  } catch (err) {
    throw invalid(`the peer certificate does not parse: ${(err as Error).message}`, err);
  }
  const { anchors } = authorities;
  if (anchors.certificates.length === 0) {
    throw new MtlsError('ERR_PEER_UNTRUSTED', 'the bundle has no x509-svid authority');
  }
  try {
    return verifyChainSignatures({ leaf: certs[0]!, intermediates: certs.slice(1), anchors });
  } catch (err) {
    if (codeOf(err) === 'ERR_CERT_PROFILE') throw invalid((err as Error).message, err);
    throw new MtlsError(
      'ERR_PEER_UNTRUSTED',
      `the peer certificate does not chain to the bundle's X.509 authorities: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** The URI SANs of a certificate (pkijs reads the GeneralNames). */
function uriSans(leaf: Certificate): string[] {
  const ext = leaf.extensions.get(SAN_OID);
  if (!ext) return [];
  const asn1 = asn1js.fromBER(ext.value);
  if (asn1.offset === -1) throw invalid('subjectAltName does not decode');
  const names = new pkijs.GeneralNames({ schema: asn1.result });
  return names.names.filter((n) => n.type === 6).map((n) => String(n.value));
}

function extKeyUsage(leaf: Certificate): string[] | undefined {
  const ext = leaf.extensions.get(EKU_OID);
  if (!ext) return undefined;
  const asn1 = asn1js.fromBER(ext.value);
  if (asn1.offset === -1) throw invalid('extKeyUsage does not decode');
  return new pkijs.ExtKeyUsage({ schema: asn1.result }).keyPurposes;
}

/** X509-SVID §5.2 leaf rules, plus the EKU for the role; returns the one URI SAN. */
function checkLeaf(leaf: Certificate, role: PeerRole | undefined): string {
  if (leaf.basicConstraints?.ca) throw invalid('the peer certificate is a CA certificate');
  const ku = leaf.keyUsage;
  if (ku && (ku.has('keyCertSign') || ku.has('cRLSign'))) {
    throw invalid('the peer certificate may sign certificates or CRLs (keyUsage)');
  }
  if (ku && !ku.has('digitalSignature')) throw invalid('keyUsage lacks digitalSignature');
  let uris: string[];
  let eku: string[] | undefined;
  try {
    uris = uriSans(leaf);
    eku = extKeyUsage(leaf);
  } catch (err) {
    if (err instanceof MtlsError) throw err;
    throw invalid(`malformed extension: ${(err as Error).message}`, err);
  }
  if (uris.length !== 1) throw invalid(`${uris.length} URI SANs (exactly one expected)`);
  const problem = workloadIdProblem(uris[0]);
  if (problem) throw invalid(`the URI SAN is not a workload identifier: ${problem}`);
  if (role && eku && !eku.includes(ROLE_EKU[role]) && !eku.includes(ANY_EKU)) {
    throw invalid(`extKeyUsage does not allow a TLS ${role}`);
  }
  return uris[0]!;
}

function checkTime(chain: VerifiedChain, now: Date): void {
  try {
    checkChainAt(chain, { now });
  } catch (err) {
    const code = codeOf(err);
    const message = (err as Error).message;
    if (code === 'ERR_CERT_NOT_YET_VALID') {
      throw new MtlsError('ERR_PEER_NOT_YET_VALID', message, { cause: err });
    }
    throw new MtlsError('ERR_PEER_EXPIRED', message, { cause: err });
  }
}

function readExtension(der: Uint8Array): { jti?: string; earSha256?: Uint8Array } {
  try {
    if (!hasTwiExtension(der)) return {};
    const { jti, earSha256 } = readTwiExtension(der);
    return { jti, earSha256 };
  } catch (err) {
    throw invalid((err as Error).message, err);
  }
}

function allowed(allow: MtlsAllowList, workloadId: string, trustDomain: string): boolean {
  return (
    allow.anyId === true ||
    (allow.ids ?? []).includes(workloadId) ||
    (allow.trustDomains ?? []).includes(trustDomain)
  );
}

/**
 * Verifies a peer's certificate chain (leaf first, then any intermediates it sent) and returns
 * the peer's identity. The checks, in order: a path to one of the bundle's `x509-svid`
 * authorities (pinned by content, so an authority need not be self-signed); the X509-SVID leaf
 * rules (not a CA, no keyCertSign/cRLSign, exactly one URI SAN that is a workload identifier,
 * EKU for `role`); every certificate of the path valid at `now`; neither the twi extension's
 * `jti` in `revoked_jtis` nor the serial in `revoked_serials`; the identifier on `allow`.
 *
 * @example
 * ```ts
 * const peer = verifyPeerCertificate([leafDer], { bundle, allow: { trustDomains: ['prod.example'] } });
 * console.log(peer.workloadId, peer.jti);
 * ```
 * @throws MtlsError with the code of the first failed check.
 * @throws TypeError when `allow` names nothing.
 */
export function verifyPeerCertificate(
  chain: readonly Uint8Array[],
  options: PeerCheckOptions,
): MtlsPeer {
  checkAllowList(options.allow);
  if (chain.length === 0) {
    throw new MtlsError('ERR_PEER_CERT_MISSING', 'the peer presented no certificate');
  }
  const path = buildPath(chain, options.bundle);
  const leaf = path.path[0]!;
  const workloadId = checkLeaf(leaf, options.role);
  checkTime(path, options.now ?? new Date());
  const ext = readExtension(leaf.der);
  const hex = leaf.serial.toString(16);
  const serial = hex.length % 2 ? `0${hex}` : hex;
  if (ext.jti !== undefined && (options.bundle.revoked_jtis ?? []).includes(ext.jti)) {
    throw new MtlsError('ERR_PEER_REVOKED', `the peer's credential ${ext.jti} is revoked`);
  }
  const serials = (options.bundle.revoked_serials ?? []).filter((s) => typeof s === 'string');
  if (serials.some((s) => serialKey(s) === serialKey(serial))) {
    throw new MtlsError('ERR_PEER_REVOKED', `the peer's certificate serial ${serial} is revoked`);
  }
  const { trustDomain } = parseWorkloadId(workloadId);
  if (!allowed(options.allow, workloadId, trustDomain)) {
    throw new MtlsError('ERR_PEER_ID_NOT_ALLOWED', `${workloadId} is not an allowed peer`);
  }
  return {
    workloadId,
    trustDomain,
    ...ext,
    serial,
    notBefore: leaf.notBefore,
    notAfter: leaf.notAfter,
    certificate: leaf.der,
  };
}

/**
 * An allow-list from command-line style entries: an entry with a path
 * (`spiffe://prod.example/api`) is an exact identifier, one without (`spiffe://prod.example`,
 * `wimse://prod.example` or a bare `prod.example`) is a trust domain.
 *
 * @throws TypeError on an entry that is neither.
 */
export function parseAllowList(entries: readonly string[]): MtlsAllowList {
  const ids: string[] = [];
  const trustDomains: string[] = [];
  for (const entry of entries) {
    const domain = /^(?:(?:spiffe|wimse):\/\/)?([a-z0-9._-]+)\/?$/.exec(entry);
    if (domain) trustDomains.push(domain[1]!);
    else ids.push(parseWorkloadId(entry).uri);
  }
  return { ids, trustDomains };
}
