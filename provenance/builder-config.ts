/**
 * The builder configuration file of `twi serve --builder-keys FILE`: a JSON array whose
 * entries are either a key builder
 * `{ "keyid"?: string, "builder_ids": [string…], "key": SPKI PEM | public JWK }` (plain DSSE
 * envelopes) or a keyless Sigstore identity
 * `{ "builder_ids": [string…], "sigstore": { "issuer": URL, "subject": SAN } }` (or
 * `"subject_regexp"`: a pattern the whole SAN must match) for Sigstore bundles.
 *
 * @internal
 * @module
 */
import type { JsonWebKey } from 'node:crypto';
import { builderKey, type BuilderKey } from './dsse.js';
import {
  sigstoreIdentity,
  sigstoreTrust,
  type SigstoreIdentity,
  type SigstoreTrust,
} from './sigstore.js';

/** The builders of a configuration file. */
export interface BuilderConfig {
  readonly keys: BuilderKey[];
  readonly identities: SigstoreIdentity[];
}

/**
 * Reads key builders and Sigstore identities from the parsed configuration.
 *
 * @throws TypeError naming the entry that is not usable.
 *
 * @example
 * ```ts
 * parseBuilderConfig([
 *   { builder_ids: ['https://ci.example/v1'], key: pem },
 *   {
 *     builder_ids: ['https://github.com/actions/runner'],
 *     sigstore: {
 *       issuer: 'https://token.actions.githubusercontent.com',
 *       subject: 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
 *     },
 *   },
 * ]);
 * ```
 */
export function parseBuilderConfig(json: unknown): BuilderConfig {
  if (!Array.isArray(json)) throw new TypeError('builder keys: expected a JSON array');
  const keys: BuilderKey[] = [];
  const identities: SigstoreIdentity[] = [];
  json.forEach((entry: unknown, i) => {
    const e = entry as {
      keyid?: unknown;
      builder_ids?: unknown;
      key?: unknown;
      sigstore?: unknown;
    };
    const ids = e?.builder_ids;
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string' && id !== '')) {
      throw new TypeError(`builder keys[${i}]: builder_ids must be an array of strings`);
    }
    if ((e.key === undefined) === (e.sigstore === undefined)) {
      throw new TypeError(`builder keys[${i}]: give exactly one of key and sigstore`);
    }
    if (e.sigstore !== undefined) {
      if (e.keyid !== undefined) throw new TypeError(`builder keys[${i}]: keyid needs a key`);
      try {
        identities.push(sigstoreIdentity(e.sigstore, ids as string[]));
      } catch (err) {
        throw new TypeError(`builder keys[${i}]: ${(err as Error).message}`);
      }
      return;
    }
    if (e.keyid !== undefined && (typeof e.keyid !== 'string' || e.keyid === '')) {
      throw new TypeError(`builder keys[${i}]: keyid must be a non-empty string`);
    }
    if (typeof e.key !== 'string' && (typeof e.key !== 'object' || e.key === null)) {
      throw new TypeError(`builder keys[${i}]: key must be a PEM string or a JWK`);
    }
    try {
      keys.push(
        builderKey(e.key as string | JsonWebKey, ids as string[], e.keyid as string | undefined),
      );
    } catch (err) {
      throw new TypeError(`builder keys[${i}]: ${(err as Error).message}`);
    }
  });
  return { keys, identities };
}

/**
 * The record trust of `twi serve`: the builders of a configuration (parsed JSON, or
 * `undefined` for none) and, when a Sigstore trusted root (parsed `trusted_root.json`) is
 * given, the Sigstore trust for bundles.
 *
 * @throws TypeError for an unusable entry, or Sigstore identities without a trusted root.
 */
export function builderTrust(
  config: unknown,
  trustedRoot: unknown,
): { builders: BuilderKey[]; sigstore?: SigstoreTrust } {
  const { keys, identities } =
    config === undefined ? { keys: [], identities: [] } : parseBuilderConfig(config);
  if (trustedRoot === undefined) {
    if (identities.length > 0) {
      throw new TypeError('builder keys: Sigstore identities need a Sigstore trusted root');
    }
    return { builders: keys };
  }
  return { builders: keys, sigstore: sigstoreTrust(trustedRoot, identities) };
}
