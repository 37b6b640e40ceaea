/**
 * C2SP signed notes (c2sp.org/signed-note), the envelope of transparency-log checkpoints:
 * a UTF-8 text ending in a newline, a blank line, then signature lines
 * `— <key name> base64(uint32 key ID ‖ signature)`. Only Ed25519 (signature type `0x01`)
 * keys are read — the type `golang.org/x/mod/sumdb/note` and most checkpoint tooling verify —
 * in the verifier-key text form `<name>+<hex key ID>+base64(0x01 ‖ 32-byte public key)`,
 * key ID = `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]`.
 *
 * @internal
 * @module
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { TwiError } from '../common/errors.js';

/**
 * Stable codes of {@link NoteError}:
 * - `ERR_NOTE_MALFORMED`: not a signed note (encoding, control characters, no signature block,
 *   a bad signature line, more than {@link MAX_NOTE_SIGNATURES} signatures, oversized);
 * - `ERR_NOTE_KEY_INVALID`: a verifier key that is not `<name>+<hex id>+<base64 key>` of an
 *   Ed25519 key with the matching key ID;
 * - `ERR_NOTE_SIGNATURE_INVALID`: a signature from a known key (name and key ID) that does
 *   not verify;
 * - `ERR_NOTE_UNVERIFIED`: no signature from a known key.
 */
export type NoteCode =
  | 'ERR_NOTE_MALFORMED'
  | 'ERR_NOTE_KEY_INVALID'
  | 'ERR_NOTE_SIGNATURE_INVALID'
  | 'ERR_NOTE_UNVERIFIED';

/** A signed note or note key that cannot be used. */
export class NoteError extends TwiError {
  override readonly code: NoteCode;

  constructor(code: NoteCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Signature type byte of Ed25519 (c2sp.org/signed-note "Signature types"). */
export const NOTE_ED25519 = 0x01;
/** Most signature lines read (the limit of x/mod/sumdb/note; the spec asks for at least 16). */
export const MAX_NOTE_SIGNATURES = 100;
/** Largest note read, in bytes. */
export const MAX_NOTE_BYTES = 1 << 20;

const SIG_PREFIX = '\u2014 ';
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** An Ed25519 note verifier key. */
export interface NoteVerifierKey {
  readonly name: string;
  /** uint32 key ID. */
  readonly keyId: number;
  readonly publicKey: KeyObject;
}

/** One signature line of a note. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  /** The signature bytes after the key ID. */
  readonly signature: Uint8Array;
}

/** A note split into its text and signatures (nothing verified). */
export interface ParsedNote {
  /** The signed text, final newline included. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** A note with at least one signature from a known key verified. */
export interface OpenedNote extends ParsedNote {
  /** The known keys whose signature verified. */
  readonly verifiedBy: readonly NoteVerifierKey[];
}

const malformed = (m: string): NoteError => new NoteError('ERR_NOTE_MALFORMED', m);
const badKey = (m: string): NoteError => new NoteError('ERR_NOTE_KEY_INVALID', m);

/** Key names: non-empty, no Unicode space, no `+`. */
export function isValidKeyName(name: string): boolean {
  return name !== '' && !/[\p{White_Space}+]/u.test(name);
}

/** `SHA-256(name ‖ 0x0A ‖ type ‖ key)[:4]` as a uint32. */
export function noteKeyId(name: string, type: number, key: Uint8Array): number {
  const h = createHash('sha256')
    .update(name)
    .update(Buffer.from([0x0a, type]))
    .update(key);
  return h.digest().readUInt32BE(0);
}

function rawEd25519(publicKey: KeyObject): Buffer {
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new TypeError('not an Ed25519 key');
  return publicKey.export({ format: 'der', type: 'spki' }).subarray(ED25519_SPKI_PREFIX.length);
}

const hex8 = (id: number): string => id.toString(16).padStart(8, '0');

/** The verifier-key text `<name>+<hex key ID>+base64(0x01 ‖ public key)`. */
export function formatVerifierKey(name: string, publicKey: KeyObject): string {
  if (!isValidKeyName(name)) throw new TypeError(`bad note key name ${JSON.stringify(name)}`);
  const key = Buffer.concat([Buffer.from([NOTE_ED25519]), rawEd25519(publicKey)]);
  return `${name}+${hex8(noteKeyId(name, NOTE_ED25519, rawEd25519(publicKey)))}+${key.toString('base64')}`;
}

/** The verifier key of an Ed25519 public key under `name`. */
export function noteVerifierKey(name: string, publicKey: KeyObject): NoteVerifierKey {
  return parseVerifierKey(formatVerifierKey(name, publicKey));
}

/**
 * Parses a verifier key `<name>+<hex key ID>+<base64 key>`.
 *
 * @throws {NoteError} `ERR_NOTE_KEY_INVALID`.
 */
export function parseVerifierKey(text: string): NoteVerifierKey {
  const m = /^([^+]*)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+={0,2})$/.exec(text);
  if (!m || !isValidKeyName(m[1]!)) throw badKey('not <name>+<hex key id>+<base64 key>');
  const [, name, idHex, b64] = m as unknown as [string, string, string, string];
  const key = Buffer.from(b64, 'base64');
  if (key.toString('base64') !== b64) throw badKey('the key is not canonical base64');
  if (key[0] !== NOTE_ED25519 || key.length !== 33) {
    throw badKey('only Ed25519 keys (type 0x01, 32 bytes) are supported');
  }
  const keyId = Number.parseInt(idHex, 16);
  if (noteKeyId(name, NOTE_ED25519, key.subarray(1)) !== keyId) {
    throw badKey('the key ID is not the hash of the name and key');
  }
  const publicKey = createPublicKey({
    key: Buffer.concat([ED25519_SPKI_PREFIX, key.subarray(1)]),
    format: 'der',
    type: 'spki',
  });
  return { name, keyId, publicKey };
}

function checkCharacters(note: string): void {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f]/.test(note)) {
    throw malformed('control characters other than newline');
  }
}

