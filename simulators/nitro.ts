/**
 * Simulated AWS Nitro Secure Module attestation: documents shaped like the NSM's (untagged
 * COSE_Sign1, ES384, 16 SHA-384 PCRs, `i-…-enc…` module ids, a 3-hour leaf under the
 * instance CA, `cabundle = [root, regional, zonal, instance]`), signed by a simulated PKI
 * and encoded with the twi Nitro codec. Output is byte-stable for a given seed and `now`.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import {
  encodeCoseSign1,
  encodeNitroProtectedHeader,
  encodeSigStructure,
} from '../verifier/platforms/nitro/cose.js';
import { encodeNitroPayload } from '../verifier/platforms/nitro/payload.js';
import type { NitroPayload } from '../verifier/platforms/nitro/types.js';
import type { EcKeyPair } from './pki/keys.js';
import type { IssuedCert } from './pki/x509.js';
import type { NitroPki } from './pki/aws.js';

/**
 * An optional field: bytes, `null` (what the NSM writes when not requested) or `'absent'`.
 *
 * @internal
 */
export type NitroSimField = Uint8Array | null | 'absent';

/** Options of {@link simulateNitro}. */
export interface NitroSimOptions {
  /** Document time: the payload `timestamp` and the leaf's validity window. */
  now: Date;
  /** Seed of the derived values (PCRs, enclave id suffix). Default `'twi-nitro-sim'`. */
  seed?: string;
  /**
   * `module_id`. Default `<pki.instanceId>-enc<16 hex>`: like the NSM, the first 12 hex digits
   * are the enclave start time in ms (here `now` − 1 s), the last 4 derive from the seed.
   * Pass it explicitly to keep one enclave's id across several documents.
   */
  moduleId?: string;
  /** Number of PCRs, as the NSM reports them (indexes 0..n−1). Default 16. */
  pcrCount?: number;
  /** PCR values to set (index → 32/48/64 bytes), overriding the derived ones. */
  pcrs?: Readonly<Record<number, Uint8Array>>;
  /**
   * Debug-mode enclave: PCR0, PCR1, PCR2 and PCR8 are all zero, as in real debug documents
   * (PCR3, the IAM role, and PCR4, the parent instance, keep their values). Default false.
   */
  debug?: boolean;
  /** `nonce`. Default `null`. */
  nonce?: NitroSimField;
  /** `user_data`. Default `null`. */
  userData?: NitroSimField;
  /** `public_key`. Default `null`. */
  publicKey?: NitroSimField;
  /** Wrap the COSE_Sign1 in CBOR tag 18. Default false, as the NSM returns it. */
  tagged?: boolean;
  /** Indefinite-length payload map (0xbf … 0xff). Default true, as current NSM versions write. */
  indefinite?: boolean;
}

/** What {@link simulateNitro} produced. */
export interface NitroSimResult {
  /** The attestation document bytes (COSE_Sign1). */
  document: Uint8Array;
  /** The decoded fields that were encoded. */
  payload: NitroPayload;
  /** The per-document leaf certificate and key that signed it. */
  leaf: IssuedCert<EcKeyPair>;
}

const DEFAULT_SEED = 'twi-nitro-sim';
const PCR_BYTES = 48;
const DEBUG_ZERO_PCRS: readonly number[] = [0, 1, 2, 8];
const SEEDED_PCRS: readonly number[] = [0, 1, 2, 8];
const LEAF_BACKDATE_S = 3;
const LEAF_LIFETIME_S = 3 * 3600;

function sha384(label: string): Uint8Array {
  return new Uint8Array(createHash('sha384').update(label).digest());
}

/**
 * The default `module_id` for an enclave of `pki` started at `startedAt`:
 * `<instanceId>-enc<start ms, 12 hex><seeded 4 hex>`, the shape of real NSM module ids.
 */
export function simulatedNitroModuleId(pki: NitroPki, seed: string, startedAt: Date): string {
  const ms = Math.max(0, Math.floor(startedAt.getTime()));
  const time = ms.toString(16).padStart(12, '0').slice(-12);
  const suffix = Buffer.from(sha384(`twi-nitro-sim/enclave/${seed}`).subarray(0, 2)).toString(
    'hex',
  );
  return `${pki.instanceId}-enc${time}${suffix}`;
}

