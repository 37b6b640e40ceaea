/**
 * `twi device info [--json]` and `twi device evidence --out FILE [...] [--emulate P --pki DIR]`:
 * what TEE guest interfaces this machine has, and evidence obtained through the native
 * addon's device code. Under `--emulate` the device part runs in a child process started
 * with the device emulator's LD_PRELOAD environment (it must be set at process start),
 * while this process serves the emulator backend and writes the collateral.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { DeviceError } from '../../native/errors.js';
import { detectPlatforms } from '../../native/devices.js';
import { getEvidence } from '../../native/evidence.js';
import { keyStoreInfo } from '../../native/keys.js';
import type { DeviceErrorCode } from '../../native/errors.js';
import type { EvidenceRequest, TeePlatform } from '../../native/evidence.js';
import { bindingReportData, jwkThumbprint } from '../../wire/binding.js';
import { parseSnpCertTable } from '../../verifier/platforms/sev-snp/abi/cert-table.js';
import { hexOption, instantOption, padTo, readPublicKey } from '../args.js';
import { pathError, pkiError, printJson } from '../io.js';

/** Options of `twi device evidence`, as commander hands them over. @internal */
export interface DeviceEvidenceOptions {
  out: string;
  platform?: string;
  reportData?: string;
  nonce?: string;
  userData?: string;
  publicKey?: string;
  emulate?: string;
  pki?: string;
  pkiSeed?: string;
  seed?: string;
  at?: string;
  json?: boolean;
}

/** What `twi device evidence` wrote. @internal */
export interface DeviceEvidenceOutcome {
  platform: TeePlatform;
  source: string;
  files: string[];
  evidenceBytes: number;
  emulated: boolean;
}

const PLATFORMS: readonly TeePlatform[] = ['tdx', 'sev-snp', 'nitro'];

function platformOption(name: string, value: string): TeePlatform {
  if (!(PLATFORMS as readonly string[]).includes(value)) {
    throw new TypeError(`${name} must be tdx, sev-snp or nitro, not ${JSON.stringify(value)}`);
  }
  return value as TeePlatform;
}

function writeOut(path: string, data: Uint8Array | string): string {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, data);
  } catch (err) {
    throw pathError(err, 'cannot write', path, '--out');
  }
  return path;
}

/** The binding the options ask for, as `twi simulate` reads them. */
function evidenceRequest(
  platform: TeePlatform | undefined,
  o: DeviceEvidenceOptions,
): EvidenceRequest {
  const nonce = o.nonce === undefined ? undefined : hexOption('--nonce', o.nonce, 512);
  const key = o.publicKey === undefined ? undefined : readPublicKey(o.publicKey);
  let reportData: Uint8Array | undefined;
  if (o.reportData !== undefined) {
    if (nonce && key)
      throw new TypeError('--report-data and --nonce with --public-key both set REPORT_DATA');
    reportData = padTo(hexOption('--report-data', o.reportData, 64), 64);
  } else if (nonce && key) {
    reportData = bindingReportData(nonce, jwkThumbprint(key.jwk));
  } else if (nonce && platform !== 'nitro') {
    reportData = padTo(hexOption('--nonce', o.nonce!, 64), 64);
  }
  if (platform === 'nitro') {
    const userData =
      o.userData === undefined ? reportData : hexOption('--user-data', o.userData, 512);
    return {
      ...(userData && { userData }),
      ...(nonce && { nonce }),
      ...(key && { publicKey: key.spki }),
    };
  }
  if (!reportData) throw new TypeError('device evidence needs --report-data (or --nonce)');
  return { reportData };
}

/** SNP: the certificate table, and the files `twi simulate` writes (VCEK/VLEK, CA chain). */
function snpFiles(out: string, table: Uint8Array): string[] {
  const files = [writeOut(`${out}.certs.bin`, table)];
  const entries = parseSnpCertTable(table);
  const leaf = entries.find((e) => e.kind === 'vcek' || e.kind === 'vlek');
  if (leaf) files.push(writeOut(`${out}.${leaf.kind}.der`, leaf.data));
  const chain = ['ask', 'ark'].flatMap((k) => entries.filter((e) => e.kind === k));
  if (chain.length > 0) {
    const pem = chain.map((e) => toPem(e.data)).join('');
    files.push(writeOut(`${out}.ca-chain.pem`, pem));
  }
  return files;
}

function toPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

/** Gets evidence from this machine's devices and writes it (no emulation here). @internal */
export async function deviceEvidenceToFiles(
  o: DeviceEvidenceOptions,
): Promise<DeviceEvidenceOutcome> {
  if (o.out === undefined) throw new TypeError('device evidence needs --out <file>');
  const platform = o.platform === undefined ? undefined : platformOption('--platform', o.platform);
  const request = evidenceRequest(platform, o);
  const ev = await getEvidence({ ...request, ...(platform && { platform }) });
  const files = [writeOut(o.out, ev.evidence)];
  for (const e of ev.endorsements) files.push(...snpFiles(o.out, e.bytes));
  return {
    platform: ev.platform,
    source: ev.source,
    files,
    evidenceBytes: ev.evidence.length,
    emulated: false,
  };
}

/** The child's one-line error (`twi: CODE: message`) as the same error here. */
function childError(stderr: string): Error {
  const line = stderr.trim().split('\n').pop() ?? '';
  const m = /^twi: (ERR_[A-Z_]+): (.*)$/.exec(line);
  if (m?.[1] === 'ERR_USAGE') return new TypeError(m[2]);
  if (m?.[1]?.startsWith('ERR_DEVICE_')) return new DeviceError(m[1] as DeviceErrorCode, m[2]!);
  return new DeviceError('ERR_DEVICE_IO', `emulated device evidence failed: ${line}`);
}

