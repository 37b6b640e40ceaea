/**
 * The KEK tests open PostgreSQL stores with (SQLite stores default to a generated `kek` file
 * beside the database). Derived from a fixed label so that every test process agrees on it.
 */
import { createHash } from 'node:crypto';

/** A fixed 32-byte KEK for tests only. */
export const TEST_KEK: Buffer = createHash('sha256').update('twi test KEK, tests only').digest();
