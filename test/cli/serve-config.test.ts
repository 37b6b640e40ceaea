/**
 * `twi serve --config FILE` and the log options: keys from the YAML file (kebab and camelCase)
 * take effect, a flag on the command line wins over the file, an unknown key or a value of the
 * wrong kind is refused with one line naming it; `--console-public` opens the admin GETs only;
 * `--log-format pretty` writes readable lines, `--log-level warn` drops the info lines, and a
 * level outside the list is refused. `prettyLogLine` is checked on its own too.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath, runCli } from '../helpers/cli.js';
import { prettyLogLine } from '../../service/log-format.js';

const TOKEN = 'serve-config-token-0123456789abc';
const dir = mkdtempSync(join(tmpdir(), 'twi-serve-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Resolves once `out()` matches `re` (the log is written asynchronously), else after 10 s. */
async function logged(out: () => string, re: RegExp): Promise<string> {
  for (let i = 0; i < 100 && !re.test(out()); i++) await new Promise((r) => setTimeout(r, 100));
  return out();
}

/** Starts `twi serve ARGS`; resolves with the URL once it listens, and the output so far. */
async function serve(
  args: string[],
): Promise<{ url: string; child: ChildProcess; out: () => string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [cliPath, 'serve', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 60_000);
    child.stdout.on('data', () => {
      const m = /twi: verifier listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  const stop = async (): Promise<void> => {
    // 'close': the process exited and its output is all read.
    const exited = new Promise((r) => child.on('close', r));
    child.kill('SIGTERM');
    await exited;
  };
  return { url, child, out: () => out, stop };
}

describe('twi serve --config', () => {
  test('file keys apply, command-line flags win, console-public opens the GETs', async () => {
    writeFileSync(join(dir, 'token'), TOKEN + '\n');
    const config = join(dir, 'serve.yaml');
    writeFileSync(
      config,
      [
        '# twi serve configuration',
        'port: 0',
        `data: ${join(dir, 'data')}`,
        `admin-token-file: ${join(dir, 'token')}`,
        'issuer: https://from-config.example',
        'trustDomain: config.example',
        'console-public: true',
        'log-format: pretty',
        '',
      ].join('\n'),
    );
    const s = await serve(['--config', config, '--issuer', 'https://from-cli.example']);
    try {
      const oidc = (await (
        await fetch(`${s.url}/.well-known/openid-configuration`)
      ).json()) as Record<string, unknown>;
      assert.equal(oidc.issuer, 'https://from-cli.example', 'the flag wins over the file');
      // console-public: the read endpoints answer without the token, writes need it.
      const keys = await fetch(`${s.url}/v1/admin/keys`);
      assert.equal(keys.status, 200);
      assert.equal((await fetch(`${s.url}/v1/admin/keys/rotate`, { method: 'POST' })).status, 401);
      const rotate = await fetch(`${s.url}/v1/admin/keys/rotate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(rotate.status, 200, 'admin-token-file came from the file');
      // log-format pretty: "HH:MM:SS.mmm LEVEL message key=value".
      assert.match(
        await logged(s.out, /Server listening/),
        /^\d\d:\d\d:\d\d\.\d{3} INFO {2}Server listening at http:\/\/127\.0\.0\.1:\d+/m,
      );
      assert.doesNotMatch(s.out(), /^\{"level"/m);
    } finally {
      await s.stop();
    }
  });

  test('--log-level warn leaves the info lines out (JSON format by default)', async () => {
    const s = await serve(['--port', '0', '--data', join(dir, 'data2'), '--log-level', 'warn']);
    try {
      assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
    } finally {
      await s.stop();
    }
    // Checked once the process has exited, so nothing is still on its way.
    assert.doesNotMatch(s.out(), /Server listening/);
    assert.doesNotMatch(s.out(), /"level":30/);
    const info = await serve(['--port', '0', '--data', join(dir, 'data2')]);
    try {
      const re = /^\{"level":30,.*"msg":"Server listening at /m;
      assert.match(await logged(info.out, re), re);
    } finally {
      await info.stop();
    }
  });

  test('unknown keys, wrong kinds and bad log options are refused with one line', () => {
    const cases: [string, RegExp][] = [
      ['bogus-flag: 1\n', /^twi: ERR_USAGE: --config .+: unknown key "bogus-flag"/],
      ['config: other.yaml\n', /^twi: ERR_USAGE: --config .+: unknown key "config"/],
      ['dev-tls: "yes"\n', /^twi: ERR_USAGE: --config .+: dev-tls must be true or false/],
      ['port: [1, 2]\n', /^twi: ERR_USAGE: --config .+: port must be a string or a number/],
      ['- port\n', /^twi: ERR_USAGE: --config .+: must be a mapping/],
      ['port: 1\nport: 2\n', /^twi: ERR_USAGE: --config .+: not YAML/],
      ['log-level: loud\n', /^twi: ERR_USAGE: --log-level must be one of fatal, error, warn, info/],
    ];
    for (const [text, expected] of cases) {
      const file = join(dir, 'bad.yaml');
      writeFileSync(file, text);
      const r = runCli(['serve', '--config', file, '--data', join(dir, 'data3')], {
        timeoutMs: 60_000,
      });
      assert.equal(r.status, 3, text);
      assert.match(r.stderr, expected, text);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    }
    const fmt = runCli(['serve', '--log-format', 'xml', '--data', join(dir, 'data3')]);
    assert.equal(fmt.status, 3);
    assert.match(fmt.stderr, /^twi: ERR_USAGE: --log-format must be one of json, pretty\n$/);
    const missing = runCli(['serve', '--config', join(dir, 'absent.yaml')]);
    assert.equal(missing.status, 3);
    assert.match(
      missing.stderr,
      /^twi: ERR_INPUT_FILE: .*absent\.yaml: no such file or directory \(ENOENT\)[^\n]*\n$/,
    );
  });
});

describe('prettyLogLine', () => {
  test('formats pino lines and passes other text through', () => {
    const line = JSON.stringify({
      level: 40,
      time: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
      pid: 1,
      hostname: 'h',
      msg: 'request rejected',
      code: 'ERR_X',
      status: 400,
      note: 'two words',
    });
    assert.equal(
      prettyLogLine(line),
      '03:04:05.678 WARN  request rejected code=ERR_X status=400 note="two words"',
    );
    assert.equal(prettyLogLine('not json'), 'not json');
    assert.equal(prettyLogLine('[1,2]'), '[1,2]');
  });
});
