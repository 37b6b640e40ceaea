/**
 * Docs that run: every shell block of README.md and docs/*.md preceded by the marker line
 * `<!-- runnable -->` is executed with `bash -euo pipefail` in a fresh temporary directory, and
 * must exit 0 within its timeout. A block marked `<!-- runnable: REASON -->` (such as
 * `needs-hardware`) is reported as skipped with that reason. A marker not followed by a ```sh
 * fence fails.
 *
 * The block's environment: `twi` on PATH is the built CLI of this checkout (`dist/cli/twi.js`);
 * `npx twi` is read as `twi` and `npm start` as `twi serve --dev-tls` (what the package script
 * runs); `twi serve` and `twi simulate serve` get their default ports (8443, 8081) spelled out
 * and the ports 8443 and 8081 are replaced by free ports so that a block can run beside
 * other services on the machine; `../shared` beside the temporary directory is the checkout's
 * `../shared` (the real vectors at the path the docs use). Each block runs in its own process
 * group, killed at the end, so services it starts in the background (`&`) do not outlive it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** Longest a block may run. */
const BLOCK_TIMEOUT_MS = 120_000;
const MARKER = /^<!--\s*runnable(?::\s*(.*?))?\s*-->\s*$/;

interface Block {
  /** `file:line` of the fence. */
  where: string;
  /** Why it is skipped (`needs-hardware`), or undefined to run it. */
  skip: string | undefined;
  /** The block's text, or undefined when the marker is not followed by a ```sh fence. */
  script: string | undefined;
}

function documents(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

function markedBlocks(file: string): Block[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = MARKER.exec(lines[i]!);
    if (!m) continue;
    const fence = i + 1;
    if (!/^```(sh|bash)\s*$/.test(lines[fence] ?? '')) {
      blocks.push({ where: `${file}:${i + 1}`, skip: undefined, script: undefined });
      continue;
    }
    const body: string[] = [];
    let j = fence + 1;
    for (; j < lines.length && !/^```\s*$/.test(lines[j]!); j++) body.push(lines[j]!);
    blocks.push({
      where: `${file}:${fence + 1}`,
      skip: m[1] || undefined,
      script: body.join('\n'),
    });
    i = j;
  }
  return blocks;
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? ok(a.port) : fail(new Error('no port'))));
    });
  });
}

/** The block as it runs here (see the file comment). */
async function rewrite(script: string): Promise<string> {
  let s = script
    .replace(/\bnpm start --(?=\s)/g, 'twi serve --dev-tls')
    .replace(/\bnpm start\b/g, 'twi serve --dev-tls')
    .replace(/\bnpx twi\b/g, 'twi')
    // the default ports spelled out, so that they are replaced below
    .replace(/\btwi serve\b(?![^\n]*--port)/g, 'twi serve --port 8443')
    .replace(/\btwi simulate serve\b(?![^\n]*--port)/g, 'twi simulate serve --port 8081');
  const ports = new Map<string, number>();
  for (const p of ['8443', '8081']) if (s.includes(p)) ports.set(p, await freePort());
  for (const [from, to] of ports)
    s = s.replace(new RegExp(`(?<=[:\\s])${from}\\b`, 'g'), String(to));
  return s;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  timedOut: boolean;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

async function runBlock(script: string, cwd: string, bin: string): Promise<Run> {
  const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
    cwd,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, NO_COLOR: '1' },
  });
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-8000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child.pid!, 'SIGKILL');
  }, BLOCK_TIMEOUT_MS);
  // 'exit', not 'close': a background service still holds the pipes until the group is killed.
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((ok) =>
    child.on('exit', (c, s) => ok([c, s])),
  );
  clearTimeout(timer);
  killGroup(child.pid!, 'SIGTERM');
  await new Promise((ok) => setTimeout(ok, 300));
  killGroup(child.pid!, 'SIGKILL');
  return { code, signal, output, timedOut };
}

/** A fresh directory `<tmp>/work` with `<tmp>/bin/twi` and `<tmp>/shared` → the checkout's. */
function sandbox(): { top: string; cwd: string; bin: string } {
  const top = mkdtempSync(join(tmpdir(), 'twi-docs-'));
  const cwd = join(top, 'work');
  const bin = join(top, 'bin');
  mkdirSync(cwd);
  mkdirSync(bin);
  const twi = join(bin, 'twi');
  writeFileSync(
    twi,
    `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'dist', 'cli', 'twi.js')}" "$@"\n`,
  );
  chmodSync(twi, 0o755);
  const shared = resolve(ROOT, '..', 'shared');
  if (existsSync(shared)) symlinkSync(shared, join(top, 'shared'));
  return { top, cwd, bin };
}

const all = documents().flatMap(markedBlocks);

describe('runnable documentation blocks', () => {
  it('the documents mark at least the README quickstart as runnable', () => {
    assert.ok(
      all.some((b) => b.where.startsWith('README.md:') && b.skip === undefined),
      'README.md has no <!-- runnable --> block',
    );
  });

  for (const block of all) {
    it(block.where, { skip: block.skip ?? false, timeout: BLOCK_TIMEOUT_MS + 30_000 }, async () => {
      assert.ok(
        block.script !== undefined,
        `${block.where}: <!-- runnable --> is not followed by a \`\`\`sh fence`,
      );
      const box = sandbox();
      try {
        const run = await runBlock(await rewrite(block.script), box.cwd, box.bin);
        assert.ok(
          run.code === 0 && !run.timedOut,
          `${block.where}: the block ${
            run.timedOut
              ? `did not finish in ${BLOCK_TIMEOUT_MS / 1000} s`
              : `exited with ${run.code ?? run.signal}`
          }\n--- block ---\n${block.script}\n--- output (tail) ---\n${run.output}`,
        );
      } finally {
        rmSync(box.top, { recursive: true, force: true });
      }
    });
  }
});
