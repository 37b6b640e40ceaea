/**
 * `twi corim inspect FILE [--json] [--trust-key FILE ...] [--at ISO]`: decode a CoRIM
 * (signed or unsigned), check its signature against the trusted keys and its validity at the
 * given instant, and print what it asserts in platform terms. Exit 0, or 3 when the CoRIM is
 * invalid, expired, or its signature does not verify.
 */
import type { Command } from 'commander';
import { decodeCorim } from '../../endorsements/corim/decode-corim.js';
import { describeCorim, describeCorimText } from '../../endorsements/corim/describe.js';
import { loadCorimKeys } from '../../endorsements/corim/load.js';
import type { CorimDescription } from '../../endorsements/corim/describe.js';
import { collect, instantOption } from '../args.js';
import { printJson, readInputFile } from '../io.js';

interface CorimInspectOptions {
  json?: boolean;
  trustKey: string[];
  at?: string;
}

/** Decodes and describes a CoRIM file (the work of `twi corim inspect`). @internal */
export function inspectCorimFile(file: string, o: CorimInspectOptions): CorimDescription {
  const now = o.at === undefined ? new Date() : instantOption('--at', o.at);
  const trustedKeys = o.trustKey.length > 0 ? loadCorimKeys(o.trustKey) : undefined;
  const decoded = decodeCorim(readInputFile(file), { now, ...(trustedKeys && { trustedKeys }) });
  return describeCorim(decoded);
}

/** @internal */
export function registerCorim(program: Command): void {
  const corim = program
    .command('corim')
    .description('CoRIM reference values (signed or unsigned), see docs/corim.md');
  corim
    .command('inspect')
    .description('show what a CoRIM asserts; exit 3 if it is invalid, expired or badly signed')
    .argument('<file>', 'CoRIM: #6.501 unsigned or #6.18 COSE_Sign1')
    .option('--json', 'print the description as JSON')
    .option(
      '--trust-key <file>',
      'public key (PEM, JWK or JWK set) the signature must verify with (repeatable)',
      collect,
      [],
    )
    .option('--at <iso8601>', 'instant to check validity at (default now)')
    .action((file: string, opts: CorimInspectOptions) => {
      const description = inspectCorimFile(file, opts);
      if (opts.json) printJson(description);
      else process.stdout.write(describeCorimText(description).join('\n') + '\n');
    });
}