function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(SIG_PREFIX)) throw malformed('a signature line does not start with "— "');
  const rest = line.slice(SIG_PREFIX.length);
  const space = rest.indexOf(' ');
  const name = space < 0 ? rest : rest.slice(0, space);
  const b64 = space < 0 ? '' : rest.slice(space + 1);
  const bytes = Buffer.from(b64, 'base64');
  if (
    !isValidKeyName(name) ||
    !/^[A-Za-z0-9+/]+={0,2}$/.test(b64) ||
    bytes.toString('base64') !== b64 ||
    bytes.length < 5
  ) {
    throw malformed(`bad signature line for ${JSON.stringify(name)}`);
  }
  return { name, keyId: bytes.readUInt32BE(0), signature: new Uint8Array(bytes.subarray(4)) };
}

/**
 * Splits a signed note into text and signature lines, checking the syntax only.
 *
 * @throws {NoteError} `ERR_NOTE_MALFORMED`.
 */
export function parseNote(input: string | Uint8Array): ParsedNote {
  let note: string;
  if (typeof input === 'string') note = input;
  else {
    if (input.length > MAX_NOTE_BYTES) throw malformed(`larger than ${MAX_NOTE_BYTES} bytes`);
    try {
      note = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
    } catch {
      throw malformed('not UTF-8');
    }
  }
  if (Buffer.byteLength(note) > MAX_NOTE_BYTES) throw malformed('too large');
  checkCharacters(note);
  // The text ends at the last blank line (c2sp.org/signed-note "Format").
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw malformed('no blank line before the signatures');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block === '' || !block.endsWith('\n')) throw malformed('no newline-terminated signatures');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) {
    throw malformed(`more than ${MAX_NOTE_SIGNATURES} signatures`);
  }
  return { text, signatures: lines.map(parseSignatureLine) };
}

/**
 * Parses a note and verifies the signatures of the known keys: signatures from unknown keys
 * (name or key ID not both matching) are ignored; one failing known-key signature rejects the
 * note; at least one must verify.
 *
 * @throws {NoteError} `ERR_NOTE_MALFORMED`, `ERR_NOTE_SIGNATURE_INVALID`, `ERR_NOTE_UNVERIFIED`.
 */
export function openNote(
  input: string | Uint8Array,
  known: readonly NoteVerifierKey[],
): OpenedNote {
  const note = parseNote(input);
  const data = Buffer.from(note.text, 'utf8');
  const verifiedBy: NoteVerifierKey[] = [];
  for (const s of note.signatures) {
    const key = known.find((k) => k.name === s.name && k.keyId === s.keyId);
    if (!key || verifiedBy.includes(key)) continue;
    if (s.signature.length !== 64 || !verify(null, data, key.publicKey, s.signature)) {
      throw new NoteError(
        'ERR_NOTE_SIGNATURE_INVALID',
        `the signature of ${s.name}+${hex8(s.keyId)} does not verify`,
      );
    }
    verifiedBy.push(key);
  }
  if (verifiedBy.length === 0) {
    throw new NoteError('ERR_NOTE_UNVERIFIED', 'no signature from a known key');
  }
  return { ...note, verifiedBy };
}

/** An Ed25519 note signer. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  readonly privateKey: KeyObject;
}

/** The signer of an Ed25519 private key under `name`. */
export function noteSigner(name: string, privateKey: KeyObject): NoteSigner {
  const { keyId } = noteVerifierKey(name, createPublicKey(privateKey));
  return { name, keyId, privateKey };
}

/** Signs `text` (which must end in a newline) with each signer; returns the note. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  if (!text.endsWith('\n')) throw new TypeError('a note text ends in a newline');
  checkCharacters(text);
  const lines = signers.map((s) => {
    const id = Buffer.alloc(4);
    id.writeUInt32BE(s.keyId, 0);
    const sig = sign(null, Buffer.from(text, 'utf8'), s.privateKey);
    return `${SIG_PREFIX}${s.name} ${Buffer.concat([id, sig]).toString('base64')}\n`;
  });
  return `${text}\n${lines.join('')}`;
}
