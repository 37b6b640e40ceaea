/**
 * `twi shim [--config FILE] --verifier URL [--verifier-ca FILE] [--socket PATH]
 * [--workload-api-socket PATH] [--agent] [--files DIR] [--emulate P --pki DIR] [-- CMD ARGS]`:
 * the runtime shim (docs/shim.md). Under `--emulate` this process serves the
 * device emulator's backend and runs the shim itself in a child started with the emulator's
 * LD_PRELOAD environment (as `twi device evidence --emulate` does), exiting with its status.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants as fs, statSync } from 'node:fs';
import { constants } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { checkConfig, DEFAULT_SOCKET, loadShimConfig, loadVerifierCa } from '../../shim/config.js';
import { fetchTrusting } from '../../common/https-fetch.js';
import type { ShimConfig } from '../../shim/config.js';
import { createNativeAttester } from '../../shim/native-attester.js';
import { startShim } from '../../shim/shim.js';
import { startAgent } from '../../shim/agent/agent.js';
import { CliError, EXIT_COMMAND_NOT_FOUND, pathError, pkiError, systemError } from '../io.js';

/** Exit status of a workload command that exists but cannot be run, as a shell's. */
const EXIT_NOT_EXECUTABLE = 126;

/** Options of `twi shim`, as commander hands them over. @internal */
export interface ShimCliOptions {
  config?: string;
  verifier?: string;
  verifierCa?: string;
  socket?: string;
  socketGroup?: string;
  files?: string;
  platform?: string;
  alg?: string;
  renewFraction?: string;
  retryMaxMs?: string;
  workload?: string;
  trustDomain?: string;
  emulate?: string;
  pki?: string;
  x509?: boolean;
  x509WorkloadKey?: boolean;
  workloadApiSocket?: string;
  agent?: boolean;
}

const cliPath = fileURLToPath(new URL('../twi.js', import.meta.url));

function merged(o: ShimCliOptions, command: string[]): ShimConfig {
  const file = o.config === undefined ? {} : loadShimConfig(o.config);
  const cli: Record<string, unknown> = {};
  if (o.verifier !== undefined) cli.verifier = o.verifier;
  if (o.verifierCa !== undefined) cli.verifierCa = o.verifierCa;
  if (o.socket !== undefined) cli.socket = o.socket;
  if (o.socketGroup !== undefined) cli.socketGroup = Number(o.socketGroup);
  if (o.files !== undefined) cli.files = o.files;
  if (o.platform !== undefined) cli.platform = o.platform;
  if (o.alg !== undefined) cli.alg = o.alg;
  if (o.renewFraction !== undefined) cli.renewFraction = Number(o.renewFraction);
  if (o.retryMaxMs !== undefined) cli.retryMaxMs = Number(o.retryMaxMs);
  if (o.workload !== undefined) cli.workload = o.workload;
  if (o.trustDomain !== undefined) cli.trustDomain = o.trustDomain;
  if (o.x509) cli.x509 = true;
  if (o.x509WorkloadKey) cli.x509WorkloadKey = true;
  if (o.workloadApiSocket !== undefined) cli.workloadApiSocket = o.workloadApiSocket;
  if (o.agent) cli.agent = true;
  if (command.length > 0) cli.command = command;
  const c = { ...file, ...checkConfig(cli, 'command line') };
  if (c.verifier === undefined) throw new TypeError('twi shim needs --verifier <url>');
  if (c.agent) {
    const other = (
      [
        ['--files', c.files],
        ['--workload', c.workload],
        ['--x509-workload-key', c.x509WorkloadKey],
        ['a command', c.command],
      ] as const
    ).find(([, v]) => v !== undefined && v !== false);
    if (other) throw new TypeError(`--agent serves many workloads: ${other[0]} does not apply`);
  }
  return c;
}

