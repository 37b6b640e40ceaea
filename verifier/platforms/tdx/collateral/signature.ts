/**
 * The two checks that make Intel-signed collateral authentic, shared by the verifier
 * ({@link verifyTdxCollateral}) and the PCS client (`endorsements/pcs-verify.ts`): the
 * issuer chain of the signer (a named certificate directly under a pinned Intel root) and
 * the ECDSA-P256-SHA256 signature over the exact JSON text Intel signed (spec digest C1.1).
 *
 * @internal
 * @module
 */
import { verify as cryptoVerify } from 'node:crypto';
import { VerificationError } from '../../../../common/errors.js';
import type { Certificate } from '../../../../common/x509/certificate.js';
import { verifyChainSignatures } from '../../../../common/x509/chain.js';
import type { TrustAnchors, VerifiedChain } from '../../../../common/x509/chain.js';
import type { Crl } from '../../../../common/x509/crl.js';

/** CN of the certificate Intel signs TCB Info and QE Identity with. */
export const TCB_SIGNING_CN = 'Intel SGX TCB Signing';

/**
 * Builds the chain of a parsed issuer chain (leaf first) to `anchors` and requires exactly
 * the certificate named `signerCn` directly under the root: only Intel's TCB signing
 * certificate may sign collateral, only a PCK CA may sign a PCK CRL — any other certificate
 * under the root (a PCK leaf, say) must not. Time is not checked (see `checkChainAt`).
 *
 * @param certs - The issuer chain as parsed, signer first; must not be empty.
 * @param signerCn - The subject CN the signer must have, e.g. {@link TCB_SIGNING_CN}.
 * @param anchors - The pinned Intel roots.
 * @param subject - Names the chain in the error (`tcbInfoIssuerChain`, say).
 * @param crls - CRLs to attach to the chain (the Root CA CRL), if any.
 * @throws {VerificationError} `ERR_CERT_PROFILE` for another signer or a longer chain, and
 *   the codes of {@link verifyChainSignatures}.
 * @example
 * const chain = verifyIntelSigningChain(certs, TCB_SIGNING_CN, anchors, 'tcbInfoIssuerChain');
 */
export function verifyIntelSigningChain(
  certs: readonly Certificate[],
  signerCn: string,
  anchors: TrustAnchors,
  subject: string,
  crls: readonly Crl[] = [],
): VerifiedChain {
  const [leaf, ...intermediates] = certs;
  const chain = verifyChainSignatures({ leaf: leaf!, intermediates, anchors, crls });
  const signer = chain.path[0]!;
  if (chain.path.length !== 2 || signer.subjectCn !== signerCn) {
    throw new VerificationError(
      'ERR_CERT_PROFILE',
      `${subject}: signer '${signer.subjectCn}' is not '${signerCn}' under the root`,
      subject,
    );
  }
  return chain;
}

/**
 * Verifies an Intel JSON signature: ECDSA-P256-SHA256, raw r‖s, by `signer`'s EC key over
 * the UTF-8 bytes of `text` exactly as received (never a re-serialisation).
 *
 * @param text - The exact text of the signed value (`tcbInfo`, `enclaveIdentity`).
 * @param signature - Raw r‖s, 64 bytes.
 * @param signer - The leaf of the chain {@link verifyIntelSigningChain} returned.
 * @param subject - Names the signed value in the error (`tcbInfo`, say).
 * @throws {VerificationError} `ERR_SIGNATURE_INVALID` when it does not verify, the key is
 *   not an EC key or the signature is malformed.
 * @example
 * verifyIntelJsonSignature(c.tcbInfo, c.tcbInfoSignature, chain.path[0]!, 'tcbInfo');
 */
export function verifyIntelJsonSignature(
  text: string,
  signature: Uint8Array,
  signer: Certificate,
  subject: string,
): void {
  let ok = false;
  try {
    const key = signer.x509.publicKey;
    ok =
      key.asymmetricKeyType === 'ec' &&
      cryptoVerify(
        'sha256',
        Buffer.from(text, 'utf8'),
        { key, dsaEncoding: 'ieee-p1363' },
        signature,
      );
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new VerificationError(
      'ERR_SIGNATURE_INVALID',
      `${subject}: signature does not verify with '${signer.subjectCn}'`,
      subject,
    );
  }
}
