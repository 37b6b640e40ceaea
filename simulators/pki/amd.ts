/**
 * Simulated AMD SEV-SNP key distribution PKI: ARK (root), ASK and ASVK (RSA-4096,
 * RSASSA-PSS SHA-384), VCEK and VLEK (ECDSA P-384 keys signed with RSASSA-PSS) and the
 * ARK-signed CRL, mirroring AMD's real certificates (names, serial numbering, extensions,
 * PSS parameter encoding). Only the keys differ: they are derived from the simulator seed.
 *
 * @module
 */
import * as asn1js from 'asn1js';
import { der, integer } from './asn1.js';
import {
  authorityKeyIdentifier,
  basicConstraints,
  crlDistributionPoint,
  crlNumber,
  keyIdOverPublicKey,
  keyUsage,
  subjectKeyIdentifier,
} from './extensions.js';
import { deriveEcKey, deriveRsaKey, type EcKeyPair, type RsaKeyPair } from './keys.js';
import { addSeconds, addYears, checkUint, hex, minDate, wholeSeconds } from './util.js';
import {
  buildCrl,
  issueCertificate,
  pemChain,
  type DistinguishedName,
  type Extension,
  type IssuedCert,
} from './x509.js';

/** SEV-SNP product lines with a KDS certificate chain. */
export type AmdProduct = 'Milan' | 'Genoa' | 'Turin';

/** VCEK/VLEK extension OIDs (AMD KDS specification). */
export const AmdOids = {
  structVersion: '1.3.6.1.4.1.3704.1.1',
  productName: '1.3.6.1.4.1.3704.1.2',
  blSpl: '1.3.6.1.4.1.3704.1.3.1',
  teeSpl: '1.3.6.1.4.1.3704.1.3.2',
  snpSpl: '1.3.6.1.4.1.3704.1.3.3',
  ucodeSpl: '1.3.6.1.4.1.3704.1.3.8',
  fmcSpl: '1.3.6.1.4.1.3704.1.3.9',
  hwId: '1.3.6.1.4.1.3704.1.4',
  cspId: '1.3.6.1.4.1.3704.1.5',
} as const;

/** Security patch levels of a TCB_VERSION; `fmc` exists on Turin only. */
export interface AmdTcb {
  bl: number;
  tee: number;
  snp: number;
  ucode: number;
  /** Turin only; default 0 there. */
  fmc?: number;
}

/** What a VCEK certifies. */
export interface VcekOptions {
  /** CHIP_ID: 64 bytes; Turin certificates carry its first 8 bytes (8 bytes are accepted too). */
  hwid: Uint8Array;
  tcb: AmdTcb;
  /** Default as KDS issues: 'Milan-B0', 'Genoa', 'Turin'. */
  productName?: string;
  /** Default: the ASK's notBefore. */
  notBefore?: Date;
  /** Default: notBefore + 7 years, capped at the ASK's notAfter. */
  notAfter?: Date;
}

/** What a VLEK certifies. */
export interface VlekOptions {
  tcb: AmdTcb;
  /** Cloud service provider identity, e.g. 'CN=cc-us-east-2.amazonaws.com'. */
  cspId: string;
  /** Default: the ASVK's notBefore. */
  notBefore?: Date;
  /** Default: notBefore + 1 year, capped at the ASVK's notAfter. */
  notAfter?: Date;
}

/** Options of the ARK-signed CRL. */
export interface AmdCrlOptions {
  /** Which KDS endpoint the CRL stands for; both are signed by the ARK alike. */
  vlek?: boolean;
  revoked?: readonly bigint[];
  thisUpdate: Date;
  nextUpdate: Date;
  /** Default 1. */
  crlNumber?: bigint;
}

