/**
 * `twi shim` usage and configuration errors, signal forwarding to the workload child, and the
 * verifier client's mapping of answers to typed failures.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { checkConfig, loadShimConfig } from '../../shim/config.js';
import { ShimError } from '../../shim/errors.js';
import { createVerifierClient } from '../../shim/verifier-client.js';
import { startShimProcess, startVerifier, TWI_CLI, waitForCredential } from './setup.js';
import type { TestVerifier } from './setup.js';

const run = (args: string[]) =>
  promisify(execFile)(process.execPath, [TWI_CLI, ...args], { encoding: 'utf8' }).then(
    (r) => ({ code: 0, stderr: r.stderr }),
    (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
  );

const isShimError = (code: string) => (e: unknown) => e instanceof ShimError && e.code === code;

describe('twi shim usage', () => {
  it('refuses a missing verifier, --pki without --emulate, a bad fraction', async () => {
    for (const [args, re] of [
      [['shim'], /ERR_USAGE: twi shim needs --verifier/],
      [
        ['shim', '--verifier', 'http://127.0.0.1:1', '--pki', 'x'],
        /ERR_USAGE: --pki needs --emulate/,
      ],
      [
        ['shim', '--verifier', 'http://127.0.0.1:1', '--renew-fraction', '1.5'],
        /ERR_SHIM_CONFIG: .*renewFraction/,
      ],
      [
        ['shim', '--verifier', 'ftp://x', '--emulate', 'nitro', '--pki', 'x'],
        /ERR_SHIM_CONFIG: .*http\(s\)/,
      ],
      [
        ['shim', '--verifier', 'http://127.0.0.1:1', '--emulate', 'sgx', '--pki', 'x'],
        /ERR_USAGE: --emulate must be/,
      ],
    ] as const) {
      const r = await run([...args]);
      assert.equal(r.code, 3, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
  });

  it('configuration files: unknown members and bad values are refused with ERR_SHIM_CONFIG', () => {
    const dir = mkdtempSync(join(tmpdir(), 'twi-shim-cfg-'));
    try {
      const f = join(dir, 'shim.yaml');
      writeFileSync(
        f,
        'verifier: http://127.0.0.1:8443\nrenewFraction: 0.6\ncommand: [node, w.js]\n',
      );
      assert.deepEqual(loadShimConfig(f), {
        verifier: 'http://127.0.0.1:8443',
        renewFraction: 0.6,
        command: ['node', 'w.js'],
      });
      writeFileSync(f, 'verifier: http://x\nprivateKey: abc\n');
      assert.throws(() => loadShimConfig(f), isShimError('ERR_SHIM_CONFIG'));
      writeFileSync(f, ': : :\n\t- [');
      assert.throws(() => loadShimConfig(f), isShimError('ERR_SHIM_CONFIG'));
      assert.throws(() => loadShimConfig(join(dir, 'absent.yaml')), isShimError('ERR_SHIM_CONFIG'));
      assert.throws(() => checkConfig({ socketGroup: -1 }, 'x'), isShimError('ERR_SHIM_CONFIG'));
      assert.throws(() => checkConfig([], 'x'), isShimError('ERR_SHIM_CONFIG'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('twi shim with a workload child', () => {
  let verifier: TestVerifier;
  let dir: string;
  before(async () => {
    verifier = await startVerifier({ seed: 'shim-cli' });
    dir = mkdtempSync(join(tmpdir(), 'twi-shim-cli-'));
  });
  after(async () => {
    await verifier.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('forwards SIGTERM to the child and exits with its status', async () => {
    const ready = join(dir, 'child-ready');
    // The child says when its handler is in place (Node starts slowly on a loaded machine).
    const child =
      "process.on('SIGTERM', () => process.exit(7));" +
      `require('node:fs').writeFileSync(${JSON.stringify(ready)}, '');` +
      'setInterval(() => {}, 1000);';
    const shim = startShimProcess({
      platform: 'nitro',
      verifier,
      dir,
      command: [process.execPath, '-e', child],
    });
    await waitForCredential(shim);
    while (!existsSync(ready)) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await shim.stop(), 7, shim.stderr());
  });

  it('exits 0 on SIGTERM without a child, removing its socket', async () => {
    const shim = startShimProcess({ platform: 'nitro', verifier, dir });
    await waitForCredential(shim);
    assert.equal(await shim.stop(), 0, shim.stderr());
    assert.equal(existsSync(shim.socket), false);
  });
});

describe('verifier client', () => {
  it('maps answers to typed failures', async () => {
    let answer: { status: number; body: string } = { status: 200, body: '{}' };
    const server = createServer((_req, res) => {
      res.statusCode = answer.status;
      res.setHeader('content-type', 'application/json');
      res.end(answer.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const client = createVerifierClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 2000 });
    try {
      answer = { status: 409, body: '{"code":"ERR_NONCE_REUSED","detail":"used"}' };
      await assert.rejects(
        client.challenge(),
        (e: unknown) =>
          isShimError('ERR_SHIM_ATTEST_REFUSED')(e) &&
          (e as ShimError).verifierCode === 'ERR_NONCE_REUSED' &&
          !(e as ShimError).retryable,
      );
      answer = { status: 503, body: 'overloaded' };
      await assert.rejects(client.challenge(), (e: unknown) => (e as ShimError).retryable === true);
      answer = { status: 429, body: '{"code":"ERR_RATE"}' };
      await assert.rejects(client.challenge(), isShimError('ERR_SHIM_VERIFIER_UNAVAILABLE'));
      answer = { status: 200, body: 'not json' };
      await assert.rejects(client.challenge(), isShimError('ERR_SHIM_VERIFIER_RESPONSE'));
      answer = { status: 200, body: '{"nonce":"abc","expires_at":"never"}' };
      await assert.rejects(client.challenge(), isShimError('ERR_SHIM_VERIFIER_RESPONSE'));
      answer = { status: 200, body: '{"ear":"e","wit":5,"expires_at":"2030-01-01T00:00:00Z"}' };
      await assert.rejects(
        client.attest({ nonce: 'n', evidence: {}, key: {} }),
        isShimError('ERR_SHIM_VERIFIER_RESPONSE'),
      );
    } finally {
      server.close();
    }
    await assert.rejects(client.challenge(), isShimError('ERR_SHIM_VERIFIER_UNAVAILABLE'));
  });
});
