/**
 * The shim's Unix sockets (local API, SPIFFE Workload API): created owner-only, then opened to
 * one group when asked. The umask covers the instant between bind and chmod, so the socket is
 * never reachable by others.
 *
 * @internal
 * @module
 */
import { chmodSync, chownSync, rmSync } from 'node:fs';

/**
 * Replaces a stale socket file at `path`, runs `listen` (which binds it) under an owner-only
 * umask, and leaves the socket 0600, or 0660 owned by `gid` when given.
 */
export async function bindShimSocket(
  path: string,
  gid: number | undefined,
  listen: () => Promise<void>,
): Promise<void> {
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
}
