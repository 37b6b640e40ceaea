/**
 * The shim's narrow view of the TEE: a platform, keys that sign inside it, evidence bound to
 * what the shim asks, and (TDX) a runtime measurement register to extend. The production
 * implementation is {@link createNativeAttester} (native addon); everything else in the shim
 * depends only on this interface.
 *
 * @internal
 * @module
 */
import type { JsonWebKey } from 'node:crypto';

/** A TEE platform the shim attests on. */
export type ShimPlatform = 'tdx' | 'sev-snp' | 'nitro';

/** A workload key held by the TEE: JavaScript sees its public half and signatures only. */
export interface WorkloadKey {
  /** `ES256` (P-256) or `ES384` (P-384). */
  readonly alg: 'ES256' | 'ES384';
  /** The public JWK (`kty`, `crv`, `x`, `y`, `alg`). */
  readonly publicJwk: JsonWebKey & { alg: string };
  /** SPKI DER of the public key (Nitro binds it as `public_key`). */
  readonly spki: Uint8Array;
  /** ECDSA over `data` (SHA-256/384 by `alg`), raw `r ‖ s` (RFC 7518 §3.4). */
  sign(data: Uint8Array): Promise<Uint8Array>;
  /** Wipes the private key; idempotent. */
  dispose(): void;
}

/** What the shim binds into the evidence (ARCHITECTURE "Data flow" step 2). */
export interface EvidenceBinding {
  /** The verifier's nonce, decoded. */
  readonly nonce: Uint8Array;
  /** SHA-512("twi-binding-v1" ‖ nonce ‖ jkt): TDX/SEV-SNP REPORT_DATA, Nitro `user_data`. */
  readonly reportData: Uint8Array;
  /** Nitro `public_key`: SPKI DER of the workload key. */
  readonly publicKey: Uint8Array;
}

/** An endorsement the device hands out with its evidence (CMW `ind` 2). */
export interface AttesterEndorsement {
  readonly mediaType: string;
  readonly bytes: Uint8Array;
}

/** Evidence as collected. */
export interface CollectedEvidence {
  readonly mediaType: string;
  readonly evidence: Uint8Array;
  readonly endorsements: readonly AttesterEndorsement[];
}

/** The TEE as the shim uses it. */
export interface AttesterDevice {
  readonly platform: ShimPlatform;
  /** Creates a non-exportable workload key inside the TEE. */
  createKey(alg: 'ES256' | 'ES384'): Promise<WorkloadKey>;
  /** Evidence bound to `binding`. */
  collectEvidence(binding: EvidenceBinding): Promise<CollectedEvidence>;
  /**
   * Extends the runtime measurement register `index` with a SHA-384 digest; absent on platforms
   * without runtime registers the guest can extend (SEV-SNP, Nitro in this shim).
   */
  extendMeasurement?(index: number, digest: Uint8Array): Promise<void>;
  /**
   * TDX: the TD's CC event log (CCEL table data), `undefined` when the kernel exposes none;
   * sent with the shim's event so the verifier can replay RTMR0-3.
   */
  readEventLog?(): Uint8Array | undefined;
}
