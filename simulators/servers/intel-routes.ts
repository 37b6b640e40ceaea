/**
 * The Intel PCS v4 paths of the simulated collateral server (spec digest C1.1), serving
 * collateral built by the TDX simulator's own builder and signed by the simulated Intel PKI:
 *
 * | path | body | issuer-chain header |
 * |---|---|---|
 * | `/tdx/certification/v4/tcb?fmspc=HEX12` | `{"tcbInfo":…,"signature":…}` | `TCB-Info-Issuer-Chain` |
 * | `/tdx/certification/v4/qe/identity` | `{"enclaveIdentity":…,"signature":…}` | `SGX-Enclave-Identity-Issuer-Chain` |
 * | `/sgx/certification/v4/pckcrl?ca=platform\|processor[&encoding=der]` | DER (PEM without `encoding=der`) | `SGX-PCK-CRL-Issuer-Chain` |
 * | `/IntelSGXRootCA.der` | Root CA CRL, DER (the path of the root's CRL distribution point) | — |
 * | `/sgx/certification/v4/rootcacrl` | Root CA CRL, hex of the DER (as a PCCS serves it) | — |
 *
 * Issuer chains are URL-encoded PEM, as Intel sends them.
 *
 * @internal
 * @module
 */
import {
  JSON_MEDIA_TYPE,
  PEM_FILE_MEDIA_TYPE,
  PKIX_CRL_MEDIA_TYPE,
  TEXT_MEDIA_TYPE,
} from '../../wire/media-types.js';
import { fromHex } from '../../common/bytes.js';
import { toPem } from '../pki/x509.js';
import type { PckCa } from '../pki/intel.js';
import { buildSimCollateral } from '../tdx-collateral.js';
import { contentInstant, maybeTamper, tamperDer, tamperText, textResponse } from './routes.js';
import type { Route, RouteContext, SimResponse } from './routes.js';

/** Path of the Root CA CRL: that of the simulated root's CRL distribution point. */
export const SIM_ROOT_CRL_PATH = '/IntelSGXRootCA.der';

/** Seed of the served collateral (it contains no key, only the levels and dates). */
const SERVER_SEED = 'twi-collateral-server';

function collateral(ctx: RouteContext, fmspc: string, ca: PckCa) {
  return buildSimCollateral(
    ctx.pki.intel(),
    { ...ctx.tdx, seed: SERVER_SEED, now: contentInstant(ctx), fmspc },
    { ca, serial: 0n },
  );
}

function signedJson(
  member: 'tcbInfo' | 'enclaveIdentity',
  text: string,
  signature: string,
  header: string,
  chain: string,
  ctx: RouteContext,
): SimResponse {
  const served = maybeTamper(ctx, text, tamperText);
  return {
    status: 200,
    headers: { 'content-type': JSON_MEDIA_TYPE, [header]: encodeURIComponent(chain) },
    body: `{"${member}":${served},"signature":"${signature}"}`,
  };
}

function tcbInfo(url: URL, ctx: RouteContext): SimResponse {
  const fmspc = url.searchParams.get('fmspc') ?? '';
  if (!/^[0-9a-fA-F]{12}$/.test(fmspc)) return textResponse(400, 'fmspc must be 12 hex digits');
  if (ctx.fmspcs !== undefined && !ctx.fmspcs.has(fmspc.toLowerCase())) {
    return textResponse(404, `no TCB Info for FMSPC ${fmspc}`);
  }
  const c = collateral(ctx, fmspc, 'platform');
  const chain = c.tcb_info_issuer_chain;
  return signedJson(
    'tcbInfo',
    c.tcb_info,
    c.tcb_info_signature,
    'TCB-Info-Issuer-Chain',
    chain,
    ctx,
  );
}

function qeIdentity(ctx: RouteContext): SimResponse {
  const c = collateral(ctx, '000000000000', 'platform');
  const header = 'SGX-Enclave-Identity-Issuer-Chain';
  return signedJson(
    'enclaveIdentity',
    c.qe_identity,
    c.qe_identity_signature,
    header,
    c.qe_identity_issuer_chain,
    ctx,
  );
}

function pckCrl(url: URL, ctx: RouteContext): SimResponse {
  const ca = url.searchParams.get('ca');
  if (ca !== 'platform' && ca !== 'processor') {
    return textResponse(400, 'ca must be platform or processor');
  }
  const c = collateral(ctx, '000000000000', ca);
  const der = maybeTamper(ctx, fromHex(c.pck_crl), tamperDer);
  const asDer = url.searchParams.get('encoding') === 'der';
  return {
    status: 200,
    headers: {
      'content-type': asDer ? PKIX_CRL_MEDIA_TYPE : PEM_FILE_MEDIA_TYPE,
      'SGX-PCK-CRL-Issuer-Chain': encodeURIComponent(c.pck_crl_issuer_chain),
    },
    body: asDer ? der : toPem(der, 'X509 CRL'),
  };
}

function rootCrl(ctx: RouteContext, hex: boolean): SimResponse {
  const c = collateral(ctx, '000000000000', 'platform');
  const der = maybeTamper(ctx, fromHex(c.root_ca_crl), tamperDer);
  return hex
    ? {
        status: 200,
        headers: { 'content-type': TEXT_MEDIA_TYPE },
        body: Buffer.from(der).toString('hex'),
      }
    : { status: 200, headers: { 'content-type': PKIX_CRL_MEDIA_TYPE }, body: der };
}

/** The Intel PCS / PCCS routes. */
export const intelRoute: Route = (url, ctx) => {
  switch (url.pathname) {
    case '/tdx/certification/v4/tcb':
      return tcbInfo(url, ctx);
    case '/tdx/certification/v4/qe/identity':
      return qeIdentity(ctx);
    case '/sgx/certification/v4/pckcrl':
      return pckCrl(url, ctx);
    case '/sgx/certification/v4/rootcacrl':
      return rootCrl(ctx, true);
    case SIM_ROOT_CRL_PATH:
      return rootCrl(ctx, false);
    default:
      return undefined;
  }
};
