/**
 * TCB_VERSION layouts and the processor generation (SPEC-DIGEST B3.4).
 *
 * @module
 */
import type { SnpCpuid, SnpProduct, SnpTcbParts } from './types.js';

/** True for generations whose TCB_VERSION starts with an FMC byte (Turin and later). */
export function hasFmcTcbLayout(product: SnpProduct | undefined): boolean {
  return product === 'Turin' || product === 'Venice';
}

function tcbBytes(tcb: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, tcb), true);
  return b;
}

/**
 * Splits a TCB_VERSION into its SPLs. Milan/Genoa (and an unknown product): byte 0 BOOT_LOADER,
 * 1 TEE, 6 SNP, 7 MICROCODE. Turin/Venice: 0 FMC, 1 BOOT_LOADER, 2 TEE, 3 SNP, 7 MICROCODE.
 */
export function decodeSnpTcb(tcb: bigint, product?: SnpProduct): SnpTcbParts {
  const b = tcbBytes(tcb);
  if (hasFmcTcbLayout(product)) {
    return { fmc: b[0]!, bl: b[1]!, tee: b[2]!, snp: b[3]!, ucode: b[7]! };
  }
  return { bl: b[0]!, tee: b[1]!, snp: b[6]!, ucode: b[7]! };
}

function spl(v: number | undefined, name: string): number {
  const n = v ?? 0;
  if (!Number.isInteger(n) || n < 0 || n > 255) {
    throw new TypeError(`TCB part ${name} must be an integer 0..255, got ${v}`);
  }
  return n;
}

/** Inverse of {@link decodeSnpTcb}; `fmc` is written only in the Turin/Venice layout. */
export function encodeSnpTcb(parts: SnpTcbParts, product?: SnpProduct): bigint {
  const b = new Uint8Array(8);
  if (hasFmcTcbLayout(product)) {
    b.set([spl(parts.fmc, 'fmc'), spl(parts.bl, 'bl'), spl(parts.tee, 'tee')], 0);
    b[3] = spl(parts.snp, 'snp');
  } else {
    if (parts.fmc !== undefined && parts.fmc !== 0) {
      throw new TypeError(`TCB part fmc exists only on Turin and later, not ${product}`);
    }
    b[0] = spl(parts.bl, 'bl');
    b[1] = spl(parts.tee, 'tee');
    b[6] = spl(parts.snp, 'snp');
  }
  b[7] = spl(parts.ucode, 'ucode');
  return new DataView(b.buffer).getBigUint64(0, true);
}

/** TCB_VERSION as 16 lowercase hex digits of the u64 (the manifest's encoding). */
export function snpTcbHex(tcb: bigint): string {
  return BigInt.asUintN(64, tcb).toString(16).padStart(16, '0');
}

/**
 * The generation named by CPUID_FAM_ID / CPUID_MOD_ID, or `undefined` when the pair is
 * unknown (ranges as virtee/sev `Generation::identify_cpu`).
 */
export function snpProductFromCpuid(cpuid: SnpCpuid): SnpProduct | undefined {
  const m = cpuid.model;
  const within = (lo: number, hi: number) => m >= lo && m <= hi;
  if (cpuid.family === 0x19) {
    if (within(0x00, 0x0f)) return 'Milan';
    if (within(0x10, 0x1f) || within(0xa0, 0xaf)) return 'Genoa';
  } else if (cpuid.family === 0x1a) {
    if (within(0x00, 0x11)) return 'Turin';
    if (within(0x50, 0x57) || within(0x90, 0xaf) || within(0xc0, 0xc7)) return 'Venice';
  }
  return undefined;
}

/** A representative CPUID (family, model, stepping) for each generation, for simulators. */
export const SNP_PRODUCT_CPUID: Readonly<Record<SnpProduct, SnpCpuid>> = {
  Milan: { family: 0x19, model: 0x01, stepping: 0x01 },
  Genoa: { family: 0x19, model: 0x11, stepping: 0x01 },
  Turin: { family: 0x1a, model: 0x02, stepping: 0x01 },
  Venice: { family: 0x1a, model: 0x50, stepping: 0x00 },
};