/** Start-up checks after the usage checks: the sockets can be bound, the command exists. */
function checkStart(c: ShimConfig): void {
  checkSocket(c.socket ?? DEFAULT_SOCKET, '--socket');
  if (c.workloadApiSocket !== undefined) checkSocket(c.workloadApiSocket, '--workload-api-socket');
  if (c.command !== undefined && c.command.length > 0) checkCommand(c.command[0]!);
}

/** Longest Unix socket path Linux binds (sun_path is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107;

/** Refuses at start a socket path that cannot be bound: no directory, or too long. */
function checkSocket(path: string, flag: string): void {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new CliError(
      'ERR_PATH',
      `cannot create the socket ${path}: longer than ${MAX_SOCKET_PATH} bytes (${flag})`,
    );
  }
  let dir: boolean;
  try {
    dir = statSync(dirname(path)).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      const why = `the directory ${dirname(path)} does not exist`;
      throw new CliError('ERR_PATH', `cannot create the socket ${path}: ${why} (${flag})`);
    }
    throw pathError(err, 'cannot create the socket', path, flag);
  }
  if (!dir) {
    throw new CliError(
      'ERR_PATH',
      `cannot create the socket ${path}: ${dirname(path)} is not a directory (${flag})`,
    );
  }
}

/** Refuses at start a workload command that is not there (127) or cannot be run (126). */
function checkCommand(command: string): void {
  const candidates = command.includes('/')
    ? [command]
    : (process.env['PATH'] ?? '').split(delimiter).map((d) => join(d || '.', command));
  let found: string | undefined;
  for (const file of candidates) {
    try {
      if (!statSync(file).isFile()) continue;
    } catch {
      continue;
    }
    found ??= file;
    try {
      accessSync(file, fs.X_OK);
      return;
    } catch {
      // Not executable: a shell goes on searching PATH.
    }
  }
  if (found !== undefined) {
    throw new CliError(
      'ERR_COMMAND_NOT_EXECUTABLE',
      `${found}: not executable (the command after --)`,
      {
        exitStatus: EXIT_NOT_EXECUTABLE,
      },
    );
  }
  throw new CliError(
    'ERR_COMMAND_NOT_FOUND',
    `${command}: command not found (the command after --)`,
    {
      exitStatus: EXIT_COMMAND_NOT_FOUND,
    },
  );
}

/** A failure to bind one of the shim's sockets, naming the path and its flag. */
function socketError(err: unknown, c: ShimConfig): unknown {
  const sys = systemError(err);
  if (!sys) return err;
  const socket = c.socket ?? DEFAULT_SOCKET;
  const where = sys.path ?? sys.address;
  if (where === socket) return pathError(err, 'cannot create the socket', socket, '--socket');
  if (where !== undefined && where === c.workloadApiSocket) {
    return pathError(err, 'cannot create the socket', where, '--workload-api-socket');
  }
  return err;
}

/** The same shim, minus emulation, as arguments of a child `twi shim`. */
function childArgs(c: ShimConfig): string[] {
  const args = ['shim', '--verifier', c.verifier!, '--socket', c.socket ?? DEFAULT_SOCKET];
  const add = (flag: string, v: string | number | undefined): void => {
    if (v !== undefined) args.push(flag, String(v));
  };
  add('--verifier-ca', c.verifierCa);
  add('--socket-group', c.socketGroup);
  add('--files', c.files);
  add('--platform', c.platform);
  add('--alg', c.alg);
  add('--renew-fraction', c.renewFraction);
  add('--retry-max-ms', c.retryMaxMs);
  add('--workload', c.workload);
  add('--trust-domain', c.trustDomain);
  if (c.x509) args.push('--x509');
  if (c.x509WorkloadKey) args.push('--x509-workload-key');
  add('--workload-api-socket', c.workloadApiSocket);
  if (c.agent) args.push('--agent');
  if (c.command) args.push('--', ...c.command);
  return args;
}

