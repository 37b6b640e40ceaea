/**
 * The emulated file kinds and their per-open-file semantics, as the kernel implements
 * them: configfs text and binary attributes (fs/configfs/file.c), sysfs binary attributes
 * (the TDX measurement registers) and misc character devices.
 *
 * @internal
 * @module
 */
import { constants } from 'node:fs';
import { fail, type WireResponse } from './protocol.js';

/** <fcntl.h> O_ACCMODE (node:fs does not export it). */
const O_ACCMODE = 3;

/** An ioctl as the preload library forwards it. */
export interface IoctlRequest {
  readonly cmd: number;
  readonly flags: number;
  readonly offset: bigint;
  readonly data: Uint8Array;
}

/** The answer to an ioctl: the wire response (see native/preload-ioctl.c for each field). */
export type IoctlAnswer = WireResponse;

/** One open file description. */
export interface OpenFile {
  read(offset: number, count: number): Uint8Array;
  write(offset: number, data: Uint8Array): number;
  /** Called once when the last fd is closed (configfs commits binary writes here). */
  release(): void;
  ioctl?(req: IoctlRequest): IoctlAnswer;
}

/** A node of the emulated tree. */
export interface EmuNode {
  readonly type: 'dir' | 'chr' | 'file';
  /** Permission bits (the nodes belong to root). */
  readonly perm: number;
  size(): number;
  open(): OpenFile;
  /** Directory entries: `[type letter d/f/c, name]`. */
  list?(): [string, string][];
}

/** `st_mode` of a node. */
export function nodeMode(n: EmuNode): number {
  const type =
    n.type === 'dir' ? constants.S_IFDIR : n.type === 'chr' ? constants.S_IFCHR : constants.S_IFREG;
  return type | n.perm;
}

/** Access checks of open(2) for a node, as configfs and the VFS make them. */
export function checkOpen(n: EmuNode, flags: number): void {
  const acc = flags & O_ACCMODE;
  const wantsWrite = acc === constants.O_WRONLY || acc === constants.O_RDWR;
  const wantsRead = acc === constants.O_RDONLY || acc === constants.O_RDWR;
  if (flags & constants.O_DIRECTORY && n.type !== 'dir') fail('ENOTDIR');
  if (n.type === 'dir' && wantsWrite) fail('EISDIR');
  if (flags & constants.O_CREAT && flags & constants.O_EXCL) fail('EEXIST');
  if (n.type === 'dir') return;
  // configfs __configfs_open_file: a write needs S_IWUGO and a store method, a read S_IRUGO.
  if (wantsWrite && !(n.perm & 0o222)) fail('EACCES');
  if (wantsRead && !(n.perm & 0o444)) fail('EACCES');
}

function slice(buf: Uint8Array, offset: number, count: number): Uint8Array {
  if (offset >= buf.length) return new Uint8Array(0);
  return buf.slice(offset, Math.min(buf.length, offset + count));
}

/** A directory listing its children. */
export function dirNode(list: () => [string, string][], perm = 0o755): EmuNode {
  return {
    type: 'dir',
    perm,
    size: () => 0,
    list,
    open: () => ({
      read: () => fail('EISDIR'),
      write: () => fail('EISDIR'),
      release: () => undefined,
    }),
  };
}

/** configfs SIMPLE_ATTR_SIZE: a store gets at most 4095 bytes. */
const SIMPLE_ATTR_SIZE = 4096;

/**
 * A configfs text attribute: the first read of an open file calls `show` and later reads
 * are served from that page; every write calls `store` with what was written (one call
 * per write, at most 4095 bytes) and the next read shows again.
 */
export function textAttr(
  perm: number,
  show?: () => string,
  store?: (text: string, len: number) => void,
): EmuNode {
  return {
    type: 'file',
    perm,
    size: () => SIMPLE_ATTR_SIZE,
    open() {
      let page: Uint8Array | undefined;
      return {
        read(offset, count) {
          if (!show) fail('EINVAL');
          page ??= new Uint8Array(Buffer.from(show(), 'utf8'));
          return slice(page, offset, count);
        },
        write(_offset, data) {
          if (!store) fail('EINVAL');
          const copied = data.subarray(0, SIMPLE_ATTR_SIZE - 1);
          if (copied.length === 0) return 0;
          page = undefined;
          store(Buffer.from(copied).toString('latin1'), copied.length);
          return copied.length;
        },
        release: () => undefined,
      };
    },
  };
}

/**
 * A configfs binary attribute (configfs_bin_read_iter / configfs_bin_write_iter): writes
 * accumulate in a per-file buffer of at most `maxSize` bytes (EFBIG beyond) that is handed
 * to `commit` when the file is released, whose result is ignored as the kernel ignores it;
 * the first read asks `produce` for the whole blob and later reads page through that copy;
 * reading and writing the same open file is ETXTBSY.
 */
export function binAttr(
  perm: number,
  maxSize: number,
  produce?: () => Uint8Array,
  commit?: (data: Uint8Array) => void,
): EmuNode {
  return {
    type: 'file',
    perm,
    size: () => 0,
    open() {
      let reading = false;
      let writing = false;
      let blob: Uint8Array | undefined;
      let buf = new Uint8Array(0);
      return {
        read(offset, count) {
          if (writing) fail('ETXTBSY');
          reading = true;
          if (!blob) {
            if (!produce) fail('EINVAL');
            const data = produce();
            if (data.length === 0) return data;
            if (data.length > maxSize) fail('EFBIG');
            blob = data;
          }
          return slice(blob, offset, count);
        },
        write(offset, data) {
          if (data.length === 0) return 0;
          if (reading) fail('ETXTBSY');
          writing = true;
          const end = offset + data.length;
          if (end > buf.length) {
            if (end > maxSize) fail('EFBIG');
            const grown = new Uint8Array(end);
            grown.set(buf);
            buf = grown;
          }
          buf.set(data, offset);
          return data.length;
        },
        release() {
          if (!writing || !commit) return;
          try {
            commit(buf);
          } catch {
            // "result of ->release() is ignored" (configfs_release_bin_file).
          }
        },
      };
    },
  };
}

/**
 * A sysfs binary attribute of fixed size: reads return the bytes at the offset; a write
 * must be exactly `size` bytes at offset 0 (else EINVAL) and is applied at once.
 */
export function registerAttr(
  perm: number,
  size: number,
  value: () => Uint8Array,
  extend?: (data: Uint8Array) => void,
): EmuNode {
  return {
    type: 'file',
    perm,
    size: () => size,
    open: () => ({
      read: (offset, count) => slice(value(), offset, count),
      write(offset, data) {
        if (!extend) fail('EACCES');
        if (offset !== 0 || data.length !== size) fail('EINVAL');
        extend(data);
        return data.length;
      },
      release: () => undefined,
    }),
  };
}

/** A read-only regular file of fixed content (an ACPI table's data under sysfs). */
export function blobFile(perm: number, bytes: Uint8Array): EmuNode {
  return {
    type: 'file',
    perm,
    size: () => bytes.length,
    open: () => ({
      read: (offset, count) => slice(bytes, offset, count),
      write: () => fail('EACCES'),
      release: () => undefined,
    }),
  };
}

/** A misc character device: no read or write methods (EINVAL), ioctls to `ioctl`. */
export function charDevice(ioctl: (req: IoctlRequest) => IoctlAnswer): EmuNode {
  return {
    type: 'chr',
    perm: 0o600,
    size: () => 0,
    open: () => ({
      read: () => fail('EINVAL'),
      write: () => fail('EINVAL'),
      release: () => undefined,
      ioctl,
    }),
  };
}
