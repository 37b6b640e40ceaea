/**
 * The Intel SGX extensions of a PCK certificate (OID 1.2.840.113741.1.13.1; spec digest
 * C1.2): PPID, the TCB (16 SGX component SVNs, PCESVN, CPUSVN), PCE-ID, FMSPC, SGX type,
 * and for certificates issued by the Platform CA the platform instance id and
 * configuration flags.
 *
 * @internal
 * @module
 */
import * as asn1js from 'asn1js';
import { EvidenceMalformedError, VerificationError } from '../../../../common/errors.js';
import { toHex } from '../../../../common/bytes.js';
import { certLabel } from '../../../../common/x509/certificate.js';
import type { Certificate } from '../../../../common/x509/certificate.js';
import {
  childrenOf,
  decodeDer,
  matchSchema,
  offsetOf,
  readBoolean,
  readEnumerated,
  readOctetString,
  readOid,
  readSmallInt,
} from '../../../../common/x509/decode.js';
import type { Block } from '../../../../common/x509/decode.js';

/** The SGX Extensions OID of PCK certificates. */
export const OID_SGX_EXTENSIONS = '1.2.840.113741.1.13.1';
const SGX = OID_SGX_EXTENSIONS;

/** SGX Type (Intel PCK certificate profile): 0 Standard, 1 Scalable, 2 ScalableWithIntegrity. */
export type SgxType = 'Standard' | 'Scalable' | 'ScalableWithIntegrity';
const SGX_TYPES: readonly SgxType[] = ['Standard', 'Scalable', 'ScalableWithIntegrity'];

/** The TCB extension (…1.13.1.2). */
export interface PckTcb {
  /** SGX TCB component SVNs 1–16 (OIDs .2.1–.2.16), index 0 = component 1. */
  readonly sgxTcbComponents: readonly number[];
  /** PCESVN (.2.17). */
  readonly pceSvn: number;
  /** CPUSVN (.2.18), 16 bytes. */
  readonly cpuSvn: Uint8Array;
}

/** Configuration flags (…1.13.1.7), present in Platform CA certificates. */
export interface PckConfiguration {
  readonly dynamicPlatform: boolean | undefined;
  readonly cachedKeys: boolean | undefined;
  readonly smtEnabled: boolean | undefined;
}

/** The parsed SGX extensions. */
export interface PckExtensions {
  /** 16 bytes. */
  readonly ppid: Uint8Array;
  readonly tcb: PckTcb;
  /** Lowercase hex, 2 bytes. */
  readonly pceId: string;
  /** Lowercase hex, 6 bytes. */
  readonly fmspc: string;
  readonly sgxType: SgxType;
  /** 16 bytes; Platform CA certificates only. */
  readonly platformInstanceId: Uint8Array | undefined;
  readonly configuration: PckConfiguration | undefined;
}

/** Which Intel CA issued a PCK certificate: selects the PCK CRL (`ca=platform|processor`). */
export type PckCaKind = 'platform' | 'processor';

function profileError(cert: Certificate, message: string, cause?: unknown): VerificationError {
  return new VerificationError(
    'ERR_CERT_PROFILE',
    `${certLabel(cert)}: SGX extension ${message}`,
    certLabel(cert),
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Reads the SGX extensions of a PCK certificate.
 *
 * @throws {VerificationError} `ERR_CERT_PROFILE` when the extension is missing, malformed,
 *   lacks a mandatory entry, or an entry has the wrong size.
 * @example
 * const ext = parsePckExtensions(pckLeaf);
 * ext.fmspc; // 'b0c06f000000'
 */
export function parsePckExtensions(cert: Certificate): PckExtensions {
  const ext = cert.extensions.get(SGX);
  if (ext === undefined) throw profileError(cert, `${SGX} is missing`);
  let entries: Map<string, Block>;
  try {
    entries = entryMap(decodeDer(ext.value, 'sgxExtensions'), 'sgxExtensions');
  } catch (err) {
    if (err instanceof VerificationError) throw err;
    throw profileError(cert, 'is malformed', err);
  }
  try {
    return readEntries(cert, entries);
  } catch (err) {
    if (err instanceof VerificationError) throw err;
    throw profileError(cert, `has a malformed entry: ${(err as Error).message}`, err);
  }
}

/**
 * The SGX extension and its TCB and configuration entries share one shape (Intel PCK certificate
 * profile): `SEQUENCE OF SEQUENCE { OBJECT IDENTIFIER, ANY }`, each value typed by its OID.
 */
const ENTRIES = new asn1js.Sequence({
  value: [
    new asn1js.Repeated({
      name: 'entries',
      value: new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier(), new asn1js.Any()] }),
    }),
  ],
});

