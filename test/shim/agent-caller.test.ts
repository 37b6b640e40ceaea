/**
 * Agent mode's caller identification: SO_PEERCRED through the native addon, and the selectors
 * derived from /proc for a real child process under another uid; a caller that exits before it
 * is examined gets a typed error.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  containerIdOf,
  identifyCaller,
  peerCredentials,
  type PeerCredentials,
} from '../../shim/agent/caller.js';
import { ShimError } from '../../shim/errors.js';

const ROOT = process.getuid?.() === 0;
const OTHER = { uid: 65534, gid: 65534 };

describe('agent caller identification', { timeout: 60_000 }, () => {
  let dir: string;
  let server: Server;
  let socketPath: string;
  const accepted: Socket[] = [];
  let waiters: ((s: Socket) => void)[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twi-caller-'));
    chmodSync(dir, 0o755);
    socketPath = join(dir, 'agent.sock');
    server = createServer((s) => {
      accepted.push(s);
      const w = waiters.shift();
      if (w) w(s);
    });
    await new Promise<void>((r) => server.listen(socketPath, r));
    chmodSync(socketPath, 0o666);
  });
  after(async () => {
    for (const s of accepted) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  const nextConnection = (): Promise<Socket> => new Promise((resolve) => waiters.push(resolve));

  /** A node child that connects and stays until its stdin closes. */
  function child(ids?: { uid: number; gid: number }): ChildProcess {
    const code = `const s=require('net').connect(${JSON.stringify(socketPath)});s.on('error',()=>process.exit(3));process.stdin.on('data',()=>process.exit(0));process.stdin.resume();`;
    return spawn(process.execPath, ['-e', code], {
      stdio: ['pipe', 'ignore', 'inherit'],
      ...(ids && { uid: ids.uid, gid: ids.gid }),
    });
  }

  it('gives this process its own uid, gid and pid', async () => {
    const conn = nextConnection();
    const client = connect(socketPath);
    const s = await conn;
    const peer = peerCredentials(s);
    assert.equal(peer.pid, process.pid);
    assert.equal(peer.uid, process.getuid!());
    assert.equal(peer.gid, process.getgid!());
    client.destroy();
  });

  it('identifies a child under another uid by uid, gid, executable and its digest', async (t) => {
    if (!ROOT) return t.skip('needs root to start a child under another uid');
    waiters = [];
    const conn = nextConnection();
    const c = child(OTHER);
    try {
      const s = await conn;
      const peer = peerCredentials(s);
      assert.equal(peer.pid, c.pid);
      assert.equal(peer.uid, OTHER.uid);
      assert.equal(peer.gid, OTHER.gid);
      const caller = await identifyCaller(peer);
      const exe = realpathSync(process.execPath);
      const sha = createHash('sha256').update(readFileSync(exe)).digest('hex');
      assert.equal(caller.exe, exe);
      assert.equal(caller.sha256, sha);
      assert.ok(caller.selectors.includes(`unix:uid:${OTHER.uid}`));
      assert.ok(caller.selectors.includes(`unix:gid:${OTHER.gid}`));
      assert.ok(caller.selectors.includes(`unix:path:${exe}`));
      assert.ok(caller.selectors.includes(`unix:sha256:${sha}`));
      assert.ok(!caller.selectors.includes(`unix:uid:0`));
      assert.deepEqual([...caller.selectors], [...caller.selectors].sort());
      // Cached by the executable's identity: a second caller gets the same digest.
      assert.equal((await identifyCaller(peer)).sha256, sha);
    } finally {
      c.stdin!.end('x');
      await new Promise((r) => c.once('exit', r));
    }
  });

  it('refuses a caller that exited before it was examined (ERR_SHIM_CALLER)', async () => {
    waiters = [];
    const conn = nextConnection();
    const c = child(ROOT ? OTHER : undefined);
    const s = await conn;
    const peer: PeerCredentials = peerCredentials(s);
    c.stdin!.end('x');
    await new Promise((r) => c.once('exit', r));
    await assert.rejects(
      identifyCaller(peer),
      (err: unknown) => err instanceof ShimError && err.code === 'ERR_SHIM_CALLER',
    );
  });

  it('refuses a socket without peer credentials (TCP) with ERR_SHIM_CALLER', async () => {
    const tcp = createServer();
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    const got = new Promise<Socket>((r) => tcp.once('connection', r));
    const port = (tcp.address() as { port: number }).port;
    const client = connect(port, '127.0.0.1');
    const s = await got;
    assert.throws(
      () => peerCredentials(s),
      (err: unknown) => err instanceof ShimError && err.code === 'ERR_SHIM_CALLER',
    );
    client.destroy();
    s.destroy();
    await new Promise<void>((r) => tcp.close(() => r()));
  });

  it('reads the container id from cgroup paths, and none from a plain one', () => {
    const id = 'a'.repeat(12) + '0123456789abcdef'.repeat(3) + 'b'.repeat(4);
    assert.equal(id.length, 64);
    assert.equal(containerIdOf(`0::/system.slice/docker-${id}.scope\n`), id);
    assert.equal(containerIdOf(`12:memory:/docker/${id}\n`), id);
    assert.equal(containerIdOf(`0::/kubepods/burstable/pod1/cri-containerd-${id}.scope`), id);
    assert.equal(containerIdOf('0::/user.slice/user-1000.slice/session-2.scope\n'), undefined);
    assert.equal(containerIdOf(`0::/x/${id}0\n`), undefined);
  });
});