/** A simulated AMD PKI for one product line. RSA keys are derived on first use. */
export interface AmdPki {
  readonly product: AmdProduct;
  readonly ark: IssuedCert<RsaKeyPair>;
  readonly ask: IssuedCert<RsaKeyPair>;
  readonly asvk: IssuedCert<RsaKeyPair>;
  /** VCEK; its P-384 key is deterministic per (seed, product, hwid, tcb). */
  issueVcek(o: VcekOptions): IssuedCert<EcKeyPair>;
  /** VLEK; its P-384 key is deterministic per (seed, product, cspId, tcb). */
  issueVlek(o: VlekOptions): IssuedCert<EcKeyPair>;
  /** CRL (DER) signed by the ARK, as `/vcek/v1/{product}/crl` (or `/vlek/...`) serves it. */
  crl(o: AmdCrlOptions): Uint8Array;
  /** ASK (or ASVK) PEM then ARK PEM, as KDS `cert_chain` serves them. */
  caChainPem(vlek?: boolean): string;
}

/** Serial numbers of AMD's CAs, product line in the third byte (Genoa's ASK ends in 02, not 01). */
const CA_SERIALS: Record<AmdProduct, { ark: number; ask: number; asvk: number }> = {
  Milan: { ark: 0x010000, ask: 0x010001, asvk: 0x010101 },
  Genoa: { ark: 0x020000, ask: 0x020002, asvk: 0x020101 },
  Turin: { ark: 0x030000, ask: 0x030001, asvk: 0x030101 },
};
const DEFAULT_PRODUCT_NAME: Record<AmdProduct, string> = {
  Milan: 'Milan-B0',
  Genoa: 'Genoa',
  Turin: 'Turin',
};

function amdName(cn: string): DistinguishedName {
  return [
    ['OU', 'Engineering'],
    ['C', 'US'],
    ['L', 'Santa Clara'],
    ['ST', 'CA'],
    ['O', 'Advanced Micro Devices'],
    ['CN', cn],
  ];
}

function kdsCrlUrl(product: AmdProduct, vlek: boolean): string {
  return `https://kdsintf.amd.com/${vlek ? 'vlek' : 'vcek'}/v1/${product}/crl`;
}

function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

/**
 * The AMD extensions in KDS order. Milan/Genoa: structVersion 0 and SPL 4–7 reserved
 * slots with snpSPL after them; Turin: structVersion 1, fmcSPL first, no SPL 4.
 */
function amdExtensions(product: AmdProduct, name: string, tcb: AmdTcb): Extension[] {
  const spl = (slot: number, v: number): Extension => ({
    oid: `1.3.6.1.4.1.3704.1.3.${slot}`,
    value: der(integer(checkUint(`SPL ${slot}`, v, 255))),
  });
  const head = (version: number): Extension[] => [
    { oid: AmdOids.structVersion, value: der(integer(version)) },
    { oid: AmdOids.productName, value: ia5(name) },
  ];
  if (product === 'Turin') {
    return [
      ...head(1),
      spl(9, tcb.fmc ?? 0),
      spl(1, tcb.bl),
      spl(2, tcb.tee),
      spl(3, tcb.snp),
      spl(5, 0),
      spl(6, 0),
      spl(7, 0),
      spl(8, tcb.ucode),
    ];
  }
  if (tcb.fmc !== undefined && tcb.fmc !== 0) {
    throw new TypeError(`fmcSPL exists on Turin only, not ${product}`);
  }
  return [
    ...head(0),
    spl(1, tcb.bl),
    spl(2, tcb.tee),
    spl(4, 0),
    spl(5, 0),
    spl(6, 0),
    spl(7, 0),
    spl(3, tcb.snp),
    spl(8, tcb.ucode),
  ];
}

/** IA5String DER (7-bit ASCII only). */
function ia5(text: string): Uint8Array {
  if ([...text].some((c) => c.charCodeAt(0) > 0x7f)) {
    throw new TypeError(`${JSON.stringify(text)} is not IA5`);
  }
  return der(new asn1js.IA5String({ value: text }));
}

