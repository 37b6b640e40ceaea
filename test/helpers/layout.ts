/**
 * The top-level folders of product code, in layering order (ARCHITECTURE "Modules (layout
 * v2)"): the tests that walk the tree (import graph, public surface, documentation paths,
 * media-type literals) share this one list.
 *
 * @module
 */

/** Product folders, lowest layer first; `index.ts` beside them is the `twi` face. */
export const PRODUCT_FOLDERS: readonly string[] = [
  'common',
  'wire',
  'wimse',
  'native',
  'verifier',
  'endorsements',
  'provenance',
  'service',
  'shim',
  'simulators',
  'cli',
];
