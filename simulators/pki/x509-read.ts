/**
 * Reading certificates and CRLs back with the DER reader: enough structure for tests and
 * for simulators that need a field of a certificate they were handed (serial, names,
 * extensions, the signed TBS bytes). Not a validating parser.
 *
 * @module
 */
import {
  childrenOf,
  readBoolean,
  readDerExact,
  readInteger,
  readOctetString,
  readOid,
  readString,
  readTime,
  type DerNode,
} from './der.js';
import { EvidenceMalformedError } from '../../verifier/errors.js';

/** One extension as encoded. */
export interface ParsedExtension {
  oid: string;
  critical: boolean;
  /** DER inside extnValue. */
  value: Uint8Array;
}

/** The parts of a certificate, as views into its DER. */
export interface ParsedCertificate {
  tbs: Uint8Array;
  version: number;
  serial: bigint;
  /** TBS signature AlgorithmIdentifier DER. */
  tbsSignatureAlgorithm: Uint8Array;
  issuer: Uint8Array;
  subject: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  spki: Uint8Array;
  extensions: ParsedExtension[];
  signatureAlgorithm: Uint8Array;
  /** BIT STRING contents without the unused-bits byte. */
  signature: Uint8Array;
}

/** One revoked entry of a CRL. */
export interface ParsedRevoked {
  serial: bigint;
  revocationDate: Date;
  extensions: ParsedExtension[];
}

/** The parts of a CRL. */
export interface ParsedCrl {
  tbs: Uint8Array;
  version: number;
  tbsSignatureAlgorithm: Uint8Array;
  issuer: Uint8Array;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
  revoked: ParsedRevoked[];
  extensions: ParsedExtension[];
  signatureAlgorithm: Uint8Array;
  signature: Uint8Array;
}

function malformed(what: string, node: DerNode): EvidenceMalformedError {
  return new EvidenceMalformedError(what, { field: 'DER', offset: node.offset });
}

/** Parses an `Extensions` SEQUENCE. */
export function parseExtensions(seq: DerNode): ParsedExtension[] {
  return childrenOf(seq).map((ext) => {
    const parts = childrenOf(ext);
    const critical = parts.length === 3 ? readBoolean(parts[1]!) : false;
    return {
      oid: readOid(parts[0]!),
      critical,
      value: readOctetString(parts[parts.length - 1]!),
    };
  });
}

function outer(der: Uint8Array): { tbs: DerNode; alg: DerNode; sig: Uint8Array } {
  const top = readDerExact(der);
  const [tbs, alg, sig] = childrenOf(top);
  if (!tbs || !alg || !sig || sig.tag !== 0x03) throw malformed('not a signed structure', top);
  return { tbs, alg, sig: sig.value.subarray(1) };
}

/** Splits a certificate into its fields. */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  const { tbs, alg, sig } = outer(der);
  const f = childrenOf(tbs);
  const hasVersion = f[0]?.tag === 0xa0;
  const at = hasVersion ? 1 : 0;
  const version = hasVersion ? Number(readInteger(childrenOf(f[0]!)[0]!)) + 1 : 1;
  const validity = childrenOf(f[at + 3]!);
  const extField = f.slice(at + 6).find((n) => n.tag === 0xa3);
  return {
    tbs: tbs.raw,
    version,
    serial: readInteger(f[at]!),
    tbsSignatureAlgorithm: f[at + 1]!.raw,
    issuer: f[at + 2]!.raw,
    notBefore: readTime(validity[0]!),
    notAfter: readTime(validity[1]!),
    subject: f[at + 4]!.raw,
    spki: f[at + 5]!.raw,
    extensions: extField ? parseExtensions(childrenOf(extField)[0]!) : [],
    signatureAlgorithm: alg.raw,
    signature: sig,
  };
}

/** Splits a CRL into its fields. */
export function parseCrl(der: Uint8Array): ParsedCrl {
  const { tbs, alg, sig } = outer(der);
  const f = childrenOf(tbs);
  let i = 0;
  const version = f[0]?.tag === 0x02 ? Number(readInteger(f[i++]!)) + 1 : 1;
  const tbsSignatureAlgorithm = f[i++]!.raw;
  const issuer = f[i++]!.raw;
  const thisUpdate = readTime(f[i++]!);
  const nextUpdate =
    f[i] && (f[i]!.tag === 0x17 || f[i]!.tag === 0x18) ? readTime(f[i++]!) : undefined;
  const revoked: ParsedRevoked[] = [];
  if (f[i]?.tag === 0x30) {
    for (const entry of childrenOf(f[i++]!)) {
      const [serial, date, exts] = childrenOf(entry);
      revoked.push({
        serial: readInteger(serial!),
        revocationDate: readTime(date!),
        extensions: exts ? parseExtensions(exts) : [],
      });
    }
  }
  const extField = f[i]?.tag === 0xa0 ? f[i] : undefined;
  return {
    tbs: tbs.raw,
    version,
    tbsSignatureAlgorithm,
    issuer,
    thisUpdate,
    nextUpdate,
    revoked,
    extensions: extField ? parseExtensions(childrenOf(extField)[0]!) : [],
    signatureAlgorithm: alg.raw,
    signature: sig,
  };
}

/** A Name's attributes in order, as `[oid, text]` pairs. */
export function parseName(name: Uint8Array): [string, string][] {
  return childrenOf(readDerExact(name)).flatMap((rdn) =>
    childrenOf(rdn).map((atv): [string, string] => {
      const [type, value] = childrenOf(atv);
      return [readOid(type!), readString(value!)];
    }),
  );
}

/** The extension with `oid`, if present. */
export function findExtension(
  cert: ParsedCertificate | ParsedCrl,
  oid: string,
): ParsedExtension | undefined {
  return cert.extensions.find((e) => e.oid === oid);
}
