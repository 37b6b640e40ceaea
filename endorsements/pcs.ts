/**
 * Intel PCS v4 (or PCCS) endorsement provider for TDX: TCB Info, TD QE Identity, PCK CRLs
 * and the SGX Root CA CRL, each verified before it is returned (spec digest C1.1).
 *
 * @internal
 * @module
 */
import type { AnchorStore } from '../verifier/verify/types.js';
import {
  asInvalid,
  checkStoredEndorsement,
  crlDerOf,
  httpGet,
  invalidEndorsement,
  networkEndorsement,
} from './pcs-kds-http.js';
import { INTEL_PCS_URL, pcsUrl } from './pcs-urls.js';
import type { PcsUrlOptions } from './pcs-urls.js';
import { checkPcsContent } from './pcs-verify.js';
import type { PcsRequest } from './pcs-verify.js';
import type { Fetcher, HttpResponse } from './provider/types.js';
import type {
  Endorsement,
  EndorsementProvider,
  EndorsementRequest,
  GetOptions,
} from '../verifier/verify/endorsement-provider.js';

export { INTEL_PCS_URL, INTEL_ROOT_CRL_URL, PCCS_ROOT_CRL_PATH, pcsUrl } from './pcs-urls.js';
export type { EndorsementHttpError, HttpFailure } from './pcs-kds-http.js';

/** Options of {@link createPcsClient}. */
export interface PcsClientOptions {
  /** Service root; default Intel's PCS `https://api.trustedservices.intel.com`. */
  readonly baseUrl?: string;
  /** Performs the GETs (timeouts and retries belong to the layers around it). */
  readonly fetcher: Fetcher;
  /** Trust anchors: TCB Info, QE Identity and CRLs must chain to `anchors.intel`. */
  readonly anchors: AnchorStore;
  /**
   * The base URL is an Intel PCCS: the Root CA CRL comes from
   * `/sgx/certification/v4/rootcacrl` (hex-encoded DER). Default false.
   */
  readonly pccs?: boolean;
  /** `update=standard|early` on TCB Info and QE Identity requests; default: not sent. */
  readonly update?: 'standard' | 'early';
  /**
   * Root CA CRL URL. Default: on a PCCS its `rootcacrl`; against Intel's PCS the pinned
   * root's CRL distribution point; against another base URL that point's path under it
   * (`{baseUrl}/IntelSGXRootCA.der`, as the simulated server serves it).
   */
  readonly rootCrlUrl?: string;
}

type PcsKind = PcsRequest['kind'];

const ISSUER_CHAIN_HEADERS: Record<PcsKind, readonly string[]> = {
  'tdx-tcb-info': ['tcb-info-issuer-chain', 'sgx-tcb-info-issuer-chain'],
  'tdx-qe-identity': ['sgx-enclave-identity-issuer-chain', 'enclave-identity-issuer-chain'],
  'pck-crl': ['sgx-pck-crl-issuer-chain'],
  'intel-root-crl': [],
};

/** True for the requests an Intel PCS answers. */
export function isPcsRequest(r: EndorsementRequest): r is PcsRequest {
  return (
    r.kind === 'tdx-tcb-info' ||
    r.kind === 'tdx-qe-identity' ||
    r.kind === 'pck-crl' ||
    r.kind === 'intel-root-crl'
  );
}

function labelOf(r: PcsRequest): string {
  return r.kind === 'tdx-tcb-info'
    ? `tdx-tcb-info ${r.fmspc}`
    : r.kind === 'pck-crl'
      ? `pck-crl ${r.ca}`
      : r.kind;
}

/** The issuer chain header, URL-decoded to PEM (Intel URL-encodes it). */
function issuerChainOf(kind: PcsKind, res: HttpResponse, label: string): string | undefined {
  const names = ISSUER_CHAIN_HEADERS[kind];
  if (names.length === 0) return undefined;
  const raw = names.map((n) => res.headers[n]).find((v) => v !== undefined);
  if (raw === undefined) return invalidEndorsement(label, `no ${names[0]} header`);
  try {
    return decodeURIComponent(raw);
  } catch {
    return invalidEndorsement(label, `${names[0]} header is not URL-encoded PEM`);
  }
}

