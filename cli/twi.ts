#!/usr/bin/env node
/** The `twi` command line. */
import { Command, CommanderError } from 'commander';
import { registerCorim } from './commands/corim.js';
import { registerDemo } from './commands/demo.js';
import { registerDevice } from './commands/device.js';
import { registerEndorsements } from './commands/endorsements.js';
import { registerInspect } from './commands/inspect.js';
import { registerProvenance } from './commands/provenance.js';
import { registerRp } from './commands/rp.js';
import { registerServe } from './commands/serve.js';
import { registerSimulate } from './commands/simulate.js';
import { registerShim } from './commands/shim.js';
import { registerSimulateServe } from './commands/simulate-serve.js';
import { registerVerify } from './commands/verify.js';
import { EXIT_UNPROCESSABLE, reportError } from './io.js';

function buildProgram(): Command {
  const program = new Command('twi')
    .description(
      'Trustworthy Workload Identity: TEE evidence, verification and workload credentials',
    )
    .version('0.1.0')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      // Usage errors are printed by main() as one `twi: ERR_USAGE: …` line.
      outputError: () => undefined,
    });
  registerInspect(program);
  registerSimulate(program);
  registerSimulateServe(program);
  registerVerify(program);
  registerDemo(program);
  registerCorim(program);
  registerEndorsements(program);
  registerRp(program);
  registerServe(program);
  registerDevice(program);
  registerProvenance(program);
  registerShim(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
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
