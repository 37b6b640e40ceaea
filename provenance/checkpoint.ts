/**
 * C2SP transparency-log checkpoints (c2sp.org/tlog-checkpoint): a signed note whose text is
 * `<origin>\n<tree size>\n<base64 root hash>\n` plus optional non-empty extension lines. The
 * log signs its checkpoints with an Ed25519 key named after the origin; that key is derived
 * from the stored RFC 9162 log key (HKDF-SHA256), so every instance sharing the store signs
 * with the same key and nothing new is stored.
 *
 * @internal
 * @module
 */
import { createPrivateKey, createPublicKey, hkdfSync, type KeyObject } from 'node:crypto';
import { HASH_SIZE } from './merkle.js';
import { SIGNED_NOTE_MEDIA_TYPE } from '../wire/media-types.js';
import {
  formatVerifierKey,
  isValidKeyName,
  NoteError,
  noteSigner,
  openNote,
  parseVerifierKey,
  signNote,
  type NoteSigner,
  type NoteVerifierKey,
} from './signed-note.js';
import type { LogKey } from './tree-head.js';

/** Media type of `GET /v1/log/checkpoint` and `GET /v1/log/note-key`. */
export const CHECKPOINT_MEDIA_TYPE = SIGNED_NOTE_MEDIA_TYPE;

/** The three mandatory lines of a checkpoint and its extension lines. */
export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
  readonly extensions: readonly string[];
}

/** A checkpoint whose log signature verified, and the keys that signed it. */
export interface VerifiedCheckpoint extends Checkpoint {
  readonly signers: readonly string[];
}

/** The log's checkpoint signer and its published verifier key. */
export interface CheckpointKey {
  readonly signer: NoteSigner;
  readonly publicKey: KeyObject;
  /** `<origin>+<hex key ID>+<base64(0x01 ‖ key)>`. */
  readonly verifierKey: string;
}

const malformed = (m: string): NoteError => new NoteError('ERR_NOTE_MALFORMED', `checkpoint: ${m}`);
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const HKDF_SALT = 'twi provenance log';
const HKDF_INFO = 'c2sp.org/tlog-checkpoint ed25519 v1';

/**
 * The default origin: the issuer's host and path, without scheme, then `/twi/provenance`
 * (`https://verifier.example` → `verifier.example/twi/provenance`).
 */
export function defaultCheckpointOrigin(issuer: string): string {
  const url = new URL(issuer);
  return `${url.host}${url.pathname.replace(/\/+$/, '')}/twi/provenance`;
}

/**
 * The checkpoint key of the log: Ed25519 from HKDF-SHA256 over the log key's private scalar,
 * named `origin`.
 *
 * @throws {TypeError} when `origin` is not a valid key name (empty, spaces or `+`).
 */
export function checkpointKeyOf(logKey: LogKey, origin: string): CheckpointKey {
  if (!isValidKeyName(origin)) {
    throw new TypeError(`checkpoint origin ${JSON.stringify(origin)}: no spaces or "+"`);
  }
  const d = Buffer.from(String(logKey.privateKey.export({ format: 'jwk' }).d), 'base64url');
  const seed = Buffer.from(hkdfSync('sha256', d, HKDF_SALT, HKDF_INFO, 32));
  const privateKey = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = createPublicKey(privateKey);
  return {
    signer: noteSigner(origin, privateKey),
    publicKey,
    verifierKey: formatVerifierKey(origin, publicKey),
  };
}

/** The checkpoint text (note body). */
export function formatCheckpoint(c: Checkpoint): string {
  if (c.origin === '' || /\n/.test(c.origin)) throw new TypeError('bad origin');
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw new RangeError('bad tree size');
  if (c.root.length !== HASH_SIZE) throw new RangeError('root hash must be 32 bytes');
  if (c.extensions.some((l) => l === '' || /\n/.test(l))) throw new TypeError('bad extension');
  const lines = [c.origin, String(c.size), Buffer.from(c.root).toString('base64'), ...c.extensions];
  return `${lines.join('\n')}\n`;
}

/** Signs the checkpoint of a tree of `size` leaves with root `root`. */
export function signCheckpoint(key: CheckpointKey, size: number, root: Uint8Array): string {
  const text = formatCheckpoint({ origin: key.signer.name, size, root, extensions: [] });
  return signNote(text, [key.signer]);
}

/**
 * Parses a checkpoint text (the note text, final newline included).
 *
 * @throws {NoteError} `ERR_NOTE_MALFORMED` naming the bad line.
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw malformed('the text does not end in a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw malformed('fewer than three lines');
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string];
  if (origin === '') throw malformed('empty origin');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine)) throw malformed('the tree size is not decimal');
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) throw malformed('the tree size is beyond 2^53 - 1');
  const root = Buffer.from(rootLine, 'base64');
  if (root.length !== HASH_SIZE || root.toString('base64') !== rootLine) {
    throw malformed('the root hash is not 32 bytes of base64');
  }
  if (extensions.some((l) => l === '')) throw malformed('an empty extension line');
  return { origin, size, root: new Uint8Array(root), extensions };
}

/** Options of {@link verifyCheckpoint}. */
export interface CheckpointExpectations {
  /** The origin the checkpoint must name; unset: the first key's name. */
  readonly origin?: string;
}

/**
 * Verifies a checkpoint note with the log's verifier key(s) (objects or text form); other
 * signatures (witnesses, unknown keys) are ignored.
 *
 * @throws {NoteError} `ERR_NOTE_KEY_INVALID`, `ERR_NOTE_MALFORMED` (also for an origin other
 *   than the expected one), `ERR_NOTE_SIGNATURE_INVALID`, `ERR_NOTE_UNVERIFIED`.
 *
 * @example
 * ```ts
 * const note = await (await fetch(`${url}/v1/log/checkpoint`)).text();
 * const vkey = await (await fetch(`${url}/v1/log/note-key`)).text();
 * const { origin, size, root } = verifyCheckpoint(note, [vkey]);
 * ```
 */
export function verifyCheckpoint(
  note: string | Uint8Array,
  keys: readonly (string | NoteVerifierKey)[],
  expect: CheckpointExpectations = {},
): VerifiedCheckpoint {
  const known = keys.map((k) => (typeof k === 'string' ? parseVerifierKey(k.trim()) : k));
  if (known.length === 0) throw new TypeError('no verifier key given');
  const opened = openNote(note, known);
  const checkpoint = parseCheckpoint(opened.text);
  const origin = expect.origin ?? known[0]!.name;
  if (checkpoint.origin !== origin) {
    throw malformed(`origin ${JSON.stringify(checkpoint.origin)} is not ${JSON.stringify(origin)}`);
  }
  return { ...checkpoint, signers: opened.verifiedBy.map((k) => k.name) };
}
