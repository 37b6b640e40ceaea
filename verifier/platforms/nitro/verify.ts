/**
 * The `verify` stage for AWS Nitro Enclaves attestation documents (SPEC-DIGEST B4, C3):
 * the certificate chain to a pinned AWS root, validity at an injected `now`, and the ES384
 * COSE_Sign1 signature by the enclave's leaf key.
 *
 * @module
 */
import { verify as cryptoVerify } from 'node:crypto';
import {
  EvidenceMalformedError,
  EvidenceUnsupportedError,
  VerificationError,
} from '../../../common/errors.js';
import { checkChainAt } from '../../../common/x509/chain.js';
import { mintVerified } from '../../verify/mint.js';
import type {
  AnchorInfo,
  SuppliedEndorsements,
  VerifiedEvidence,
  VerifyContext,
} from '../../verify/types.js';
import { isZero } from '../../../common/bytes.js';
import { nitroClaims } from './claims.js';
import { nitroSigStructure } from './document.js';
import { COSE_ALG_ES384, ES384_SIGNATURE_BYTES } from './types.js';
import type { NitroDocument } from './types.js';
import { nitroChain } from './verify-chain.js';
import type { NitroChain } from './verify-chain.js';

/** The PCRs that are all zero in a debug-mode enclave (image, kernel, application). */
const DEBUG_PCRS: readonly number[] = [0, 1, 2];

/** Guards against hand-built documents; parsed ones always pass. */
function checkEnvelope(doc: NitroDocument): void {
  if (doc.alg !== COSE_ALG_ES384) {
    throw new EvidenceUnsupportedError(`COSE algorithm ${String(doc.alg)} (only ES384, -35)`, {
      field: 'alg',
    });
  }
  if (!(doc.signature instanceof Uint8Array) || doc.signature.length !== ES384_SIGNATURE_BYTES) {
    throw new EvidenceMalformedError(`length is not ${ES384_SIGNATURE_BYTES} bytes (ES384 r‖s)`, {
      field: 'signature',
    });
  }
}

/** The document must have been produced while its own leaf certificate was valid. */
function checkTimestamp(doc: NitroDocument, chain: NitroChain): void {
  const ts = doc.payload.timestamp;
  const { notBefore, notAfter } = chain.leaf;
  if (ts < notBefore.getTime()) {
    throw new VerificationError(
      'ERR_CERT_NOT_YET_VALID',
      `timestamp ${ts} is before the leaf certificate's notBefore ${notBefore.toISOString()}`,
      'timestamp',
    );
  }
  if (ts > notAfter.getTime()) {
    throw new VerificationError(
      'ERR_CERT_EXPIRED',
      `timestamp ${ts} is after the leaf certificate's notAfter ${notAfter.toISOString()}`,
      'timestamp',
    );
  }
}

function checkSignature(doc: NitroDocument, chain: NitroChain): void {
  let ok = false;
  try {
    ok = cryptoVerify(
      'sha384',
      nitroSigStructure(doc),
      { key: chain.leafKey, dsaEncoding: 'ieee-p1363' },
      doc.signature,
    );
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new VerificationError(
      'ERR_SIGNATURE_INVALID',
      'signature: ES384 signature over the COSE Sig_structure does not verify with the key of certificate',
      'signature',
    );
  }
}

function isDebug(doc: NitroDocument): boolean {
  return DEBUG_PCRS.every((i) => {
    const value = doc.payload.pcrs.get(i);
    return value !== undefined && isZero(value);
  });
}

function present(value: Uint8Array | null | undefined): boolean {
  return value !== undefined && value !== null;
}

function anchorInfo(chain: NitroChain, ctx: VerifyContext): AnchorInfo {
  const { sha256, subjectCn } = chain.anchor;
  return {
    sha256,
    subject: subjectCn ?? '',
    source: ctx.anchors.configured.has(sha256) ? 'configured' : 'vendor',
  };
}

/**
 * Verifies a parsed Nitro attestation document and mints its {@link VerifiedEvidence}.
 *
 * Checks, in order (SPEC-DIGEST B4.1, C3):
 * 1. chain: `cabundle[0]` is a root of `ctx.anchors.aws` by SHA-256 (a presented root is never
 *    trusted for being there); the path is exactly `[certificate, INTERM_N, …, INTERM_1, ROOT]`
 *    (order as C3 defines it; a shuffled or incomplete bundle fails); every signature is
 *    ecdsa-with-SHA384; CAs have critical basicConstraints cA, keyCertSign and respect
 *    pathLenConstraint (absent = unlimited, as on Root-G1); the leaf is no CA, has
 *    digitalSignature and an ECDSA P-384 key. No CRLs (AWS publishes none for this use, C3).
 *    Cached in `ctx.cache` by content hash (bundle, then leaf), with the leaf `KeyObject`.
 * 2. every certificate valid at `ctx.now` (the leaf lives ~3 hours);
 * 3. the document `timestamp` lies inside the leaf's validity window (twi's own rule: a
 *    document cannot predate or outlive the key that signed it);
 * 4. the ES384 signature (r‖s) over `["Signature1", protected, h'', payload]`.
 *
 * Debug-mode enclaves (PCR0, PCR1, PCR2 all zero) verify: that is a policy question, flagged
 * in `details.debug`. Nitro needs no supplied endorsements; `endorsements` is ignored.
 *
 * @throws {TypeError} when `ctx.now` is not a valid Date (time checks would pass vacuously).
 * @throws {VerificationError} `ERR_CHAIN_UNTRUSTED_ROOT`, `ERR_CHAIN_BROKEN`,
 *   `ERR_SIGNATURE_INVALID`, `ERR_CERT_PROFILE`, `ERR_CERT_EXPIRED`, `ERR_CERT_NOT_YET_VALID`;
 *   {@link EvidenceMalformedError} for an undecodable certificate or a hand-built document
 *   with a bad signature length; {@link EvidenceUnsupportedError} for an `alg` other than ES384.
 * @example
 * ```ts
 * const doc = parseNitroDocument(bytes);
 * const ctx = { now: new Date(doc.payload.timestamp), anchors: loadAnchorStore(), cache: createVerificationCache() };
 * const verified = verifyNitro(doc, {}, ctx);
 * verified.anchor.source; // 'vendor'
 * verified.details.debug; // false
 * ```
 */
export function verifyNitro(
  doc: NitroDocument,
  _endorsements: SuppliedEndorsements,
  ctx: VerifyContext,
): VerifiedEvidence<'nitro'> {
  if (!(ctx.now instanceof Date) || Number.isNaN(ctx.now.getTime())) {
    throw new TypeError('ctx.now must be a valid Date');
  }
  checkEnvelope(doc);
  const p = doc.payload;
  const chain = nitroChain(p.certificate, p.cabundle, ctx.anchors.aws, ctx.cache);
  checkChainAt(chain, { now: ctx.now });
  checkTimestamp(doc, chain);
  checkSignature(doc, chain);
  return mintVerified({
    platform: 'nitro',
    claims: nitroClaims(doc),
    advisoryIds: [],
    anchor: anchorInfo(chain, ctx),
    collateral: [{ kind: 'nitro-chain', sha256: chain.chainSha256 }],
    details: {
      moduleId: p.moduleId,
      digest: p.digest,
      timestamp: new Date(p.timestamp).toISOString(),
      pcrCount: p.pcrs.size,
      debug: isDebug(doc),
      hasNonce: present(p.nonce),
      hasUserData: present(p.userData),
      hasPublicKey: present(p.publicKey),
    },
  });
}
