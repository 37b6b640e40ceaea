/**
 * Verifier storage: {@link openStore} picks the implementation from a URL.
 *
 * - `postgres://...` or `postgresql://...` → {@link openPostgresStore}
 * - `sqlite:PATH`, `sqlite://PATH` or a plain path → {@link openSqliteStore}
 *
 * @module
 */

import { openPostgresStore, type PostgresStoreOptions } from './postgres-store.js';
import { openSqliteStore } from './sqlite-store.js';
import type { Store } from './types.js';

/** How a store URL is interpreted. @internal */
export type StoreTarget = { kind: 'postgres'; url: string } | { kind: 'sqlite'; file: string };

/** Classify a store URL without opening anything. @internal */
export function parseStoreUrl(url: string): StoreTarget {
  if (/^postgres(ql)?:\/\//i.test(url)) return { kind: 'postgres', url };
  if (/^sqlite:\/\//i.test(url)) return { kind: 'sqlite', file: url.slice('sqlite://'.length) };
  if (/^sqlite:/i.test(url)) return { kind: 'sqlite', file: url.slice('sqlite:'.length) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new TypeError(`unsupported store URL scheme in ${JSON.stringify(url.split('://')[0])}`);
  }
  if (url === '') throw new TypeError('empty store URL');
  return { kind: 'sqlite', file: url };
}

/**
 * Open the store named by `url` (see the module notes for the accepted forms). `options.kek`
 * is the key-encryption key private keys are sealed under: required for PostgreSQL once keys
 * are stored; for SQLite it defaults to the `kek` file beside the database (see
 * {@link SqliteStoreOptions.kek}).
 *
 * @throws {TypeError} for an unsupported scheme.
 * @throws {StoreUnavailableError} when the database cannot be opened or migrated.
 * @throws {KekError} when the KEK is missing, wrong or unusable.
 * @example
 * ```ts
 * const store = await openStore('sqlite:.twi/twi.db', { kek: readKekFile('/run/secrets/kek') });
 * ```
 */
export function openStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const target = parseStoreUrl(url);
  return target.kind === 'postgres'
    ? openPostgresStore(target.url, options)
    : openSqliteStore(target.file, options.kek === undefined ? {} : { kek: options.kek });
}
