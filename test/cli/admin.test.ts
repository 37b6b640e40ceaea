/**
 * `twi admin` against an in-process service: rotate a key and list keys (table and --json),
 * revoke a credential then see it in `revocations` and `credentials list`, set and get a YAML
 * policy, list appraisals with --limit, set/get/clear registrations; errors are one line
 * `twi: ERR_…: …` with exit 3 (wrong token, unknown kid, plain http off loopback, no server).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliPath } from '../helpers/cli.js';
import { attestWit, NOW, startTestService, type TestService } from '../service/harness.js';

const TOKEN = 'cli-admin-token-0123456789abcdef';

async function twi(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cliPath, ...args], {
      timeout: 30_000,
      env: { ...process.env, TWI_URL: '', TWI_ADMIN_TOKEN_FILE: '' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('twi admin', () => {
  let service: TestService;
  let auth: string[];
  const ok = async (args: string[]): Promise<string> => {
    const r = await twi(['admin', ...args, ...auth]);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const json = async (args: string[]): Promise<Record<string, unknown>> =>
    JSON.parse(await ok([...args, '--json'])) as Record<string, unknown>;

  before(async () => {
    service = await startTestService({ seed: 'cli-admin', clock: () => NOW, adminToken: TOKEN });
    writeFileSync(join(service.dir, 'token'), TOKEN + '\n');
    writeFileSync(join(service.dir, 'wrong'), 'not-the-token\n');
    auth = ['--url', service.base, '--admin-token-file', join(service.dir, 'token')];
  });
  after(async () => service.close());

  test('keys rotate, then keys list shows the new key active and the old one published', async () => {
    const before = (await json(['keys', 'list'])) as { keys: { kid: string; state: string }[] };
    assert.equal(before.keys.length, 1);
    const rotated = await json(['keys', 'rotate']);
    assert.equal(rotated.previous_kid, before.keys[0]!.kid);
    const after = (await json(['keys', 'list'])) as typeof before;
    assert.deepEqual(
      after.keys.map((k) => [k.kid, k.state]),
      [
        [before.keys[0]!.kid, 'published'],
        [rotated.kid, 'active'],
      ],
    );
    const text = await ok(['keys', 'list']);
    assert.match(text, /^KID\s+ALG\s+STATE\s+CREATED/m);
    assert.match(text, new RegExp(`^${String(rotated.kid)}\\s+ES256\\s+active\\s`, 'm'));
    assert.match(text, /^CA SERIAL\s+STATE/m);
    assert.match(text, /^bundle sequence: \d+$/m);
  });

  test('credentials revoke, then revocations and credentials list show it', async () => {
    const issued = await attestWit(service.base, service.pki);
    const listed = await ok(['credentials', 'list', '--limit', '5']);
    assert.match(
      listed,
      new RegExp(`^${issued.jti}\\s+spiffe://example\\.org/\\S+\\s.*\\sno\\b`, 'm'),
    );
    const revoked = await ok(['credentials', 'revoke', issued.jti]);
    assert.match(revoked, new RegExp(`^jti: ${issued.jti}$`, 'm'));
    assert.match(revoked, /^revoked: true$/m);
    const revs = (await json(['revocations'])) as { credentials: { jti: string }[] };
    assert.deepEqual(
      revs.credentials.map((c) => c.jti),
      [issued.jti],
    );
    const text = await ok(['revocations']);
    assert.match(text, new RegExp(`^credential\\s+${issued.jti}\\s+${NOW.toISOString()}$`, 'm'));
    const again = await twi(['admin', 'credentials', 'revoke', issued.jti, ...auth]);
    assert.equal(again.code, 3);
    assert.equal(again.stderr, 'twi: ERR_CREDENTIAL_REVOKED: the credential is already revoked\n');
    const appraisals = (await json(['appraisals', '--limit', '1'])) as {
      appraisals: { jti?: string; status: string }[];
    };
    assert.equal(appraisals.appraisals.length, 1);
    assert.equal(appraisals.appraisals[0]!.jti, issued.jti);
    assert.match(
      await ok(['appraisals']),
      /^AT\s+ROUTE\s+PLATFORM\s+STATUS.*\n.*\sattest\s+tdx\s+affirming/m,
    );
  });

  test('policy set FILE (YAML) and policy get', async () => {
    const file = join(service.dir, 'policy.yaml');
    writeFileSync(file, 'id: cli-policy\n');
    assert.match(await ok(['policy', 'set', file]), /^policy_id: cli-policy$/m);
    const got = await json(['policy', 'get']);
    assert.deepEqual(got.policy, { id: 'cli-policy' });
    assert.equal(got.source, 'store');
    assert.match(await ok(['policy', 'get']), /"id": "cli-policy"/);
  });

  test('registrations set, get, clear', async () => {
    const file = join(service.dir, 'regs.yaml');
    const m = (b: string): string => `'${b.repeat(48)}'`;
    writeFileSync(
      file,
      '- id: web\n  identifier: spiffe://example.org/web\n  platform: tdx\n' +
        `  mrtd: ${m('ab')}\n  rtmr0: ${m('01')}\n  rtmr1: ${m('11')}\n` +
        `  rtmr2: ${m('12')}\n  rtmr3: ${m('13')}\n`,
    );
    const set = await ok(['registrations', 'set', file]);
    assert.match(set, /^source: store$/m);
    assert.match(set, /^ids: \["web"\]$/m);
    const got = await ok(['registrations', 'get']);
    assert.match(got, /^source: store$/m);
    assert.match(got, /^web\s+spiffe:\/\/example\.org\/web$/m);
    const bad = join(service.dir, 'bad.yaml');
    writeFileSync(bad, '- id: web\n  identifier: spiffe://other.org/web\n');
    const refused = await twi(['admin', 'registrations', 'set', bad, ...auth]);
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /^twi: ERR_REGISTRATIONS_INVALID: .+\n$/);
    assert.match(await ok(['registrations', 'clear']), /^source: policy$/m);
  });

  test('refusals are one line with the problem code and exit 3', async () => {
    const wrong = await twi([
      'admin',
      'keys',
      'list',
      '--url',
      service.base,
      '--admin-token-file',
      join(service.dir, 'wrong'),
    ]);
    assert.equal(wrong.code, 3);
    assert.match(wrong.stderr, /^twi: ERR_ADMIN_UNAUTHENTICATED: .+\n$/);
    const unknown = await twi(['admin', 'keys', 'revoke', 'no-such-kid', ...auth]);
    assert.equal(unknown.code, 3);
    assert.match(unknown.stderr, /^twi: ERR_KEY_UNKNOWN: /);
    const plain = await twi(['admin', 'keys', 'list', '--url', 'http://verifier.example:8443']);
    assert.equal(plain.code, 3);
    assert.match(plain.stderr, /^twi: ERR_USAGE: --url must be https/);
    const down = await twi(['admin', 'revocations', '--url', 'http://127.0.0.1:1']);
    assert.equal(down.code, 3);
    assert.match(
      down.stderr,
      /^twi: ERR_SERVICE_UNREACHABLE: http:\/\/127\.0\.0\.1:1: ECONNREFUSED/,
    );
    const limit = await twi(['admin', 'appraisals', '--limit', '0', ...auth]);
    assert.equal(limit.code, 3);
    assert.match(limit.stderr, /^twi: ERR_USAGE: --limit/);
  });
});
