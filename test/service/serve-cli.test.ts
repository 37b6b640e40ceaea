import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath } from '../helpers/cli.js';

test('twi serve (what npm start runs) listens on loopback with an SQLite store and stops on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-serve-'));
  const child = spawn(
    process.execPath,
    [cliPath, 'serve', '--port', '0', '--data', join(dir, 'data')],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 30_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /twi: verifier listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    const challenge = await fetch(`${url}/v1/challenge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(challenge.status, 200);
    const { nonce } = (await challenge.json()) as { nonce: string };
    assert.equal(Buffer.from(nonce, 'base64url').length, 32);
    const missing = await fetch(`${url}/nope`);
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.ok(existsSync(join(dir, 'data', 'twi.db')));
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
