/**
 * The workload as a child of the shim: started once the first credential is ready, SIGTERM
 * and SIGINT forwarded, its exit status becomes the shim's (128 + signal number when killed).
 *
 * @internal
 * @module
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/** A running workload. */
export interface WorkloadChild {
  readonly pid: number | undefined;
  /** The exit status to report. */
  readonly exited: Promise<number>;
}

/** Environment names the emulator uses: never passed on to the workload. */
const EMULATION_ENV = ['LD_PRELOAD', 'TWI_DEVEMU_SOCKET', 'TWI_DEVEMU_PLATFORM'];

/** Starts `command args` with `env` added; forwards SIGTERM/SIGINT while it runs. */
export function startWorkload(
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): WorkloadChild {
  const base = { ...process.env };
  for (const name of EMULATION_ENV) delete base[name];
  const child = spawn(command, [...args], { stdio: 'inherit', env: { ...base, ...env } });
  const forward = (signal: NodeJS.Signals) => () => {
    child.kill(signal);
  };
  const onTerm = forward('SIGTERM');
  const onInt = forward('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  const exited = new Promise<number>((resolve) => {
    const done = (status: number): void => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolve(status);
    };
    child.once('error', () => done(127));
    child.once('exit', (code, signal) => {
      done(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
  return { pid: child.pid, exited };
}
