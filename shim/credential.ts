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
import type { HeldKey } from './held-key.js';
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
  /** Agent mode: the selectors of the caller the credential is for (`agent` of the request). */
  readonly selectors?: readonly string[];
  /** X.509 mode: send a CSR for `key`, signed by it, and expect a certificate chain back. */
  readonly x509?: boolean;
  /**
   * X.509 mode with a key the workload holds: the certificate is for this key, attested in its
   * own exchange ({@link obtainCredential}).
   */
  readonly heldKey?: HeldKey;
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

/** One `/v1/attest` exchange for `key`: fresh nonce, fresh evidence binding it and the key. */
async function attestKey(r: AttestRound, key: WorkloadKey, csr: string | undefined) {
  const challenge = await r.verifier.challenge();
  const nonce = new Uint8Array(Buffer.from(challenge.nonce, 'base64url'));
  const reportData = bindingReportData(nonce, jwkThumbprint(key.publicJwk));
  const evidence = await r.attester.collectEvidence({ nonce, reportData, publicKey: key.spki });
  return r.verifier.attest({
    nonce: challenge.nonce,
    evidence: encodeEvidenceCmw(evidence),
    key: key.publicJwk as Record<string, unknown>,
    ...(r.eventLog !== undefined && { event_log: r.eventLog }),
    ...(r.workload !== undefined && { workload: r.workload }),
    ...(r.selectors !== undefined && { agent: { selectors: r.selectors } }),
    ...(csr !== undefined && { csr }),
  });
}

/** A base64url DER CSR for `key`, signed by it. */
async function csrFor(key: WorkloadKey): Promise<string> {
  return Buffer.from(await buildCsr(key)).toString('base64url');
}

/**
 * One round: a fresh nonce, fresh evidence binding it and the key, `/v1/attest`.
 *
 * In X.509 mode the request also carries a CSR for the bound key, signed by it in the TEE, and
 * the answer must carry its certificate ({@link checkSvid}). With a `heldKey`, the certificate
 * is for that key instead, in a second exchange that binds it into its own evidence; that
 * exchange's WIT is not served (its `jti` is the certificate's, watched for revocation).
 *
 * @throws {ShimError} `ERR_SHIM_VERIFIER_UNAVAILABLE` (retryable), `ERR_SHIM_ATTEST_REFUSED`,
 *   `ERR_SHIM_VERIFIER_RESPONSE`; a `DeviceError` when the TEE refuses.
 */
export async function obtainCredential(r: AttestRound): Promise<Credential> {
  const sameKey = r.x509 === true && r.heldKey === undefined;
  const answer = await attestKey(r, r.key, sameKey ? await csrFor(r.key) : undefined);
  const now = (r.now ?? (() => new Date()))();
  const c = credentialOf(answer.wit, answer.ear, answer.expiresAt, now);
  if (!r.x509) return c;
  let chain = answer.x509Chain;
  let certKey: WorkloadKey = r.key;
  let certJti: string | undefined;
  if (r.heldKey) {
    certKey = r.heldKey;
    const second = await attestKey(r, r.heldKey, await csrFor(r.heldKey));
    chain = second.x509Chain;
    const held = credentialOf(second.wit, second.ear, second.expiresAt, now);
    if (held.sub !== c.sub) {
      throw new ShimError(
        'ERR_SHIM_VERIFIER_RESPONSE',
        `the workload key was assigned ${held.sub}, the TEE key ${c.sub}`,
      );
    }
    certJti = held.jti;
  }
  if (!chain) {
    throw new ShimError('ERR_SHIM_VERIFIER_RESPONSE', 'the verifier issued no certificate');
  }
  const x509: X509Svid = {
    ...checkSvid(chain, certKey.spki, c.sub, now),
    ...(certJti !== undefined && { jti: certJti }),
    ...(r.heldKey && { keyPem: r.heldKey.privatePem }),
  };
  const expiresAt = x509.notAfter < c.expiresAt ? x509.notAfter : c.expiresAt;
  if (expiresAt.getTime() <= c.issuedAt.getTime()) {
    throw new ShimError(
      'ERR_SHIM_VERIFIER_RESPONSE',
      'the certificate expires before the WIT starts',
    );
  }
  return { ...c, expiresAt, x509 };
}
