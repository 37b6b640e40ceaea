/**
 * Intel PCS response bodies as the TDX wing reads them (spec digest C1.1): a TCB Info or QE
 * Identity response is `{"tcbInfo"|"enclaveIdentity": {…}, "signature": "<hex r‖s>"}`, and
 * Intel signs the exact bytes of the value as sent, so the value is sliced out of the
 * received text and never re-serialised.
 *
 * {@link tdxCollateralOf} turns the four Intel endorsements of one quote into the typed
 * {@link TdxCollateral} the verify stage takes: no JSON text is assembled and parsed again.
 *
 * @internal
 * @module
 */
import { invalid } from './json.js';
import { decodeUtf8Strict, JsonSliceError, jsonMemberSpans } from './pcs-json.js';
import type { TdxCollateral } from './v3.js';

/** A signed PCS JSON response split into the exact signed text and its signature. */
export interface SignedPcsJson {
  /** The exact text of the `tcbInfo` / `enclaveIdentity` value. */
  readonly text: string;
  /** The `signature` member: raw r‖s, 64 bytes. */
  readonly signature: Uint8Array;
}

/** The member holding the signed value of a TCB Info or QE Identity response. */
export type SignedMember = 'tcbInfo' | 'enclaveIdentity';

/**
 * Splits already done, by body: the provider hands the same (cached) body to every attest, so
 * the UTF-8 decode and member scan run once per body, not once per quote. Endorsement bodies
 * are never written to; the verify stage authenticates the sliced text itself either way.
 */
const splits = new WeakMap<Uint8Array, Map<SignedMember, SignedPcsJson>>();

/**
 * Splits a PCS JSON body into the exact signed value text and its signature.
 *
 * @param label - Names the body in errors (`tdx-tcb-info`, say).
 * @throws {VerificationError} `ERR_COLLATERAL_INVALID` for invalid UTF-8, invalid JSON, a
 *   repeated or missing member, a value that is not an object, or a signature that is not
 *   64 bytes of hex.
 * @example
 * const { text, signature } = splitSignedJson(body, 'tcbInfo', 'tdx-tcb-info');
 */
export function splitSignedJson(
  body: Uint8Array,
  member: SignedMember,
  label: string,
): SignedPcsJson {
  const done = splits.get(body)?.get(member);
  if (done !== undefined) return done;
  const split = splitOnce(body, member, label);
  const byMember = splits.get(body) ?? new Map<SignedMember, SignedPcsJson>();
  byMember.set(member, split);
  splits.set(body, byMember);
  return split;
}

function splitOnce(body: Uint8Array, member: SignedMember, label: string): SignedPcsJson {
  let text: string;
  let spans: ReturnType<typeof jsonMemberSpans>;
  try {
    text = decodeUtf8Strict(body);
    spans = jsonMemberSpans(text);
  } catch (err) {
    if (err instanceof JsonSliceError) return invalid(label, err.message, err);
    throw err;
  }
  const value = spans.get(member);
  const sig = spans.get('signature');
  if (value === undefined) return invalid(label, `no "${member}" member`);
  if (sig === undefined) return invalid(label, 'no "signature" member');
  const signatureHex: unknown = JSON.parse(text.slice(sig.start, sig.end));
  if (typeof signatureHex !== 'string' || !/^[0-9a-fA-F]{128}$/.test(signatureHex)) {
    return invalid(label, 'signature is not 64 bytes of hex');
  }
  const signed = text.slice(value.start, value.end);
  if (!signed.startsWith('{')) return invalid(label, `"${member}" is not an object`);
  return Object.freeze({ text: signed, signature: Buffer.from(signatureHex, 'hex') });
}

/** One Intel endorsement as the wing needs it: the body and the PEM issuer chain. */
export interface IntelEndorsementBody {
  /** TCB Info / QE Identity: the whole PCS JSON response; CRLs: DER. */
  readonly body: Uint8Array;
  /** PEM issuer chain from the response header; the Root CA CRL has none. */
  readonly issuerChain?: string;
}

/** The four Intel endorsements one TDX quote needs. */
export interface TdxEndorsementSet {
  /** TCB Info for the FMSPC of the quote's PCK certificate. */
  readonly tcbInfo: IntelEndorsementBody;
  readonly qeIdentity: IntelEndorsementBody;
  /** The PCK CRL of the CA that issued the quote's PCK certificate. */
  readonly pckCrl: IntelEndorsementBody;
  /** The Intel SGX Root CA CRL. */
  readonly rootCrl: IntelEndorsementBody;
}

function chainOf(e: IntelEndorsementBody, label: string): string {
  if (e.issuerChain === undefined) return invalid(label, 'no issuer chain');
  return e.issuerChain;
}

/**
 * The typed collateral of four Intel endorsements: signed values sliced from the PCS bodies,
 * CRLs as DER, issuer chains as PEM. Nothing is authenticated here; the verify stage does
 * that once per content and anchor set.
 *
 * @throws {VerificationError} `ERR_COLLATERAL_INVALID` for a body that cannot be split or a
 *   missing issuer chain.
 * @example
 * ```ts
 * const collateral = tdxCollateralOf({ tcbInfo, qeIdentity, pckCrl, rootCrl });
 * verifyTdx(quote, { tdxCollateral: collateral }, ctx);
 * ```
 */
export function tdxCollateralOf(set: TdxEndorsementSet): TdxCollateral {
  const tcb = splitSignedJson(set.tcbInfo.body, 'tcbInfo', 'tdx-tcb-info');
  const qe = splitSignedJson(set.qeIdentity.body, 'enclaveIdentity', 'tdx-qe-identity');
  return Object.freeze({
    pckCrlIssuerChain: chainOf(set.pckCrl, 'pck-crl'),
    rootCaCrl: set.rootCrl.body,
    pckCrl: set.pckCrl.body,
    tcbInfoIssuerChain: chainOf(set.tcbInfo, 'tdx-tcb-info'),
    tcbInfo: tcb.text,
    tcbInfoSignature: tcb.signature,
    qeIdentityIssuerChain: chainOf(set.qeIdentity, 'tdx-qe-identity'),
    qeIdentity: qe.text,
    qeIdentitySignature: qe.signature,
  });
}
