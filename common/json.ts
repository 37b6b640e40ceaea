/**
 * JSON value types shared by every folder.
 *
 * @internal
 * @module
 */

/** Any JSON value. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
