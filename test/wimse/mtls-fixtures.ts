/**
 * Fixtures of the mutual-TLS tests: a real issuing CA from service/ca/, workload certificates
 * it issues (any identifier, jti, validity), and the SPIFFE bundle publishing it as an
 * `x509-svid` key with `x5c`.
 */
import { createPublicKey, randomUUID } from 'node:crypto';
import { createRootCa, type IssuingCa } from '../../service/ca/issuer.js';
import { earDigest, issueWorkloadCertificate } from '../../service/ca/profile.js';
import type { X509Bundle } from '../../wimse/x509-peer.js';
import { newKeyPair } from '../../common/key-pair.js';

/** A workload's credential: certificate chain and key (PEM), and what is in it. */
export interface Workload {
  readonly id: string;
  readonly jti: string;
  readonly serial: string;
  readonly notAfter: Date;
  readonly cert: string;
  readonly key: string;
  readonly der: Uint8Array;
}

/** A self-signed ES256 CA valid for a day from `now`. */
export function newCa(name = 'twi test CA', now = new Date()): Promise<IssuingCa> {
  return createRootCa({ commonName: name, validitySeconds: 24 * 3600, now });
}

/** Issues a P-256 workload certificate for `id` under `ca`. */
export async function issue(
  ca: IssuingCa,
  id: string,
  opts: { now?: Date; lifetimeSeconds?: number } = {},
): Promise<Workload> {
  const { publicKey, privateKey } = newKeyPair('ec', { namedCurve: 'P-256' });
  const jti = `wit-${randomUUID()}`;
  const issued = await issueWorkloadCertificate(ca, {
    publicKey,
    workloadId: id,
    jti,
    earSha256: earDigest(`ear-of-${jti}`),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.lifetimeSeconds ? { lifetimeSeconds: opts.lifetimeSeconds } : {}),
  });
  return {
    id,
    jti,
    serial: issued.serial,
    notAfter: issued.notAfter,
    cert: issued.chainPem,
    key: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    der: issued.der,
  };
}

/** The SPIFFE bundle of `cas`: one `x509-svid` JWK each (X509-SVID §6.1), plus revocations. */
export function bundleOf(
  cas: readonly IssuingCa[],
  extra: { revoked_jtis?: string[]; revoked_serials?: string[]; spiffe_sequence?: number } = {},
): X509Bundle {
  return {
    keys: cas.map((ca) => ({
      ...createPublicKey(ca.privateKey).export({ format: 'jwk' }),
      use: 'x509-svid',
      x5c: [Buffer.from(ca.certificate).toString('base64')],
    })),
    revoked_jtis: extra.revoked_jtis ?? [],
    ...(extra.revoked_serials ? { revoked_serials: extra.revoked_serials } : {}),
    spiffe_sequence: extra.spiffe_sequence ?? 1,
  };
}
