/**
 * The time-independent, cacheable half of Nitro chain validation (SPEC-DIGEST C3): the
 * `cabundle` up to a pinned AWS root, and the per-document leaf under it.
 *
 * Two cache levels, because the NSM issues a fresh ~3-hour leaf for every document while
 * the `cabundle` of an instance changes only when AWS rotates an intermediate:
 * - the bundle (root + intermediates) is verified once per content hash of its DERs and
 *   the anchor set;
 * - the leaf (one signature by the instance CA, its profile, its public `KeyObject`) once
 *   per leaf DER under that bundle.
 * Errors are cached as well (see `cached`), so a forged chain repeated costs one check.
 *
 * Order is enforced: C3 defines `cabundle = [ROOT, INTERM_1, …, INTERM_N]`, so the path is
 * exactly `[certificate, INTERM_N, …, INTERM_1, ROOT]`. `cabundle[0]` must itself be a
 * pinned root (compared by SHA-256, never trusted for being present); a shuffled, padded
 * or incomplete bundle is `ERR_CHAIN_BROKEN` even when a path could be found by search.
 *
 * @internal
 * @module
 */
import { createHash } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { VerificationError } from '../../../common/errors.js';
import type { VerificationCode } from '../../../common/errors.js';
import {
  certLabel,
  OID_BASIC_CONSTRAINTS,
  OID_KEY_USAGE,
  parseCertificateDer,
} from '../../../common/x509/certificate.js';
import type { Certificate } from '../../../common/x509/certificate.js';
import { verifyChainSignatures } from '../../../common/x509/chain.js';
import type { TrustAnchors, VerifiedChain } from '../../../common/x509/chain.js';
import { cached } from '../../verify/cache.js';
import type { VerificationCache } from '../../verify/cache.js';

/** ecdsa-with-SHA384: every certificate of the AWS Nitro PKI is signed with it. */
const OID_ECDSA_SHA384 = '1.2.840.10045.4.3.3';
/** Critical extensions a leaf may carry and twi understands (RFC 5280 §4.2). */
const LEAF_CRITICAL = new Set([OID_BASIC_CONSTRAINTS, OID_KEY_USAGE, '2.5.29.37', '2.5.29.17']);

/** A verified `cabundle`: issuing CAs from the instance CA up to the pinned root. */
export interface NitroBundle {
  /** `[INTERM_N, …, INTERM_1, ROOT]`, the root being the pinned anchor. */
  readonly cas: readonly Certificate[];
  readonly anchor: Certificate;
}

/**
 * A verified chain for one leaf: what the per-document checks need. As a
 * {@link VerifiedChain} (path leaf first, no CRLs: C3 says AWS's validation does not use
 * them) it goes straight into `checkChainAt`.
 */
export interface NitroChain extends VerifiedChain {
  readonly leaf: Certificate;
  /** The leaf's ECDSA P-384 public key, ready for `crypto.verify`. */
  readonly leafKey: KeyObject;
  /** Lowercase hex SHA-256 of `certificate ‖ cabundle[0] ‖ … ‖ cabundle[N]` (document order). */
  readonly chainSha256: string;
}

function fail(code: VerificationCode, subject: string, message: string): never {
  throw new VerificationError(code, `${subject}: ${message}`, subject);
}

function hashParts(label: string, parts: readonly (Uint8Array | string)[]): string {
  const h = createHash('sha256').update(label);
  const len = Buffer.alloc(4);
  for (const p of parts) {
    // Length-prefixed, so that [A‖B] and [A, B] never share a key (cached errors included).
    len.writeUInt32BE(typeof p === 'string' ? Buffer.byteLength(p) : p.length);
    h.update(len).update(p);
  }
  return h.digest('hex');
}

const anchorIds = new WeakMap<TrustAnchors, string>();

/** A short identity of an anchor set, so that results under other anchors are never reused. */
function anchorsId(anchors: TrustAnchors): string {
  let id = anchorIds.get(anchors);
  if (id === undefined) {
    id = hashParts('twi/anchors', [...anchors.fingerprints].sort());
    anchorIds.set(anchors, id);
  }
  return id;
}

/**
 * Cache keys of a document's bundle and leaf under `anchors` (length-prefixed SHA-256).
 *
 * @example
 * const keys = nitroChainKeys(doc.payload.certificate, doc.payload.cabundle, anchors.aws);
 * cache.get(keys.leaf); // the NitroChain once verified
 */
