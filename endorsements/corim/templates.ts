/**
 * Reference triples from platform values, written the way `docs/corim.md` describes (AMD
 * SEV-SNP profile; twi's TDX and Nitro conventions). For tests, tools and the provenance
 * linker, which record the measurements a build produced as a CoRIM.
 *
 * @internal
 * @module
 */
import { DIGEST_ALG, NITRO_PCR_MKEY, platformEnvironment, SNP_MKEY } from './profiles.js';
import type {
  IntegrityRegister,
  Measurement,
  MeasurementValues,
  ReferenceTriple,
} from './types.js';

const SHA384 = DIGEST_ALG['sha-384'];

function bytes(hexText: string, size: number, what: string): Uint8Array {
  const clean = hexText.startsWith('0x') ? hexText.slice(2) : hexText;
  if (!/^([0-9a-fA-F]{2})*$/.test(clean) || clean.length !== size * 2) {
    throw new TypeError(`${what} must be ${size} bytes of hex`);
  }
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

function leBytes(value: bigint, what: string): Uint8Array {
  if (value < 0n || value >= 1n << 64n)
    throw new TypeError(`${what} must be an unsigned 64-bit value`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value, true);
  return out;
}

const m = (mkey: Measurement['mkey'], mval: MeasurementValues): Measurement =>
  mkey === undefined ? { mval } : { mkey, mval };
const digest48 = (mkey: string | number, v: string, what: string) =>
  m(mkey, { digests: [{ alg: SHA384, value: bytes(v, 48, what) }] });
const raw = (mkey: string | number, v: string, size: number, what: string, mask?: string) =>
  m(mkey, {
    rawValue: {
      bytes: bytes(v, size, what),
      ...(mask && { mask: bytes(mask, size, `${what} mask`) }),
    },
  });

/** TDX values for {@link tdxReferenceTriple}: hex as `twi inspect` prints the claims. */
export interface TdxTemplate {
  readonly mrtd?: string;
  readonly mrseam?: string;
  readonly mrconfigid?: string;
  readonly mrowner?: string;
  readonly mrownerconfig?: string;
  readonly mrservicetd?: string;
  /** RTMR0..3 by index; `undefined` entries are left out. */
  readonly rtmrs?: readonly (string | undefined)[];
  /** 8 raw TDATTRIBUTES bytes, and a mask over them. */
  readonly td_attributes?: { readonly value: string; readonly mask?: string };
  /** 8 raw XFAM bytes. */
  readonly xfam?: string;
}

/**
 * A TDX reference triple: MRTD and MRSEAM as SHA-384 digests, RTMRs as integrity registers
 * 0..3, MRCONFIGID / MROWNER / MROWNERCONFIG / MRSERVICETD as raw values, TDATTRIBUTES and
 * XFAM as masked raw values.
 *
 * @example
 * ```ts
 * const triple = tdxReferenceTriple({ mrtd: claims.mrtd, rtmrs: [claims.rtmr0, claims.rtmr1] });
 * ```
 */
export function tdxReferenceTriple(t: TdxTemplate): ReferenceTriple {
  const out: Measurement[] = [];
  if (t.mrtd) out.push(digest48('mrtd', t.mrtd, 'MRTD'));
  if (t.mrseam) out.push(digest48('mrseam', t.mrseam, 'MRSEAM'));
  for (const k of ['mrconfigid', 'mrowner', 'mrownerconfig', 'mrservicetd'] as const) {
    if (t[k]) out.push(raw(k, t[k], 48, k.toUpperCase()));
  }
  const registers: IntegrityRegister[] = (t.rtmrs ?? []).flatMap((v, id) =>
    v === undefined ? [] : [{ id, digests: [{ alg: SHA384, value: bytes(v, 48, `RTMR${id}`) }] }],
  );
  if (registers.length > 0) out.push(m('rtmr', { integrityRegisters: registers }));
  if (t.td_attributes) {
    const mask = t.td_attributes.mask ?? 'ffffffffffffffff';
    out.push(raw('tdattributes', t.td_attributes.value, 8, 'TDATTRIBUTES', mask));
  }
  if (t.xfam) out.push(raw('xfam', t.xfam, 8, 'XFAM', 'ffffffffffffffff'));
  if (out.length === 0) throw new TypeError('a TDX reference triple needs at least one value');
  return { environment: platformEnvironment('tdx'), measurements: out };
}

/** SEV-SNP values for {@link snpReferenceTriple}. */
export interface SnpTemplate {
  readonly measurement?: string;
  readonly host_data?: string;
  readonly id_key_digest?: string;
  readonly author_key_digest?: string;
  /** CHIP_ID (64 bytes): the environment instance (attestation by chip). */
  readonly chip_id?: string;
  /** POLICY as its u64 value, and a mask of the bits that must match (default all). */
  readonly policy?: { readonly value: bigint; readonly mask?: bigint };
  readonly guest_svn_min?: number;
  readonly vmpl?: number;
  /** Minimum REPORTED_TCB, as the u64 TCB_VERSION. */
  readonly reported_tcb_min?: bigint;
  /** Use the VLEK (by CSP) class-id. */
  readonly byCsp?: boolean;
}

/**
 * A SEV-SNP reference triple per the AMD profile: MEASUREMENT (641), ID/AUTHOR key digests
 * (643/644) as SHA-384 digests, HOST_DATA (642) as a 32-byte raw value, POLICY (2) masked,
 * GUEST_SVN (1) and REPORTED_TCB (647) as minimum SVNs, VMPL (5) as an integer.
 *
 * @example
 * ```ts
 * const triple = snpReferenceTriple({ measurement: claims.measurement, guest_svn_min: 1 });
 * ```
 */
export function snpReferenceTriple(t: SnpTemplate): ReferenceTriple {
  const out: Measurement[] = [];
  if (t.guest_svn_min !== undefined)
    out.push(m(SNP_MKEY.GUEST_SVN, { svn: { min: BigInt(t.guest_svn_min) } }));
  if (t.policy) {
    const mask = t.policy.mask ?? (1n << 64n) - 1n;
    out.push(
      m(SNP_MKEY.POLICY, {
        rawValue: {
          bytes: leBytes(t.policy.value & mask, 'POLICY'),
          mask: leBytes(mask, 'POLICY mask'),
        },
      }),
    );
  }
  if (t.vmpl !== undefined) out.push(m(SNP_MKEY.VMPL, { intRange: t.vmpl }));
  if (t.measurement) out.push(digest48(SNP_MKEY.MEASUREMENT, t.measurement, 'MEASUREMENT'));
  if (t.host_data) out.push(raw(SNP_MKEY.HOST_DATA, t.host_data, 32, 'HOST_DATA'));
  if (t.id_key_digest) out.push(digest48(SNP_MKEY.ID_KEY_DIGEST, t.id_key_digest, 'ID_KEY_DIGEST'));
  if (t.author_key_digest) {
    out.push(digest48(SNP_MKEY.AUTHOR_KEY_DIGEST, t.author_key_digest, 'AUTHOR_KEY_DIGEST'));
  }
  if (t.reported_tcb_min !== undefined)
    out.push(m(SNP_MKEY.REPORTED_TCB, { svn: { min: t.reported_tcb_min } }));
  if (out.length === 0) throw new TypeError('a SEV-SNP reference triple needs at least one value');
  const env = platformEnvironment('sev-snp', t.byCsp);
  const environment = t.chip_id
    ? { ...env, instance: { bytes: bytes(t.chip_id, 64, 'CHIP_ID') } }
    : env;
  return { environment, measurements: out };
}

/**
 * A Nitro reference triple: PCRs (index → hex of 32, 48 or 64 bytes) as integrity registers
 * with SHA-256/384/512 digests by length.
 *
 * @example
 * ```ts
 * const triple = nitroReferenceTriple({ 0: pcr0, 1: pcr1, 2: pcr2 });
 * ```
 */
export function nitroReferenceTriple(
  pcrs: Readonly<Record<string | number, string>>,
): ReferenceTriple {
  const registers: IntegrityRegister[] = Object.entries(pcrs)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([index, v]) => {
      const id = Number(index);
      if (!Number.isInteger(id) || id < 0 || id > 31)
        throw new TypeError(`PCR index ${index} is not 0..31`);
      const size = v.length / 2;
      const alg = size === 32 ? 1 : size === 48 ? 7 : size === 64 ? 8 : 0;
      if (alg === 0) throw new TypeError(`PCR${id} must be 32, 48 or 64 bytes`);
      return { id, digests: [{ alg, value: bytes(v, size, `PCR${id}`) }] };
    });
  if (registers.length === 0)
    throw new TypeError('a Nitro reference triple needs at least one PCR');
  return {
    environment: platformEnvironment('nitro'),
    measurements: [m(NITRO_PCR_MKEY, { integrityRegisters: registers })],
  };
}