function defaultPcr(index: number, pki: NitroPki, seed: string): Uint8Array {
  if (SEEDED_PCRS.includes(index)) return sha384(`twi-nitro-sim/pcr${index}/${seed}`);
  if (index === 4) return sha384(`twi-nitro-sim/pcr4/${pki.instanceId}`);
  return new Uint8Array(PCR_BYTES);
}

function buildPcrs(pki: NitroPki, seed: string, o: NitroSimOptions): Map<number, Uint8Array> {
  const count = o.pcrCount ?? 16;
  if (!Number.isInteger(count) || count < 0 || count > 32)
    throw new TypeError('pcrCount must be 0..32');
  const pcrs = new Map<number, Uint8Array>();
  for (let i = 0; i < count; i++) {
    const zero = o.debug === true && DEBUG_ZERO_PCRS.includes(i);
    pcrs.set(i, zero ? new Uint8Array(PCR_BYTES) : defaultPcr(i, pki, seed));
  }
  for (const [key, value] of Object.entries(o.pcrs ?? {})) {
    if (!(value instanceof Uint8Array)) throw new TypeError(`pcrs[${key}] must be bytes`);
    pcrs.set(Number(key), value);
  }
  return new Map([...pcrs].sort(([a], [b]) => a - b));
}

function optional(value: NitroSimField | undefined, name: string): Uint8Array | null | undefined {
  if (value === undefined || value === null) return null;
  if (value === 'absent') return undefined;
  if (!(value instanceof Uint8Array))
    throw new TypeError(`${name} must be bytes, null or 'absent'`);
  return value;
}

function checkOptions(o: NitroSimOptions): void {
  if (!(o.now instanceof Date) || Number.isNaN(o.now.getTime()))
    throw new TypeError('now must be a valid Date');
  if (o.moduleId !== undefined && (typeof o.moduleId !== 'string' || o.moduleId === '')) {
    throw new TypeError('moduleId must be a non-empty string');
  }
}

function issueLeaf(pki: NitroPki, moduleId: string, now: Date): IssuedCert<EcKeyPair> {
  const second = Math.floor(now.getTime() / 1000) * 1000;
  return pki.issueLeaf({
    moduleId,
    notBefore: new Date(second - LEAF_BACKDATE_S * 1000),
    notAfter: new Date(second + LEAF_LIFETIME_S * 1000),
  });
}

/**
 * Produces a Nitro attestation document signed by a simulated NSM: the leaf certificate
 * (valid from `now` − 3 s for 3 hours, like real ones) is issued by `pki`'s instance CA, the
 * `cabundle` is `[root, …intermediates]`, and the ES384 signature is made by the leaf key
 * over the COSE Sig_structure. Deterministic for a given `pki`, seed and options.
 *
 * @example
 * ```ts
 * const pki = createNitroPki({ seed: 'demo', notBefore: new Date('2025-01-01T00:00:00Z') });
 * const { document } = simulateNitro(pki, { now: new Date(), nonce, userData, publicKey: spkiDer });
 * ```
 */
export function simulateNitro(pki: NitroPki, opts: NitroSimOptions): NitroSimResult {
  checkOptions(opts);
  const seed = opts.seed ?? DEFAULT_SEED;
  const moduleId =
    opts.moduleId ?? simulatedNitroModuleId(pki, seed, new Date(opts.now.getTime() - 1000));
  const leaf = issueLeaf(pki, moduleId, opts.now);
  const payload: NitroPayload = {
    moduleId,
    digest: 'SHA384',
    timestamp: opts.now.getTime(),
    pcrs: buildPcrs(pki, seed, opts),
    certificate: leaf.der,
    cabundle: [...pki.cabundle],
    publicKey: optional(opts.publicKey, 'publicKey'),
    userData: optional(opts.userData, 'userData'),
    nonce: optional(opts.nonce, 'nonce'),
  };
  const protectedHeader = encodeNitroProtectedHeader();
  const payloadBytes = encodeNitroPayload(payload, { indefinite: opts.indefinite ?? true });
  const signature = leaf.key.signRaw(encodeSigStructure(protectedHeader, payloadBytes));
  const document = encodeCoseSign1({
    protectedHeader,
    payload: payloadBytes,
    signature,
    tagged: opts.tagged,
  });
  return { document, payload, leaf };
}
