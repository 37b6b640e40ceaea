/**
 * Every CLI failure is one line: runs the real `twi` on a table of everyday mistakes (port in
 * use, bad --host, --data naming a file, missing or empty --admin-token-file, bad
 * --builder-keys, --out/--pki/--socket paths that cannot be created, a workload command that
 * does not exist, a JWKS, bundle, provenance service or KDS that is down, a library option
 * name in a hint) and checks the exit status, the single stderr line
 * `twi: ERR_CODE: … (flag or path)` with its code and the names it must carry, and that no
 * stack trace is printed. "Down" services are a local port just closed: no network waits.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeFailure, EXIT_INTERNAL } from '../../cli/io.js';
import { runCli } from '../helpers/cli.js';
import { loadManifest, vectorsDir } from '../helpers/vectors.js';

interface Ctx {
  dir: string;
  /** A port something listens on. */
  busyPort: number;
  /** A port nothing listens on. */
  closedPort: number;
  /** A real SEV-SNP report alone in a folder (no VCEK beside it) and its verification instant. */
  snpReport: string;
  snpAt: string;
}

interface Case {
  name: string;
  argv: (c: Ctx) => string[];
  status: number;
  code: string;
  /** Substrings the line must contain (the flag, path or URL involved, the cause). */
  says: (c: Ctx) => string[];
  /** Substrings it must not contain. */
  never?: string[];
}

const serve = (c: Ctx, ...more: string[]): string[] => [
  'serve',
  '--port',
  '0',
  '--data',
  join(c.dir, 'data'),
  ...more,
];

