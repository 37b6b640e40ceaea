#!/usr/bin/env node
/**
 * The `twi` command line. Only the invoked command's module is loaded (cli/program.ts), so
 * `twi --version` and `twi --help` do not pay for the verifier service or the shim.
 */
import { CommanderError } from 'commander';
import { EXIT_UNPROCESSABLE, reportError } from './io.js';
import { buildProgram } from './program.js';

async function main(argv: string[]): Promise<number> {
  try {
    await (await buildProgram(argv)).parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      const ok = err.code === 'commander.helpDisplayed' || err.code === 'commander.version';
      if (ok || err.exitCode === 0) return 0;
      const what = err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
      process.stderr.write(`twi: ERR_USAGE: ${what} (see --help)\n`);
      return EXIT_UNPROCESSABLE;
    }
    return reportError(err);
  }
}

process.exitCode = await main(process.argv);
