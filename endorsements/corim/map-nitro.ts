/**
 * Nitro reference triples (twi's convention, `docs/corim.md`) → twi `nitro` reference values:
 * PCRs as `integrity-registers` keyed by PCR index.
 *
 * @internal
 * @module
 */
import type { NitroReferences } from '../../verifier/policy/types.js';
import { invalid, unsupported } from './errors.js';
import { expectOnly, hex } from './map-kit.js';
import { mergeNitro } from './merge-references.js';
import { digestLength, NITRO_PCR_MKEY } from './profiles.js';
import type { Digest, Measurement, ReferenceTriple } from './types.js';

function pcrValues(digests: readonly Digest[], path: string): string[] {
  const out: string[] = [];
  digests.forEach((d, i) => {
    const size = digestLength(d.alg);
    if (size === undefined) return;
    if (d.value.length !== size)
      throw invalid(`${path}[${i}].value`, `expected ${size} bytes, got ${d.value.length}`);
    out.push(hex(d.value));
  });
  if (out.length === 0) throw unsupported(path, 'no SHA-256/384/512 digest');
  return [...new Set(out)];
}

function measurementPcrs(m: Measurement, path: string, pcrs: Record<string, string[]>): void {
  if (m.mkey !== undefined && m.mkey !== NITRO_PCR_MKEY) {
    throw unsupported(
      `${path}.mkey`,
      `${JSON.stringify(m.mkey)} is not a Nitro mkey ("${NITRO_PCR_MKEY}")`,
    );
  }
  const vpath = `${path}.mval`;
  expectOnly(m.mval, vpath, ['integrityRegisters']);
  if (!m.mval.integrityRegisters) {
    if (m.mkey === undefined) return;
    throw invalid(vpath, 'Nitro PCRs are stated as integrity-registers');
  }
  for (const r of m.mval.integrityRegisters) {
    const rpath = `${vpath}.integrity-registers[${JSON.stringify(r.id)}]`;
    if (typeof r.id !== 'number' || r.id > 31)
      throw unsupported(rpath, 'Nitro PCRs are indexed 0..31');
    if (String(r.id) in pcrs) throw invalid(rpath, `PCR${r.id} is stated twice in one triple`);
    pcrs[String(r.id)] = pcrValues(r.digests, rpath);
  }
}

function tripleRefs(triple: ReferenceTriple, path: string): NitroReferences {
  if (triple.environment.instance !== undefined) {
    throw unsupported(`${path}.environment.instance`, 'enclave instances cannot be appraised');
  }
  const pcrs: Record<string, string[]> = {};
  triple.measurements.forEach((m, i) => measurementPcrs(m, `${path}.measurements[${i}]`, pcrs));
  return Object.keys(pcrs).length > 0 ? { pcrs } : {};
}

/** Nitro reference values of triples (at `paths`), alternatives merged PCR by PCR. */
export function nitroReferences(
  triples: readonly ReferenceTriple[],
  paths: readonly string[],
): NitroReferences | undefined {
  return triples.reduce<NitroReferences | undefined>(
    (acc, t, i) => mergeNitro(acc, tripleRefs(t, paths[i]!)),
    undefined,
  );
}
