/**
 * The emulated file tree of one platform and the dispatch of wire requests onto it:
 * path lookup, open-file handles, mkdir/rmdir in the configfs report directory, flock.
 *
 * @internal
 * @module
 */
import { constants } from 'node:fs';
import { DeviceErrno, Op, errno, fail } from './protocol.js';
import type { WireRequest, WireResponse } from './protocol.js';
import type { TsmReportTree } from './configfs-tsm.js';
import type { FaultQueue } from './faults.js';
import { checkOpen, dirNode, nodeMode } from './vfs.js';
import type { EmuNode, OpenFile } from './vfs.js';

const TSM = '/sys/kernel/config/tsm';
const REPORT = `${TSM}/report`;
/** <sys/file.h> */
const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;
const TDX_SYSFS = '/sys/devices/virtual/misc/tdx_guest';
/** The CCEL ACPI table's log area (drivers/acpi/tables.c data attributes). @internal */
export const CCEL_PATH = '/sys/firmware/acpi/tables/data/CCEL';

/** The nodes a platform has. */
export interface TreeParts {
  readonly devices: ReadonlyMap<string, EmuNode>;
  readonly tsm: TsmReportTree;
  /** TDX: the measurements directory's files. */
  readonly measurements?: ReadonlyMap<string, EmuNode>;
  /** TDX: the CC event log, {@link CCEL_PATH}. */
  readonly ccel?: EmuNode;
}

interface Handle {
  readonly path: string;
  readonly node: EmuNode;
  readonly file: OpenFile;
}

interface LockState {
  exclusive?: number;
  shared: Set<number>;
  waiters: { handle: number; exclusive: boolean; grant: () => void }[];
}

export class EmulatedTree {
  private readonly handles = new Map<number, Handle>();
  private readonly locks = new Map<string, LockState>();
  private nextHandle = 1;

  constructor(
    private readonly parts: TreeParts,
    private readonly faults: FaultQueue,
  ) {}

  private deviceName(path: string): string {
    return path.slice('/dev/'.length);
  }

  /** The node at a normalised absolute path, or undefined (ENOENT). */
  lookup(path: string): EmuNode | undefined {
    if (path.startsWith('/dev/')) {
      const name = this.deviceName(path) as 'tdx_guest' | 'sev-guest' | 'nsm';
      if (this.faults.isAbsent(name)) return undefined;
      return this.parts.devices.get(path);
    }
    if (path === TSM || path.startsWith(`${TSM}/`)) {
      if (this.faults.isAbsent('tsm')) return undefined;
      if (path === TSM) return dirNode(() => [['d', 'report']]);
      if (path === REPORT) return this.parts.tsm.root();
      const rest = path.slice(REPORT.length + 1).split('/');
      if (!path.startsWith(`${REPORT}/`) || rest.length > 2) return undefined;
      return this.parts.tsm.lookup(rest[0]!, rest[1]);
    }
    if (path === CCEL_PATH) return this.parts.ccel;
    const m = this.parts.measurements;
    if (m && (path === TDX_SYSFS || path.startsWith(`${TDX_SYSFS}/`))) {
      if (this.faults.isAbsent('tdx_guest')) return undefined;
      if (path === TDX_SYSFS) return dirNode(() => [['d', 'measurements']]);
      if (path === `${TDX_SYSFS}/measurements`) {
        return dirNode(() => [...m.keys()].map((n): [string, string] => ['f', n]));
      }
      const name = path.slice(`${TDX_SYSFS}/measurements/`.length);
      return path.startsWith(`${TDX_SYSFS}/measurements/`) ? m.get(name) : undefined;
    }
    return undefined;
  }

  private node(path: string): EmuNode {
    return this.lookup(path) ?? fail('ENOENT');
  }

  private handle(id: number): Handle {
    return this.handles.get(id) ?? fail('EBADF');
  }

  /** Serves one request; errors thrown by handlers become errno answers. */
  async serve(req: WireRequest): Promise<WireResponse> {
    try {
      return await this.dispatch(req);
    } catch (e) {
      if (e instanceof DeviceErrno) return { err: e.errno };
      throw e;
    }
  }

