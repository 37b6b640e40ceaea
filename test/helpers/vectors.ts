/**
 * Access to the real hardware vectors in `../shared/vectors/real` (read in place, never copied).
 * Tests iterate `manifest.json` rather than naming files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Project root: tests run from `dist/test/...`, sources live in `test/...`. */
export const projectRoot = (() => {
  let dir = here;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + here);
    dir = up;
  }
  return dir;
})();

/** Folder of the real vectors, overridable with TWI_VECTORS_DIR. */
export const vectorsDir = resolve(
  process.env.TWI_VECTORS_DIR ?? join(projectRoot, '..', 'shared', 'vectors', 'real'),
);

export interface AlsoExpect {
  verify_at: string;
  verifies: boolean;
  reason: string;
}

export interface Sample {
  name: string;
  platform: 'tdx' | 'sev-snp' | 'nitro';
  files: Record<string, string>;
  verify_at: string;
  expected: { verifies: boolean; tcb_status?: string; advisory_ids?: string[]; reason?: string };
  also_expect?: AlsoExpect[];
  measurements?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Manifest {
  samples: Sample[];
  roots: { file: string; certs?: { cn: string; sha256_der: string }[] }[];
}

export const haveVectors = existsSync(join(vectorsDir, 'manifest.json'));

export function loadManifest(): Manifest {
  return JSON.parse(readFileSync(join(vectorsDir, 'manifest.json'), 'utf8')) as Manifest;
}

export function readVector(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(join(vectorsDir, rel)));
}
