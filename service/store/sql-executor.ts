/**
 * The small database surface both store implementations provide to the shared SQL
 * operations in `sql-store.ts`. SQL is written with PostgreSQL-style `$1` placeholders;
 * the SQLite executor rewrites them.
 *
 * @internal
 * @module
 */

/** Parameter value accepted by both drivers. */
export type SqlParam = string | number | null;

/** One result row, column name to value (PostgreSQL returns BIGINT as string). */
export type SqlRow = Record<string, unknown>;

/** Runs statements on one database (or inside one transaction). */
export interface SqlExecutor {
  /** Run a statement and return its rows (SELECT or `... RETURNING`). */
  query(sql: string, params?: readonly SqlParam[]): Promise<SqlRow[]>;
  /** Run a statement and return the number of rows it changed. */
  run(sql: string, params?: readonly SqlParam[]): Promise<number>;
}

/** An executor that owns a database and can open transactions. */
export interface SqlDatabase extends SqlExecutor {
  /**
   * Run `body` in one transaction: committed when it resolves, rolled back when it
   * rejects. `lockKey`, when given, serialises transactions that use the same key
   * across every process sharing the database (held until commit).
   */
  transaction<T>(body: (tx: SqlExecutor) => Promise<T>, lockKey?: number): Promise<T>;
  /** Whether `err` is a primary-key / unique constraint violation. */
  isUniqueViolation(err: unknown): boolean;
  /** Release the database. */
  close(): Promise<void>;
}

/**
 * Rewrite `$n` placeholders to positional `?` and order the parameters to match, so one
 * SQL text serves both dialects.
 */
export function toPositional(
  sql: string,
  params: readonly SqlParam[],
): { sql: string; params: SqlParam[] } {
  const ordered: SqlParam[] = [];
  const text = sql.replace(/\$(\d+)/g, (_match, digits: string) => {
    const index = Number(digits) - 1;
    if (index < 0 || index >= params.length) {
      throw new TypeError(`placeholder $${digits} has no parameter`);
    }
    ordered.push(params[index]!);
    return '?';
  });
  return { sql: text, params: ordered };
}

/** Read an integer column that a driver may return as number, bigint or string. */
export function toInt(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint' || typeof value === 'string') return Number(value);
  throw new TypeError(`expected an integer column, got ${typeof value}`);
}

/** Read a nullable instant column (milliseconds) as a `Date`. */
export function toDate(value: unknown): Date | undefined {
  return value === null || value === undefined ? undefined : new Date(toInt(value));
}
