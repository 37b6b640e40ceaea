/**
 * The lazily loaded `twi` program (cli/program.ts): the help line and description it keeps for
 * each command match the command's own, `twi --help` is the same text as with every command
 * loaded, `twi --version` prints package.json's version, and running one command loads only
 * that command's dependencies (fastify stays unloaded for `twi inspect`, is loaded for `serve`).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Help } from 'commander';
import { buildProgram, COMMANDS, invokedCommands, packageVersion } from '../../cli/program.js';
import { runCli } from '../helpers/cli.js';
import { projectRoot } from '../helpers/vectors.js';

const ARGV0 = ['node', 'twi'];

describe('twi program (lazy commands)', { timeout: 180_000 }, () => {
  it('keeps the help line and description of every command as the command declares them', async () => {
    const eager = await buildProgram(ARGV0, { eager: true });
    const help = new Help();
    const real = eager.commands.map((c) => ({
      name: c.name(),
      term: help.subcommandTerm(c),
      description: c.description(),
    }));
    const kept = COMMANDS.map((c) => ({ name: c.name, term: c.term, description: c.description }));
    assert.deepEqual(kept, real);
  });

  it('prints the same --help with stubs as with every command loaded', async () => {
    const eager = (await buildProgram(ARGV0, { eager: true })).helpInformation();
    const lazy = await buildProgram([...ARGV0, '--help']);
    assert.equal(lazy.commands.length, COMMANDS.length);
    assert.equal(lazy.helpInformation(), eager);
    const run = runCli(['--help']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, eager);
  });

  it('prints the version of package.json', () => {
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as {
      version: string;
    };
    assert.equal(packageVersion(), pkg.version);
    for (const flag of ['--version', '-V']) {
      const run = runCli([flag]);
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, `${pkg.version}\n`);
    }
  });

  it('finds the invoked command, also after help and program options', () => {
    assert.deepEqual([...invokedCommands([...ARGV0, 'serve', '--port', '0'])], ['serve']);
    assert.deepEqual([...invokedCommands([...ARGV0, 'help', 'verify'])], ['verify']);
    assert.deepEqual([...invokedCommands([...ARGV0, '-h'])], []);
    assert.deepEqual([...invokedCommands([...ARGV0, 'help'])], []);
  });

  it('loads the invoked command only', () => {
    const program = pathToFileURL(join(projectRoot, 'dist', 'cli', 'program.js')).href;
    // fastify is CommonJS, so once imported it is in require.cache.
    const probe = (command: string): boolean => {
      const script =
        `import { createRequire } from 'node:module';` +
        `const { buildProgram } = await import(${JSON.stringify(program)});` +
        `await buildProgram(['node', 'twi', ${JSON.stringify(command)}]);` +
        `const cache = Object.keys(createRequire(import.meta.url).cache);` +
        `process.stdout.write(String(cache.some((p) => /[\\\\/]fastify[\\\\/]/.test(p))));`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: projectRoot,
        encoding: 'utf8',
        timeout: 120_000,
      });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout === 'true';
    };
    assert.equal(probe('inspect'), false, 'twi inspect loaded fastify');
    assert.equal(probe('--version'), false, 'twi --version loaded fastify');
    assert.equal(probe('serve'), true, 'twi serve did not load fastify (probe broken?)');
  });
});
