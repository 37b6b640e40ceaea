/**
 * One attestation round (challenge → evidence bound to nonce and key → attest) and the
 * credential it yields.
 *
 * @internal
 * @module
 */
import { bindingReportData, jwkThumbprint } from '../wire/binding.js';
import { encodeEvidenceCmw } from '../wire/cmw.js';
import { decodeCompact } from '../wimse/jws.js';
import type { AttesterDevice, WorkloadKey } from './attester.js';
import { ShimError } from './errors.js';
import type { VerifierClient } from './verifier-client.js';
import { buildCsr } from './csr.js';
import { checkSvid, type X509Svid } from './x509.js';

/** A credential the shim holds. */
export interface Credential {
  readonly wit: string;
  readonly ear: string;
  /** The WIT's `sub`: the workload identifier. */
  readonly sub: string;
  readonly jti: string | undefined;
  /** WIT `iat` (or receipt time when absent). */
  readonly issuedAt: Date;
  /** The WIT's expiry, or the certificate's when that comes first (X.509 mode). */
  readonly expiresAt: Date;
  /** The workload certificate (X.509 mode only). */
  readonly x509?: X509Svid;
}

/** What {@link obtainCredential} needs. */
export interface AttestRound {
  readonly attester: AttesterDevice;
  readonly key: WorkloadKey;
  readonly verifier: VerifierClient;
  /** Sent as `event_log` (the shim's self-measurement). */
  readonly eventLog?: unknown;
  /** Optional workload name appended to the identifier by the verifier. */
  readonly workload?: string;
  /** X.509 mode: send a CSR for `key`, signed by it, and expect a certificate chain back. */
  readonly x509?: boolean;
  readonly now?: () => Date;
}

function credentialOf(wit: string, ear: string, expiresAt: Date, now: Date): Credential {
  let claims: Record<string, unknown>;
  try {
    claims = decodeCompact(wit).payload;
  } catch (err) {
    throw new ShimError('ERR_SHIM_VERIFIER_RESPONSE', 'the WIT is not a compact JWS', {
      cause: err,
    });
  }
  if (typeof claims.sub !== 'string') {
    throw new ShimError('ERR_SHIM_VERIFIER_RESPONSE', 'the WIT has no sub');
  }
  const iat = typeof claims.iat === 'number' ? new Date(claims.iat * 1000) : now;
  if (expiresAt.getTime() <= iat.getTime()) {
    throw new ShimError('ERR_SHIM_VERIFIER_RESPONSE', 'the credential expires before it starts');
  }
  return {
    wit,
    ear,
    sub: claims.sub,
    jti: typeof claims.jti === 'string' ? claims.jti : undefined,
    issuedAt: iat,
    expiresAt,
  };
}

/**
 * One round: a fresh nonce, fresh evidence binding it and the key, `/v1/attest`.
 *
 * In X.509 mode the request also carries a CSR for the bound key, signed by it in the TEE, and
 * the answer must carry its certificate ({@link checkSvid}).
 *
 * @throws {ShimError} `ERR_SHIM_VERIFIER_UNAVAILABLE` (retryable), `ERR_SHIM_ATTEST_REFUSED`,
 *   `ERR_SHIM_VERIFIER_RESPONSE`; a `DeviceError` when the TEE refuses.
 */
export async function obtainCredential(r: AttestRound): Promise<Credential> {
  // Signed before the round: the nonce's time is spent on evidence only.
  const csr = r.x509 ? Buffer.from(await buildCsr(r.key)).toString('base64url') : undefined;
  const challenge = await r.verifier.challenge();
  const nonce = new Uint8Array(Buffer.from(challenge.nonce, 'base64url'));
  const reportData = bindingReportData(nonce, jwkThumbprint(r.key.publicJwk));
  const evidence = await r.attester.collectEvidence({
    nonce,
    reportData,
    publicKey: r.key.spki,
  });
  const answer = await r.verifier.attest({
    nonce: challenge.nonce,
    evidence: encodeEvidenceCmw(evidence),
    key: r.key.publicJwk as Record<string, unknown>,
    ...(r.eventLog !== undefined && { event_log: r.eventLog }),
    ...(r.workload !== undefined && { workload: r.workload }),
    ...(csr !== undefined && { csr }),
  });
  const now = (r.now ?? (() => new Date()))();
  const c = credentialOf(answer.wit, answer.ear, answer.expiresAt, now);
  if (!r.x509) return c;
  if (!answer.x509Chain) {
    throw new ShimError('ERR_SHIM_VERIFIER_RESPONSE', 'the verifier issued no certificate');
  }
  const x509 = checkSvid(answer.x509Chain, r.key.spki, c.sub, now);
  const expiresAt = x509.notAfter < c.expiresAt ? x509.notAfter : c.expiresAt;
  if (expiresAt.getTime() <= c.issuedAt.getTime()) {
    throw new ShimError(
      'ERR_SHIM_VERIFIER_RESPONSE',
      'the certificate expires before the WIT starts',
    );
  }
  return { ...c, expiresAt, x509 };
}
