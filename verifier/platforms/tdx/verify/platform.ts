/**
 * The warm path of TDX verification: one cache record per platform (attestation key and
 * anchor set) holding everything a previous, fully successful verification established.
 *
 * Every quote of one platform repeats its PCK chain, QE report, QE signature, QE auth
 * data and attestation key; a verifier usually sees them with the same collateral. When
 * all of these, and the TD body fields the TCB evaluation reads, equal the record's copies
 * exactly (byte comparison, no hashing), only the per-quote work remains: the quote
 * signature and the checks at `now`, in the order of the full path (`steps.ts`). The separate
 * content-hash cache entries behind the record (`verify-keys.ts`) still serve quotes that
 * differ, e.g. a new platform under known collateral.
 *
 * @internal
 * @module
 */
import { toHex } from '../../../../common/bytes.js';
import type { VerificationCache } from '../../../verify/cache.js';
import { BODY_TYPE_TD15 } from '../abi/types.js';
import type { SgxReportBody, TdxBodyType, TdxQuote } from '../abi/types.js';
import type { TdxCollateral } from '../collateral/v3.js';
import {
  copyTypedTdxCollateral,
  isTypedTdxCollateral,
  sameTypedTdxCollateral,
  type TdxCollateralInput,
} from './collateral.js';
import { tdxKeys } from './keys.js';
import { passesAtSteps, runPerQuoteSteps, type VerifiedParts } from './steps.js';

/** Copies of the inputs a record was built from, and the window its time checks cover. */
interface PlatformRecord {
  readonly parts: VerifiedParts;
  readonly collateralInput: string | Buffer | TdxCollateral;
  readonly pem: Buffer;
  readonly qeReport: FieldsCopy;
  readonly qeReportSignature: Buffer;
  readonly qeAuthData: Buffer;
  readonly bodyType: TdxBodyType;
  readonly tcbFields: readonly Buffer[];
  /** `[from, until)` in ms: every check at `now` passes inside it; undefined when unknown. */
  readonly window: readonly [number, number] | undefined;
}

/** The TD body fields `evaluateTdxTcb` reads, in the order `matches` compares them. */
function tcbFields(quote: TdxQuote): Uint8Array[] {
  const b = quote.body;
  const fields = [b.teeTcbSvn, b.mrSignerSeam, b.seamAttributes];
  if (quote.bodyType === BODY_TYPE_TD15 && b.teeTcbSvn2) fields.push(b.teeTcbSvn2);
  return fields;
}

/** A copy of a QE report's own fields, bytes as `Buffer`s, and how many there are. */
interface FieldsCopy {
  readonly fields: Readonly<Record<string, unknown>>;
  readonly count: number;
}

function copyFields(o: SgxReportBody): FieldsCopy {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) fields[k] = v instanceof Uint8Array ? Buffer.from(v) : v;
  return Object.freeze({ fields: Object.freeze(fields), count: Object.keys(fields).length });
}

/** Field-wise equality; anything but bytes and primitives compares unequal (a miss, never a wrong hit). */
function sameFields(copy: FieldsCopy, o: SgxReportBody): boolean {
  // for…in over the report's own fields: the warm path allocates nothing here.
  const fields = o as unknown as Readonly<Record<string, unknown>>;
  let count = 0;
  for (const k in fields) {
    const v = fields[k];
    const c = copy.fields[k];
    if (
      Buffer.isBuffer(c)
        ? !(v instanceof Uint8Array && c.equals(v))
        : typeof c === 'object' || c !== v
    ) {
      return false;
    }
    count++;
  }
  return count === copy.count;
}

function sameInput(copy: string | Buffer | TdxCollateral, input: TdxCollateralInput): boolean {
  if (typeof copy === 'string') return copy === input;
  if (Buffer.isBuffer(copy)) return input instanceof Uint8Array && copy.equals(input);
  return isTypedTdxCollateral(input) && sameTypedTdxCollateral(copy, input);
}

function copyInput(input: TdxCollateralInput): string | Buffer | TdxCollateral {
  if (typeof input === 'string') return input;
  return isTypedTdxCollateral(input) ? copyTypedTdxCollateral(input) : Buffer.from(input);
}

