/** Runs the built `twi` CLI as a child process. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from './vectors.js';

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export const cliPath = join(projectRoot, 'dist', 'cli', 'twi.js');

export function runCli(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): CliRun {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: opts.cwd ?? projectRoot,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 180_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
