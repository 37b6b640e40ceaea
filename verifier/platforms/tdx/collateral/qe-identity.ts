/**
 * Intel QE Identity v2 for the TD quoting enclave (`id: "TD_QE"`, spec digest C1.5) as a
 * typed structure. Parse only text whose signature has been verified.
 *
 * @internal
 * @module
 */
import { asDate, asHex, asIsvTcbLevels, asUint, invalid, parseJsonObject } from './json.js';
import type { IsvTcbLevel } from './json.js';

/** QE Identity v2 of the TD QE. */
export interface TdQeIdentity {
  readonly id: 'TD_QE';
  readonly version: 2;
  readonly issueDate: Date;
  readonly nextUpdate: Date;
  readonly tcbEvaluationDataNumber: number;
  /** MISCSELECT and its mask as u32, read little-endian like the report field. */
  readonly miscSelect: number;
  readonly miscSelectMask: number;
  /** 16 bytes each. */
  readonly attributes: Uint8Array;
  readonly attributesMask: Uint8Array;
  /** 32 bytes. */
  readonly mrSigner: Uint8Array;
  readonly isvProdId: number;
  /** In the collateral's order (highest ISVSVN first). */
  readonly tcbLevels: readonly IsvTcbLevel[];
}

/**
 * Parses the QE Identity JSON text (the value of `"enclaveIdentity"`).
 *
 * @throws {VerificationError} `ERR_COLLATERAL_INVALID` unless it is a well-formed TD_QE v2
 *   identity.
 */
export function parseTdQeIdentity(text: string): TdQeIdentity {
  const o = parseJsonObject(text, 'qeIdentity');
  if (o.id !== 'TD_QE') invalid('qeIdentity.id', `expected "TD_QE", got ${JSON.stringify(o.id)}`);
  if (o.version !== 2)
    invalid('qeIdentity.version', `expected 2, got ${JSON.stringify(o.version)}`);
  // Intel's enclave report verifier reads these 4 bytes in report (little-endian) order.
  const u32 = (v: unknown, p: string): number => Buffer.from(asHex(v, p, 4)).readUInt32LE(0);
  return Object.freeze({
    id: 'TD_QE',
    version: 2,
    issueDate: asDate(o.issueDate, 'qeIdentity.issueDate'),
    nextUpdate: asDate(o.nextUpdate, 'qeIdentity.nextUpdate'),
    tcbEvaluationDataNumber: asUint(
      o.tcbEvaluationDataNumber,
      'qeIdentity.tcbEvaluationDataNumber',
    ),
    miscSelect: u32(o.miscselect, 'qeIdentity.miscselect'),
    miscSelectMask: u32(o.miscselectMask, 'qeIdentity.miscselectMask'),
    attributes: asHex(o.attributes, 'qeIdentity.attributes', 16),
    attributesMask: asHex(o.attributesMask, 'qeIdentity.attributesMask', 16),
    mrSigner: asHex(o.mrsigner, 'qeIdentity.mrsigner', 32),
    isvProdId: asUint(o.isvprodid, 'qeIdentity.isvprodid', 0xffff),
    tcbLevels: asIsvTcbLevels(o.tcbLevels, 'qeIdentity.tcbLevels'),
  });
}
