/**
 * The signed JSON texts of simulated TDX collateral: TCB Info v3 (`id: "TDX"`) and the TD QE
 * identity (`id: "TD_QE"`, version 2), laid out field for field like Intel PCS responses
 * (compact JSON, uppercase hex, the same key order).
 *
 * @internal
 * @module
 */
import { toHex } from '../common/bytes.js';
import type { SimQeTcbLevel, SimTcbLevel, TcbStatus } from './tdx-options.js';

/** Uppercase hex, as Intel writes hex values in collateral JSON. */
export function upperHex(bytes: Uint8Array): string {
  return toHex(bytes).toUpperCase();
}

/** An instant as Intel writes it: ISO 8601 UTC without milliseconds. */
export function intelDate(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

const SGX_COMPONENT_NAMES: { category?: string; type?: string }[] = [
  { category: 'BIOS', type: 'Early Microcode Update' },
  { category: 'OS/VMM', type: 'SGX Late Microcode Update' },
  { category: 'OS/VMM', type: 'TXT SINIT' },
  { category: 'BIOS' },
  { category: 'BIOS' },
  { category: 'BIOS' },
  {},
  { category: 'OS/VMM', type: 'SEAMLDR ACM' },
];

const TDX_COMPONENT_NAMES: { category?: string; type?: string }[] = [
  { category: 'OS/VMM', type: 'TDX Module' },
  { category: 'OS/VMM', type: 'TDX Module' },
  { category: 'OS/VMM', type: 'TDX Late Microcode Update' },
];

function components(svns: number[], names: { category?: string; type?: string }[]): object[] {
  if (svns.length !== 16)
    throw new TypeError(`a TCB level needs 16 component SVNs, got ${svns.length}`);
  return svns.map((svn, i) => ({ svn, ...names[i] }));
}

function withAdvisories<T extends object>(level: T, ids: string[] | undefined): T {
  return ids && ids.length > 0 ? { ...level, advisoryIDs: ids } : level;
}

/** Inputs of the TCB Info text. */
export interface TcbInfoInput {
  issueDate: string;
  nextUpdate: string;
  fmspc: string;
  pceId: string;
  tcbEvaluationDataNumber: number;
  tcbDate: string;
  /** MRSIGNERSEAM the TDX module identity expects. */
  mrSignerSeam: Uint8Array;
  /** The quote's TEE_TCB_SVN: [1] selects the module identity, [0] its level. */
  teeTcbSvn: Uint8Array;
  moduleStatus: TcbStatus;
  levels: SimTcbLevel[];
}

function moduleIdentities(t: TcbInfoInput): object[] {
  const [minor = 0, major = 0] = t.teeTcbSvn;
  if (major === 0) return [];
  const matched = { tcb: { isvsvn: minor }, tcbDate: t.tcbDate, tcbStatus: t.moduleStatus };
  const newer = { tcb: { isvsvn: minor + 1 }, tcbDate: t.tcbDate, tcbStatus: 'UpToDate' };
  return [
    {
      id: `TDX_${major.toString(16).padStart(2, '0').toUpperCase()}`,
      mrsigner: upperHex(t.mrSignerSeam),
      attributes: '0000000000000000',
      attributesMask: 'FFFFFFFFFFFFFFFF',
      tcbLevels: t.moduleStatus === 'UpToDate' ? [matched] : [newer, matched],
    },
  ];
}

function tcbLevel(l: SimTcbLevel, tcbDate: string): object {
  const level = {
    tcb: {
      sgxtcbcomponents: components(l.sgxTcbComps, SGX_COMPONENT_NAMES),
      pcesvn: l.pceSvn,
      tdxtcbcomponents: components(l.tdxTcbComps, TDX_COMPONENT_NAMES),
    },
    tcbDate: l.tcbDate ?? tcbDate,
    tcbStatus: l.status,
  };
  return withAdvisories(level, l.advisoryIds);
}

/** The exact `tcbInfo` JSON text (TCB Info v3, `id: "TDX"`). */
export function tcbInfoText(t: TcbInfoInput): string {
  return JSON.stringify({
    id: 'TDX',
    version: 3,
    issueDate: t.issueDate,
    nextUpdate: t.nextUpdate,
    fmspc: t.fmspc.toUpperCase(),
    pceId: t.pceId.toUpperCase(),
    tcbType: 0,
    tcbEvaluationDataNumber: t.tcbEvaluationDataNumber,
    tdxModule: {
      mrsigner: upperHex(t.mrSignerSeam),
      attributes: '0000000000000000',
      attributesMask: 'FFFFFFFFFFFFFFFF',
    },
    tdxModuleIdentities: moduleIdentities(t),
    tcbLevels: t.levels.map((l) => tcbLevel(l, t.tcbDate)),
  });
}

/** Inputs of the QE identity text. */
export interface QeIdentityInput {
  issueDate: string;
  nextUpdate: string;
  tcbEvaluationDataNumber: number;
  tcbDate: string;
  miscselect: string;
  miscselectMask: string;
  attributes: string;
  attributesMask: string;
  mrSigner: Uint8Array;
  isvProdId: number;
  levels: SimQeTcbLevel[];
}

/** The exact `enclaveIdentity` JSON text (`id: "TD_QE"`, version 2). */
export function qeIdentityText(q: QeIdentityInput): string {
  return JSON.stringify({
    id: 'TD_QE',
    version: 2,
    issueDate: q.issueDate,
    nextUpdate: q.nextUpdate,
    tcbEvaluationDataNumber: q.tcbEvaluationDataNumber,
    miscselect: q.miscselect,
    miscselectMask: q.miscselectMask,
    attributes: q.attributes,
    attributesMask: q.attributesMask,
    mrsigner: upperHex(q.mrSigner),
    isvprodid: q.isvProdId,
    tcbLevels: q.levels.map((l) =>
      withAdvisories(
        { tcb: { isvsvn: l.isvSvn }, tcbDate: l.tcbDate ?? q.tcbDate, tcbStatus: l.status },
        l.advisoryIds,
      ),
    ),
  });
}