const cliPath = fileURLToPath(new URL('../twi.js', import.meta.url));

/** Runs `device evidence` in a child process under the device emulator. */
async function emulatedEvidence(o: DeviceEvidenceOptions): Promise<DeviceEvidenceOutcome> {
  const platform = platformOption('--emulate', o.emulate!);
  if (o.pki === undefined) throw new TypeError('--emulate needs --pki <dir>');
  if (o.out === undefined) throw new TypeError('device evidence needs --out <file>');
  if (o.platform !== undefined && o.platform !== platform) {
    throw new TypeError('--platform and --emulate name different platforms');
  }
  evidenceRequest(platform, o); // usage errors before anything starts
  const at = o.at === undefined ? undefined : instantOption('--at', o.at);
  // Imported here: production paths (no --emulate) never load the simulators.
  const { startDeviceEmulator } = await import('../../simulators/index.js');
  const emu = await startDeviceEmulator({
    platform,
    pkiDir: o.pki,
    ...(o.pkiSeed !== undefined && { pkiSeed: o.pkiSeed }),
    ...(o.seed !== undefined && { seed: o.seed }),
    ...(at && { now: () => at }),
  }).catch((err: unknown) => {
    throw pkiError(err, o.pki!);
  });
  try {
    const args = ['device', 'evidence', '--json', '--platform', platform, '--out', o.out];
    for (const [flag, v] of [
      ['--report-data', o.reportData],
      ['--nonce', o.nonce],
      ['--user-data', o.userData],
      ['--public-key', o.publicKey],
    ] as const) {
      if (v !== undefined) args.push(flag, v);
    }
    // Asynchronous: this process's event loop answers the child's device requests.
    const { stdout } = await promisify(execFile)(process.execPath, [cliPath, ...args], {
      env: { ...process.env, ...emu.env },
      encoding: 'utf8',
      timeout: 120_000,
    }).catch((err: { stderr?: string }) => {
      throw childError(String(err.stderr ?? ''));
    });
    const outcome = JSON.parse(stdout) as DeviceEvidenceOutcome;
    const tdx = emu.requests.filter((r) => r.collateral !== undefined).pop();
    if (platform === 'tdx' && tdx?.collateral) {
      outcome.files.push(
        writeOut(`${o.out}.collateral.json`, JSON.stringify(tdx.collateral, null, 2) + '\n'),
      );
    }
    return { ...outcome, emulated: true };
  } finally {
    await emu.close();
  }
}

async function runInfo(o: { json?: boolean }): Promise<void> {
  const platforms = await detectPlatforms();
  const keys = keyStoreInfo();
  if (o.json) {
    printJson({ platforms, keyStore: { secureHeap: keys.secureHeap } });
    return;
  }
  for (const p of platforms) {
    process.stdout.write(`${p.platform}: ${p.usable ? 'usable' : 'unavailable'}\n`);
    for (const i of p.interfaces) {
      const state = i.usable ? 'usable' : i.present ? 'present, not usable' : 'absent';
      const detail = i.detail === 'absent' ? '' : `; ${i.detail}`;
      process.stdout.write(`  ${i.name} (${i.path}): ${state}${detail}\n`);
    }
  }
  process.stdout.write(
    `key store: locked, non-dumpable key pages; OpenSSL secure heap ${keys.secureHeap ? 'on' : 'off (node --secure-heap=N turns it on)'}\n`,
  );
}

/** @internal */
export function registerDevice(program: Command): void {
  const device = program
    .command('device')
    .description('TEE guest devices through the native addon: what is present, and evidence');
  device
    .command('info')
    .description('which TEE guest interfaces exist and are usable, most preferred first')
    .option('--json', 'print JSON')
    .action(runInfo);
  device
    .command('evidence')
    .description('get evidence from the TEE guest device (or an emulated one) and write it')
    .requiredOption('--out <file>', 'evidence file to write (endorsements/collateral beside it)')
    .option('--platform <p>', 'tdx | sev-snp | nitro (default: the first usable)')
    .option('--report-data <hex>', 'REPORT_DATA, up to 64 bytes, zero-padded (nitro: user_data)')
    .option(
      '--nonce <hex>',
      'verifier nonce: with --public-key bound into REPORT_DATA (nitro: nonce)',
    )
    .option(
      '--public-key <file>',
      'workload public key (SPKI PEM/DER or JWK) bound to the evidence',
    )
    .option('--user-data <hex>', 'nitro: user_data (default: the binding, or --report-data)')
    .option('--emulate <p>', 'run against the device emulator of tdx | sev-snp | nitro')
    .option('--pki <dir>', 'with --emulate: simulated PKI directory (created when absent)')
    .option('--pki-seed <seed>', 'with --emulate: seed of a PKI created by this call')
    .option('--seed <seed>', 'with --emulate: seed of the emulated evidence')
    .option('--at <iso8601>', 'with --emulate: instant the evidence is produced at')
    .option('--json', 'print what was written as JSON')
    .action(async (o: DeviceEvidenceOptions) => {
      if (o.emulate === undefined && (o.pki ?? o.pkiSeed ?? o.seed ?? o.at) !== undefined) {
        throw new TypeError('--pki, --pki-seed, --seed and --at need --emulate');
      }
      const r =
        o.emulate === undefined ? await deviceEvidenceToFiles(o) : await emulatedEvidence(o);
      if (o.json) printJson(r);
      else
        process.stdout.write(
          `${r.platform}: wrote ${r.files.join(', ')} (${r.evidenceBytes} bytes of evidence ` +
            `from ${r.source}${r.emulated ? ', emulated' : ''})\n`,
        );
    });
}
