/**
 * AMD Key Distribution Service endorsement provider for SEV-SNP: VCEKs, the ASK/ASVK +
 * ARK `cert_chain` and the ARK-signed CRL, each verified before it is returned (spec
 * digest C2.1, C2.2).
 *
 * @internal
 * @module
 */
import type { AnchorStore } from '../verifier/verify/types.js';
import { parseCertificateDer, parsePemChain } from '../common/x509/certificate.js';
import type { Certificate } from '../common/x509/certificate.js';
import {
  certificateOf,
  checkAmdCrl,
  checkCertChain,
  checkVcek,
  hwidBytes,
  isMissingIssuer,
} from './kds-verify.js';
import type { KdsCertContent, KdsRequest } from './kds-verify.js';
import {
  asInvalid,
  checkStoredEndorsement,
  crlDerOf,
  httpGet,
  joinUrl,
  networkEndorsement,
  unavailable,
} from './pcs-kds-http.js';
import type { Fetcher } from './provider/types.js';
import type {
  AmdTcbSpl,
  Endorsement,
  EndorsementProvider,
  EndorsementRequest,
  GetOptions,
} from '../verifier/verify/endorsement-provider.js';

export { CERT_REFRESH_MS } from './kds-verify.js';

/** AMD's Key Distribution Service. */
export const AMD_KDS_URL = 'https://kdsintf.amd.com';

/** Options of {@link createKdsClient}. */
export interface KdsClientOptions {
  /** Service root; default AMD's `https://kdsintf.amd.com`. */
  readonly baseUrl?: string;
  /** Performs the GETs (timeouts and retries belong to the layers around it). */
  readonly fetcher: Fetcher;
  /** Trust anchors: chains must end at the pinned ARK of the product in `anchors.amd`. */
  readonly anchors: AnchorStore;
}

/** True for the AMD requests (`amd-vlek` included, which KDS does not serve publicly). */
export function isKdsRequest(
  r: EndorsementRequest,
): r is KdsRequest | Extract<EndorsementRequest, { kind: 'amd-vlek' }> {
  return (
    r.kind === 'amd-vcek' ||
    r.kind === 'amd-vlek' ||
    r.kind === 'amd-cert-chain' ||
    r.kind === 'amd-crl'
  );
}

function spl(name: string, v: number | undefined): string {
  if (v === undefined || !Number.isInteger(v) || v < 0 || v > 255) {
    throw new TypeError(`${name} must be an integer in [0, 255], got ${String(v)}`);
  }
  return `${name}=${v}`;
}

function vcekQuery(product: string, tcb: AmdTcbSpl): string {
  const legacy = [
    spl('blSPL', tcb.bl),
    spl('teeSPL', tcb.tee),
    spl('snpSPL', tcb.snp),
    spl('ucodeSPL', tcb.ucode),
  ];
  if (product === 'Turin') return [spl('fmcSPL', tcb.fmc), ...legacy].join('&');
  if (tcb.fmc !== undefined) throw new TypeError(`fmcSPL exists on Turin only, not ${product}`);
  return legacy.join('&');
}

/**
 * The KDS URL of a request. VCEK: `/vcek/v1/{product}/{hwid}?blSPL=…&teeSPL=…&snpSPL=…&ucodeSPL=…`
 * with the 64-byte hwid in lowercase hex; Turin: `?fmcSPL=…&blSPL=…` and the first 8 bytes
 * of the hwid (a 64-byte CHIP_ID is accepted and cut). `cert_chain` and `crl` under
 * `/vcek/v1/{product}/` or `/vlek/v1/{product}/`.
 *
 * @throws TypeError for a malformed hwid, an SPL outside [0, 255], a Turin request without
 *   `fmc` or another product's with it, an unknown product.
 * @example
 * kdsUrl({ kind: 'amd-vcek', product: 'Turin', hwid, tcb: { fmc: 1, bl: 1, tee: 1, snp: 4, ucode: 9 } });
 * // 'https://kdsintf.amd.com/vcek/v1/Turin/0123456789abcdef?fmcSPL=1&blSPL=1&teeSPL=1&snpSPL=4&ucodeSPL=9'
 */
