/**
 * Offline endorsement bundles, for verifiers that cannot reach Intel PCS or AMD KDS: one JSON
 * document carrying the exact collateral bytes, authenticated by a pinned hash or a
 * signature, imported whole or not at all.
 *
 * ```json
 * { "format": "twi-endorsements-bundle/1", "created": "2026-01-05T10:00:00.000Z",
 *   "entries": [{ "key", "request", "body": "<base64>", "issuerChain"?, "sha256",
 *                 "fetchedAt", "nextUpdate" }],
 *   "sha256": "<hex of the canonical JSON of entries>",
 *   "signature"?: "<compact JWS over { format, created, sha256 }>", "kid"?: "<RFC 7638>" }
 * ```
 *
 * @internal
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { TwiError } from '../common/errors.js';
import { canonicalJson } from '../common/canonical-json.js';
import { signSummary, verifySummary, type TrustedKey } from './bundle-signature.js';
import { sha256Hex } from '../common/bytes.js';
import { decodeRecord, encodeRecord, RecordFormatError } from './provider/codec.js';
import { type EndorsementVerifier } from './provider/types.js';
import { requestKey, type Endorsement } from '../verifier/verify/endorsement-provider.js';

/** The `format` of version 1 bundles. */
export const BUNDLE_FORMAT = 'twi-endorsements-bundle/1';

/** A bundle that is refused (as a whole). `entry` names the entry at fault, when one is. */
export class BundleInvalidError extends TwiError {
  override readonly code = 'ERR_BUNDLE_INVALID';
  readonly entry: string | undefined;

  constructor(message: string, entry?: string, options?: ErrorOptions) {
    super(entry === undefined ? message : `entry ${entry}: ${message}`, options);
    this.entry = entry;
  }
}

/** Options of {@link exportBundle}. */
export interface ExportBundleOptions {
  /** EC P-256 or P-384 private key: adds `signature` (ES256 / ES384) and `kid`. Default unsigned. */
  readonly signingKey?: KeyObject;
  /** The `created` instant. Default now. */
  readonly created?: Date;
}

/** An imported bundle: what {@link createOfflineProvider} takes. */
export interface ImportedBundle {
  readonly created: Date;
  /** The entries hash (what `--sha256` pins). */
  readonly sha256: string;
  /** Set when the signature was checked: the thumbprint of the key that verified it. */
  readonly kid?: string;
  /** Verified entries, source `'offline'`, sorted by key. */
  readonly entries: readonly Endorsement[];
}

/** Options of {@link importBundle}: `verify` and at least one of `trustedKeys` / `expectedSha256`. */
export interface ImportBundleOptions {
  /** Signed bundles: public keys (KeyObject or JWK) one of which must have signed it. */
  readonly trustedKeys?: readonly TrustedKey[];
  /** Hash-pinned bundles: the expected entries hash, lowercase or uppercase hex. */
  readonly expectedSha256?: string;
  /** Mandatory: re-verifies every entry at `now`. */
  readonly verify: EndorsementVerifier;
  /** The instant `verify` judges at. Default now. */
  readonly now?: Date;
  /** Largest bundle accepted. Default 64 MiB. */
  readonly maxBytes?: number;
}

/**
 * Serialises endorsements as a bundle (UTF-8 JSON bytes), entries sorted by request key,
 * optionally signed.
 *
 * @throws TypeError for two endorsements of one request, or a key that is not EC P-256/P-384.
 * @example
 * ```ts
 * const bytes = await exportBundle(endorsements, { signingKey: createPrivateKey(pem) });
 * writeFileSync('endorsements.json', bytes);
 * ```
 */
export async function exportBundle(
  endorsements: readonly Endorsement[],
  options: ExportBundleOptions = {},
): Promise<Uint8Array> {
  const entries = endorsements.map((e) => encodeRecord(e)).sort((a, b) => cmp(a.key, b.key));
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.key === entries[i - 1]!.key) {
      throw new TypeError(`two endorsements for ${entries[i]!.key}`);
    }
  }
  const created = (options.created ?? new Date()).toISOString();
  const sha256 = sha256Hex(canonicalJson(entries));
  const doc: Record<string, unknown> = { format: BUNDLE_FORMAT, created, entries, sha256 };
  if (options.signingKey) {
    const signed = await signSummary(
      { format: BUNDLE_FORMAT, created, sha256 },
      options.signingKey,
    );
    doc.signature = signed.jws;
    doc.kid = signed.kid;
  }
  return new TextEncoder().encode(JSON.stringify(doc, null, 1) + '\n');
}

/**
 * Checks and decodes a bundle: its entries hash, the pinned hash and/or the signature, then
 * every entry (shape, key, body SHA-256) and `verify` on each. Any failure refuses the whole
 * bundle with a {@link BundleInvalidError} naming the entry; nothing is returned half-checked.
 *
 * @throws TypeError when `verify` is missing, or neither `trustedKeys` nor `expectedSha256` is given.
 * @example
 * ```ts
 * const bundle = await importBundle(readFileSync('endorsements.json'), {
 *   trustedKeys: [createPublicKey(publisherPem)],
 *   verify: verifyCollateral,
 * });
 * const provider = createOfflineProvider(bundle);
 * ```
 */
