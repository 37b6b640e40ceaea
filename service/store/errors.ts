/**
 * Store errors with stable codes. The HTTP service maps `ERR_STORE_DUPLICATE` to a
 * conflict and `ERR_STORE_UNAVAILABLE` to 503.
 *
 * @internal
 * @module
 */

import { TwiError } from '../../common/errors.js';

/** Base class of store errors. */
export class StoreError extends TwiError {
  override readonly code: string = 'ERR_STORE';
}

/** A row with the same key (nonce, jti or kid) already exists; nothing was written. */
export class StoreDuplicateError extends StoreError {
  override readonly code = 'ERR_STORE_DUPLICATE';
  /** Which collection: `nonce`, `credential` or `key`. */
  readonly entity: string;
  /** The duplicate key. */
  readonly key: string;

  constructor(entity: string, key: string, options?: ErrorOptions) {
    super(`${entity} ${JSON.stringify(key)} already exists`, options);
    this.entity = entity;
    this.key = key;
  }
}

/** The database cannot serve the request (unreachable, locked, closed, failed statement). */
export class StoreUnavailableError extends StoreError {
  override readonly code = 'ERR_STORE_UNAVAILABLE';
}

/** The database holds a schema version newer than this build understands. */
export class StoreSchemaError extends StoreError {
  override readonly code = 'ERR_STORE_SCHEMA';
}

/** Wrap an unexpected driver failure, keeping store errors as they are. */
export function unavailable(what: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new StoreUnavailableError(`${what}: ${detail}`, { cause: err });
}
