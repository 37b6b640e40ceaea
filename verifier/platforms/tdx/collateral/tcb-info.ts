/**
 * Intel TDX TCB Info v3 (`id: "TDX"`, spec digest C1.3) as a typed structure. Parse only
 * text whose signature has been verified: the text itself is what Intel signed.
 *
 * @internal
 * @module
 */
import { toHex } from '../../../../common/bytes.js';
import {
  asArray,
  asDate,
  asAdvisories,
  asHex,
  asIsvTcbLevels,
  asObject,
  asStatus,
  asString,
  asUint,
  invalid,
  parseJsonObject,
} from './json.js';
import type { IsvTcbLevel, JsonObject } from './json.js';
import type { TcbStatus } from '../verify/tcb-status.js';

/** A platform TCB level. */
export interface TdxTcbLevel {
  /** The 16 SGX TCB component SVNs. */
  readonly sgxTcbComponents: readonly number[];
  readonly pceSvn: number;
  /** The 16 TDX TCB component SVNs (compared with TEE_TCB_SVN). */
  readonly tdxTcbComponents: readonly number[];
  readonly tcbDate: string;
  readonly tcbStatus: TcbStatus;
  readonly advisoryIds: readonly string[];
}

/** Expected identity of the TDX module (`tdxModule`). */
export interface TdxModuleSigner {
  /** 48 bytes, compared with MRSIGNERSEAM. */
  readonly mrSigner: Uint8Array;
  /** 8 bytes each, compared with SEAMATTRIBUTES under the mask. */
  readonly attributes: Uint8Array;
  readonly attributesMask: Uint8Array;
}

/** One `tdxModuleIdentities` entry, e.g. `TDX_03`, with its own TCB levels keyed by TEE_TCB_SVN[0]. */
export interface TdxModuleIdentity extends TdxModuleSigner {
  readonly id: string;
  readonly tcbLevels: readonly IsvTcbLevel[];
}

/** TCB Info v3 for TDX. */
export interface TdxTcbInfo {
  readonly id: 'TDX';
  readonly version: 3;
  readonly issueDate: Date;
  readonly nextUpdate: Date;
  /** Lowercase hex, 6 bytes. */
  readonly fmspc: string;
  /** Lowercase hex, 2 bytes. */
  readonly pceId: string;
  readonly tcbType: number;
  readonly tcbEvaluationDataNumber: number;
  readonly tdxModule: TdxModuleSigner | undefined;
  readonly tdxModuleIdentities: readonly TdxModuleIdentity[];
  /** In the collateral's order (Intel sorts them from the newest TCB down). */
  readonly tcbLevels: readonly TdxTcbLevel[];
}

/**
 * Parses the TCB Info JSON text (the value of `"tcbInfo"`).
 *
 * @throws {VerificationError} `ERR_COLLATERAL_INVALID` unless it is a well-formed TDX v3
 *   TCB Info.
 */
export function parseTdxTcbInfo(text: string): TdxTcbInfo {
  const o = parseJsonObject(text, 'tcbInfo');
  if (o.id !== 'TDX') invalid('tcbInfo.id', `expected "TDX", got ${JSON.stringify(o.id)}`);
  if (o.version !== 3) invalid('tcbInfo.version', `expected 3, got ${JSON.stringify(o.version)}`);
  const identities =
    o.tdxModuleIdentities === undefined
      ? []
      : asArray(o.tdxModuleIdentities, 'tcbInfo.tdxModuleIdentities');
  const levels = asArray(o.tcbLevels, 'tcbInfo.tcbLevels');
  if (levels.length === 0) invalid('tcbInfo.tcbLevels', 'no TCB levels');
  return Object.freeze({
    id: 'TDX',
    version: 3,
    issueDate: asDate(o.issueDate, 'tcbInfo.issueDate'),
    nextUpdate: asDate(o.nextUpdate, 'tcbInfo.nextUpdate'),
    fmspc: toHex(asHex(o.fmspc, 'tcbInfo.fmspc', 6)),
    pceId: toHex(asHex(o.pceId, 'tcbInfo.pceId', 2)),
    tcbType: asUint(o.tcbType, 'tcbInfo.tcbType'),
    tcbEvaluationDataNumber: asUint(o.tcbEvaluationDataNumber, 'tcbInfo.tcbEvaluationDataNumber'),
    tdxModule:
      o.tdxModule === undefined
        ? undefined
        : moduleSigner(asObject(o.tdxModule, 'tcbInfo.tdxModule'), 'tcbInfo.tdxModule'),
    tdxModuleIdentities: Object.freeze(
      identities.map((v, i) => moduleIdentity(v, `tcbInfo.tdxModuleIdentities[${i}]`)),
    ),
    tcbLevels: Object.freeze(levels.map((v, i) => tcbLevel(v, `tcbInfo.tcbLevels[${i}]`))),
  });
}

function moduleSigner(o: JsonObject, path: string): TdxModuleSigner {
  return {
    mrSigner: asHex(o.mrsigner, `${path}.mrsigner`, 48),
    attributes: asHex(o.attributes, `${path}.attributes`, 8),
    attributesMask: asHex(o.attributesMask, `${path}.attributesMask`, 8),
  };
}

function moduleIdentity(value: unknown, path: string): TdxModuleIdentity {
  const o = asObject(value, path);
  return Object.freeze({
    id: asString(o.id, `${path}.id`),
    ...moduleSigner(o, path),
    tcbLevels: asIsvTcbLevels(o.tcbLevels, `${path}.tcbLevels`),
  });
}

function svns(value: unknown, path: string): readonly number[] {
  const comps = asArray(value, path);
  if (comps.length !== 16) invalid(path, `expected 16 components, got ${comps.length}`);
  return Object.freeze(
    comps.map((c, i) => asUint(asObject(c, `${path}[${i}]`).svn, `${path}[${i}].svn`, 255)),
  );
}

function tcbLevel(value: unknown, path: string): TdxTcbLevel {
  const level = asObject(value, path);
  const tcb = asObject(level.tcb, `${path}.tcb`);
  asDate(level.tcbDate, `${path}.tcbDate`);
  return Object.freeze({
    sgxTcbComponents: svns(tcb.sgxtcbcomponents, `${path}.tcb.sgxtcbcomponents`),
    pceSvn: asUint(tcb.pcesvn, `${path}.tcb.pcesvn`, 0xffff),
    tdxTcbComponents: svns(tcb.tdxtcbcomponents, `${path}.tcb.tdxtcbcomponents`),
    tcbDate: level.tcbDate as string,
    tcbStatus: asStatus(level.tcbStatus, `${path}.tcbStatus`),
    advisoryIds: asAdvisories(level.advisoryIDs, `${path}.advisoryIDs`),
  });
}

/**
 * The module identity `TDX_<version>` (two uppercase hex digits; ids compared
 * case-insensitively, as Intel QVL does), if listed.
 */
export function findTdxModuleIdentity(
  tcbInfo: TdxTcbInfo,
  version: number,
): TdxModuleIdentity | undefined {
  const id = `TDX_${version.toString(16).toUpperCase().padStart(2, '0')}`;
  return tcbInfo.tdxModuleIdentities.find((m) => m.id.toUpperCase() === id);
}