const cases: Case[] = [
  {
    name: 'twi serve on a port in use',
    argv: (c) => ['serve', '--port', String(c.busyPort), '--data', join(c.dir, 'data')],
    status: 3,
    code: 'ERR_PORT_IN_USE',
    says: (c) => [`127.0.0.1:${c.busyPort}`, '--port'],
  },
  {
    name: 'twi serve --host that is not an address',
    argv: (c) => serve(c, '--host', '999.1.1.1'),
    status: 3,
    code: 'ERR_BAD_HOST',
    says: () => ['999.1.1.1', '--host'],
  },
  {
    name: 'twi serve --host this machine does not have',
    argv: (c) => serve(c, '--host', '192.0.2.1'),
    status: 3,
    code: 'ERR_BAD_HOST',
    says: () => ['192.0.2.1', 'EADDRNOTAVAIL', '--host'],
  },
  {
    name: 'twi serve --data naming a file',
    argv: (c) => ['serve', '--port', '0', '--data', join(c.dir, 'a-file')],
    status: 3,
    code: 'ERR_PATH',
    says: (c) => [join(c.dir, 'a-file'), 'not a directory', '--data'],
  },
  {
    name: 'twi serve --admin-token-file missing',
    argv: (c) => serve(c, '--admin-token-file', join(c.dir, 'no-token')),
    status: 3,
    code: 'ERR_INPUT_FILE',
    says: (c) => [join(c.dir, 'no-token'), 'ENOENT', '--admin-token-file'],
  },
  {
    name: 'twi serve --admin-token-file empty',
    argv: (c) => serve(c, '--admin-token-file', join(c.dir, 'empty')),
    status: 3,
    code: 'ERR_ADMIN_TOKEN',
    says: (c) => [join(c.dir, 'empty'), 'empty', '--admin-token-file'],
  },
  {
    name: 'twi serve --builder-keys missing',
    argv: (c) => serve(c, '--builder-keys', join(c.dir, 'no-keys.json')),
    status: 3,
    code: 'ERR_INPUT_FILE',
    says: (c) => [join(c.dir, 'no-keys.json'), 'ENOENT', '--builder-keys'],
  },
  {
    name: 'twi serve --builder-keys not JSON',
    argv: (c) => serve(c, '--builder-keys', join(c.dir, 'not.json')),
    status: 3,
    code: 'ERR_INPUT_INVALID',
    says: (c) => [join(c.dir, 'not.json'), 'not JSON', '--builder-keys'],
  },
  {
    name: 'twi serve --builder-keys of the wrong shape',
    argv: (c) => serve(c, '--builder-keys', join(c.dir, 'object.json')),
    status: 3,
    code: 'ERR_INPUT_INVALID',
    says: (c) => [join(c.dir, 'object.json'), 'array', '--builder-keys'],
  },
  {
    name: 'twi serve --policy file that does not exist',
    argv: (c) => serve(c, '--policy', join(c.dir, 'no-policy.yaml')),
    status: 3,
    code: 'ERR_POLICY_UNREADABLE',
    says: (c) => [join(c.dir, 'no-policy.yaml'), 'ENOENT'],
  },
  {
    name: 'an unknown command',
    argv: () => ['no-such-command'],
    status: 3,
    code: 'ERR_USAGE',
    says: () => ['no-such-command', '--help'],
  },
  {
    name: 'an unknown option',
    argv: () => ['serve', '--no-such-option'],
    status: 3,
    code: 'ERR_USAGE',
    says: () => ['--no-such-option'],
  },
  {
    name: 'a required option left out',
    argv: () => ['simulate', 'nitro'],
    status: 3,
    code: 'ERR_USAGE',
    says: () => ['--pki'],
  },
  {
    name: 'twi simulate --out under a file',
    argv: (c) => [
      'simulate',
      'nitro',
      '--out',
      join(c.dir, 'a-file', 'doc.bin'),
      '--pki',
      join(c.dir, 'pki'),
    ],
    status: 3,
    code: 'ERR_PATH',
    says: (c) => [join(c.dir, 'a-file'), 'not a directory', '--out'],
  },
  {
    name: 'twi simulate --out relative, under a file: named as written',
    argv: () => ['simulate', 'nitro', '--out', 'a-file/doc.bin', '--pki', 'pki'],
    status: 3,
    code: 'ERR_PATH',
    says: () => ['a-file/doc.bin: a-file is a file, not a directory (--out)'],
  },
  {
    name: 'twi simulate --pki that cannot be created',
    argv: (c) => [
      'simulate',
      'nitro',
      '--out',
      join(c.dir, 'doc.bin'),
      '--pki',
      join(c.dir, 'a-file', 'pki'),
    ],
    status: 3,
    code: 'ERR_PATH',
    says: (c) => [join(c.dir, 'a-file', 'pki'), 'not a directory', '--pki'],
  },
  {
    name: 'twi shim --socket in a folder that is a file',
    argv: (c) => [
      'shim',
      '--verifier',
      `http://127.0.0.1:${c.closedPort}`,
      '--socket',
      join(c.dir, 'a-file', 'shim.sock'),
    ],
    status: 3,
    code: 'ERR_PATH',
    says: (c) => [join(c.dir, 'a-file', 'shim.sock'), '--socket'],
  },
  {
    name: 'twi shim --socket in a directory that does not exist',
    argv: (c) => [
      'shim',
      '--verifier',
      `http://127.0.0.1:${c.closedPort}`,
      '--socket',
      join(c.dir, 'no-dir', 'shim.sock'),
    ],
    status: 3,
    code: 'ERR_PATH',
    says: (c) => [join(c.dir, 'no-dir'), 'does not exist', '--socket'],
  },
  {
    name: 'twi shim --socket path too long to bind',
    argv: (c) => [
      'shim',
      '--verifier',
      `http://127.0.0.1:${c.closedPort}`,
      '--socket',
      join(c.dir, 'x'.repeat(120) + '.sock'),
    ],
    status: 3,
    code: 'ERR_PATH',
    says: () => ['107 bytes', '--socket'],
  },
  {
    name: 'twi shim -- a command that does not exist',
    argv: (c) => [
      'shim',
      '--verifier',
      `http://127.0.0.1:${c.closedPort}`,
      '--socket',
      join(c.dir, 'shim.sock'),
      '--',
      '/nonexistent/cmd',
    ],
    status: 127,
    code: 'ERR_COMMAND_NOT_FOUND',
    says: () => ['/nonexistent/cmd', 'not found'],
  },
  {
    name: 'twi shim -- a command that is not executable',
    argv: (c) => [
      'shim',
      '--verifier',
      `http://127.0.0.1:${c.closedPort}`,
      '--socket',
      join(c.dir, 'shim.sock'),
      '--',
      join(c.dir, 'a-file'),
    ],
    status: 126,
    code: 'ERR_COMMAND_NOT_EXECUTABLE',
    says: (c) => [join(c.dir, 'a-file'), 'not executable'],
  },
  {
    name: 'twi rp verify --jwks of a service that is down',
    argv: (c) => [
      'rp',
      'verify',
      '--wit',
      'a.b.c',
      '--wpt',
      'a.b.c',
      '--aud',
      'https://rp.example',
      '--jwks',
      `http://127.0.0.1:${c.closedPort}/.well-known/jwks.json`,
    ],
    status: 3,
    code: 'ERR_UNREACHABLE',
    says: (c) => [
      `http://127.0.0.1:${c.closedPort}/.well-known/jwks.json`,
      'ECONNREFUSED',
      '--jwks',
    ],
    never: ['fetch failed'],
  },
  {
    name: 'twi rp verify-cert --bundle of a service that is down',
    argv: (c) => [
      'rp',
      'verify-cert',
      '--cert',
      join(c.dir, 'a-file'),
      '--bundle',
      `http://127.0.0.1:${c.closedPort}/v1/bundle`,
    ],
    status: 3,
    code: 'ERR_UNREACHABLE',
    says: (c) => [`http://127.0.0.1:${c.closedPort}/v1/bundle`, 'ECONNREFUSED', '--bundle'],
    never: ['fetch failed'],
  },
  {
    name: 'twi provenance show against a service that is down',
    argv: (c) => ['provenance', 'show', 'some-jti', '--url', `http://127.0.0.1:${c.closedPort}`],
    status: 3,
    code: 'ERR_UNREACHABLE',
    says: (c) => [`http://127.0.0.1:${c.closedPort}/`, 'ECONNREFUSED', '--url'],
    never: ['fetch failed'],
  },
  {
    name: 'twi provenance show --url that is not a URL',
    argv: () => ['provenance', 'show', 'some-jti', '--url', 'not a url'],
    status: 3,
    code: 'ERR_USAGE',
    says: () => ['"not a url"', 'not a valid URL'],
  },
  {
    name: 'twi verify --kds-url of a KDS that is down',
    argv: (c) => [
      'verify',
      c.snpReport,
      '--at',
      c.snpAt,
      '--kds-url',
      `http://127.0.0.1:${c.closedPort}`,
    ],
    status: 3,
    code: 'ERR_ENDORSEMENT_UNAVAILABLE',
    says: (c) => [`http://127.0.0.1:${c.closedPort}/vcek/v1/`, 'ECONNREFUSED'],
    never: ['fetch failed', 'upstream'],
  },
  {
    name: 'twi endorsements import --sha256 that is not a digest',
    argv: (c) => [
      'endorsements',
      'import',
      join(c.dir, 'object.json'),
      '--cache',
      join(c.dir, 'cache'),
      '--sha256',
      '12',
    ],
    status: 3,
    code: 'ERR_USAGE',
    says: () => ['--sha256', '64 hex'],
    never: ['expectedSha256'],
  },
  {
    name: 'twi verify --vcek that holds no certificate',
    argv: (c) => ['verify', c.snpReport, '--at', c.snpAt, '--vcek', join(c.dir, 'empty')],
    status: 3,
    code: 'ERR_EVIDENCE_MALFORMED',
    says: () => ['--vcek'],
    never: ['snpKeyCert'],
  },
];

