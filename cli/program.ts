/**
 * The `twi` program with lazily loaded commands: only the module of the command being run is
 * imported (a command's imports — fastify, gRPC, the verifiers — cost seconds), the others are
 * stubs that carry just what `twi --help` lists. {@link COMMANDS} repeats each command's help
 * term and description; `test/cli/program.test.ts` checks them against the real commands.
 *
 * @module
 * @internal
 */
import { readFileSync } from 'node:fs';
import { Command, Help } from 'commander';

/** How a command module adds itself to the program. */
type Register = (program: Command) => void;

/** One top-level command: what `twi --help` shows of it, and how to load it. */
export interface CommandEntry {
  readonly name: string;
  /** Its line in the command list: name, `[options]`, arguments (commander's `subcommandTerm`). */
  readonly term: string;
  readonly description: string;
  readonly load: () => Promise<Register>;
}

/** The top-level commands, in the order `twi --help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'inspect',
    term: 'inspect [options] <file>',
    description: 'parse TDX, SEV-SNP or Nitro evidence and print its format and claims',
    load: async () => (await import('./commands/inspect.js')).registerInspect,
  },
  {
    name: 'simulate',
    term: 'simulate [options] <platform>',
    description:
      'write simulated TDX, SEV-SNP or Nitro evidence and its collateral, or (serve) run a simulated PCS + KDS',
    load: async () => {
      const [simulate, serve] = await Promise.all([
        import('./commands/simulate.js'),
        import('./commands/simulate-serve.js'),
      ]);
      return (program) => {
        simulate.registerSimulate(program);
        serve.registerSimulateServe(program);
      };
    },
  },
  {
    name: 'verify',
    term: 'verify [options] <file>',
    description:
      'verify and appraise evidence; exit 0 affirming, 1 warning, 2 contraindicated, 3 error',
    load: async () => (await import('./commands/verify.js')).registerVerify,
  },
  {
    name: 'demo',
    term: 'demo [options]',
    description: 'simulate, inspect and summarise evidence for each platform',
    load: async () => (await import('./commands/demo.js')).registerDemo,
  },
  {
    name: 'corim',
    term: 'corim',
    description: 'CoRIM reference values (signed or unsigned), see docs/corim.md',
    load: async () => (await import('./commands/corim.js')).registerCorim,
  },
  {
    name: 'endorsements',
    term: 'endorsements',
    description: 'move endorsements between a directory cache and offline bundles',
    load: async () => (await import('./commands/endorsements.js')).registerEndorsements,
  },
  {
    name: 'rp',
    term: 'rp',
    description: 'relying-party tools for WIMSE workload credentials',
    load: async () => (await import('./commands/rp.js')).registerRp,
  },
  {
    name: 'serve',
    term: 'serve [options]',
    description: 'run the verifier service (challenge, attest, appraise, JWKS, SPIFFE bundle)',
    load: async () => (await import('./commands/serve.js')).registerServe,
  },
  {
    name: 'device',
    term: 'device',
    description: 'TEE guest devices through the native addon: what is present, and evidence',
    load: async () => (await import('./commands/device.js')).registerDevice,
  },
  {
    name: 'provenance',
    term: 'provenance',
    description: 'supply-chain records and the transparency log',
    load: async () => (await import('./commands/provenance.js')).registerProvenance,
  },
  {
    name: 'shim',
    term: 'shim [options] [command...]',
    description:
      'attest in the TEE, keep the workload credential current and serve it (docs/shim.md)',
    load: async () => (await import('./commands/shim.js')).registerShim,
  },
  {
    name: 'admin',
    term: 'admin',
    description: "a running service's admin API: policy, keys, revocations, appraisals, …",
    load: async () => (await import('./commands/admin.js')).registerAdmin,
  },
];

/** The `version` of this package's package.json (two levels above dist/cli/program.js). */
export function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  const version: unknown = (JSON.parse(text) as { version?: unknown }).version;
  if (typeof version !== 'string') throw new TypeError('package.json has no version');
  return version;
}

/**
 * The commands `argv` (process.argv: node, script, arguments) runs or asks help for: the first
 * operand, or the one after `help`. Program options (`-h`, `-V`) come before it.
 */
export function invokedCommands(argv: readonly string[]): Set<string> {
  const operands = argv.slice(2).filter((a) => !a.startsWith('-'));
  const first = operands[0] === 'help' ? operands[1] : operands[0];
  return new Set(first === undefined ? [] : [first]);
}

/**
 * The program for `argv`: the invoked command loaded, every other one a stub with its help
 * line. `eager` loads them all (tests compare the two).
 */
export async function buildProgram(
  argv: readonly string[],
  o: { eager?: boolean } = {},
): Promise<Command> {
  const program = new Command('twi')
    .description(
      'Trustworthy Workload Identity: TEE evidence, verification and workload credentials',
    )
    .version(packageVersion())
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      // Usage errors are printed by main() as one `twi: ERR_USAGE: …` line.
      outputError: () => undefined,
    });
  const wanted = invokedCommands(argv);
  const loaded = await Promise.all(
    COMMANDS.map((c) => (o.eager === true || wanted.has(c.name) ? c.load() : undefined)),
  );
  const stubTerms = new Map<Command, string>();
  COMMANDS.forEach((c, i) => {
    const register = loaded[i];
    if (register !== undefined) register(program);
    else stubTerms.set(program.command(c.name).description(c.description), c.term);
  });
  const help = new Help();
  program.configureHelp({
    subcommandTerm: (cmd) => stubTerms.get(cmd) ?? help.subcommandTerm(cmd),
  });
  return program;
}