async function runEmulated(c: ShimConfig, o: ShimCliOptions): Promise<number> {
  if (!['tdx', 'sev-snp', 'nitro'].includes(o.emulate!)) {
    throw new TypeError('--emulate must be tdx, sev-snp or nitro');
  }
  if (o.pki === undefined) throw new TypeError('--emulate needs --pki <dir>');
  if (c.platform !== undefined && c.platform !== o.emulate) {
    throw new TypeError('--platform and --emulate name different platforms');
  }
  checkStart(c);
  // Imported here: production paths (no --emulate) never load the simulators.
  const { startDeviceEmulator } = await import('../../simulators/index.js');
  const platform = o.emulate as 'tdx' | 'sev-snp' | 'nitro';
  const emu = await startDeviceEmulator({ platform, pkiDir: o.pki }).catch((err: unknown) => {
    throw pkiError(err, o.pki!);
  });
  try {
    const child = spawn(process.execPath, [cliPath, ...childArgs({ ...c, platform })], {
      stdio: 'inherit',
      env: { ...process.env, ...emu.env },
    });
    const forward = (s: NodeJS.Signals) => () => child.kill(s);
    const onTerm = forward('SIGTERM');
    const onInt = forward('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    return await new Promise<number>((resolve) => {
      child.once('error', () => resolve(127));
      child.once('exit', (code, signal) => {
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
      });
    });
  } finally {
    await emu.close();
  }
}

/** The CA certificates of `verifierCa`, read once at start (a bad file stops here). */
function verifierCaOf(c: ShimConfig): string[] | undefined {
  return c.verifierCa === undefined ? undefined : loadVerifierCa(c.verifierCa);
}

/** `fetch` for the verifier: trusting only `ca`, when there is one. */
function verifierFetch(ca: string[] | undefined): { fetch?: typeof fetch } {
  return ca === undefined ? {} : { fetch: fetchTrusting(ca) };
}

