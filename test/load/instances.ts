/**
 * Verifier instances of a load run: each a forked `server-process.js` on loopback, with the
 * RSS it reports every second kept for the memory check.
 *
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ServerMessage } from './server-process.js';

/** One running instance. */
export interface Instance {
  readonly url: string;
  readonly pid: number;
  /** RSS samples in bytes, the first taken when the instance was ready. */
  readonly rss: number[];
  /** Stops the process (`stop` message, SIGKILL after 5 s) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Where the instance's store is. */
export interface InstanceStore {
  readonly url: string;
  readonly schema?: string;
}

const SERVER_SCRIPT = fileURLToPath(new URL('./server-process.js', import.meta.url));
const START_TIMEOUT_MS = 20_000;

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Forks one verifier instance over `store`, trusting the roots in `anchorsDir` (with `extra`
 * `server-process.js` flags), and waits until it listens.
 *
 * @throws Error when the process exits or stays silent for 20 s before it is ready.
 */
export async function startInstance(
  store: InstanceStore,
  anchorsDir: string,
  extra: readonly string[] = [],
): Promise<Instance> {
  const args = ['--store', store.url, '--anchors', anchorsDir, ...extra];
  if (store.schema !== undefined) args.push('--schema', store.schema);
  const child = fork(SERVER_SCRIPT, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const rss: number[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('verifier instance did not start within 20 s'));
    }, START_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`verifier instance exited with ${code} before it was ready`));
    });
    child.on('message', (m: ServerMessage) => {
      rss.push(m.rss);
      if (m.type === 'ready') {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve(m.url);
      }
    });
  });
  const stop = async (): Promise<void> => {
    if (child.connected) child.send('stop');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited(child);
    clearTimeout(killer);
  };
  return { url, pid: child.pid!, rss, stop };
}

/** start / end / max of one instance's RSS samples, in MiB. */
export interface RssSummary {
  readonly samples: number;
  readonly startMiB: number;
  /** The sample half-way through: with `endMiB`, tells a plateau from steady growth. */
  readonly midMiB: number;
  readonly endMiB: number;
  readonly maxMiB: number;
}

/** Summarises `rss` (bytes). */
export function summariseRss(rss: readonly number[]): RssSummary {
  const mib = (b: number): number => Math.round((b / 1048576) * 10) / 10;
  return {
    samples: rss.length,
    startMiB: mib(rss[0] ?? 0),
    midMiB: mib(rss[Math.floor(rss.length / 2)] ?? 0),
    endMiB: mib(rss[rss.length - 1] ?? 0),
    maxMiB: mib(Math.max(0, ...rss)),
  };
}
