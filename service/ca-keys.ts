/**
 * The service's issuing CA for X.509 workload certificates (docs/x509.md "The service's CA"),
 * kept like the signing keys (`keys.ts`): created at first start when none is stored (a
 * self-signed ES256 root by default), or the operator's intermediate from the configuration,
 * stored in `store.caKeys` with the private key sealed under the store's KEK. A generated root
 * is replaced by a new one when a tenth of its validity is left (or less than a certificate
 * lifetime); a replaced CA stays published in the bundle until the last certificate it may have
 * issued has expired. The published CAs are the bundle's `x509-svid` keys (SPIFFE X509-SVID §6.1:
 * no `kid`, `x5c` with exactly one certificate, the trust anchor of the CA's chain) and the
 * certificates of `GET /v1/bundle.pem`.
 *
 * @internal
 * @module
 */
import { X509Certificate } from 'node:crypto';
import {
  caChainPem,
  createRootCa,
  loadIssuingCa,
  type CaAlg,
  type IntermediateCaInput,
  type IssuingCa,
} from './ca/issuer.js';
import { certificatesFromPem, toPem } from './ca/asn1.js';
import { DEFAULT_CERT_LIFETIME_SECONDS, MAX_CERT_LIFETIME_SECONDS } from './ca/profile.js';
import type { CaKeyRecord, Store } from './store/types.js';

/** How the service gets its CA. */
export interface ServiceCaOptions {
  /** Algorithm of a generated root: `ES256` (default) or `ES384`. */
  readonly alg?: CaAlg;
  /** Subject commonName of a generated root (default `twi workload CA <trust domain>`). */
  readonly commonName?: string;
  /** Validity of a generated root, seconds (default one year). */
  readonly rootValiditySeconds?: number;
  /** The operator's intermediate (certificate, chain, key): used instead of a generated root. */
  readonly intermediate?: Omit<IntermediateCaInput, 'now'>;
  /** Lifetime of issued certificates, seconds (default 3600, at most one day). */
  readonly certLifetimeSeconds?: number;
}

/** The CA that signs new certificates, with its store id. */
export interface ServiceCa {
  readonly kid: string;
  readonly ca: IssuingCa;
}

/** A CA's store id: the hex of its certificate's subject key identifier. */
export function caKid(ca: IssuingCa): string {
  return Buffer.from(ca.keyId).toString('hex');
}

/** Checks the certificate lifetime option; returns it or the default. */
export function certLifetimeOf(options: ServiceCaOptions | undefined): number {
  const v = options?.certLifetimeSeconds ?? DEFAULT_CERT_LIFETIME_SECONDS;
  if (!Number.isInteger(v) || v <= 0 || v > MAX_CERT_LIFETIME_SECONDS) {
    throw new RangeError(
      `certLifetimeSeconds must be an integer in 1..${MAX_CERT_LIFETIME_SECONDS}`,
    );
  }
  return v;
}

/**
 * Whether a stored CA may sign at `now`: in use since then, and more than one certificate
 * lifetime and a tenth of its validity left.
 */
function usable(rec: CaKeyRecord, now: Date, lifetimeSeconds: number): boolean {
  // A CA stored "in the future" (another instance's clock) is not used; the 1 s slack covers
  // the millisecond a successor may be placed after its predecessor (see `put`).
  if (rec.createdAt.getTime() > now.getTime() + 1000) return false;
  const left = rec.notAfter.getTime() - now.getTime();
  const tenth = (rec.notAfter.getTime() - rec.createdAt.getTime()) / 10;
  return left > Math.max(lifetimeSeconds * 1000, tenth);
}

/** The newest stored CA that may sign at `now`, if any. */
export function chooseCa(
  cas: readonly CaKeyRecord[],
  now: Date,
  lifetimeSeconds: number,
): CaKeyRecord | undefined {
  return cas.findLast((rec) => usable(rec, now, lifetimeSeconds));
}

async function fromRecord(rec: CaKeyRecord, now: Date): Promise<ServiceCa> {
  const ca = await loadIssuingCa({ certificate: rec.chainPem, privateKey: rec.privateKeyPem, now });
  return { kid: rec.kid, ca };
}

