/**
 * Persistence for the caching layer: the {@link EndorsementStore} interface and a directory
 * implementation (one JSON file per request key, written atomically).
 *
 * @internal
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { EndorsementInvalidError } from '../../common/errors.js';
import { decodeRecord, encodeRecord, recordedSource } from './codec.js';
import type { EndorsementVerifier } from './types.js';
import type { Endorsement } from '../../verifier/verify/endorsement-provider.js';

/**
 * Where the caching layer keeps endorsements between runs. `load` returns entries it has
 * re-verified, with the `source` they were recorded with.
 */
export interface EndorsementStore {
  /**
   * The entry for `key`, re-verified at `now`; `undefined` when there is none.
   *
   * @throws `EndorsementInvalidError` when an entry exists but does not decode or verify.
   */
  load(key: string, now: Date): Promise<Endorsement | undefined>;
  /** Saves (replaces) the entry for the endorsement's request key. */
  save(endorsement: Endorsement): Promise<void>;
  /** Every key the store holds, sorted. */
  keys(): Promise<string[]>;
  /** Forgets a key (no error when absent). */
  remove(key: string): Promise<void>;
}

/** Options of {@link createDirectoryStore}. */
export interface DirectoryStoreOptions {
  /** Mandatory: re-verifies every entry read from disk (the directory is not trusted). */
  readonly verify: EndorsementVerifier;
  /** Largest file read. Default 4 MiB (a base64 body under the fetcher's 1 MiB cap fits). */
  readonly maxFileBytes?: number;
}

const FORMAT = 'twi-endorsement/1';
const SUFFIX = '.json';

/**
 * A store in a directory: `<encodeURIComponent(key)>.json` holding `{ format, key, request,
 * body (base64), issuerChain?, sha256, fetchedAt, nextUpdate, source }`. Writes go to a
 * hidden temporary file that is synced and then renamed over the target, so a crash leaves
 * the old file or the new one, never a partial one. Reads check size, shape, key and SHA-256
 * and run `verify`.
 *
 * @throws TypeError when `options.verify` is missing.
 * @example
 * ```ts
 * const store = createDirectoryStore('/var/cache/twi/endorsements', { verify: verifyCollateral });
 * const provider = createCachingProvider(createPcsProvider(fetcher), { store });
 * ```
 */
export function createDirectoryStore(
  dir: string,
  options: DirectoryStoreOptions,
): EndorsementStore {
  if (typeof options?.verify !== 'function') {
    throw new TypeError(
      'createDirectoryStore needs a verify hook: entries on disk are re-verified',
    );
  }
  const { verify } = options;
  const maxFileBytes = options.maxFileBytes ?? 4 << 20;
  const pathOf = (key: string): string => join(dir, encodeURIComponent(key) + SUFFIX);
  return {
    async load(key, now) {
      const text = await readBounded(pathOf(key), maxFileBytes);
      if (text === undefined) return undefined;
      const e = decodeStored(key, text);
      try {
        await verify(e, now);
      } catch (err) {
        throw new EndorsementInvalidError(`stored ${key} does not verify: ${message(err)}`, {
          cause: err,
        });
      }
      return e;
    },
    async save(e) {
      const record = { format: FORMAT, ...encodeRecord(e, true) };
      await mkdir(dir, { recursive: true });
      await writeAtomic(pathOf(record.key), JSON.stringify(record, null, 1) + '\n');
    },
    async keys() {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
      return names
        .filter((n) => n.endsWith(SUFFIX) && !n.startsWith('.'))
        .map((n) => keyOfFileName(n.slice(0, -SUFFIX.length)))
        .filter((k): k is string => k !== undefined)
        .sort();
    },
    async remove(key) {
      await unlink(pathOf(key)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    },
  };
}

/** The key a file name encodes; `undefined` for names this store did not write. */
function keyOfFileName(stem: string): string | undefined {
  try {
    const key = decodeURIComponent(stem);
    return encodeURIComponent(key) === stem ? key : undefined;
  } catch {
    return undefined;
  }
}

function decodeStored(key: string, text: string): Endorsement {
  try {
    const json = JSON.parse(text) as { format?: unknown; key?: unknown };
    if (json?.format !== FORMAT) throw new Error(`format is not ${FORMAT}`);
    if (json.key !== key) throw new Error(`holds ${String(json.key)}`);
    return decodeRecord(json, recordedSource(json) ?? 'cache');
  } catch (err) {
    throw new EndorsementInvalidError(`stored ${key} is unreadable: ${message(err)}`, {
      cause: err,
    });
  }
}

async function readBounded(path: string, max: number): Promise<string | undefined> {
  try {
    const st = await stat(path);
    if (st.size > max) {
      throw new EndorsementInvalidError(`${path}: ${st.size} bytes is over ${max}`);
    }
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** write + fsync a hidden temporary file in the same directory, then rename it over `path`. */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(tmp, 'wx', 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
