/**
 * The builder-key configuration file of `twi serve --builder-keys FILE`: a JSON array of
 * `{ "keyid"?: string, "builder_ids": [string…], "key": SPKI PEM | public JWK }`.
 *
 * @internal
 * @module
 */
import type { JsonWebKey } from 'node:crypto';
import { builderKey, type BuilderKey } from './dsse.js';

/**
 * Reads builder keys from the parsed configuration.
 *
 * @throws TypeError naming the entry that is not usable.
 *
 * @example
 * ```ts
 * parseBuilderKeys([{ builder_ids: ['https://ci.example/v1'], key: pem }]);
 * ```
 */
export function parseBuilderKeys(json: unknown): BuilderKey[] {
  if (!Array.isArray(json)) throw new TypeError('builder keys: expected a JSON array');
  return json.map((entry: unknown, i) => {
    const e = entry as { keyid?: unknown; builder_ids?: unknown; key?: unknown };
    const ids = e?.builder_ids;
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string' && id !== '')) {
      throw new TypeError(`builder keys[${i}]: builder_ids must be an array of strings`);
    }
    if (e.keyid !== undefined && (typeof e.keyid !== 'string' || e.keyid === '')) {
      throw new TypeError(`builder keys[${i}]: keyid must be a non-empty string`);
    }
    if (typeof e.key !== 'string' && (typeof e.key !== 'object' || e.key === null)) {
      throw new TypeError(`builder keys[${i}]: key must be a PEM string or a JWK`);
    }
    try {
      return builderKey(
        e.key as string | JsonWebKey,
        ids as string[],
        e.keyid as string | undefined,
      );
    } catch (err) {
      throw new TypeError(`builder keys[${i}]: ${(err as Error).message}`);
    }
  });
}
