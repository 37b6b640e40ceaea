/**
 * `startDeviceEmulator`: the backend of the device-emulation preload library. It listens
 * on a Unix socket (abstract namespace by default, so nothing is written to disk), keeps
 * the emulated machine's state and produces evidence with the simulators under the
 * simulated PKI in `pkiDir`.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { TwiError } from '../../common/errors.js';
import { openSimulatedPki } from '../pki/store.js';
import { TsmReportTree } from './configfs-tsm.js';
import { FaultQueue } from './faults.js';
import type { DeviceFault } from './faults.js';
import { NsmBackend } from './nsm-backend.js';
import type { NitroEmuOptions } from './nsm-backend.js';
import { MAX_REQUEST, decodeRequest, encodeResponse } from './protocol.js';
import { SnpBackend } from './snp-backend.js';
import type { SnpEmuOptions } from './snp-backend.js';
import { TdxBackend } from './tdx-backend.js';
import type { TdxEmuOptions } from './tdx-backend.js';
import { EmulatedTree } from './tree.js';
import type { TreeParts } from './tree.js';
import type { BackendContext, DeviceRequestRecord, EmulatedPlatform } from './types.js';

/** The device emulator cannot be used (library not built, bad options). */
export class DeviceEmulatorError extends TwiError {
  override readonly code = 'ERR_DEVEMU_UNAVAILABLE';
}

/** Options of {@link startDeviceEmulator}. */
export interface DeviceEmulatorOptions {
  /** Which TEE the emulated machine is: decides which device nodes exist. */
  platform: EmulatedPlatform;
  /** Simulated-PKI directory, created when absent exactly as `twi simulate --pki` does. */
  pkiDir: string;
  /** Seed of a PKI directory created by this call (default random). */
  pkiSeed?: string;
  /** Seed of the evidence (keys, default measurements), as `twi simulate --seed`. */
  seed?: string;
  /** The instant evidence is produced at (default: the wall clock). */
  now?: () => Date;
  /** Socket to listen on; `@name` is the abstract namespace. Default `@twi-devemu-<random>`. */
  socketPath?: string;
  /** TDX: what the TD is (quote version, MRTD, initial RTMRs, TCB...). */
  tdx?: Omit<TdxEmuOptions, 'seed'>;
  /** SEV-SNP: product, report version, MEASUREMENT, guest VMPL, VLEK... */
  snp?: Omit<SnpEmuOptions, 'seed'>;
  /** Nitro: PCRs, debug, module id... */
  nitro?: Omit<NitroEmuOptions, 'seed'>;
}

/** A running emulator. */
export interface DeviceEmulator {
  readonly platform: EmulatedPlatform;
  /** The socket the preload library talks to (`@name` = abstract namespace). */
  readonly socketPath: string;
  /** Environment for a child process: LD_PRELOAD and the TWI_DEVEMU_* variables. */
  readonly env: Readonly<Record<string, string>>;
  /** Every request served so far, in order. */
  readonly requests: readonly DeviceRequestRecord[];
  /** Makes the next matching request(s) fail the way the hardware or kernel does. */
  inject(fault: DeviceFault): void;
  /** Drops pending faults and brings absent devices back. */
  clearFaults(): void;
  /** TDX: the current RTMR values (after extends). */
  rtmrs(): Uint8Array[];
  close(): Promise<void>;
}

/** The built preload library: `build/Release/twi_devemu.so` of this package. */
export function deviceEmulatorLibrary(): string {
  const path = fileURLToPath(new URL('../../../build/Release/twi_devemu.so', import.meta.url));
  if (!existsSync(path)) {
    throw new DeviceEmulatorError(
      `${path} is missing: build it with \`npm install\` or \`npx node-gyp rebuild\``,
    );
  }
  return path;
}

function frame(socket: Socket, serve: (body: Uint8Array) => Promise<Uint8Array>): void {
  const chunks: Buffer[] = [];
  let done = false;
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk) => {
    if (done) return;
    chunks.push(chunk);
    const all = Buffer.concat(chunks);
    if (all.length < 4) return;
    const len = all.readUInt32LE(0);
    if (len > MAX_REQUEST) {
      socket.destroy();
      return;
    }
    if (all.length < 4 + len) return;
    done = true;
    serve(new Uint8Array(all.subarray(4, 4 + len))).then(
      (out) => socket.end(out),
      () => socket.destroy(),
    );
  });
}