const ctx = {} as Ctx;
const servers: Server[] = [];

async function listening(): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const portOf = (s: Server): number => (s.address() as { port: number }).port;

before(async () => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'twi-cli-errors-'));
  writeFileSync(join(ctx.dir, 'a-file'), 'not a directory\n', { mode: 0o644 });
  writeFileSync(join(ctx.dir, 'empty'), '');
  writeFileSync(join(ctx.dir, 'not.json'), '{ not json');
  writeFileSync(join(ctx.dir, 'object.json'), '{"keys": []}');
  const busy = await listening();
  servers.push(busy);
  ctx.busyPort = portOf(busy);
  const closed = await listening();
  ctx.closedPort = portOf(closed);
  await new Promise((resolve) => closed.close(resolve));
  // A report of version 3 or later names its product, so the KDS URL can be made from it.
  const snp = loadManifest().samples.find(
    (s) => s.platform === 'sev-snp' && s.files['report'] && !s.name.startsWith('snp-v2'),
  );
  assert.ok(snp, 'a real SEV-SNP report (version 3 or later) in the vectors');
  mkdirSync(join(ctx.dir, 'snp'));
  ctx.snpReport = join(ctx.dir, 'snp', 'report.bin');
  copyFileSync(join(vectorsDir, snp.files['report']!), ctx.snpReport);
  ctx.snpAt = snp.verify_at;
});

