/**
 * `twi simulate serve --pki DIR [--port N] [--host H] [--fault SPEC ...] [--at ISO]`: runs
 * the simulated Intel PCS + AMD KDS (`simulators/servers/`) for the PKI in DIR until SIGINT
 * or SIGTERM, printing the base URL to pass as `--pcs-url` / `--kds-url`.
 *
 * Fault SPECs (repeatable, see `parseFaultSpec`): `KIND[:/PATH-PREFIX][:KEY=VALUE]…` with
 * KIND `latency:MS`, `429[:retry-after=S][:count=N]`, `5xx` or `500`…`599[:count=N]`,
 * `hang`, `down`, `expired`, `tampered`; e.g. `429:/vcek:retry-after=2:count=3`,
 * `latency:500`, `tampered:/tdx`.
 */
import type { Command } from 'commander';
import { listenError, pkiError } from '../io.js';
import { openPkiWithProgress } from './simulate-progress.js';
import { mergeFaults, parseFaultSpec } from '../../simulators/servers/faults.js';
import { startCollateralServer } from '../../simulators/servers/collateral-server.js';
import { collect, instantOption, intOption } from '../args.js';

/** Options of `twi simulate serve`, as commander hands them over. @internal */
export interface SimulateServeOptions {
  pki: string;
  pkiSeed?: string;
  at?: string;
  port?: string;
  host?: string;
  fault?: string[];
  quiet?: boolean;
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/**
 * Serves until a signal arrives, then closes the server (exit code 0).
 *
 * @throws TypeError for bad option values (exit 3).
 * @example
 * // twi simulate serve --pki .twi/sim-pki --port 8088 --fault 429:/vcek:count=2
 *
 * @internal
 */
export async function runSimulateServe(o: SimulateServeOptions): Promise<void> {
  const port = o.port === undefined ? 0 : intOption('--port', o.port, 0, 65535);
  const faults = mergeFaults((o.fault ?? []).map(parseFaultSpec));
  const at = o.at === undefined ? undefined : instantOption('--at', o.at);
  const host = o.host ?? '127.0.0.1';
  const pki = await openPkiWithProgress(o.pki, {
    ...(o.pkiSeed !== undefined && { seed: o.pkiSeed }),
    ...(at !== undefined && { now: at }),
    ...(o.quiet && { quiet: true }),
  }).catch((err: unknown) => {
    throw pkiError(err, o.pki);
  });
  const server = await startCollateralServer({
    pki,
    port,
    host,
    faults,
    ...(at !== undefined && { now: () => at }),
  }).catch((err: unknown) => {
    throw listenError(err, host, port, '--port', '--host');
  });
  const stopped = untilSignal();
  process.stdout.write(
    `simulated Intel PCS and AMD KDS on ${server.url}\n` +
      `  --pcs-url ${server.url}\n  --kds-url ${server.url}\n` +
      `  trust the simulated roots with --trust-anchors ${pki.dir}/roots\n` +
      (o.fault?.length ? `  faults: ${o.fault.join(' ')}\n` : '') +
      'stop with Ctrl-C (SIGINT) or SIGTERM\n',
  );
  const signal = await stopped;
  await server.close();
  process.stdout.write(`stopped (${signal})\n`);
}

/**
 * Adds the `serve` options to the `simulate` command (which dispatches `twi simulate
 * serve` to {@link runSimulateServe}).
 *
 * @internal
 */
export function registerSimulateServe(program: Command): void {
  const simulate = program.commands.find((c) => c.name() === 'simulate');
  if (simulate === undefined) throw new TypeError('register the simulate command first');
  simulate
    .option('--port <n>', 'serve: TCP port (default 0: any free port)')
    .option('--host <host>', 'serve: interface to listen on (default 127.0.0.1)')
    .option(
      '--fault <spec>',
      'serve: fault, repeatable: latency:MS | 429[:retry-after=S][:count=N] | 5xx|5NN[:count=N] ' +
        '| hang | down | expired | tampered, each with an optional :/path-prefix',
      collect,
    );
}