function tcbLabel(t: AmdTcb): string {
  return `fmc=${t.fmc ?? 0},bl=${t.bl},tee=${t.tee},snp=${t.snp},ucode=${t.ucode}`;
}

function hwidFor(product: AmdProduct, hwid: Uint8Array): Uint8Array {
  if (!(hwid instanceof Uint8Array)) throw new TypeError('hwid must be a Uint8Array');
  if (product === 'Turin' && (hwid.length === 64 || hwid.length === 8)) return hwid.slice(0, 8);
  if (hwid.length !== 64) throw new TypeError(`hwid must be 64 bytes, got ${hwid.length}`);
  return hwid.slice();
}

interface AmdContext {
  seed: string;
  product: AmdProduct;
  notBefore: Date;
  notAfter: Date;
  ark: () => IssuedCert<RsaKeyPair>;
  ask: () => IssuedCert<RsaKeyPair>;
  asvk: () => IssuedCert<RsaKeyPair>;
}

/** AMD's ASK and ASVK were issued an hour or so after the ARK; so are the simulated ones. */
function caFrom(ctx: AmdContext, vlek: boolean): Date {
  return addSeconds(ctx.notBefore, vlek ? 7200 : 3600);
}

function issueArk(ctx: AmdContext): IssuedCert<RsaKeyPair> {
  const key = deriveRsaKey(ctx.seed, `amd/${ctx.product}/ark`, 4096);
  const name = amdName(`ARK-${ctx.product}`);
  return issueCertificate({
    serial: BigInt(CA_SERIALS[ctx.product].ark),
    issuer: name,
    subject: name,
    notBefore: ctx.notBefore,
    notAfter: ctx.notAfter,
    subjectKey: key,
    issuerKey: key,
    pssTrailerField: true,
    extensions: [
      keyUsage(['keyCertSign', 'cRLSign']),
      subjectKeyIdentifier(keyIdOverPublicKey(key.spki)),
      basicConstraints(true),
      crlDistributionPoint(kdsCrlUrl(ctx.product, false)),
    ],
  });
}

function issueSigningCa(ctx: AmdContext, vlek: boolean): IssuedCert<RsaKeyPair> {
  const { product } = ctx;
  const key = deriveRsaKey(ctx.seed, `amd/${product}/${vlek ? 'asvk' : 'ask'}`, 4096);
  const ark = ctx.ark();
  return issueCertificate({
    serial: BigInt(vlek ? CA_SERIALS[product].asvk : CA_SERIALS[product].ask),
    issuer: amdName(`ARK-${product}`),
    subject: amdName(vlek ? `SEV-VLEK-${product}` : `SEV-${product}`),
    notBefore: caFrom(ctx, vlek),
    notAfter: ctx.notAfter,
    subjectKey: key,
    issuerKey: ark.key,
    pssTrailerField: true,
    extensions: [
      subjectKeyIdentifier(keyIdOverPublicKey(key.spki)),
      authorityKeyIdentifier(keyIdOverPublicKey(ark.key.spki)),
      basicConstraints(true, 0),
      // AMD encodes keyCertSign alone with one unused bit, not DER's two.
      keyUsage(['keyCertSign'], { unusedBits: 1 }),
      crlDistributionPoint(kdsCrlUrl(product, vlek)),
    ],
  });
}

function issueLeaf(
  ctx: AmdContext,
  vlek: boolean,
  keyLabel: string,
  extensions: Extension[],
  window: { notBefore?: Date; notAfter?: Date; years: number },
): IssuedCert<EcKeyPair> {
  const from = wholeSeconds(window.notBefore ?? caFrom(ctx, vlek));
  const until = window.notAfter ?? minDate(addYears(from, window.years), ctx.notAfter);
  return issueCertificate({
    serial: 0n,
    issuer: amdName(vlek ? `SEV-VLEK-${ctx.product}` : `SEV-${ctx.product}`),
    subject: amdName(vlek ? 'SEV-VLEK' : 'SEV-VCEK'),
    notBefore: from,
    notAfter: wholeSeconds(until),
    subjectKey: deriveEcKey(ctx.seed, keyLabel, 'P-384'),
    issuerKey: (vlek ? ctx.asvk() : ctx.ask()).key,
    extensions,
  });
}