export function nitroChainKeys(
  certificate: Uint8Array,
  cabundle: readonly Uint8Array[],
  anchors: TrustAnchors,
): { bundle: string; leaf: string } {
  const bundle = hashParts('twi/nitro/bundle/v1', [anchorsId(anchors), ...cabundle]);
  return { bundle, leaf: hashParts('twi/nitro/leaf/v1', [bundle, certificate]) };
}

function checkAlgorithm(cert: Certificate, subject: string): void {
  if (cert.signatureAlgorithm.oid !== OID_ECDSA_SHA384) {
    fail(
      'ERR_CERT_PROFILE',
      subject,
      `${certLabel(cert)} is signed with ${cert.signatureAlgorithm.oid}, not ecdsa-with-SHA384`,
    );
  }
}

function checkCa(cert: Certificate, subject: string): void {
  checkAlgorithm(cert, subject);
  const bc = cert.extensions.get(OID_BASIC_CONSTRAINTS);
  if (bc === undefined || !bc.critical || cert.basicConstraints?.ca !== true) {
    fail('ERR_CERT_PROFILE', subject, `${certLabel(cert)} lacks critical basicConstraints cA`);
  }
  if (cert.keyUsage?.has('keyCertSign') !== true) {
    fail('ERR_CERT_PROFILE', subject, `${certLabel(cert)} keyUsage lacks keyCertSign`);
  }
}

function pinnedRoot(der: Uint8Array, anchors: TrustAnchors): Certificate {
  const presented = parseCertificateDer(der, 'cabundle[0]');
  const anchor = anchors.certificates.find((c) => c.sha256 === presented.sha256);
  if (anchor === undefined) {
    fail(
      'ERR_CHAIN_UNTRUSTED_ROOT',
      'cabundle[0]',
      `${certLabel(presented)} (SHA-256 ${presented.sha256}) is not a pinned AWS Nitro root`,
    );
  }
  return anchor;
}

/**
 * Verifies `cabundle` (`[ROOT, INTERM_1, …, INTERM_N]`) against `anchors`: root pinned by
 * fingerprint, each intermediate signed by the one before it, CA profiles (critical
 * basicConstraints, keyCertSign, ecdsa-with-SHA384). Time is not checked here.
 *
 * @throws {VerificationError} `ERR_CHAIN_UNTRUSTED_ROOT` (cabundle[0] not pinned),
 *   `ERR_CHAIN_BROKEN` (missing, extra or misordered entries), `ERR_SIGNATURE_INVALID`,
 *   `ERR_CERT_PROFILE`; `EvidenceMalformedError` for an entry that is not a certificate.
 * @example
 * const bundle = verifyNitroBundle(doc.payload.cabundle, anchors.aws);
 * bundle.anchor.sha256; // '641a0321…' for AWS Nitro Enclaves Root-G1
 */
export function verifyNitroBundle(
  cabundle: readonly Uint8Array[],
  anchors: TrustAnchors,
): NitroBundle {
  if (cabundle.length === 0) fail('ERR_CHAIN_BROKEN', 'cabundle', 'empty');
  const anchor = pinnedRoot(cabundle[0]!, anchors);
  const inters = cabundle.slice(1).map((d, i) => parseCertificateDer(d, `cabundle[${i + 1}]`));
  const expected = [...inters].reverse();
  let cas: readonly Certificate[] = [anchor];
  if (expected.length > 0) {
    const chain = verifyChainSignatures({
      leaf: expected[0]!,
      intermediates: expected.slice(1),
      anchors,
    });
    cas = chain.path;
  }
  const inOrder =
    cas.length === expected.length + 1 &&
    expected.every((c, i) => c.sha256 === cas[i]!.sha256) &&
    cas[cas.length - 1]!.sha256 === anchor.sha256;
  if (!inOrder) {
    fail(
      'ERR_CHAIN_BROKEN',
      'cabundle',
      'not the chain [ROOT, INTERM_1, …, INTERM_N] each issued by the one before',
    );
  }
  cas.forEach((c, i) => checkCa(c, `cabundle[${cas.length - 1 - i}]`));
  return Object.freeze({ cas: Object.freeze([...cas]), anchor });
}

/** RFC 5280 §6.1.4 (l), (m) over the whole path, the leaf included. */
function checkPathLengths(path: readonly Certificate[]): void {
  for (let i = 1; i < path.length; i++) {
    const pathLen = path[i]!.basicConstraints?.pathLen;
    const below = path
      .slice(1, i)
      .filter((c) => !Buffer.from(c.subject.der).equals(c.issuer.der)).length;
    if (pathLen !== undefined && below > pathLen) {
      fail(
        'ERR_CERT_PROFILE',
        `cabundle[${path.length - 1 - i}]`,
        `${certLabel(path[i]!)} pathLenConstraint ${pathLen} exceeded by ${below} CAs below`,
      );
    }
  }
}

