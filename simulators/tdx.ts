/**
 * Simulated Intel TDX evidence: a DCAP quote (v4, or v5 with a TD 1.0 or 1.5 body) signed
 * through a simulated Intel PKI, and the matching collateral. Deterministic: the same PKI,
 * `seed` and `now` give the same bytes.
 *
 * @module
 */
import { fromHex } from '../common/bytes.js';
import type { TdxCollateralV3 } from '../verifier/platforms/tdx/collateral/v3.js';
import { deriveEcKey } from './pki/keys.js';
import { pemChain } from './pki/x509.js';
import type { IntelPki } from './pki/intel.js';
import { buildSimCollateral } from './tdx-collateral.js';
import { SIM_DEFAULTS } from './tdx-options.js';
import type { TdxSimOptions } from './tdx-options.js';
import { buildSimQuote } from './tdx-quote.js';

export type {
  SimPlatformTcb,
  SimQeTcbLevel,
  SimTcbLevel,
  TcbStatus,
  TdxSimOptions,
} from './tdx-options.js';
export { simWindows } from './tdx-collateral.js';
export { SIM_QE_MRENCLAVE, SIM_QE_MRSIGNER } from './tdx-options.js';

/** A simulated quote and its collateral. */
export interface TdxSimulation {
  /** The serialized quote (no trailing bytes). */
  quote: Uint8Array;
  /** Collateral in the `QuoteCollateralV3` shape, signed by the simulated PKI. */
  collateral: TdxCollateralV3;
}

/**
 * Produces a TDX quote and its collateral from a simulated Intel PKI.
 *
 * The PCK certificate (issued by the Platform or Processor CA, with the requested SGX TCB,
 * PCESVN and FMSPC) signs the QE report; the QE report binds an attestation key derived from
 * `seed`; the attestation key signs the quote. The collateral carries a TCB Info v3
 * (`id: "TDX"`) whose levels follow `platformTcb` / `tcbLevels`, a TDX module identity for
 * TEE_TCB_SVN[1], a `TD_QE` identity matching the simulated QE, and CRLs, all valid around `now`.
 *
 * @param pki - the simulated Intel PKI (its CAs must be valid at `now`).
 * @param opts - what the quote and collateral say; see {@link TdxSimOptions}.
 * @throws TypeError on option values of the wrong size or range.
 *
 * @example
 * ```ts
 * const pki = createIntelPki({ seed: 'test', notBefore: new Date('2024-01-01T00:00:00Z') });
 * const { quote, collateral } = simulateTdx(pki, {
 *   seed: 'td-1', now: new Date('2026-01-01T00:00:00Z'), version: 5, debug: false,
 *   platformTcb: { status: 'OutOfDate', advisoryIds: ['INTEL-SA-00000'] },
 * });
 * ```
 */
export function simulateTdx(pki: IntelPki, opts: TdxSimOptions): TdxSimulation {
  const ca = opts.pckCa ?? 'platform';
  const pck = pki.issuePck({
    ca,
    cpusvn: opts.sgxTcbComps ?? SIM_DEFAULTS.sgxTcbComps,
    pcesvn: opts.pceSvn ?? SIM_DEFAULTS.pceSvn,
    fmspc: fromHex(opts.fmspc ?? SIM_DEFAULTS.fmspc),
    label: `tdx-sim/${opts.seed}`,
  });
  const quote = buildSimQuote(opts, {
    attestationKey: deriveEcKey(opts.seed, 'tdx-sim/attestation-key', 'P-256'),
    pckKey: pck.key,
    pckChainPem: pemChain(pck, ca === 'platform' ? pki.platformCa : pki.processorCa, pki.root),
  });
  const collateral = buildSimCollateral(pki, opts, { ca, serial: pck.serial });
  return { quote, collateral };
}