/**
 * Creates the Intel PCS (or PCCS) provider for `tdx-tcb-info`, `tdx-qe-identity`,
 * `pck-crl` and `intel-root-crl`. Every response is verified before it is returned: the
 * TCB Info / QE Identity signature over the exact bytes of the signed value, its issuer
 * chain (Intel SGX TCB Signing under a root of `anchors.intel`), the FMSPC asked for,
 * the CRL signatures (PCK CA from `SGX-PCK-CRL-Issuer-Chain`, or the root), and that
 * nothing is expired at `options.now`. `nextUpdate` is the content's own `nextUpdate`.
 *
 * Status mapping: see `pcs-kds-http.ts` — 429 and 5xx are transient
 * `EndorsementUnavailableError`s with `status` and `retryAfterMs`; 404 (no TCB Info for
 * this FMSPC) and other statuses are `EndorsementUnavailableError`s with `status`.
 *
 * @throws (from `get`) `EndorsementUnavailableError`, `EndorsementInvalidError`, and
 *   `TypeError` for a request that is not an Intel one or a malformed FMSPC.
 * @example
 * ```ts
 * const pcs = createPcsClient({ fetcher, anchors: loadAnchorStore() });
 * const tcbInfo = await pcs.get({ kind: 'tdx-tcb-info', fmspc: '50806f000000' }, { now: new Date() });
 * ```
 */
export function createPcsClient(options: PcsClientOptions): EndorsementProvider {
  const { fetcher, anchors } = options;
  const urls: PcsUrlOptions = {
    baseUrl: options.baseUrl ?? INTEL_PCS_URL,
    pccs: options.pccs ?? false,
    ...(options.update !== undefined && { update: options.update }),
    ...(options.rootCrlUrl !== undefined && { rootCrlUrl: options.rootCrlUrl }),
  };
  return {
    async get(request: EndorsementRequest, getOptions: GetOptions): Promise<Endorsement> {
      if (!isPcsRequest(request)) {
        throw new TypeError(`the Intel PCS client does not serve '${request.kind}' requests`);
      }
      const label = labelOf(request);
      const url = pcsUrl(request, urls, anchors.intel.certificates);
      const res = await httpGet(fetcher, url, getOptions, label);
      const issuerChain = issuerChainOf(request.kind, res, label);
      const isCrl = request.kind === 'pck-crl' || request.kind === 'intel-root-crl';
      const body = isCrl ? crlDerOf(res.body, label) : res.body.slice();
      const { nextUpdate } = checkPcsContent(request, body, issuerChain, anchors, getOptions.now);
      return networkEndorsement(request, body, getOptions.now, nextUpdate, issuerChain);
    },
  };
}

/**
 * Re-verifies a stored Intel endorsement (from a cache or an offline bundle) at `now`:
 * the same checks as when it was fetched, plus `sha256` against the body and a
 * `nextUpdate` no later than the content's.
 *
 * @throws `EndorsementInvalidError` when it no longer (or never did) verify, expiry
 *   included; `TypeError` for a request that is not an Intel one.
 * @example
 * verifyPcsEndorsement(cached, loadAnchorStore([rootsDir]), new Date());
 */
export function verifyPcsEndorsement(e: Endorsement, anchors: AnchorStore, now: Date): void {
  const { request } = e;
  if (!isPcsRequest(request)) {
    throw new TypeError(`'${request.kind}' is not an Intel PCS endorsement`);
  }
  const label = labelOf(request);
  const content = asInvalid(label, () =>
    checkPcsContent(request, e.body, e.issuerChain, anchors, now),
  );
  checkStoredEndorsement(e, label, content.nextUpdate);
}
