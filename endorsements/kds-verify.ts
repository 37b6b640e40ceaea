/**
 * Verification of AMD KDS responses before they are handed out or re-used (spec digest
 * C2.1–C2.3): a VCEK's chain to the pinned ARK of its product and its hwID and TCB
 * extensions against the request, a `cert_chain` whose ARK is the pinned one, a CRL
 * signed by that ARK; every validity window at `now`.
 *
 * @internal
 * @module
 */
import { parseVcekExtensions } from '../verifier/platforms/sev-snp/collateral/vcek-extensions.js';
import { isTwiError } from '../common/errors.js';
import type { AnchorStore } from '../verifier/verify/types.js';
import { parseCertificateDer, parsePemChain } from '../common/x509/certificate.js';
import type { Certificate } from '../common/x509/certificate.js';
import { checkChainAt, createTrustAnchors, verifyChainSignatures } from '../common/x509/chain.js';
import type { TrustAnchors } from '../common/x509/chain.js';
import { checkCrlCurrent, parseCrlDer } from '../common/x509/crl.js';
import { asInvalid, crlSignedByOneOf, invalidEndorsement } from './pcs-kds-http.js';
import type { AmdProduct, EndorsementRequest } from '../verifier/verify/endorsement-provider.js';

/** The AMD requests KDS answers publicly. */
export type KdsRequest = Extract<
  EndorsementRequest,
  { kind: 'amd-vcek' | 'amd-cert-chain' | 'amd-crl' }
>;

/**
 * How long a certificate (VCEK, `cert_chain`) is used before it is fetched again, at most:
 * they live for years, but AMD may re-issue or revoke, and the refetch is cheap.
 */
export const CERT_REFRESH_MS = 30 * 24 * 3600 * 1000;

/** Chain failures that a different (fetched) ASK may cure. */
const CHAIN_CODES = new Set([
  'ERR_CHAIN_BROKEN',
  'ERR_SIGNATURE_INVALID',
  'ERR_CHAIN_UNTRUSTED_ROOT',
]);

/** True for a chain-building failure that fetching the product's `cert_chain` may cure. */
export function isMissingIssuer(err: unknown): boolean {
  const cause = (err as { cause?: unknown })?.cause;
  return isTwiError(cause) && CHAIN_CODES.has(cause.code);
}

/** The pinned ARK(s) of `product` as trust anchors. */
export function productAnchors(
  anchors: AnchorStore,
  product: AmdProduct,
  label: string,
): TrustAnchors {
  const arks = anchors.amd.certificates.filter((c) => c.subjectCn === `ARK-${product}`);
  if (arks.length === 0) invalidEndorsement(label, `no pinned ARK-${product}`);
  return createTrustAnchors(arks);
}

function minDate(...dates: Date[]): Date {
  return new Date(Math.min(...dates.map((d) => d.getTime())));
}

/** A DER certificate body (a PEM body is accepted and converted). */
export function certificateOf(body: Uint8Array, label: string): Certificate {
  return asInvalid(label, () =>
    body[0] === 0x30 ? parseCertificateDer(body.slice(), label) : parsePemChain(body, label)[0]!,
  );
}

/** The hwID bytes a VCEK of `product` carries: 8 on Turin, 64 otherwise. */
export function hwidBytes(product: AmdProduct, hwid: string): Uint8Array {
  const len = product === 'Turin' ? 8 : 64;
  if (!/^[0-9a-fA-F]*$/.test(hwid) || (hwid.length !== 128 && hwid.length !== len * 2)) {
    throw new TypeError(`hwid of ${product} must be ${len} bytes of hex`);
  }
  return new Uint8Array(Buffer.from(hwid.slice(0, len * 2), 'hex'));
}

function checkVcekProfile(
  request: Extract<KdsRequest, { kind: 'amd-vcek' }>,
  cert: Certificate,
  label: string,
): void {
  const ext = asInvalid(label, () => parseVcekExtensions(cert));
  if (ext.keyKind !== 'VCEK') invalidEndorsement(label, `certificate is a ${ext.keyKind}`);
  const product = ext.productName.split('-')[0];
  if (product !== request.product) {
    invalidEndorsement(label, `VCEK is for ${ext.productName}, not ${request.product}`);
  }
  const want = hwidBytes(request.product, request.hwid);
  if (ext.hwId === undefined || !Buffer.from(ext.hwId).equals(want)) {
    invalidEndorsement(label, 'VCEK hwID differs from the hwid requested');
  }
  const { tcb } = request;
  const got = ext.tcb;
  const pairs: [string, number | undefined, number | undefined][] = [
    ['blSPL', got.blSpl, tcb.bl],
    ['teeSPL', got.teeSpl, tcb.tee],
    ['snpSPL', got.snpSpl, tcb.snp],
    ['ucodeSPL', got.ucodeSpl, tcb.ucode],
    ['fmcSPL', got.fmcSpl, request.product === 'Turin' ? tcb.fmc : undefined],
  ];
  for (const [name, have, wanted] of pairs) {
    if (have !== wanted) invalidEndorsement(label, `VCEK ${name} is ${have}, requested ${wanted}`);
  }
  const curve = cert.x509.publicKey.asymmetricKeyDetails?.namedCurve;
  if (curve !== 'secp384r1') invalidEndorsement(label, `VCEK key is not ECDSA P-384 (${curve})`);
}