async function put(
  store: Store,
  ca: IssuingCa,
  source: CaKeyRecord['source'],
  now: Date,
): Promise<ServiceCa> {
  const kid = caKid(ca);
  // CAs are ordered by creation: make the new one strictly the newest even on a coarse clock.
  const newest = (await store.caKeys.list()).at(-1);
  const createdAt =
    newest && newest.createdAt >= now ? new Date(newest.createdAt.getTime() + 1) : now;
  await store.caKeys.put({
    kid,
    alg: ca.alg,
    chainPem: caChainPem(ca),
    privateKeyPem: ca.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    source,
    createdAt,
    notAfter: ca.notAfter,
  });
  return { kid, ca };
}

/**
 * The CA new certificates are signed with: the operator's intermediate when configured (stored
 * the first time it is seen, so it stays published after it is replaced), else the newest stored
 * CA while it is usable, else a new self-signed root, stored before it is returned.
 *
 * @throws CaError for an operator intermediate that cannot issue (`service/ca/issuer.ts`).
 */
export async function loadOrCreateCa(
  store: Store,
  now: Date,
  trustDomain: string,
  options: ServiceCaOptions = {},
): Promise<ServiceCa> {
  const lifetime = certLifetimeOf(options);
  const stored = await store.caKeys.list();
  if (options.intermediate) {
    const ca = await loadIssuingCa({ ...options.intermediate, now });
    const kid = caKid(ca);
    return stored.some((r) => r.kid === kid) ? { kid, ca } : put(store, ca, 'operator', now);
  }
  const chosen = chooseCa(stored, now, lifetime);
  if (chosen) return fromRecord(chosen, now);
  return createCa(store, now, trustDomain, options);
}

/**
 * Makes a new self-signed root (the options' algorithm, subject and validity) and stores it as
 * the newest CA: what a first start, a renewal and `POST /v1/admin/ca/rotate` do.
 */
export async function createCa(
  store: Store,
  now: Date,
  trustDomain: string,
  options: ServiceCaOptions = {},
): Promise<ServiceCa> {
  const root = await createRootCa({
    commonName: options.commonName ?? `twi workload CA ${trustDomain}`,
    organization: 'twi',
    alg: options.alg ?? 'ES256',
    now,
    ...(options.rootValiditySeconds !== undefined && {
      validitySeconds: options.rootValiditySeconds,
    }),
  });
  return put(store, root, 'generated', now);
}

/**
 * Whether the running CA must give way: another stored CA is the one to sign with now, or none
 * is (a generated root near its end is then replaced by {@link loadOrCreateCa}).
 */
export async function caNeedsReload(
  store: Store,
  current: ServiceCa,
  now: Date,
  lifetimeSeconds: number,
): Promise<boolean> {
  return chooseCa(await store.caKeys.list(), now, lifetimeSeconds)?.kid !== current.kid;
}

/**
 * The CAs to publish at `now`: unexpired, and either the newest or replaced less than one
 * certificate lifetime ago (a certificate it issued may still be valid).
 */
export function publishedCas(
  cas: readonly CaKeyRecord[],
  now: Date,
  lifetimeSeconds: number,
): CaKeyRecord[] {
  return cas.filter((rec, i) => {
    if (rec.notAfter <= now) return false;
    const next = cas[i + 1];
    return !next || next.createdAt.getTime() + lifetimeSeconds * 1000 > now.getTime();
  });
}

/** The trust anchor of a stored CA: the last certificate of its chain (DER). */
export function caAnchor(rec: CaKeyRecord): Uint8Array {
  const chain = certificatesFromPem(rec.chainPem);
  return chain.at(-1)!;
}

/**
 * The SPIFFE bundle entry of a CA (X509-SVID §6.1): the anchor's public key as a JWK with
 * `use: "x509-svid"` and `x5c` holding exactly that certificate (standard base64), no `kid`.
 */
export function x509SvidJwk(rec: CaKeyRecord): Record<string, unknown> {
  const der = caAnchor(rec);
  const cert = new X509Certificate(der);
  const jwk = cert.publicKey.export({ format: 'jwk' });
  return { ...jwk, use: 'x509-svid', x5c: [Buffer.from(der).toString('base64')] };
}

/** The published CAs' anchors as one PEM bundle (what `GET /v1/bundle.pem` serves). */
export function bundlePem(cas: readonly CaKeyRecord[]): string {
  const seen = new Set<string>();
  let out = '';
  for (const rec of cas) {
    const pem = toPem('CERTIFICATE', caAnchor(rec));
    if (seen.has(pem)) continue;
    seen.add(pem);
    out += pem;
  }
  return out;
}
