/** `twi inspect FILE [--platform P] [--json]`: parse evidence and show what it says. */
import type { Command } from 'commander';
import {
  detectPlatform,
  getPlatform,
  isPlatformName,
  type PlatformCodec,
} from '../../verifier/platforms/registry.js';
import { printJson, readInputFile } from '../io.js';

interface InspectOptions {
  platform?: string;
  json?: boolean;
}

/** The JSON document `twi inspect --json` prints. @internal */
export interface InspectResult {
  platform: string;
  format: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** Parses evidence bytes with the named platform's codec, or the detected one. @internal */
export function inspectEvidence(bytes: Uint8Array, platform?: string): InspectResult {
  let codec: PlatformCodec;
  if (platform === undefined) codec = detectPlatform(bytes);
  else if (isPlatformName(platform)) codec = getPlatform(platform);
  else throw new TypeError(`--platform must be tdx, sev-snp or nitro, not ${platform}`);
  const evidence = codec.parse(bytes);
  return {
    platform: codec.platform,
    format: codec.describe(evidence),
    claims: codec.claims(evidence),
  };
}

function printHuman(result: InspectResult): void {
  const out: string[] = [`platform: ${result.platform}`];
  for (const [k, v] of Object.entries(result.format)) {
    if (v !== null && typeof v === 'object') continue;
    out.push(`  ${k}: ${String(v)}`);
  }
  out.push('claims:');
  for (const [k, v] of Object.entries(result.claims)) {
    out.push(`  ${k}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

/** @internal */
export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('parse TDX, SEV-SNP or Nitro evidence and print its format and claims')
    .argument('<file>', 'evidence file (quote, report or attestation document)')
    .option('--platform <platform>', 'tdx | sev-snp | nitro (detected when omitted)')
    .option('--json', 'print { platform, format, claims } as JSON')
    .action((file: string, opts: InspectOptions) => {
      const result = inspectEvidence(readInputFile(file), opts.platform);
      if (opts.json) printJson(result);
      else printHuman(result);
    });
}
