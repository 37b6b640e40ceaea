/**
 * The shim's configuration: a JSON or YAML file (`--config`) whose members are the command-line
 * options in camelCase; options given on the command line win.
 *
 * @internal
 * @module
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ShimError } from './errors.js';

/** The settings of `twi shim`, from the file and the command line. */
export interface ShimConfig {
  verifier?: string;
  /** PEM file of the CA certificate(s) trusted for an https verifier instead of the system store. */
  verifierCa?: string;
  socket?: string;
  socketGroup?: number;
  files?: string;
  platform?: 'tdx' | 'sev-snp' | 'nitro';
  alg?: 'ES256' | 'ES384';
  renewFraction?: number;
  /** Longest delay between retries while the verifier is unavailable (ms). */
  retryMaxMs?: number;
  workload?: string;
  /** Trust domain the WIT's `sub` must be in (else pinned from the first WIT). */
  trustDomain?: string;
  /** X.509 mode: also obtain a workload certificate (docs/shim.md "X.509 mode"). */
  x509?: boolean;
  /** X.509 mode with a second TEE key the workload holds (`svid-key.pem`). */
  x509WorkloadKey?: boolean;
  /** Also serve the SPIFFE Workload API on this socket (docs/shim.md "SPIFFE Workload API"). */
  workloadApiSocket?: string;
  /** Agent mode: a credential per caller of the local API (docs/shim.md "Agent mode"). */
  agent?: boolean;
  command?: string[];
}

/** Default socket path. */
export const DEFAULT_SOCKET = '/run/twi/shim.sock';

const KEYS: Record<keyof ShimConfig, (v: unknown) => boolean> = {
  verifier: (v) => typeof v === 'string',
  verifierCa: (v) => typeof v === 'string' && v !== '',
  socket: (v) => typeof v === 'string' && v !== '',
  socketGroup: (v) => Number.isInteger(v) && (v as number) >= 0,
  files: (v) => typeof v === 'string' && v !== '',
  platform: (v) => v === 'tdx' || v === 'sev-snp' || v === 'nitro',
  alg: (v) => v === 'ES256' || v === 'ES384',
  renewFraction: (v) => typeof v === 'number' && v > 0 && v < 1,
  retryMaxMs: (v) => Number.isInteger(v) && (v as number) >= 100,
  workload: (v) => typeof v === 'string',
  trustDomain: (v) => typeof v === 'string' && v !== '',
  x509: (v) => typeof v === 'boolean',
  x509WorkloadKey: (v) => typeof v === 'boolean',
  workloadApiSocket: (v) => typeof v === 'string' && v !== '',
  agent: (v) => typeof v === 'boolean',
  command: (v) => Array.isArray(v) && v.length > 0 && v.every((a) => typeof a === 'string'),
};

/**
 * Checks a configuration object (unknown members and wrong types are refused).
 *
 * @throws {ShimError} `ERR_SHIM_CONFIG` naming the member.
 */
export function checkConfig(value: unknown, where: string): ShimConfig {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new ShimError('ERR_SHIM_CONFIG', `${where}: must be an object`);
  }
  for (const [k, v] of Object.entries(value)) {
    const check = KEYS[k as keyof ShimConfig];
    if (!check) throw new ShimError('ERR_SHIM_CONFIG', `${where}: unknown member ${k}`);
    if (!check(v)) throw new ShimError('ERR_SHIM_CONFIG', `${where}: ${k} has a bad value`);
  }
  if (typeof (value as ShimConfig).verifier === 'string') {
    const url = (value as ShimConfig).verifier!;
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
      throw new ShimError('ERR_SHIM_CONFIG', `${where}: verifier must be an http(s) URL`);
    }
  }
  return value as ShimConfig;
}

/** Largest CA file read. */
const MAX_CA_BYTES = 1024 * 1024;

/**
 * Reads the CA certificates of `verifierCa` (PEM, at least one `CERTIFICATE` block), once at
 * start.
 *
 * @throws {ShimError} `ERR_SHIM_CONFIG` naming the file.
 */
export function loadVerifierCa(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ShimError(
      'ERR_SHIM_CONFIG',
      `verifierCa ${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`,
    );
  }
  if (text.length > MAX_CA_BYTES) {
    throw new ShimError('ERR_SHIM_CONFIG', `verifierCa ${path}: over 1 MiB`);
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  const certs: string[] = [];
  for (const pem of blocks) {
    try {
      new X509Certificate(pem);
    } catch {
      throw new ShimError('ERR_SHIM_CONFIG', `verifierCa ${path}: a certificate does not parse`);
    }
    certs.push(`${pem}\n`);
  }
  if (certs.length === 0) {
    throw new ShimError('ERR_SHIM_CONFIG', `verifierCa ${path}: no PEM CERTIFICATE in it`);
  }
  return certs;
}

/** Reads a JSON or YAML configuration file (at most 64 KiB). */
export function loadShimConfig(path: string): ShimConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ShimError(
      'ERR_SHIM_CONFIG',
      `${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`,
    );
  }
  if (text.length > 64 * 1024) throw new ShimError('ERR_SHIM_CONFIG', `${path}: over 64 KiB`);
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch {
    throw new ShimError('ERR_SHIM_CONFIG', `${path}: not JSON or YAML`);
  }
  return checkConfig(value, path);
}
