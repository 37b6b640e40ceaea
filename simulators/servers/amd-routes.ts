/**
 * The AMD KDS paths of the simulated collateral server (spec digest C2.1), answered by the
 * simulated AMD PKI:
 *
 * | path | body |
 * |---|---|
 * | `/vcek/v1/{Milan\|Genoa}/{hwid: 128 hex}?blSPL=&teeSPL=&snpSPL=&ucodeSPL=` | VCEK, DER |
 * | `/vcek/v1/Turin/{hwid: 16 hex}?fmcSPL=&blSPL=&teeSPL=&snpSPL=&ucodeSPL=` | VCEK, DER |
 * | `/{vcek\|vlek}/v1/{product}/cert_chain` | ASK (or ASVK) then ARK, PEM |
 * | `/{vcek\|vlek}/v1/{product}/crl` | ARK-signed CRL, DER |
 *
 * VCEKs are issued on request and are deterministic: for the same PKI, chip id and TCB
 * they are byte for byte the VCEK `simulateSnp` signs with.
 *
 * @internal
 * @module
 */
import {
  PEM_FILE_MEDIA_TYPE,
  PKIX_CERT_MEDIA_TYPE,
  PKIX_CRL_MEDIA_TYPE,
} from '../../wire/media-types.js';
import type { AmdProduct, AmdTcb } from '../pki/amd.js';
import { toPem } from '../pki/x509.js';
import { simWindows } from '../tdx-collateral.js';
import { contentInstant, maybeTamper, tamperDer, textResponse } from './routes.js';
import type { Route, RouteContext, SimResponse } from './routes.js';

const PRODUCTS: readonly string[] = ['Milan', 'Genoa', 'Turin'];
const PATH = /^\/(vcek|vlek)\/v1\/([A-Za-z]+)\/([^/]+)$/;
const DAY_MS = 24 * 3600 * 1000;

function der(body: Uint8Array, ctx: RouteContext, type: string): SimResponse {
  return {
    status: 200,
    headers: { 'content-type': type },
    body: maybeTamper(ctx, body, tamperDer),
  };
}

function certChain(product: AmdProduct, vlek: boolean, ctx: RouteContext): SimResponse {
  const amd = ctx.pki.amd(product);
  const signer = vlek ? amd.asvk : amd.ask;
  const first = maybeTamper(ctx, signer.der, tamperDer);
  return {
    status: 200,
    headers: { 'content-type': PEM_FILE_MEDIA_TYPE },
    body: toPem(first) + amd.ark.pem,
  };
}

function crl(product: AmdProduct, vlek: boolean, ctx: RouteContext): SimResponse {
  const w = simWindows(contentInstant(ctx));
  const body = ctx.pki.amd(product).crl({
    vlek,
    thisUpdate: new Date(w.issue),
    nextUpdate: new Date(w.next),
  });
  return der(body, ctx, PKIX_CRL_MEDIA_TYPE);
}

/** The SPLs of a VCEK query, or an error message. */
function tcbOf(product: AmdProduct, q: URLSearchParams): AmdTcb | string {
  const names = product === 'Turin' ? ['fmcSPL'] : [];
  const values = new Map<string, number>();
  for (const name of [...names, 'blSPL', 'teeSPL', 'snpSPL', 'ucodeSPL']) {
    const v = q.get(name);
    if (v === null || !/^\d{1,3}$/.test(v) || Number(v) > 255) {
      return `${name} must be an integer in [0, 255]`;
    }
    values.set(name, Number(v));
  }
  if (product !== 'Turin' && q.has('fmcSPL')) return `fmcSPL is for Turin only`;
  const tcb: AmdTcb = {
    bl: values.get('blSPL')!,
    tee: values.get('teeSPL')!,
    snp: values.get('snpSPL')!,
    ucode: values.get('ucodeSPL')!,
  };
  return product === 'Turin' ? { ...tcb, fmc: values.get('fmcSPL')! } : tcb;
}

function vcek(
  product: AmdProduct,
  hwid: string,
  q: URLSearchParams,
  ctx: RouteContext,
): SimResponse {
  const digits = product === 'Turin' ? 16 : 128;
  if (hwid.length !== digits || !/^[0-9a-fA-F]+$/.test(hwid)) {
    return textResponse(400, `hwid of ${product} must be ${digits} hex digits`);
  }
  const tcb = tcbOf(product, q);
  if (typeof tcb === 'string') return textResponse(400, tcb);
  const at = ctx.now.getTime();
  const validity = ctx.expired
    ? { notBefore: new Date(at - 2 * DAY_MS), notAfter: new Date(at - DAY_MS) }
    : {};
  const cert = ctx.pki.amd(product).issueVcek({
    hwid: new Uint8Array(Buffer.from(hwid, 'hex')),
    tcb,
    ...validity,
  });
  return der(cert.der, ctx, PKIX_CERT_MEDIA_TYPE);
}

/** The AMD KDS routes. */
export const amdRoute: Route = (url, ctx) => {
  const m = PATH.exec(url.pathname);
  if (m === null) return undefined;
  const [, keyKind, product = '', leaf] = m;
  if (!PRODUCTS.includes(product)) return textResponse(404, `unknown product ${product}`);
  const p = product as AmdProduct;
  const vlek = keyKind === 'vlek';
  if (leaf === 'cert_chain') return certChain(p, vlek, ctx);
  if (leaf === 'crl') return crl(p, vlek, ctx);
  if (vlek) return textResponse(404, 'VLEKs are not served publicly');
  return vcek(p, leaf, url.searchParams, ctx);
};
