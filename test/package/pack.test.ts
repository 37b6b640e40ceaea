/**
 * The package installs as a consumer gets it: `npm pack` of the built checkout lists no tests
 * (`dist/test/`), source maps or build state and ships the native sources; no packed file names
 * the checkout's absolute path; installing the tarball in an empty project builds the addon and
 * the device emulator there (and a second run of the install script skips the build),
 * `npx twi --version` prints the version, and `twi`, `twi/shim` and `twi/rp` import. One install
 * (dependencies come from the registry, preferring npm's cache): skipped with a message when
 * `npm ping` cannot reach the registry.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../helpers/vectors.js';

/** The environment without the `npm_*` variables of an enclosing `npm test`. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
}

function run(
  cmd: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, {
    cwd,
    env: cleanEnv(),
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 << 20,
  });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.error, undefined, `${what}: ${String(r.error)}`);
  assert.equal(r.status, 0, `${what} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

describe('npm pack and install', { timeout: 900_000 }, () => {
  it('installs from the tarball into an empty project', (t) => {
    const ping = run('npm', ['ping'], projectRoot, 60_000);
    if (ping.status !== 0) {
      const why =
        /npm error code (\S+)/.exec(ping.stderr)?.[1] ?? String(ping.error ?? ping.status);
      t.skip(`the npm registry is unreachable (npm ping: ${why}), not installing the tarball`);
      return;
    }
    const tmp = mkdtempSync(join(tmpdir(), 'twi-pack-'));
    try {
      const version = (
        JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }
      ).version;
      // dist/ is already built (npm test builds first), so prepare need not run again.
      const packed = JSON.parse(
        ok(
          run(
            'npm',
            ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp],
            projectRoot,
            120_000,
          ),
          'npm pack',
        ),
      ) as [{ filename: string; files: { path: string }[] }];
      const listed = packed[0].files.map((f) => f.path);
      assert.deepEqual(
        listed.filter((p) => p.startsWith('dist/test/') || p.startsWith('test/')),
        [],
      );
      assert.deepEqual(
        listed.filter((p) => /\.map$|\.tsbuildinfo$|^build\/|^node_modules\//.test(p)),
        [],
      );
      for (const need of [
        'dist/cli/twi.js',
        'dist/index.js',
        'binding.gyp',
        'scripts/install.mjs',
        'native/src/addon.cc',
        'simulators/device-emu/native/preload-core.c',
        'shim/workload-api/workload.proto',
        'service/console/static/index.html',
        'service/console/static/app.js',
      ]) {
        assert.ok(listed.includes(need), `${need} is not in the tarball`);
      }
      const tarball = join(tmp, packed[0].filename);

      const unpacked = join(tmp, 'unpacked');
      mkdirSync(unpacked);
      ok(run('tar', ['-xzf', tarball, '-C', unpacked], tmp, 60_000), 'tar');
      const machinePath = projectRoot.replace(/\/+$/, '');
      const naming = filesUnder(unpacked).filter((f) =>
        readFileSync(f, 'latin1').includes(machinePath),
      );
      assert.deepEqual(naming, [], `packed files name ${machinePath}`);

      const project = join(tmp, 'consumer');
      mkdirSync(project);
      writeFileSync(
        join(project, 'package.json'),
        JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }),
      );
      // Dependencies' own install scripts are skipped (better-sqlite3 may compile SQLite for
      // minutes when its prebuilt binary cannot be fetched); twi's runs through npm rebuild,
      // the same lifecycle npm install runs.
      const started = Date.now();
      ok(
        run(
          'npm',
          ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball],
          project,
          600_000,
        ),
        'npm install <tarball>',
      );
      const build = ok(
        run('npm', ['rebuild', 'twi', '--foreground-scripts'], project, 600_000),
        'npm rebuild twi',
      );
      assert.match(build, /twi: building the native addon/);
      t.diagnostic(`install and native build took ${Math.round((Date.now() - started) / 1000)} s`);
      const again = ok(
        run('npm', ['rebuild', 'twi', '--foreground-scripts'], project, 120_000),
        'npm rebuild twi (again)',
      );
      assert.match(again, /twi: native build is up to date/);

      const release = join(project, 'node_modules', 'twi', 'build', 'Release');
      for (const built of ['twi_native.node', 'twi_devemu.so', 'twi-build-stamp.json']) {
        assert.ok(existsSync(join(release, built)), `the install did not build ${built}`);
      }
      assert.equal(
        ok(run('npx', ['--no-install', 'twi', '--version'], project, 120_000), 'npx twi'),
        `${version}\n`,
      );
      for (const spec of ['twi', 'twi/shim', 'twi/rp']) {
        const out = ok(
          run(
            process.execPath,
            [
              '--input-type=module',
              '-e',
              `const m = await import(${JSON.stringify(spec)}); console.log(Object.keys(m).length);`,
            ],
            project,
            120_000,
          ),
          `import('${spec}')`,
        );
        assert.ok(Number(out) > 0, `${spec} exports nothing`);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