function checkLeafProfile(leaf: Certificate): KeyObject {
  const s = 'certificate';
  if (leaf.version !== 3) fail('ERR_CERT_PROFILE', s, `X.509 version ${leaf.version}, not 3`);
  checkAlgorithm(leaf, s);
  for (const ext of leaf.extensions.values()) {
    if (ext.critical && !LEAF_CRITICAL.has(ext.oid)) {
      fail('ERR_CERT_PROFILE', s, `unsupported critical extension ${ext.oid}`);
    }
  }
  const bc = leaf.basicConstraints;
  if (bc !== undefined && (bc.ca || bc.pathLen !== undefined)) {
    fail('ERR_CERT_PROFILE', s, 'basicConstraints of the enclave leaf must not be a CA');
  }
  if (leaf.keyUsage?.has('digitalSignature') !== true) {
    fail('ERR_CERT_PROFILE', s, 'keyUsage lacks digitalSignature');
  }
  const key = leaf.x509.publicKey;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || curve !== 'secp384r1') {
    const what = key.asymmetricKeyType === 'ec' ? `EC ${curve ?? '?'}` : key.asymmetricKeyType;
    fail('ERR_CERT_PROFILE', s, `public key is ${what}, ES384 needs ECDSA P-384`);
  }
  return key;
}

function signedBy(cert: Certificate, issuer: Certificate): boolean {
  try {
    return cert.x509.verify(issuer.x509.publicKey);
  } catch {
    return false;
  }
}

/**
 * Verifies the leaf `certificate` under a verified bundle (issuer, signature, profile,
 * path lengths over the whole path). Time is not checked here.
 *
 * @throws {VerificationError} `ERR_CHAIN_BROKEN` (issuer is not the last cabundle entry),
 *   `ERR_SIGNATURE_INVALID`, `ERR_CERT_PROFILE` (CA leaf, no digitalSignature, not P-384).
 * @example
 * const chain = verifyNitroLeaf(p.certificate, p.cabundle, verifyNitroBundle(p.cabundle, anchors.aws));
 * chain.path.length; // 5 for NSM documents
 */
export function verifyNitroLeaf(
  certificate: Uint8Array,
  cabundle: readonly Uint8Array[],
  bundle: NitroBundle,
): NitroChain {
  const leaf = parseCertificateDer(certificate, 'certificate');
  const issuer = bundle.cas[0]!;
  if (!Buffer.from(leaf.issuer.der).equals(issuer.subject.der)) {
    fail(
      'ERR_CHAIN_BROKEN',
      'certificate',
      `issuer '${leaf.issuerCn}' is not the last cabundle entry '${certLabel(issuer)}'`,
    );
  }
  if (!signedBy(leaf, issuer)) {
    fail(
      'ERR_SIGNATURE_INVALID',
      'certificate',
      `signature does not verify with '${certLabel(issuer)}'`,
    );
  }
  const leafKey = checkLeafProfile(leaf);
  const path = Object.freeze([leaf, ...bundle.cas]);
  checkPathLengths(path);
  const h = createHash('sha256').update(certificate);
  for (const der of cabundle) h.update(der);
  return Object.freeze({
    path,
    anchor: bundle.anchor,
    crls: Object.freeze([]),
    leaf,
    leafKey,
    chainSha256: h.digest('hex'),
  });
}

/**
 * The verified chain of a document's `certificate` and `cabundle`, from `cache` when the
 * same leaf under the same bundle and anchors was seen before (one cache look-up when warm;
 * on a new leaf, the bundle usually still comes from the cache).
 *
 * @throws {VerificationError} `ERR_CHAIN_UNTRUSTED_ROOT`, `ERR_CHAIN_BROKEN`,
 *   `ERR_SIGNATURE_INVALID`, `ERR_CERT_PROFILE`.
 * @example
 * const chain = nitroChain(doc.payload.certificate, doc.payload.cabundle, ctx.anchors.aws, ctx.cache);
 * crypto.verify('sha384', data, { key: chain.leafKey, dsaEncoding: 'ieee-p1363' }, sig);
 */
export function nitroChain(
  certificate: Uint8Array,
  cabundle: readonly Uint8Array[],
  anchors: TrustAnchors,
  cache: VerificationCache,
): NitroChain {
  const keys = nitroChainKeys(certificate, cabundle, anchors);
  return cached(cache, keys.leaf, () =>
    verifyNitroLeaf(
      certificate,
      cabundle,
      cached(cache, keys.bundle, () => verifyNitroBundle(cabundle, anchors)),
    ),
  );
}