/** What a verified VCEK or `cert_chain` yields. */
export interface KdsCertContent {
  /** Bounded by every certificate's notAfter and `fetchedAt` + {@link CERT_REFRESH_MS}. */
  readonly nextUpdate: Date;
  /** The ASK (or ASVK) the chain went through. */
  readonly signer: Certificate;
  readonly ark: Certificate;
}

/**
 * Verifies a VCEK: profile and extensions against the request, then the chain VCEK → ASK
 * (from `intermediates`) → the pinned ARK of the product, valid at `now`.
 *
 * @throws `EndorsementInvalidError`; its `cause` tells a missing issuer
 *   ({@link isMissingIssuer}) from a bad certificate.
 */
export function checkVcek(
  request: Extract<KdsRequest, { kind: 'amd-vcek' }>,
  cert: Certificate,
  intermediates: readonly Certificate[],
  anchors: AnchorStore,
  now: Date,
  fetchedAt: Date,
): KdsCertContent {
  const label = `amd-vcek ${request.product}`;
  if (cert.subjectCn !== 'SEV-VCEK') invalidEndorsement(label, `subject is '${cert.subjectCn}'`);
  checkVcekProfile(request, cert, label);
  const arks = productAnchors(anchors, request.product, label);
  const chain = asInvalid(label, () =>
    verifyChainSignatures({ leaf: cert, intermediates, anchors: arks }),
  );
  const [, signer, ark] = chain.path;
  if (chain.path.length !== 3 || signer!.subjectCn !== `SEV-${request.product}`) {
    invalidEndorsement(
      label,
      `chain is not VCEK → SEV-${request.product} → ARK-${request.product}`,
    );
  }
  asInvalid(label, () => checkChainAt(chain, { now }));
  const nextUpdate = minDate(
    cert.notAfter,
    signer!.notAfter,
    new Date(fetchedAt.getTime() + CERT_REFRESH_MS),
  );
  return { nextUpdate, signer: signer!, ark: ark! };
}

/**
 * Verifies a KDS `cert_chain` body: exactly ASK (or ASVK) then ARK, the ARK one of the
 * pinned `ARK-{product}` certificates, the ASK signed by it, both valid at `now`.
 */
export function checkCertChain(
  request: Extract<KdsRequest, { kind: 'amd-cert-chain' }>,
  body: Uint8Array,
  anchors: AnchorStore,
  now: Date,
  fetchedAt: Date,
): KdsCertContent {
  const { product, keyKind } = request;
  const label = `amd-cert-chain ${product}/${keyKind}`;
  const certs = asInvalid(label, () => parsePemChain(body, label));
  if (certs.length !== 2) invalidEndorsement(label, `expected 2 certificates, got ${certs.length}`);
  const [signer, ark] = certs as [Certificate, Certificate];
  const arks = productAnchors(anchors, product, label);
  if (!arks.fingerprints.has(ark.sha256)) {
    invalidEndorsement(label, `ARK ${ark.sha256} is not the pinned ARK-${product}`);
  }
  const cn = keyKind === 'vlek' ? `SEV-VLEK-${product}` : `SEV-${product}`;
  if (signer.subjectCn !== cn)
    invalidEndorsement(label, `first certificate is '${signer.subjectCn}', not '${cn}'`);
  const chain = asInvalid(label, () => verifyChainSignatures({ leaf: signer, anchors: arks }));
  if (chain.path.length !== 2)
    invalidEndorsement(label, `${cn} is not directly under ARK-${product}`);
  asInvalid(label, () => checkChainAt(chain, { now }));
  const nextUpdate = minDate(
    signer.notAfter,
    ark.notAfter,
    new Date(fetchedAt.getTime() + CERT_REFRESH_MS),
  );
  return { nextUpdate, signer, ark: chain.anchor };
}

/** Verifies a KDS CRL: signed by the pinned ARK of the product and current at `now`. */
export function checkAmdCrl(
  request: Extract<KdsRequest, { kind: 'amd-crl' }>,
  der: Uint8Array,
  anchors: AnchorStore,
  now: Date,
): { readonly nextUpdate: Date } {
  const label = `amd-crl ${request.product}/${request.keyKind}`;
  const crl = asInvalid(label, () => parseCrlDer(der, label));
  const arks = productAnchors(anchors, request.product, label).certificates;
  if (!crlSignedByOneOf(crl, arks))
    invalidEndorsement(label, `CRL is not signed by the pinned ARK-${request.product}`);
  asInvalid(label, () => checkCrlCurrent(crl, now));
  return { nextUpdate: crl.nextUpdate! };
}
