/**
 * Intel PCS v4 / PCCS request URLs (spec digest C1.1) and the Root CA CRL location from
 * the root certificate's CRL Distribution Points extension (RFC 5280 §4.2.1.13).
 *
 * @internal
 * @module
 */
import * as pkijs from 'pkijs';
import type { Certificate } from '../common/x509/certificate.js';
import { decodeDer } from '../common/x509/decode.js';
import { joinUrl } from './pcs-kds-http.js';
import type { PcsRequest } from './pcs-verify.js';

/** Intel's Provisioning Certification Service. */
export const INTEL_PCS_URL = 'https://api.trustedservices.intel.com';

/** Where Intel publishes the SGX Root CA CRL (the real root's CRL distribution point). */
export const INTEL_ROOT_CRL_URL =
  'https://certificates.trustedservices.intel.com/IntelSGXRootCA.der';

/** PCCS path of the Root CA CRL (hex-encoded DER). */
export const PCCS_ROOT_CRL_PATH = '/sgx/certification/v4/rootcacrl';

const OID_CRL_DISTRIBUTION_POINTS = '2.5.29.31';

/** How the PCS client builds URLs. */
export interface PcsUrlOptions {
  readonly baseUrl: string;
  readonly pccs: boolean;
  /** `update=` of TCB Info and QE Identity requests; absent: the service's default. */
  readonly update?: 'standard' | 'early';
  /** Explicit Root CA CRL URL (overrides every rule below). */
  readonly rootCrlUrl?: string;
}

/**
 * The first `uniformResourceIdentifier` of a certificate's CRL Distribution Points, or
 * `undefined` when it has none (or the extension cannot be read).
 */
export function crlDistributionUrl(cert: Certificate): string | undefined {
  const ext = cert.extensions.get(OID_CRL_DISTRIBUTION_POINTS);
  if (ext === undefined) return undefined;
  try {
    const schema = decodeDer(ext.value, 'cRLDistributionPoints');
    for (const point of new pkijs.CRLDistributionPoints({ schema }).distributionPoints) {
      const names = Array.isArray(point.distributionPoint) ? point.distributionPoint : [];
      const uri = names.find((n) => n.type === 6);
      if (uri !== undefined) return String(uri.value);
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * The Root CA CRL URL: `rootCrlUrl` when given; on a PCCS, `{base}/sgx/certification/v4/rootcacrl`;
 * against Intel's PCS, the CRL distribution point of the pinned root (`roots`, the first
 * that names one; Intel's URL when none does); against any other base URL (a mirror,
 * proxy or the simulator), that distribution point's path under the base URL.
 */
export function rootCrlUrl(o: PcsUrlOptions, roots: readonly Certificate[]): string {
  if (o.rootCrlUrl !== undefined) return o.rootCrlUrl;
  if (o.pccs) return joinUrl(o.baseUrl, PCCS_ROOT_CRL_PATH);
  const cdp = roots.map(crlDistributionUrl).find((u) => u !== undefined) ?? INTEL_ROOT_CRL_URL;
  if (o.baseUrl.replace(/\/+$/, '') === INTEL_PCS_URL) return cdp;
  return joinUrl(o.baseUrl, new URL(cdp).pathname);
}

function withUpdate(path: string, o: PcsUrlOptions): string {
  if (o.update === undefined) return path;
  return `${path}${path.includes('?') ? '&' : '?'}update=${o.update}`;
}

/**
 * The URL of an Intel request (FMSPC in uppercase hex, as Intel writes it).
 *
 * @throws TypeError for an FMSPC that is not 6 bytes of hex.
 * @example
 * pcsUrl({ kind: 'tdx-tcb-info', fmspc: '50806f000000' }, { baseUrl: INTEL_PCS_URL, pccs: false }, []);
 * // 'https://api.trustedservices.intel.com/tdx/certification/v4/tcb?fmspc=50806F000000'
 */
export function pcsUrl(
  request: PcsRequest,
  o: PcsUrlOptions,
  roots: readonly Certificate[],
): string {
  switch (request.kind) {
    case 'tdx-tcb-info': {
      if (!/^[0-9a-fA-F]{12}$/.test(request.fmspc)) {
        throw new TypeError(`fmspc must be 6 bytes of hex, got ${JSON.stringify(request.fmspc)}`);
      }
      const fmspc = request.fmspc.toUpperCase();
      return joinUrl(o.baseUrl, withUpdate(`/tdx/certification/v4/tcb?fmspc=${fmspc}`, o));
    }
    case 'tdx-qe-identity':
      return joinUrl(o.baseUrl, withUpdate('/tdx/certification/v4/qe/identity', o));
    case 'pck-crl':
      if (request.ca !== 'platform' && request.ca !== 'processor') {
        throw new TypeError(`ca must be 'platform' or 'processor', not ${String(request.ca)}`);
      }
      return joinUrl(o.baseUrl, `/sgx/certification/v4/pckcrl?ca=${request.ca}&encoding=der`);
    case 'intel-root-crl':
      return rootCrlUrl(o, roots);
  }
}
