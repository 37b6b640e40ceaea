/**
 * The steps of TDX quote verification (spec digest B1.5), written once, in order. Each step
 * is of one kind:
 *
 * - `pure`: a function of bytes only (the PCK chain's signatures, the QE binding, the
 *   collateral's signatures, the TCB evaluation), served from the content-keyed cache and
 *   skipped on the warm path, which reuses what a full run established;
 * - `at`: a validity check at `now` (certificates, CRLs, TCB Info and QE Identity windows),
 *   skipped on the warm path only inside the window in which it is known to pass;
 * - `quote`: the per-quote work (the quote signature), run for every quote.
 *
 * The full path ({@link runAllSteps}) and the warm path ({@link runPerQuoteSteps}) both
 * walk this one list, so the order in which failures are reported is the same on both.
 *
 * @internal
 * @module
 */
import { VerificationError } from '../../../../common/errors.js';
import { checkChainAt } from '../../../../common/x509/chain.js';
import type { VerifiedChain } from '../../../../common/x509/chain.js';
import type { VerifyContext } from '../../../verify/types.js';
import { BODY_TYPE_TD15 } from '../abi/types.js';
import type { TdxQuote } from '../abi/types.js';
import { checkTcbInfoMatchesPck } from '../collateral/pck.js';
import { checkTdxCollateralAt } from '../collateral/v3.js';
import type { VerifiedTdxCollateral } from '../collateral/v3.js';
import { authenticateTdxCollateral, supplyTdxCollateral } from './collateral.js';
import type { SuppliedTdxCollateral, TdxCollateralInput } from './collateral.js';
import { rememberedSha256 } from './keys.js';
import { verifyPckChainCached } from './pck.js';
import type { VerifiedPckChain } from './pck.js';
import { bindQeReport, checkQuoteSignature } from './qe.js';
import type { QeBinding } from './qe.js';
import { evaluateTdxTcb } from './tcb-match.js';
import type { TdxTcbEvaluation } from './tcb-match.js';

/** What the full path established for a quote, apart from the quote itself. */
export interface VerifiedParts {
  /** SHA-256 of the PCK chain PEM exactly as carried in the quote. */
  readonly pemSha256: string;
  readonly supplied: SuppliedTdxCollateral;
  readonly pck: VerifiedPckChain;
  readonly qe: QeBinding;
  readonly collateral: VerifiedTdxCollateral;
  readonly tcb: TdxTcbEvaluation;
}

/**
 * The inputs of one run and the parts established so far. The warm path and the window
 * probe run without the full path's inputs (`full`): only `at` and `quote` steps then.
 */
interface Run {
  readonly now: Date;
  readonly quote?: TdxQuote;
  readonly full?: {
    readonly input: TdxCollateralInput | undefined;
    readonly anchorsId: string;
    readonly ctx: VerifyContext;
  };
  readonly parts: Partial<{ -readonly [K in keyof VerifiedParts]: VerifiedParts[K] }>;
}

type StepKind = 'pure' | 'at' | 'quote';

interface Step {
  readonly name: string;
  readonly kind: StepKind;
  run(r: Run): void;
}

function need<K extends keyof VerifiedParts>(r: Run, key: K): VerifiedParts[K] {
  const v = r.parts[key];
  if (v === undefined) throw new Error(`TDX verification step order: ${key} not established`);
  return v as VerifiedParts[K];
}

function quoteOf(r: Run): TdxQuote {
  if (r.quote === undefined) throw new Error('TDX verification step needs the quote');
  return r.quote;
}

function fullOf(r: Run): NonNullable<Run['full']> {
  if (r.full === undefined)
    throw new Error('a pure TDX verification step runs on the full path only');
  return r.full;
}

/**
 * Collateral must be issued under the root the PCK chain ends at, so that with a simulator
 * root configured beside Intel's, simulator-signed TCB Info never judges a real platform.
 * Defence in depth: as every Intel root bears the same name, the Root CA CRL that all
 * these chains are checked with already fails under any other root.
 */
function checkSameRoot(pck: VerifiedChain, collateral: VerifiedTdxCollateral): void {
  const chains: [string, VerifiedChain][] = [
    ['collateral.tcb_info_issuer_chain', collateral.tcbInfoChain],
    ['collateral.qe_identity_issuer_chain', collateral.qeIdentityChain],
    ['collateral.pck_crl_issuer_chain', collateral.pckCrlChain],
  ];
  for (const [subject, chain] of chains) {
    if (chain.anchor.sha256 !== pck.anchor.sha256) {
      throw new VerificationError(
        'ERR_COLLATERAL_MISMATCH',
        `${subject} ends at root ${chain.anchor.sha256}, the PCK chain at ${pck.anchor.sha256}`,
        subject,
      );
    }
  }
}

