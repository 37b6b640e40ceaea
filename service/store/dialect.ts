/**
 * The SQL dialects the store speaks; a leaf module so that the migration files and the
 * schema list can share it without importing each other.
 *
 * @internal
 * @module
 */

/** Which SQL the statements are written for. */
export type Dialect = 'sqlite' | 'postgres';
