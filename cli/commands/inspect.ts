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

/**
 * Lines for one value, indented by `depth`: scalars as `key: value`, lists of scalars joined
 * by commas, objects nested; the booleans of a decoded bit field (POLICY, PLATFORM_INFO,
 * TDATTRIBUTES flags) as `set:` and `clear:` lists so a field reads at a glance.
 */
function render(key: string, value: unknown, depth: number): string[] {
  const pad = '  '.repeat(depth);
  if (value === null || typeof value !== 'object') return [`${pad}${key}: ${String(value)}`];
  if (Array.isArray(value)) {
    if (value.every((x) => x === null || typeof x !== 'object'))
      return [`${pad}${key}: ${value.length ? value.map(String).join(', ') : '(none)'}`];
    return [`${pad}${key}:`, ...value.flatMap((x, i) => render(`[${i}]`, x, depth + 1))];
  }
  const entries = Object.entries(value as Record<string, unknown>);
  const flags = entries.filter(([, v]) => typeof v === 'boolean');
  const rest = entries.filter(([, v]) => typeof v !== 'boolean');
  const lines = [`${pad}${key}:`];
  if (flags.length > 1) {
    const names = (want: boolean) =>
      flags
        .filter(([, v]) => v === want)
        .map(([k]) => k)
        .join(', ') || '(none)';
    lines.push(`${pad}  set: ${names(true)}`, `${pad}  clear: ${names(false)}`);
  } else rest.unshift(...flags);
  for (const [k, v] of rest) lines.push(...render(k, v, depth + 1));
  return lines.length > 1 ? lines : [`${pad}${key}: {}`];
}

function printHuman(result: InspectResult): void {
  const out: string[] = [`platform: ${result.platform}`, 'format:'];
  for (const [k, v] of Object.entries(result.format)) out.push(...render(k, v, 1));
  out.push('claims:');
  for (const [k, v] of Object.entries(result.claims)) out.push(...render(k, v, 1));
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
