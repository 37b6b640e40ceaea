/**
 * Verification of Intel PCS responses before they are handed out or re-used (spec digest
 * C1.1): TCB Info and QE Identity signatures over the exact value bytes, their issuer
 * chain (Intel SGX TCB Signing under a pinned Intel root), the FMSPC asked for, PCK CRLs
 * under their PCK CA and the Root CA CRL under the root; every window at `now`.
 *
 * Revocation of the signing certificates by the Root CA CRL is left to the verifier,
 * which holds all collateral of an appraisal together.
 *
 * @internal
 * @module
 */
import { parseTdQeIdentity } from '../verifier/platforms/tdx/collateral/qe-identity.js';
import {
  TCB_SIGNING_CN,
  verifyIntelJsonSignature,
  verifyIntelSigningChain,
} from '../verifier/platforms/tdx/collateral/signature.js';
import { parseTdxTcbInfo } from '../verifier/platforms/tdx/collateral/tcb-info.js';
import type { AnchorStore } from '../verifier/verify/types.js';
import { parsePemChain } from '../common/x509/certificate.js';
import type { Certificate } from '../common/x509/certificate.js';
import { checkChainAt } from '../common/x509/chain.js';
import type { VerifiedChain } from '../common/x509/chain.js';
import { checkCrlCurrent, parseCrlDer, verifyCrlSignature } from '../common/x509/crl.js';
import type { Crl } from '../common/x509/crl.js';
import { asInvalid, crlSignedByOneOf, invalidEndorsement } from './pcs-kds-http.js';
import {
  splitSignedJson,
  type SignedMember,
} from '../verifier/platforms/tdx/collateral/pcs-body.js';
import type { EndorsementRequest } from '../verifier/verify/endorsement-provider.js';

/** The Intel requests. */
export type PcsRequest = Extract<
  EndorsementRequest,
  { kind: 'tdx-tcb-info' | 'tdx-qe-identity' | 'pck-crl' | 'intel-root-crl' }
>;

/** What verification learnt: the instant the content stops being current. */
export interface PcsContent {
  readonly nextUpdate: Date;
}

const MAX_SKEW_MS = 5 * 60 * 1000;
const PCK_CA_CN = {
  platform: 'Intel SGX PCK Platform CA',
  processor: 'Intel SGX PCK Processor CA',
};

/** The member holding the signed value of a JSON request kind. */
function signedMember(kind: 'tdx-tcb-info' | 'tdx-qe-identity'): SignedMember {
  return kind === 'tdx-tcb-info' ? 'tcbInfo' : 'enclaveIdentity';
}

function issuerCerts(pem: string | undefined, label: string): Certificate[] {
  if (pem === undefined) return invalidEndorsement(label, 'no issuer chain');
  return asInvalid(label, () => parsePemChain(pem, `${label} issuer chain`));
}

/**
 * Leaf → pinned Intel root in exactly two certificates, the leaf named `cn`, valid at `now`
 * (the shared check of the verifier, {@link verifyIntelSigningChain}).
 */
function intelChain(
  certs: Certificate[],
  cn: string,
  anchors: AnchorStore,
  now: Date,
  label: string,
): VerifiedChain {
  const chain = asInvalid(label, () =>
    verifyIntelSigningChain(certs, cn, anchors.intel, `${label} issuer chain`),
  );
  asInvalid(label, () => checkChainAt(chain, { now }));
  return chain;
}

function checkSignedJson(
  request: Extract<PcsRequest, { kind: 'tdx-tcb-info' | 'tdx-qe-identity' }>,
  body: Uint8Array,
  issuerChain: string | undefined,
  anchors: AnchorStore,
  now: Date,
): PcsContent {
  const label = request.kind;
  const signed = asInvalid(label, () => splitSignedJson(body, signedMember(request.kind), label));
  const chain = intelChain(issuerCerts(issuerChain, label), TCB_SIGNING_CN, anchors, now, label);
  asInvalid(label, () =>
    verifyIntelJsonSignature(
      signed.text,
      signed.signature,
      chain.path[0]!,
      signedMember(request.kind),
    ),
  );
  const doc = asInvalid(label, () =>
    request.kind === 'tdx-tcb-info' ? parseTdxTcbInfo(signed.text) : parseTdQeIdentity(signed.text),
  );
  if (request.kind === 'tdx-tcb-info') {
    const fmspc = (doc as ReturnType<typeof parseTdxTcbInfo>).fmspc;
    if (fmspc !== request.fmspc.toLowerCase()) {
      invalidEndorsement(label, `TCB Info is for FMSPC ${fmspc}, not ${request.fmspc}`);
    }
  }
  checkWindow(doc, now, label);
  return { nextUpdate: doc.nextUpdate };
}

/** Expired is refused; a document issued up to five minutes "in the future" is clock skew. */
function checkWindow(doc: { issueDate: Date; nextUpdate: Date }, now: Date, label: string): void {
  if (now.getTime() >= doc.nextUpdate.getTime()) {
    invalidEndorsement(
      label,
      `expired: nextUpdate ${doc.nextUpdate.toISOString()}, now ${now.toISOString()}`,
    );
  }
  if (doc.issueDate.getTime() > now.getTime() + MAX_SKEW_MS) {
    invalidEndorsement(label, `not yet issued: issueDate ${doc.issueDate.toISOString()}`);
  }
}

function crlNextUpdate(crl: Crl, now: Date, label: string): Date {
  asInvalid(label, () => checkCrlCurrent(crl, now));
  return crl.nextUpdate!;
}

function checkPckCrl(
  request: Extract<PcsRequest, { kind: 'pck-crl' }>,
  der: Uint8Array,
  issuerChain: string | undefined,
  anchors: AnchorStore,
  now: Date,
): PcsContent {
  const label = `pck-crl/${request.ca}`;
  const crl = asInvalid(label, () => parseCrlDer(der, label));
  const cn = PCK_CA_CN[request.ca];
  const chain = intelChain(issuerCerts(issuerChain, label), cn, anchors, now, label);
  asInvalid(label, () => verifyCrlSignature(crl, chain.path[0]!));
  return { nextUpdate: crlNextUpdate(crl, now, label) };
}

function checkRootCrl(der: Uint8Array, anchors: AnchorStore, now: Date): PcsContent {
  const label = 'intel-root-crl';
  const crl = asInvalid(label, () => parseCrlDer(der, label));
  if (!crlSignedByOneOf(crl, anchors.intel.certificates)) {
    invalidEndorsement(label, 'CRL is not signed by a pinned Intel root');
  }
  return { nextUpdate: crlNextUpdate(crl, now, label) };
}

/**
 * Verifies the body of a PCS response for `request` at `now` (body as stored: JSON text
 * for TCB Info / QE Identity, DER for CRLs).
 *
 * @throws `EndorsementInvalidError` for anything that does not check out, expired
 *   content included.
 */
export function checkPcsContent(
  request: PcsRequest,
  body: Uint8Array,
  issuerChain: string | undefined,
  anchors: AnchorStore,
  now: Date,
): PcsContent {
  switch (request.kind) {
    case 'tdx-tcb-info':
    case 'tdx-qe-identity':
      return checkSignedJson(request, body, issuerChain, anchors, now);
    case 'pck-crl':
      return checkPckCrl(request, body, issuerChain, anchors, now);
    case 'intel-root-crl':
      return checkRootCrl(body, anchors, now);
  }
}
