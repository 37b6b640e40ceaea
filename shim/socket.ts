/**
 * The shim's Unix sockets (local API, SPIFFE Workload API): created owner-only, then opened to
 * one group when asked. The umask covers the instant between bind and chmod, so the socket is
 * never reachable by others.
 *
 * @internal
 * @module
 */
import { chmodSync, chownSync, rmSync } from 'node:fs';

/** Who may connect besides the owner. */
export interface SocketAccess {
  /** Numeric group allowed to connect (mode 0660). */
  readonly gid?: number | undefined;
  /** Everyone (mode 0666): agent mode, which tells callers apart by their peer credentials. */
  readonly world?: boolean | undefined;
}

/**
 * Replaces a stale socket file at `path`, runs `listen` (which binds it) under an owner-only
 * umask, and leaves the socket 0600, 0660 owned by `access.gid`, or 0666 with `access.world`.
 */
export async function bindShimSocket(
  path: string,
  access: SocketAccess,
  listen: () => Promise<void>,
): Promise<void> {
  const { gid, world } = access;
  rmSync(path, { force: true });
  const old = process.umask(0o177);
  try {
    await listen();
  } finally {
    process.umask(old);
  }
  chmodSync(path, 0o600);
  if (gid !== undefined) {
    chownSync(path, -1, gid);
    chmodSync(path, 0o660);
  }
  if (world === true) chmodSync(path, 0o666);
}