export async function importBundle(
  bytes: Uint8Array,
  options: ImportBundleOptions,
): Promise<ImportedBundle> {
  checkImportOptions(options);
  const maxBytes = options.maxBytes ?? 64 << 20;
  if (bytes.byteLength > maxBytes) {
    throw new BundleInvalidError(`bundle is ${bytes.byteLength} bytes, over ${maxBytes}`);
  }
  const doc = parseDocument(bytes);
  const sha256 = sha256Hex(canonicalJson(doc.entries));
  if (sha256 !== doc.sha256) throw new BundleInvalidError('sha256 does not match the entries');
  if (options.expectedSha256 !== undefined && options.expectedSha256.toLowerCase() !== sha256) {
    throw new BundleInvalidError(`sha256 ${sha256} is not the pinned ${options.expectedSha256}`);
  }
  const kid = options.trustedKeys ? await checkSignature(doc) : undefined;
  const now = options.now ?? new Date();
  const entries = decodeEntries(doc.entries);
  for (const [i, e] of entries.entries()) {
    try {
      await options.verify(e, now);
    } catch (err) {
      const name = `#${i} (${requestKey(e.request)})`;
      throw new BundleInvalidError(`does not verify: ${messageOf(err)}`, name, { cause: err });
    }
  }
  return { created: new Date(doc.created), sha256, ...(kid ? { kid } : {}), entries };

  async function checkSignature(d: BundleDocument): Promise<string> {
    if (typeof d.signature !== 'string') throw new BundleInvalidError('bundle is not signed');
    let verified: Awaited<ReturnType<typeof verifySummary>>;
    try {
      verified = await verifySummary(d.signature, options.trustedKeys!);
    } catch (err) {
      if (err instanceof TypeError) throw err;
      throw new BundleInvalidError(messageOf(err), undefined, { cause: err });
    }
    const s = verified.summary;
    if (s?.format !== d.format || s.created !== d.created || s.sha256 !== d.sha256) {
      throw new BundleInvalidError('signature is over another bundle (format, created or sha256)');
    }
    if (d.kid !== undefined && d.kid !== verified.kid) {
      throw new BundleInvalidError(`kid ${String(d.kid)} is not the signing key's`);
    }
    return verified.kid;
  }
}

interface BundleDocument {
  readonly format: string;
  readonly created: string;
  readonly entries: readonly unknown[];
  readonly sha256: string;
  readonly signature?: unknown;
  readonly kid?: unknown;
}

function checkImportOptions(o: ImportBundleOptions): void {
  if (typeof o?.verify !== 'function') {
    throw new TypeError('importBundle needs a verify hook: bundle entries are re-verified');
  }
  const keys = o.trustedKeys;
  if (keys !== undefined && keys.length === 0) throw new TypeError('trustedKeys is empty');
  if (o.expectedSha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(o.expectedSha256)) {
    throw new TypeError('expectedSha256 must be 64 hex digits');
  }
  if (keys === undefined && o.expectedSha256 === undefined) {
    throw new TypeError(
      'importBundle needs trustedKeys or expectedSha256: bundles are authenticated',
    );
  }
}

function parseDocument(bytes: Uint8Array): BundleDocument {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as Record<
      string,
      unknown
    >;
  } catch (err) {
    throw new BundleInvalidError(`not JSON: ${messageOf(err)}`, undefined, { cause: err });
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new BundleInvalidError('not a JSON object');
  }
  if (doc.format !== BUNDLE_FORMAT) {
    throw new BundleInvalidError(`format is ${JSON.stringify(doc.format)}, not ${BUNDLE_FORMAT}`);
  }
  if (typeof doc.created !== 'string' || Number.isNaN(Date.parse(doc.created))) {
    throw new BundleInvalidError('created must be an ISO 8601 instant');
  }
  if (!Array.isArray(doc.entries)) throw new BundleInvalidError('entries must be an array');
  if (typeof doc.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(doc.sha256)) {
    throw new BundleInvalidError('sha256 must be 64 lowercase hex digits');
  }
  return doc as unknown as BundleDocument;
}

function decodeEntries(raw: readonly unknown[]): Endorsement[] {
  const seen = new Set<string>();
  return raw.map((value, i) => {
    const name = entryName(value, i);
    let e: Endorsement;
    try {
      e = decodeRecord(value, 'offline');
    } catch (err) {
      if (!(err instanceof RecordFormatError)) throw err;
      throw new BundleInvalidError(err.message, name, { cause: err });
    }
    const key = requestKey(e.request);
    if (seen.has(key)) throw new BundleInvalidError('appears twice', name);
    seen.add(key);
    return e;
  });
}

function entryName(value: unknown, index: number): string {
  const key = (value as { key?: unknown } | null)?.key;
  return typeof key === 'string' ? `#${index} (${key.slice(0, 200)})` : `#${index}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