function buildParts(
  platform: EmulatedPlatform,
  ctx: BackendContext,
  o: DeviceEmulatorOptions,
  seed: string,
): TreeParts & { tdx?: TdxBackend } {
  if (platform === 'tdx') {
    const tdx = new TdxBackend(ctx, { ...o.tdx, seed });
    return {
      tdx,
      devices: new Map([['/dev/tdx_guest', tdx.device()]]),
      tsm: new TsmReportTree(tdx.provider, ctx.faults),
      measurements: tdx.measurements(),
      ...(tdx.ccelFile() && { ccel: tdx.ccelFile()! }),
    };
  }
  if (platform === 'sev-snp') {
    const snp = new SnpBackend(ctx, { ...o.snp, seed });
    return {
      devices: new Map([['/dev/sev-guest', snp.device()]]),
      tsm: new TsmReportTree(snp.provider(), ctx.faults),
    };
  }
  const nsm = new NsmBackend(ctx, { ...o.nitro, seed }, new Date(ctx.now().getTime() - 1000));
  return {
    devices: new Map([['/dev/nsm', nsm.device()]]),
    // configfs-tsm may be there, but no provider registers on Nitro: mkdir is ENXIO.
    tsm: new TsmReportTree(undefined, ctx.faults),
  };
}

const DEFAULT_SEEDS: Record<EmulatedPlatform, string> = {
  tdx: 'twi-tdx-sim',
  'sev-snp': 'twi-sev-snp-sim',
  nitro: 'twi-nitro-sim',
};

/**
 * Starts the backend for one emulated machine.
 *
 * Run the code under emulation in a child process with `env` added to its environment.
 * The backend may also serve its own process (LD_PRELOAD set when that process started)
 * provided every emulated call is made off the JavaScript thread — for example from the
 * addon's AsyncWorkers — since the answer is produced on the JavaScript thread.
 *
 * @throws {DeviceEmulatorError} when the preload library has not been built.
 * @throws {SimulatorStateError} when `pkiDir` holds an unusable PKI.
 *
 * @example
 * ```ts
 * const emu = await startDeviceEmulator({ platform: 'sev-snp', pkiDir: '.twi/sim-pki' });
 * execFileSync(process.execPath, ['attest.js'], { env: { ...process.env, ...emu.env } });
 * await emu.close();
 * ```
 */
export async function startDeviceEmulator(o: DeviceEmulatorOptions): Promise<DeviceEmulator> {
  if (!['tdx', 'sev-snp', 'nitro'].includes(o.platform)) {
    throw new TypeError(`platform must be tdx, sev-snp or nitro, not ${String(o.platform)}`);
  }
  const library = deviceEmulatorLibrary();
  const now = o.now ?? (() => new Date());
  const pki = await openSimulatedPki(o.pkiDir, {
    ...(o.pkiSeed !== undefined && { seed: o.pkiSeed }),
    now: now(),
  });
  const requests: DeviceRequestRecord[] = [];
  const faults = new FaultQueue();
  const ctx: BackendContext = { pki, faults, now, record: (e) => requests.push(e) };
  const parts = buildParts(o.platform, ctx, o, o.seed ?? DEFAULT_SEEDS[o.platform]);
  // Build the vendor PKI now, not inside the first request (RSA-4096 keys take a while).
  if (o.platform === 'sev-snp') pki.amd(o.snp?.product ?? 'Milan');
  else if (o.platform === 'tdx') pki.intel();
  else pki.nitro();
  const tree = new EmulatedTree(parts, faults);
  const socketPath = o.socketPath ?? `@twi-devemu-${randomBytes(8).toString('hex')}`;
  const server: Server = createServer((s) =>
    frame(s, async (body) => encodeResponse(await tree.serve(decodeRequest(body)))),
  );
  const listenPath = socketPath.startsWith('@') ? `\0${socketPath.slice(1)}` : socketPath;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPath, () => resolve());
  });
  return {
    platform: o.platform,
    socketPath,
    env: { LD_PRELOAD: library, TWI_DEVEMU_SOCKET: socketPath, TWI_DEVEMU_PLATFORM: o.platform },
    requests,
    inject: (f) => faults.add(f),
    clearFaults: () => faults.clear(),
    rtmrs: () => parts.tdx?.rtmrs() ?? [],
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}