after(async () => {
  for (const s of servers) await new Promise((resolve) => s.close(resolve));
  rmSync(ctx.dir, { recursive: true, force: true });
});

for (const c of cases) {
  test(c.name, () => {
    const r = runCli(c.argv(ctx), { cwd: ctx.dir, timeoutMs: 60_000 });
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    assert.doesNotMatch(r.stderr, /^\s+at /m, `no stack trace:\n${r.stderr}`);
    assert.equal(lines.length, 1, `exactly one line on stderr:\n${r.stderr}`);
    const line = lines[0]!;
    const m = /^twi: (ERR_[A-Z0-9_]+): (.+)$/.exec(line);
    assert.ok(m, `twi: ERR_CODE: message, got ${line}`);
    assert.equal(m[1], c.code, line);
    assert.equal(r.status, c.status, `exit status of: ${line}`);
    for (const s of c.says(ctx)) assert.ok(line.includes(s), `${line}\nshould name ${s}`);
    for (const s of c.never ?? []) assert.ok(!line.includes(s), `${line}\nshould not say ${s}`);
    assert.ok(line.length <= 300, `a short line (${line.length} characters): ${line}`);
  });
}

test('a missing VCEK is hinted with the --vcek flag, not the library option', () => {
  const r = runCli(['verify', ctx.snpReport, '--at', ctx.snpAt], {
    cwd: ctx.dir,
    timeoutMs: 60_000,
  });
  assert.notEqual(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /error: ERR_ENDORSEMENT_MISSING: .*--vcek/);
  assert.doesNotMatch(r.stdout + r.stderr, /snpKeyCert/);
});

test('failures no command anticipated are still one line with a code', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
    code: 'ECONNREFUSED',
    syscall: 'connect',
  });
  const fetchFailed = describeFailure(new TypeError('fetch failed', { cause: refused }));
  assert.deepEqual(fetchFailed, {
    code: 'ERR_UNREACHABLE',
    message: 'connection refused (ECONNREFUSED)',
    exit: 3,
  });
  const eisdir = Object.assign(new Error('EISDIR: illegal operation on a directory, read'), {
    code: 'EISDIR',
    syscall: 'read',
    path: '/some/dir',
  });
  assert.deepEqual(describeFailure(eisdir), {
    code: 'ERR_SYSTEM',
    message: 'is a directory (EISDIR): /some/dir',
    exit: 3,
  });
  assert.equal(describeFailure(new SyntaxError('Unexpected token')).code, 'ERR_INPUT_INVALID');
  const bug = describeFailure(new Error('something\nbroke'));
  assert.equal(bug.code, 'ERR_INTERNAL');
  assert.equal(bug.exit, EXIT_INTERNAL);
  assert.match(bug.message, /^Error: something/);
  assert.match(bug.message, /TWI_DEBUG=1/);
  assert.doesNotMatch(bug.message, /\n\s+at /);
});