function matches(r: PlatformRecord, quote: TdxQuote, input: TdxCollateralInput): boolean {
  const c = quote.signatureData.certificationData;
  const b = quote.body;
  const [svn, signer, attributes, svn2] = r.tcbFields;
  return (
    sameInput(r.collateralInput, input) &&
    r.pem.equals(c.pckCertChain.pem) &&
    r.qeReportSignature.equals(c.qeReportSignature) &&
    r.qeAuthData.equals(c.qeAuthData) &&
    sameFields(r.qeReport, c.qeReport) &&
    r.bodyType === quote.bodyType &&
    svn!.equals(b.teeTcbSvn) &&
    signer!.equals(b.mrSignerSeam) &&
    attributes!.equals(b.seamAttributes) &&
    (svn2 === undefined || (b.teeTcbSvn2 !== undefined && svn2.equals(b.teeTcbSvn2)))
  );
}

/**
 * The parts of an earlier verification of this platform, when every cached input matches
 * `quote` and `collateral` exactly; the quote signature and the checks at `now` are done
 * here (outside the record's window, with the same functions and order as the full path).
 * Undefined on a miss: run the full path.
 *
 * @throws {VerificationError} from the quote signature or a check at `now`.
 * @example
 * const parts = recallPlatform(quote, endorsements.tdxCollateral, anchorsId, ctx);
 */
export function recallPlatform(
  quote: TdxQuote,
  collateral: TdxCollateralInput | undefined,
  anchorsId: string,
  ctx: { readonly now: Date; readonly cache: VerificationCache },
): VerifiedParts | undefined {
  if (collateral === undefined) return undefined;
  const key = tdxKeys.platform(toHex(quote.signatureData.attestationKey), anchorsId);
  const record = ctx.cache.get<PlatformRecord>(key);
  if (record === undefined || !matches(record, quote, collateral)) return undefined;
  const t = ctx.now.getTime();
  const w = record.window;
  runPerQuoteSteps(record.parts, quote, ctx, w !== undefined && t >= w[0] && t < w[1]);
  return record.parts;
}

/** Conservative intersection of every validity interval the checks at `now` consult. */
function candidateWindow(parts: VerifiedParts): [number, number] {
  let from = -Infinity;
  let until = Infinity;
  const add = (start: Date, end: Date | undefined): void => {
    from = Math.max(from, start.getTime());
    until = Math.min(until, end === undefined ? -Infinity : end.getTime());
  };
  const c = parts.collateral;
  for (const chain of [parts.pck.chain, c.tcbInfoChain, c.qeIdentityChain, c.pckCrlChain]) {
    for (const cert of chain.path) add(cert.notBefore, cert.notAfter);
    for (const v of chain.crls) add(v.crl.thisUpdate, v.crl.nextUpdate);
  }
  add(c.pckCrl.thisUpdate, c.pckCrl.nextUpdate);
  add(c.tcbInfo.issueDate, c.tcbInfo.nextUpdate);
  add(c.qeIdentity.issueDate, c.qeIdentity.nextUpdate);
  return [from, until];
}

/**
 * The window in which the checks at `now` need not run again. Each check is "now lies in
 * [start, end]" over fixed dates, so the passing instants form one interval; the candidate
 * is confirmed by running the real checks at both of its ends, so a validity check added to
 * the x509 or collateral modules later can only make the window unavailable, never wider.
 */
function validityWindow(parts: VerifiedParts): [number, number] | undefined {
  const [from, until] = candidateWindow(parts);
  if (!(from < until) || !passesAtSteps(parts, from) || !passesAtSteps(parts, until - 1))
    return undefined;
  return [from, until];
}

/**
 * Records a fully verified quote's parts for its platform (call only after every step of
 * the full path passed).
 *
 * @example
 * rememberPlatform(quote, endorsements.tdxCollateral, anchorsId, parts, ctx.cache);
 */
export function rememberPlatform(
  quote: TdxQuote,
  collateral: TdxCollateralInput,
  anchorsId: string,
  parts: VerifiedParts,
  cache: VerificationCache,
): void {
  const c = quote.signatureData.certificationData;
  const record: PlatformRecord = {
    parts,
    collateralInput: copyInput(collateral),
    pem: Buffer.from(c.pckCertChain.pem),
    qeReport: copyFields(c.qeReport),
    qeReportSignature: Buffer.from(c.qeReportSignature),
    qeAuthData: Buffer.from(c.qeAuthData),
    bodyType: quote.bodyType,
    tcbFields: Object.freeze(tcbFields(quote).map((f) => Buffer.from(f))),
    window: validityWindow(parts),
  };
  cache.set(tdxKeys.platform(toHex(quote.signatureData.attestationKey), anchorsId), record);
}
