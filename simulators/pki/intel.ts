/**
 * Simulated Intel SGX/TDX provisioning PKI: "Intel SGX Root CA", the PCK Platform and
 * Processor CAs, "Intel SGX TCB Signing" and PCK leaf certificates with the SGX
 * extensions, plus CRLs and collateral signatures, mirroring the profile of Intel's real
 * certificates (names, extensions, criticality, key usages, ECDSA P-256 with SHA-256).
 * Only the keys differ: they are derived from the simulator seed.
 *
 * @module
 */
import * as asn1js from 'asn1js';
import { der, integer } from './asn1.js';
import { deriveBytes, bytesToBigint } from './drbg.js';
import {
  authorityKeyIdentifier,
  basicConstraints,
  crlDistributionPoint,
  crlNumber,
  keyIdOverSpki,
  keyUsage,
  subjectKeyIdentifier,
} from './extensions.js';
import { deriveEcKey, type EcKeyPair } from './keys.js';
import { addSeconds, addYears, checkBytes, checkUint, hex, minDate, wholeSeconds } from './util.js';
import {
  buildCrl,
  issueCertificate,
  pemChain,
  type DistinguishedName,
  type Extension,
  type IssuedCert,
} from './x509.js';

/** Which PCK CA issues a PCK certificate (selects the `ca=` of the PCK CRL too). */
export type PckCa = 'platform' | 'processor';

/** SGX extension OIDs (Intel SGX PCK Certificate and CRL Profile). */
export const SgxOids = {
  extensions: '1.2.840.113741.1.13.1',
  ppid: '1.2.840.113741.1.13.1.1',
  tcb: '1.2.840.113741.1.13.1.2',
  pceId: '1.2.840.113741.1.13.1.3',
  fmspc: '1.2.840.113741.1.13.1.4',
  sgxType: '1.2.840.113741.1.13.1.5',
  platformInstanceId: '1.2.840.113741.1.13.1.6',
  configuration: '1.2.840.113741.1.13.1.7',
} as const;

/** What a PCK certificate attests. */
export interface PckOptions {
  ca: PckCa;
  /** 16 bytes; default derived from the seed and `label`. */
  ppid?: Uint8Array;
  /** The 16 SGX TCB component SVNs (OIDs .2.1–.2.16; also the 16 CPUSVN bytes of .2.18). */
  cpusvn: readonly number[];
  pcesvn: number;
  /** 2 bytes; default 0000. */
  pceid?: Uint8Array;
  /** 6 bytes. */
  fmspc: Uint8Array;
  /** SGX Type: default 1 (Scalable) under the Platform CA, 0 (Standard) under the Processor CA. */
  sgxType?: number;
  /** Platform CA only: PlatformInstanceID (16 bytes); default derived from the PPID. */
  platformInstanceId?: Uint8Array;
  /** Platform CA only: the Configuration flags; default all true. */
  configuration?: { dynamicPlatform?: boolean; cachedKeys?: boolean; smtEnabled?: boolean };
  /** Default: the PCK CA's notBefore. */
  notBefore?: Date;
  /** Default: notBefore + 7 years (as Intel issues), capped at the CA's notAfter. */
  notAfter?: Date;
  /** Names the simulated platform; keys and default PPID derive from it. */
  label?: string;
}

/** Options of a simulated CRL. */
export interface CrlOptions {
  revoked?: readonly bigint[];
  thisUpdate: Date;
  nextUpdate: Date;
  /** Default 1. */
  crlNumber?: bigint;
}

/** A simulated Intel provisioning PKI. */
export interface IntelPki {
  readonly root: IssuedCert<EcKeyPair>;
  readonly platformCa: IssuedCert<EcKeyPair>;
  readonly processorCa: IssuedCert<EcKeyPair>;
  readonly tcbSigning: IssuedCert<EcKeyPair>;
  /** Issues a PCK certificate; its key is deterministic per (seed, label/PPID, TCB). */
  issuePck(o: PckOptions): IssuedCert<EcKeyPair>;
  /** PCK CRL (DER) signed by the Platform or Processor CA. */
  pckCrl(ca: PckCa, o: CrlOptions): Uint8Array;
  /** Root CA CRL (DER) signed by the root. */
  rootCrl(o: CrlOptions): Uint8Array;
  /** Hex r‖s, ECDSA-P256-SHA256 by the TCB Signing key over the exact UTF-8 bytes given. */
  signCollateral(jsonText: string): string;
  /** TCB Signing certificate PEM then root PEM, as `TCB-Info-Issuer-Chain` carries them. */
  readonly issuerChainPem: string;
  /** PCK CA PEM then root PEM, as `SGX-PCK-CRL-Issuer-Chain` carries them. */
  pckCrlIssuerChainPem(ca: PckCa): string;
}

const ROOT_CRL_URL = 'https://certificates.trustedservices.intel.com/IntelSGXRootCA.der';

function pckCrlUrl(ca: PckCa): string {
  return `https://api.trustedservices.intel.com/sgx/certification/v4/pckcrl?ca=${ca}&encoding=der`;
}