async function runAgent(c: ShimConfig, ca: string[] | undefined): Promise<number> {
  checkStart(c);
  const trust = verifierFetch(ca);
  const attester = await createNativeAttester(c.platform);
  const log = (line: string): void => void process.stderr.write(`twi shim: ${line}\n`);
  const agent = await startAgent({
    attester,
    verifier: c.verifier!,
    ...trust,
    socketPath: c.socket ?? DEFAULT_SOCKET,
    // Callers are told apart by their peer credentials: any uid may connect, unless a group.
    ...(c.socketGroup !== undefined ? { socketGid: c.socketGroup } : { socketWorld: true }),
    ...(c.alg !== undefined && { alg: c.alg }),
    ...(c.renewFraction !== undefined && { renewFraction: c.renewFraction }),
    ...(c.retryMaxMs !== undefined && { maxBackoffMs: c.retryMaxMs }),
    ...(c.trustDomain !== undefined && { trustDomain: c.trustDomain }),
    ...(c.x509 !== undefined && { x509: c.x509 }),
    ...(c.workloadApiSocket !== undefined && { workloadApiSocket: c.workloadApiSocket }),
    log,
  }).catch((err: unknown) => {
    throw socketError(err, c);
  });
  log(`${agent.platform}: agent serving ${agent.socketPath}`);
  if (agent.workloadApiSocket) log(`SPIFFE Workload API on ${agent.workloadApiSocket}`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await agent.close();
  return 0;
}

async function runShim(c: ShimConfig, ca: string[] | undefined): Promise<number> {
  if (c.agent) return runAgent(c, ca);
  checkStart(c);
  const trust = verifierFetch(ca);
  const attester = await createNativeAttester(c.platform);
  const log = (line: string): void => void process.stderr.write(`twi shim: ${line}\n`);
  const shim = await startShim({
    attester,
    verifier: c.verifier!,
    ...trust,
    socketPath: c.socket ?? DEFAULT_SOCKET,
    ...(c.socketGroup !== undefined && { socketGid: c.socketGroup }),
    ...(c.files !== undefined && { filesDir: c.files }),
    ...(c.alg !== undefined && { alg: c.alg }),
    ...(c.renewFraction !== undefined && { renewFraction: c.renewFraction }),
    ...(c.retryMaxMs !== undefined && { maxBackoffMs: c.retryMaxMs }),
    ...(c.workload !== undefined && { workload: c.workload }),
    ...(c.trustDomain !== undefined && { trustDomain: c.trustDomain }),
    ...(c.command !== undefined && { command: c.command }),
    ...(c.x509 !== undefined && { x509: c.x509 }),
    ...(c.x509WorkloadKey !== undefined && { x509WorkloadKey: c.x509WorkloadKey }),
    ...(c.workloadApiSocket !== undefined && { workloadApiSocket: c.workloadApiSocket }),
    log,
  }).catch((err: unknown) => {
    throw socketError(err, c);
  });
  log(`${shim.platform}: serving ${shim.socketPath}`);
  if (shim.workloadApiSocket) log(`SPIFFE Workload API on ${shim.workloadApiSocket}`);
  const stopped = new Promise<number>((resolve) => {
    const stop = (): void => resolve(0);
    if (!c.command) {
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    }
  });
  const child = await Promise.race([shim.child, stopped.then(() => undefined)]);
  const status = child ? await child.exited : await stopped;
  await shim.close();
  return status;
}

/** @internal */
export function registerShim(program: Command): void {
  program
    .command('shim')
    .description(
      'attest in the TEE, keep the workload credential current and serve it (docs/shim.md)',
    )
    .argument('[command...]', 'workload to start once the first credential is ready (after --)')
    .option('--config <file>', 'JSON or YAML file with these options in camelCase')
    .option('--verifier <url>', 'verifier service base URL')
    .option(
      '--verifier-ca <file>',
      'PEM CA certificate(s) trusted for an https verifier instead of the system store',
    )
    .option('--socket <path>', `local API socket (default ${DEFAULT_SOCKET})`)
    .option('--socket-group <gid>', 'numeric group allowed on the socket (mode 0660)')
    .option('--files <dir>', 'write wit.jwt, ear.jwt and bundle.json here, atomically')
    .option('--platform <p>', 'tdx | sev-snp | nitro (default: the first usable)')
    .option('--alg <alg>', 'workload key: ES256 (default) or ES384')
    .option('--renew-fraction <f>', 'renew after this fraction of the lifetime (default 0.5)')
    .option(
      '--retry-max-ms <ms>',
      'longest delay between retries while the verifier is down (default 30000)',
    )
    .option('--workload <name>', 'workload name appended to the identifier')
    .option('--trust-domain <td>', "trust domain the WIT's sub must be in (default: the first's)")
    .option(
      '--x509',
      'also obtain an X.509 workload certificate for the TEE key (svid.pem, bundle.pem)',
    )
    .option(
      '--x509-workload-key',
      'with a second attested key the workload holds (adds svid-key.pem, 0600); implies --x509',
    )
    .option(
      '--workload-api-socket <path>',
      'also serve the SPIFFE Workload API (gRPC) here; the child gets SPIFFE_ENDPOINT_SOCKET',
    )
    .option(
      '--agent',
      'agent mode: a distinct credential per caller of the local API, by its peer credentials',
    )
    .option('--emulate <p>', 'run against the device emulator of tdx | sev-snp | nitro')
    .option('--pki <dir>', 'with --emulate: simulated PKI directory')
    .passThroughOptions()
    .action(async (command: string[], o: ShimCliOptions) => {
      if (o.emulate === undefined && o.pki !== undefined)
        throw new TypeError('--pki needs --emulate');
      const c = merged(o, command);
      // Checked here too under --emulate, before the emulator starts (the child reads it again).
      const ca = verifierCaOf(c);
      process.exitCode = o.emulate === undefined ? await runShim(c, ca) : await runEmulated(c, o);
    });
}