function issueVcek(ctx: AmdContext, o: VcekOptions): IssuedCert<EcKeyPair> {
  const { product } = ctx;
  const id = hwidFor(product, o.hwid);
  const name = o.productName ?? DEFAULT_PRODUCT_NAME[product];
  const exts = [...amdExtensions(product, name, o.tcb), { oid: AmdOids.hwId, value: id }];
  const label = `amd/${product}/vcek/${hex(id)}/${tcbLabel(o.tcb)}`;
  return issueLeaf(ctx, false, label, exts, { ...o, years: 7 });
}

function issueVlek(ctx: AmdContext, o: VlekOptions): IssuedCert<EcKeyPair> {
  const { product } = ctx;
  if (typeof o.cspId !== 'string') throw new TypeError('cspId must be a string');
  const exts = [
    ...amdExtensions(product, product, o.tcb),
    { oid: AmdOids.cspId, value: ia5(o.cspId) },
  ];
  const label = `amd/${product}/vlek/${o.cspId}/${tcbLabel(o.tcb)}`;
  return issueLeaf(ctx, true, label, exts, { ...o, years: 1 });
}

function signCrl(ctx: AmdContext, o: AmdCrlOptions): Uint8Array {
  const ark = ctx.ark();
  return buildCrl({
    issuer: amdName(`ARK-${ctx.product}`),
    issuerKey: ark.key,
    thisUpdate: wholeSeconds(o.thisUpdate),
    nextUpdate: wholeSeconds(o.nextUpdate),
    revoked: o.revoked ?? [],
    pssTrailerField: true,
    extensions: [
      crlNumber(o.crlNumber ?? 1n),
      authorityKeyIdentifier(keyIdOverPublicKey(ark.key.spki)),
    ],
  });
}

/**
 * Creates the simulated AMD PKI of one product line. The ARK is valid from `notBefore`
 * to `notAfter` (default 25 years, as AMD's); the ASK and ASVK from one and two hours
 * later. The RSA keys are derived on first use of `ark`, `ask` or `asvk`.
 *
 * @example
 * ```ts
 * const amd = createAmdPki({ seed, product: 'Genoa', notBefore });
 * const vcek = amd.issueVcek({ hwid: chipId, tcb: { bl: 10, tee: 0, snp: 23, ucode: 84 } });
 * ```
 */
export function createAmdPki(opts: {
  seed: string;
  product: AmdProduct;
  notBefore: Date;
  notAfter?: Date;
}): AmdPki {
  const { seed, product } = opts;
  if (!CA_SERIALS[product]) throw new TypeError(`unknown AMD product ${String(product)}`);
  const notBefore = wholeSeconds(opts.notBefore);
  const notAfter = wholeSeconds(opts.notAfter ?? addYears(notBefore, 25));
  const ctx: AmdContext = {
    seed,
    product,
    notBefore,
    notAfter,
    ark: lazy(() => issueArk(ctx)),
    ask: lazy(() => issueSigningCa(ctx, false)),
    asvk: lazy(() => issueSigningCa(ctx, true)),
  };
  return {
    product,
    get ark() {
      return ctx.ark();
    },
    get ask() {
      return ctx.ask();
    },
    get asvk() {
      return ctx.asvk();
    },
    issueVcek: (o) => issueVcek(ctx, o),
    issueVlek: (o) => issueVlek(ctx, o),
    crl: (o) => signCrl(ctx, o),
    caChainPem: (vlek = false) => pemChain(vlek ? ctx.asvk() : ctx.ask(), ctx.ark()),
  };
}