function intelName(cn: string): DistinguishedName {
  return [
    ['CN', cn],
    ['O', 'Intel Corporation'],
    ['L', 'Santa Clara'],
    ['ST', 'CA'],
    ['C', 'US'],
  ];
}

const CA_NAMES: Record<PckCa, string> = {
  platform: 'Intel SGX PCK Platform CA',
  processor: 'Intel SGX PCK Processor CA',
};

interface IntelCaOptions {
  name: string;
  key: EcKeyPair;
  issuer?: IssuedCert<EcKeyPair>;
  issuerName?: string;
  notBefore: Date;
  notAfter: Date;
  profile: 'root' | 'ca' | 'signing';
}

/** Intel CAs (and TCB Signing) use their key identifier as serial number. */
function issueIntelCa(o: IntelCaOptions): IssuedCert<EcKeyPair> {
  const ski = keyIdOverSpki(o.key.spki);
  const issuerKey = o.issuer?.key ?? o.key;
  const leafish = o.profile === 'signing';
  return issueCertificate({
    serial: bytesToBigint(ski),
    issuer: intelName(o.issuerName ?? o.name),
    subject: intelName(o.name),
    notBefore: o.notBefore,
    notAfter: o.notAfter,
    subjectKey: o.key,
    issuerKey,
    extensions: [
      authorityKeyIdentifier(keyIdOverSpki(issuerKey.spki)),
      crlDistributionPoint(ROOT_CRL_URL),
      subjectKeyIdentifier(ski),
      keyUsage(leafish ? ['digitalSignature', 'nonRepudiation'] : ['keyCertSign', 'cRLSign']),
      leafish ? basicConstraints(false) : basicConstraints(true, o.profile === 'root' ? 1 : 0),
    ],
  });
}

function sgxExtension(o: PckOptions, ppid: Uint8Array, seed: string): Extension {
  const cpusvn = o.cpusvn;
  if (!Array.isArray(cpusvn) || cpusvn.length !== 16) {
    throw new TypeError('cpusvn must list the 16 SGX TCB component SVNs');
  }
  cpusvn.forEach((v, i) => checkUint(`cpusvn[${i}]`, v, 255));
  checkUint('pcesvn', o.pcesvn, 0xffff);
  const pceid = checkBytes('pceid', o.pceid ?? new Uint8Array(2), 2);
  const fmspc = checkBytes('fmspc', o.fmspc, 6);
  const sgxType = checkUint('sgxType', o.sgxType ?? (o.ca === 'platform' ? 1 : 0), 255);
  const sequence = (...value: asn1js.AsnType[]): asn1js.Sequence => new asn1js.Sequence({ value });
  const entry = (id: string, value: asn1js.AsnType): asn1js.Sequence =>
    sequence(new asn1js.ObjectIdentifier({ value: id }), value);
  const octets = (valueHex: Uint8Array): asn1js.OctetString => new asn1js.OctetString({ valueHex });
  const flag = (value: boolean): asn1js.Boolean => new asn1js.Boolean({ value });
  const tcb = sequence(
    ...cpusvn.map((v, i) => entry(`${SgxOids.tcb}.${i + 1}`, integer(v))),
    entry(`${SgxOids.tcb}.17`, integer(o.pcesvn)),
    entry(`${SgxOids.tcb}.18`, octets(Uint8Array.from(cpusvn))),
  );
  const items = [
    entry(SgxOids.ppid, octets(ppid)),
    entry(SgxOids.tcb, tcb),
    entry(SgxOids.pceId, octets(pceid)),
    entry(SgxOids.fmspc, octets(fmspc)),
    entry(SgxOids.sgxType, new asn1js.Enumerated({ value: sgxType })),
  ];
  if (o.ca !== 'platform' && (o.platformInstanceId || o.configuration)) {
    throw new TypeError('platformInstanceId and configuration exist in Platform CA PCKs only');
  }
  if (o.ca === 'platform') {
    const pid =
      o.platformInstanceId ?? deriveBytes(seed, `intel/platform-instance-id/${hex(ppid)}`, 16);
    const c = o.configuration ?? {};
    items.push(
      entry(SgxOids.platformInstanceId, octets(checkBytes('platformInstanceId', pid, 16))),
      entry(
        SgxOids.configuration,
        sequence(
          entry(`${SgxOids.configuration}.1`, flag(c.dynamicPlatform ?? true)),
          entry(`${SgxOids.configuration}.2`, flag(c.cachedKeys ?? true)),
          entry(`${SgxOids.configuration}.3`, flag(c.smtEnabled ?? true)),
        ),
      ),
    );
  }
  return { oid: SgxOids.extensions, value: der(sequence(...items)) };
}

interface IntelContext {
  seed: string;
  /** Start of the PCK CAs' validity: the default start of PCK certificates. */
  caFrom: Date;
  notAfter: Date;
  cas: Record<PckCa, IssuedCert<EcKeyPair>>;
}