/** The entries as a map by OID; an entry of more than two elements or a repeated OID is malformed. */
function entryMap(block: Block, field: string): Map<string, Block> {
  const out = new Map<string, Block>();
  const { entries } = matchSchema(block, ENTRIES, field);
  for (const entry of (entries ?? []) as Block[]) {
    const [oidBlock, value, ...extra] = childrenOf(entry, field);
    const oid = readOid(oidBlock, field);
    if (value === undefined || extra.length > 0 || out.has(oid)) {
      throw new EvidenceMalformedError(`malformed or duplicate entry ${oid}`, {
        field,
        offset: offsetOf(entry),
      });
    }
    out.set(oid, value);
  }
  return out;
}

function readEntries(cert: Certificate, entries: Map<string, Block>): PckExtensions {
  const need = (n: number): Block => {
    const node = entries.get(`${SGX}.${n}`);
    if (node === undefined) throw profileError(cert, `entry ${SGX}.${n} is missing`);
    return node;
  };
  const octets = (n: number, size: number, name: string): Uint8Array => {
    const v = readOctetString(need(n), name);
    if (v.length !== size) throw profileError(cert, `${name} is ${v.length} bytes, not ${size}`);
    return v.slice();
  };
  const sgxType = Number(readEnumerated(need(5), 'sgxType'));
  if (SGX_TYPES[sgxType] === undefined) throw profileError(cert, `SGX type ${sgxType} is unknown`);
  const instance = entries.has(`${SGX}.6`) ? octets(6, 16, 'platformInstanceId') : undefined;
  const config = entries.get(`${SGX}.7`);
  return Object.freeze({
    ppid: octets(1, 16, 'PPID'),
    tcb: readTcb(cert, need(2)),
    pceId: toHex(octets(3, 2, 'PCE-ID')),
    fmspc: toHex(octets(4, 6, 'FMSPC')),
    sgxType: SGX_TYPES[sgxType]!,
    platformInstanceId: instance,
    configuration: config === undefined ? undefined : readConfiguration(config),
  });
}

function readTcb(cert: Certificate, node: Block): PckTcb {
  const tcb = entryMap(node, 'tcb');
  const comps: number[] = [];
  for (let i = 1; i <= 16; i++) {
    const v = tcb.get(`${SGX}.2.${i}`);
    if (v === undefined) throw profileError(cert, `TCB component ${i} is missing`);
    comps.push(readSmallInt(v, `sgxTcbComp${i}Svn`, 0, 255));
  }
  const pce = tcb.get(`${SGX}.2.17`);
  const cpu = tcb.get(`${SGX}.2.18`);
  if (pce === undefined || cpu === undefined)
    throw profileError(cert, 'PCESVN or CPUSVN is missing');
  const cpuSvn = readOctetString(cpu, 'cpuSvn');
  if (cpuSvn.length !== 16) throw profileError(cert, `CPUSVN is ${cpuSvn.length} bytes, not 16`);
  return Object.freeze({
    sgxTcbComponents: Object.freeze(comps),
    pceSvn: readSmallInt(pce, 'pceSvn', 0, 0xffff),
    cpuSvn: cpuSvn.slice(),
  });
}

function readConfiguration(node: Block): PckConfiguration {
  const flags = entryMap(node, 'configuration');
  const flag = (n: number): boolean | undefined => {
    const v = flags.get(`${SGX}.7.${n}`);
    return v === undefined ? undefined : readBoolean(v, `configuration.${n}`);
  };
  return Object.freeze({ dynamicPlatform: flag(1), cachedKeys: flag(2), smtEnabled: flag(3) });
}

/**
 * Which CA issued the PCK certificate, from the issuer CN ("Intel SGX PCK Platform CA" or
 * "Intel SGX PCK Processor CA"; spec digest C1.1).
 *
 * @throws {VerificationError} `ERR_CERT_PROFILE` for any other issuer.
 */
export function pckCaKind(cert: Certificate): PckCaKind {
  const cn = cert.issuerCn ?? '';
  if (/\bPlatform CA\b/.test(cn)) return 'platform';
  if (/\bProcessor CA\b/.test(cn)) return 'processor';
  throw new VerificationError(
    'ERR_CERT_PROFILE',
    `${certLabel(cert)}: issuer '${cn}' is neither the PCK Platform CA nor the Processor CA`,
    certLabel(cert),
  );
}
