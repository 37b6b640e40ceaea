/**
 * Agent mode's caller identification (docs/shim.md "Agent mode"): the peer credentials of a
 * Unix-socket connection (SO_PEERCRED, through the native addon) and the selectors derived
 * from them, spelled as SPIRE's `unix` workload attestor spells its own:
 *
 * - `unix:uid:<n>`, `unix:gid:<n>`: the caller's user and group ids when it connected;
 * - `unix:path:<path>`: its executable (`/proc/<pid>/exe`);
 * - `unix:sha256:<hex>`: SHA-256 of that executable, read through `/proc/<pid>/exe` (the file
 *   that runs, even if the path was since replaced), at most {@link MAX_EXE_BYTES}, cached by
 *   (dev, ino, mtime, size);
 * - `cgroup:id:<hex>`: the container id, the last 64-hex-digit run in the process's cgroup
 *   path (`/proc/<pid>/cgroup`: docker, containerd, CRI-O and podman name their cgroups so),
 *   absent when there is none.
 *
 * @internal
 * @module
 */
import { createHash } from 'node:crypto';
import { open, readFile, readlink } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { loadNative } from '../../native/binding.js';
import { ShimError } from '../errors.js';

/** The kernel's record of who connected. */
export interface PeerCredentials {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

/** An identified caller. */
export interface Caller extends PeerCredentials {
  readonly exe: string;
  /** Absent when the executable is over {@link MAX_EXE_BYTES}. */
  readonly sha256: string | undefined;
  readonly containerId: string | undefined;
  /** Sorted, without duplicates. */
  readonly selectors: readonly string[];
}

/** Largest executable hashed for `unix:sha256`. */
export const MAX_EXE_BYTES = 512 * 1024 * 1024;

/** Where `/proc` is (tests point it elsewhere only to simulate races). */
const PROC = '/proc';

/**
 * SO_PEERCRED of a connected Unix-domain socket.
 *
 * @throws {ShimError} `ERR_SHIM_CALLER` when the socket has no descriptor or no peer.
 */
export function peerCredentials(socket: Socket): PeerCredentials {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    throw new ShimError('ERR_SHIM_CALLER', 'the connection has no socket descriptor');
  }
  try {
    return loadNative().peerCredentials(fd);
  } catch (err) {
    throw new ShimError('ERR_SHIM_CALLER', 'no peer credentials on the connection', {
      cause: err,
    });
  }
}

/** Field 22 of `/proc/<pid>/stat`: the start time, which tells a reused pid apart. */
async function startTime(pid: number): Promise<string> {
  const stat = await readFile(`${PROC}/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: fields after its last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const t = rest[19];
  if (t === undefined) throw new Error(`${PROC}/${pid}/stat has no start time`);
  return t;
}

const hashCache = new Map<string, string | undefined>();
const HASH_CACHE_MAX = 256;

async function exeDigest(pid: number): Promise<string | undefined> {
  const fh = await open(`${PROC}/${pid}/exe`, 'r');
  try {
    const st = await fh.stat({ bigint: true });
    const key = `${st.dev}:${st.ino}:${st.mtimeNs}:${st.size}`;
    if (hashCache.has(key)) return hashCache.get(key);
    let digest: string | undefined;
    if (st.size <= BigInt(MAX_EXE_BYTES)) {
      const h = createHash('sha256');
      const buf = Buffer.alloc(1024 * 1024);
      let read = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, read);
        if (bytesRead === 0) break;
        read += bytesRead;
        if (read > MAX_EXE_BYTES) break;
        h.update(buf.subarray(0, bytesRead));
      }
      digest = read > MAX_EXE_BYTES ? undefined : h.digest('hex');
    }
    if (hashCache.size >= HASH_CACHE_MAX) hashCache.delete(hashCache.keys().next().value!);
    hashCache.set(key, digest);
    return digest;
  } finally {
    await fh.close();
  }
}

/** The container id in `/proc/<pid>/cgroup` text, if any (see the module comment). */
export function containerIdOf(cgroup: string): string | undefined {
  let id: string | undefined;
  for (const line of cgroup.split('\n')) {
    const path = line.split(':').slice(2).join(':');
    for (const m of path.matchAll(/(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])/g)) id = m[0];
  }
  return id;
}

/** The selectors of a caller, sorted. */
export function selectorsOf(c: Omit<Caller, 'selectors' | 'pid'>): string[] {
  const s = [`unix:uid:${c.uid}`, `unix:gid:${c.gid}`, `unix:path:${c.exe}`];
  if (c.sha256 !== undefined) s.push(`unix:sha256:${c.sha256}`);
  if (c.containerId !== undefined) s.push(`cgroup:id:${c.containerId}`);
  return [...new Set(s)].sort();
}

/**
 * Identifies the process behind `peer`: its executable, digest and container id. The pid's
 * start time is read before and after, so a process that exits (or whose pid is reused)
 * meanwhile is refused rather than misattributed.
 *
 * @throws {ShimError} `ERR_SHIM_CALLER` when the process is gone or cannot be examined.
 */
export async function identifyCaller(peer: PeerCredentials): Promise<Caller> {
  const { pid } = peer;
  try {
    const before = await startTime(pid);
    const exe = await readlink(`${PROC}/${pid}/exe`);
    const sha256 = await exeDigest(pid);
    const cgroup = await readFile(`${PROC}/${pid}/cgroup`, 'utf8').catch(() => '');
    if ((await startTime(pid)) !== before) throw new Error(`pid ${pid} was reused`);
    const containerId = containerIdOf(cgroup);
    const base = { uid: peer.uid, gid: peer.gid, exe, sha256, containerId };
    return { pid, ...base, selectors: selectorsOf(base) };
  } catch (err) {
    throw new ShimError('ERR_SHIM_CALLER', `caller pid ${pid} cannot be examined (exited?)`, {
      cause: err,
    });
  }
}