function signCrl(issuer: IssuedCert<EcKeyPair>, name: string, o: CrlOptions): Uint8Array {
  return buildCrl({
    issuer: intelName(name),
    issuerKey: issuer.key,
    thisUpdate: wholeSeconds(o.thisUpdate),
    nextUpdate: wholeSeconds(o.nextUpdate),
    revoked: o.revoked ?? [],
    extensions: [
      crlNumber(o.crlNumber ?? 1n),
      authorityKeyIdentifier(keyIdOverSpki(issuer.key.spki)),
    ],
  });
}

function issuePck(ctx: IntelContext, o: PckOptions): IssuedCert<EcKeyPair> {
  const ca = ctx.cas[o.ca];
  if (!ca) throw new TypeError(`unknown PCK CA ${String(o.ca)}`);
  const name = o.label ?? 'default';
  const fmspc = checkBytes('fmspc', o.fmspc, 6);
  const ppid = checkBytes(
    'ppid',
    o.ppid ?? deriveBytes(ctx.seed, `intel/ppid/${name}/${hex(fmspc)}`, 16),
    16,
  );
  const ext = sgxExtension(o, ppid, ctx.seed);
  const tcb = `${hex(Uint8Array.from(o.cpusvn))}/${o.pcesvn}`;
  const keyLabel = `intel/pck/${o.ca}/${name}/${hex(ppid)}/${tcb}`;
  const key = deriveEcKey(ctx.seed, keyLabel, 'P-256');
  const from = wholeSeconds(o.notBefore ?? ctx.caFrom);
  const serial = deriveBytes(ctx.seed, `intel/pck-serial/${keyLabel}/${from.toISOString()}`, 20);
  return issueCertificate({
    serial: bytesToBigint(serial),
    issuer: intelName(CA_NAMES[o.ca]),
    subject: intelName('Intel SGX PCK Certificate'),
    notBefore: from,
    notAfter: wholeSeconds(o.notAfter ?? minDate(addYears(from, 7), ctx.notAfter)),
    subjectKey: key,
    issuerKey: ca.key,
    extensions: [
      authorityKeyIdentifier(keyIdOverSpki(ca.key.spki)),
      crlDistributionPoint(pckCrlUrl(o.ca)),
      subjectKeyIdentifier(keyIdOverSpki(key.spki)),
      keyUsage(['digitalSignature', 'nonRepudiation']),
      basicConstraints(false),
      ext,
    ],
  });
}

/**
 * Creates the simulated Intel PKI for `seed`. The CAs are valid from `notBefore` (the
 * intermediates five minutes later, as Intel's) to `notAfter` (default 25 years).
 *
 * @example
 * ```ts
 * const intel = createIntelPki({ seed, notBefore: new Date('2026-01-01T00:00:00Z') });
 * const pck = intel.issuePck({ ca: 'platform', cpusvn: Array(16).fill(3), pcesvn: 11,
 *   fmspc: Buffer.from('b0c06f000000', 'hex') });
 * const chain = pemChain(pck, intel.platformCa, intel.root);
 * ```
 */
export function createIntelPki(opts: { seed: string; notBefore: Date; notAfter?: Date }): IntelPki {
  const { seed } = opts;
  const notBefore = wholeSeconds(opts.notBefore);
  const notAfter = wholeSeconds(opts.notAfter ?? addYears(notBefore, 25));
  const caFrom = addSeconds(notBefore, 300);
  const root = issueIntelCa({
    name: 'Intel SGX Root CA',
    key: deriveEcKey(seed, 'intel/sgx-root-ca', 'P-256'),
    notBefore,
    notAfter,
    profile: 'root',
  });
  const sub = (name: string, label: string, profile: 'ca' | 'signing'): IssuedCert<EcKeyPair> =>
    issueIntelCa({
      name,
      key: deriveEcKey(seed, label, 'P-256'),
      issuer: root,
      issuerName: 'Intel SGX Root CA',
      notBefore: caFrom,
      notAfter,
      profile,
    });
  const cas: Record<PckCa, IssuedCert<EcKeyPair>> = {
    platform: sub(CA_NAMES.platform, 'intel/sgx-pck-platform-ca', 'ca'),
    processor: sub(CA_NAMES.processor, 'intel/sgx-pck-processor-ca', 'ca'),
  };
  const tcbSigning = sub('Intel SGX TCB Signing', 'intel/sgx-tcb-signing', 'signing');
  const ctx: IntelContext = { seed, caFrom, notAfter, cas };
  return {
    root,
    platformCa: cas.platform,
    processorCa: cas.processor,
    tcbSigning,
    issuePck: (o) => issuePck(ctx, o),
    pckCrl: (ca, o) => signCrl(cas[ca], CA_NAMES[ca], o),
    rootCrl: (o) => signCrl(root, 'Intel SGX Root CA', o),
    signCollateral: (jsonText) => hex(tcbSigning.key.signRaw(new TextEncoder().encode(jsonText))),
    issuerChainPem: pemChain(tcbSigning, root),
    pckCrlIssuerChainPem: (ca) => pemChain(cas[ca], root),
  };
}