export function kdsUrl(request: KdsRequest, baseUrl = AMD_KDS_URL): string {
  if (!['Milan', 'Genoa', 'Turin'].includes(request.product)) {
    throw new TypeError(`unknown AMD product ${String(request.product)}`);
  }
  if (request.kind === 'amd-vcek') {
    const hwid = Buffer.from(hwidBytes(request.product, request.hwid)).toString('hex');
    const query = vcekQuery(request.product, request.tcb);
    return joinUrl(baseUrl, `/vcek/v1/${request.product}/${hwid}?${query}`);
  }
  if (request.keyKind !== 'vcek' && request.keyKind !== 'vlek') {
    throw new TypeError(`keyKind must be 'vcek' or 'vlek', not ${String(request.keyKind)}`);
  }
  const leaf = request.kind === 'amd-cert-chain' ? 'cert_chain' : 'crl';
  return joinUrl(baseUrl, `/${request.keyKind}/v1/${request.product}/${leaf}`);
}

/** PEM text of DER certificates, in order. */
function pemOf(ders: readonly Uint8Array[]): string {
  return ders
    .map((der) => {
      const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
      return `-----BEGIN CERTIFICATE-----\n${b64.replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
    })
    .join('');
}

function labelOf(r: KdsRequest): string {
  return r.kind === 'amd-vcek' ? `amd-vcek ${r.product}` : `${r.kind} ${r.product}/${r.keyKind}`;
}

function known(anchors: AnchorStore): Certificate[] {
  return anchors.amdIntermediates.map((der, i) =>
    parseCertificateDer(der, `amdIntermediates[${i}]`),
  );
}

type VcekRequest = Extract<KdsRequest, { kind: 'amd-vcek' }>;

/**
 * Creates the AMD KDS provider for `amd-vcek`, `amd-cert-chain` and `amd-crl`. Before
 * returning it verifies: a VCEK's profile, hwID and TCB extensions equal the request and
 * its chain reaches the pinned ARK of the product — through an ASK of
 * `anchors.amdIntermediates`, else through the product's `cert_chain` fetched by this
 * provider (remembered for the client's lifetime, and returned as the VCEK's
 * `issuerChain`: ASK then ARK PEM, so stored copies re-verify offline); a `cert_chain`'s
 * ARK is the pinned one; a CRL is signed by that ARK. `nextUpdate`: a CRL's nextUpdate; for
 * certificates the earliest notAfter on the chain, capped at `now` + {@link CERT_REFRESH_MS}.
 *
 * `amd-vlek` is not publicly served (KDS wants a CSP secret): `EndorsementUnavailableError`.
 * Status mapping as the PCS client (see `pcs-kds-http.ts`).
 *
 * @throws (from `get`) `EndorsementUnavailableError`, `EndorsementInvalidError`,
 *   `TypeError` for a non-AMD or malformed request.
 * @example
 * ```ts
 * const kds = createKdsClient({ fetcher, anchors: loadAnchorStore() });
 * const vcek = await kds.get(
 *   { kind: 'amd-vcek', product: 'Genoa', hwid, tcb: { bl: 10, tee: 0, snp: 23, ucode: 84 } },
 *   { now: new Date() },
 * );
 * verifySnp(report, { snpKeyCert: vcek.body }, ctx);
 * ```
 */
export function createKdsClient(options: KdsClientOptions): EndorsementProvider {
  const ctx: KdsContext = {
    fetcher: options.fetcher,
    anchors: options.anchors,
    baseUrl: options.baseUrl ?? AMD_KDS_URL,
    intermediates: known(options.anchors),
    fetchedChains: new Map(),
    self: { get: (request, o) => getKds(ctx, request, o) },
  };
  return ctx.self;
}

/** The state of one KDS client. */
interface KdsContext {
  readonly fetcher: Fetcher;
  readonly anchors: AnchorStore;
  readonly baseUrl: string;
  /** Parsed `anchors.amdIntermediates`. */
  readonly intermediates: readonly Certificate[];
  /** `cert_chain` certificates this client fetched, by product. */
  readonly fetchedChains: Map<string, readonly Certificate[]>;
  /** The provider itself, through which a missing `cert_chain` is fetched. */
  readonly self: EndorsementProvider;
}

async function verifyVcekChain(
  ctx: KdsContext,
  request: VcekRequest,
  cert: Certificate,
  o: GetOptions,
): Promise<KdsCertContent> {
  const check = (extra: readonly Certificate[]) =>
    checkVcek(request, cert, [...ctx.intermediates, ...extra], ctx.anchors, o.now, o.now);
  try {
    return check(ctx.fetchedChains.get(request.product) ?? []);
  } catch (err) {
    if (!isMissingIssuer(err)) throw err;
  }
  const chainRequest: EndorsementRequest = {
    kind: 'amd-cert-chain',
    product: request.product,
    keyKind: 'vcek',
  };
  const chain = await ctx.self.get(chainRequest, o);
  const certs = parsePemChain(chain.body, 'cert_chain');
  ctx.fetchedChains.set(request.product, certs);
  return check(certs);
}

async function getKds(
  ctx: KdsContext,
  request: EndorsementRequest,
  o: GetOptions,
): Promise<Endorsement> {
  if (!isKdsRequest(request)) {
    throw new TypeError(`the AMD KDS client does not serve '${request.kind}' requests`);
  }
  if (request.kind === 'amd-vlek') {
    throw unavailable('amd-vlek: VLEKs are not publicly served by KDS', { url: ctx.baseUrl });
  }
  const label = labelOf(request);
  const res = await httpGet(ctx.fetcher, kdsUrl(request, ctx.baseUrl), o, label);
  const body = res.body.slice();
  if (request.kind === 'amd-crl') {
    const der = crlDerOf(body, label);
    const { nextUpdate } = checkAmdCrl(request, der, ctx.anchors, o.now);
    return networkEndorsement(request, der, o.now, nextUpdate);
  }
  if (request.kind === 'amd-cert-chain') {
    const { nextUpdate } = checkCertChain(request, body, ctx.anchors, o.now, o.now);
    return networkEndorsement(request, body, o.now, nextUpdate);
  }
  const cert = certificateOf(body, label);
  const content = await verifyVcekChain(ctx, request, cert, o);
  const issuerChain = pemOf([content.signer.der, content.ark.der]);
  return networkEndorsement(request, cert.der, o.now, content.nextUpdate, issuerChain);
}

/**
 * Re-verifies a stored AMD endorsement (from a cache or an offline bundle) at `now`: the
 * same checks as when it was fetched (a VCEK's chain through its `issuerChain` and
 * `anchors.amdIntermediates`, without fetching), plus `sha256` against the body and a
 * `nextUpdate` no later than the content allows (taking `fetchedAt` as the start of the
 * refresh period).
 *
 * @throws `EndorsementInvalidError` when it does not verify, expiry included;
 *   `TypeError` for a request that is not a public KDS one.
 * @example
 * verifyKdsEndorsement(cachedVcek, loadAnchorStore([rootsDir]), new Date());
 */
export function verifyKdsEndorsement(e: Endorsement, anchors: AnchorStore, now: Date): void {
  const { request } = e;
  if (!isKdsRequest(request) || request.kind === 'amd-vlek') {
    throw new TypeError(`'${request.kind}' is not an AMD KDS endorsement`);
  }
  const label = labelOf(request);
  let limit: Date;
  if (request.kind === 'amd-crl') {
    limit = checkAmdCrl(request, e.body, anchors, now).nextUpdate;
  } else if (request.kind === 'amd-cert-chain') {
    limit = checkCertChain(request, e.body, anchors, now, e.fetchedAt).nextUpdate;
  } else {
    const cert = certificateOf(e.body, label);
    const supplied =
      e.issuerChain === undefined
        ? []
        : asInvalid(label, () => parsePemChain(e.issuerChain!, label));
    limit = checkVcek(
      request,
      cert,
      [...supplied, ...known(anchors)],
      anchors,
      now,
      e.fetchedAt,
    ).nextUpdate;
  }
  checkStoredEndorsement(e, label, limit);
}