function evaluate(r: Run): TdxTcbEvaluation {
  const quote = quoteOf(r);
  const body = quote.body;
  const collateral = need(r, 'collateral');
  return evaluateTdxTcb({
    pckTcb: need(r, 'pck').extensions.tcb,
    teeTcbSvn: body.teeTcbSvn,
    ...(quote.bodyType === BODY_TYPE_TD15 && body.teeTcbSvn2
      ? { teeTcbSvn2: body.teeTcbSvn2 }
      : {}),
    mrSignerSeam: body.mrSignerSeam,
    seamAttributes: body.seamAttributes,
    qeReport: quote.signatureData.certificationData.qeReport,
    tcbInfo: collateral.tcbInfo,
    qeIdentity: collateral.qeIdentity,
  });
}

/** B1.5 after the header, in order. */
const STEPS: readonly Step[] = [
  {
    name: 'collateral supplied',
    kind: 'pure',
    run: (r) => (r.parts.supplied = supplyTdxCollateral(fullOf(r).input, fullOf(r).ctx.cache)),
  },
  {
    name: 'PCK chain to the pinned root, with the PCK CRL and Root CA CRL',
    kind: 'pure',
    run: (r) => {
      const { ctx, anchorsId } = fullOf(r);
      const pem = quoteOf(r).signatureData.certificationData.pckCertChain.pem;
      const pemSha256 = rememberedSha256(ctx.cache, 'pck-chain', pem);
      r.parts.pemSha256 = pemSha256;
      r.parts.pck = verifyPckChainCached(
        pem,
        pemSha256,
        need(r, 'supplied'),
        ctx.anchors.intel,
        anchorsId,
        ctx.cache,
      );
    },
  },
  {
    name: 'PCK chain at now',
    kind: 'at',
    run: (r) => checkChainAt(need(r, 'pck').chain, { now: r.now, requireCrlFor: 'all' }),
  },
  {
    name: 'QE report signed by the PCK key, REPORTDATA binds the attestation key',
    kind: 'pure',
    run: (r) => {
      const signatureData = quoteOf(r).signatureData;
      r.parts.qe = bindQeReport(signatureData, need(r, 'pck').leaf, fullOf(r).ctx.cache);
    },
  },
  {
    name: 'quote signature by the attestation key',
    kind: 'quote',
    run: (r) => checkQuoteSignature(quoteOf(r), need(r, 'qe')),
  },
  {
    name: 'collateral chains and signatures',
    kind: 'pure',
    run: (r) => {
      const { ctx, anchorsId } = fullOf(r);
      const supplied = need(r, 'supplied');
      r.parts.collateral = authenticateTdxCollateral(
        supplied,
        ctx.anchors.intel,
        anchorsId,
        ctx.cache,
      );
    },
  },
  {
    name: 'collateral under the PCK chain root',
    kind: 'pure',
    run: (r) => checkSameRoot(need(r, 'pck').chain, need(r, 'collateral')),
  },
  {
    name: 'collateral at now',
    kind: 'at',
    run: (r) => checkTdxCollateralAt(need(r, 'collateral'), r.now),
  },
  {
    name: 'TCB Info FMSPC and PCE-ID equal the PCK certificate',
    kind: 'pure',
    run: (r) => checkTcbInfoMatchesPck(need(r, 'collateral').tcbInfo, need(r, 'pck').extensions),
  },
  { name: 'TCB evaluation', kind: 'pure', run: (r) => (r.parts.tcb = evaluate(r)) },
];

/**
 * The full path: every step in order, each pure part from its content-keyed cache entry.
 *
 * @throws {VerificationError} the first failing step's error.
 */
export function runAllSteps(
  quote: TdxQuote,
  input: TdxCollateralInput | undefined,
  anchorsId: string,
  ctx: VerifyContext,
): VerifiedParts {
  const r: Run = { now: ctx.now, quote, full: { input, anchorsId, ctx }, parts: {} };
  for (const step of STEPS) step.run(r);
  return {
    pemSha256: need(r, 'pemSha256'),
    supplied: need(r, 'supplied'),
    pck: need(r, 'pck'),
    qe: need(r, 'qe'),
    collateral: need(r, 'collateral'),
    tcb: need(r, 'tcb'),
  };
}

/**
 * The warm path over parts a full run established: the `quote` steps, and the `at` steps
 * unless `inWindow` (the record's window covers `now`), in the order of the full path.
 *
 * @throws {VerificationError} the first failing step's error.
 */
export function runPerQuoteSteps(
  parts: VerifiedParts,
  quote: TdxQuote,
  ctx: Pick<VerifyContext, 'now'>,
  inWindow: boolean,
): void {
  const r: Run = { now: ctx.now, quote, parts: { ...parts } };
  for (const step of STEPS) {
    if (step.kind === 'quote' || (step.kind === 'at' && !inWindow)) step.run(r);
  }
}

/** True when every `at` step passes at `t` (ms) for these parts. */
export function passesAtSteps(parts: VerifiedParts, t: number): boolean {
  const r: Run = { now: new Date(t), parts: { ...parts } };
  try {
    for (const step of STEPS) if (step.kind === 'at') step.run(r);
    return true;
  } catch {
    return false;
  }
}