  private async dispatch(req: WireRequest): Promise<WireResponse> {
    switch (req.op) {
      case Op.OPEN:
        return this.open(req.path, Number(req.arg));
      case Op.CLOSE:
        this.close(req.handle);
        return {};
      case Op.READ: {
        const h = this.handle(req.handle);
        return { data1: h.file.read(Number(req.offset), Number(req.arg)) };
      }
      case Op.WRITE: {
        const h = this.handle(req.handle);
        return { value: h.file.write(Number(req.offset), req.data) };
      }
      case Op.STAT: {
        const n = this.node(req.path);
        return { value: nodeMode(n), value2: n.size() };
      }
      case Op.FSTAT: {
        const n = this.handle(req.handle).node;
        return { value: nodeMode(n), value2: n.size() };
      }
      case Op.MKDIR:
        this.mkdir(req.path);
        return {};
      case Op.RMDIR:
        this.rmdir(req.path);
        return {};
      case Op.UNLINK:
        // configfs and sysfs have no unlink; a directory is EISDIR as everywhere.
        return fail(this.node(req.path).type === 'dir' ? 'EISDIR' : 'EPERM');
      case Op.LIST:
        return { data1: this.list(req.path) };
      case Op.IOCTL: {
        const h = this.handle(req.handle);
        if (!h.file.ioctl) fail('ENOTTY');
        const cmd = Number(req.arg & 0xffffffffn);
        return h.file.ioctl({ cmd, flags: req.flags, offset: req.offset, data: req.data });
      }
      case Op.FLOCK:
        await this.flock(req.handle, Number(req.arg));
        return {};
      default:
        return { err: errno.ENOSYS };
    }
  }

  private open(path: string, flags: number): WireResponse {
    const n = this.lookup(path);
    if (!n) fail(flags & constants.O_CREAT ? 'EACCES' : 'ENOENT');
    checkOpen(n, flags);
    const id = this.nextHandle++;
    this.handles.set(id, { path, node: n, file: n.open() });
    return { value: id, value2: nodeMode(n) };
  }

  private close(id: number): void {
    const h = this.handles.get(id);
    if (!h) return;
    this.handles.delete(id);
    this.unlock(h.path, id);
    h.file.release();
  }

  private parent(path: string): { dir: string; name: string } {
    const i = path.lastIndexOf('/');
    return { dir: path.slice(0, i), name: path.slice(i + 1) };
  }

  private mkdir(path: string): void {
    const { dir, name } = this.parent(path);
    if (this.lookup(path)) fail('EEXIST');
    if (dir === REPORT && this.lookup(REPORT)) {
      this.parts.tsm.mkdir(name);
      return;
    }
    // Only the report group makes items; elsewhere configfs/sysfs/devtmpfs refuse.
    fail(this.lookup(dir) ? 'EPERM' : 'ENOENT');
  }

  private rmdir(path: string): void {
    const n = this.node(path);
    if (n.type !== 'dir') fail('ENOTDIR');
    const { dir, name } = this.parent(path);
    if (dir !== REPORT) fail('EPERM');
    this.parts.tsm.rmdir(name);
  }

  private list(path: string): Uint8Array {
    const n = this.node(path);
    if (n.type !== 'dir' || !n.list) fail('ENOTDIR');
    const entries: [string, string][] = [['d', '.'], ['d', '..'], ...n.list()];
    return new Uint8Array(Buffer.from(entries.map(([t, name]) => `${t}${name}\0`).join('')));
  }

  /** flock(2) between the emulated fds: LOCK_SH, LOCK_EX, LOCK_UN, LOCK_NB. */
  private flock(id: number, op: number): Promise<void> | void {
    const h = this.handle(id);
    const nb = (op & LOCK_NB) !== 0;
    const kind = op & ~LOCK_NB;
    if (kind === LOCK_UN) return this.unlock(h.path, id);
    if (kind !== LOCK_SH && kind !== LOCK_EX) fail('EINVAL');
    const exclusive = kind === LOCK_EX;
    let s = this.locks.get(h.path);
    if (!s) this.locks.set(h.path, (s = { shared: new Set(), waiters: [] }));
    const state = s;
    this.releaseHolder(state, id); // a conversion drops the old lock first, as Linux does
    if (this.grantable(state, exclusive)) return this.grant(state, id, exclusive);
    if (nb) fail('EWOULDBLOCK');
    return new Promise((resolve) => {
      state.waiters.push({ handle: id, exclusive, grant: resolve });
    });
  }

  private grantable(s: LockState, exclusive: boolean): boolean {
    if (s.exclusive !== undefined) return false;
    return !exclusive || s.shared.size === 0;
  }

  private grant(s: LockState, id: number, exclusive: boolean): void {
    if (exclusive) s.exclusive = id;
    else s.shared.add(id);
  }

  private releaseHolder(s: LockState, id: number): void {
    if (s.exclusive === id) s.exclusive = undefined;
    s.shared.delete(id);
  }

  private unlock(path: string, id: number): void {
    const s = this.locks.get(path);
    if (!s) return;
    this.releaseHolder(s, id);
    while (s.waiters.length > 0 && this.grantable(s, s.waiters[0]!.exclusive)) {
      const w = s.waiters.shift()!;
      this.grant(s, w.handle, w.exclusive);
      w.grant();
    }
  }
}
