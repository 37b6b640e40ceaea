/**
 * The AttestationDocument map (SPEC-DIGEST B4.2): decoding with validation, and encoding from
 * fields plus encoding choices (definite or indefinite map, key order, head widths).
 *
 * @module
 */
import { EvidenceMalformedError } from '../../../common/errors.js';
import { CborReader, CborWriter, Major } from './cbor.js';
import type { HeadLog } from './cbor.js';
import { FIELD_CODECS } from './payload-fields.js';
import type { FieldReadContext } from './payload-fields.js';
import { NITRO_PAYLOAD_KEYS } from './types.js';
import type { NitroHeadWidths, NitroPayload, NitroPayloadKey } from './types.js';

const KNOWN_KEYS: ReadonlySet<string> = new Set(NITRO_PAYLOAD_KEYS);
const MANDATORY_KEYS: readonly NitroPayloadKey[] = [
  'module_id',
  'digest',
  'timestamp',
  'pcrs',
  'certificate',
  'cabundle',
];
const MAX_KEY_BYTES = 32;

/** A decoded payload with the encoding choices made by its producer. @internal */
export interface DecodedPayload {
  payload: NitroPayload;
  payloadMap: 'definite' | 'indefinite';
  keyOrder: NitroPayloadKey[];
}

function readKey(r: CborReader, log: HeadLog, seen: NitroPayloadKey[]): NitroPayloadKey {
  const head = r.head('payload');
  if (head.major !== Major.text) {
    throw new EvidenceMalformedError('map key is not a text string', {
      field: 'payload',
      offset: head.offset,
    });
  }
  const value = r.text(head, 'payload', MAX_KEY_BYTES);
  if (!KNOWN_KEYS.has(value)) {
    throw new EvidenceMalformedError(`unknown key ${JSON.stringify(value)}`, {
      field: 'payload',
      offset: head.offset,
    });
  }
  const key = value as NitroPayloadKey;
  if (seen.includes(key))
    throw new EvidenceMalformedError('duplicate key', { field: key, offset: head.offset });
  log.note(`key.${key}`, head);
  seen.push(key);
  return key;
}

/**
 * Decodes and validates the payload occupying exactly `bytes[start, end)`.
 * Offsets in errors are relative to `bytes`.
 *
 * @internal
 */
export function decodeNitroPayload(
  bytes: Uint8Array,
  start: number,
  end: number,
  log: HeadLog,
): DecodedPayload {
  const r = new CborReader(bytes, start, end);
  const mapHead = r.expect(Major.map, 'payload', 'a map');
  if (mapHead.width !== 'indefinite') log.note('payload.map', mapHead);
  const keyOrder: NitroPayloadKey[] = [];
  const ctx: FieldReadContext = { r, log, out: {} };
  r.items(mapHead, 'payload', NITRO_PAYLOAD_KEYS.length, () => {
    FIELD_CODECS[readKey(r, log, keyOrder)].read(ctx);
  });
  if (r.remaining !== 0) {
    throw new EvidenceMalformedError(`${r.remaining} bytes after the map`, {
      field: 'payload',
      offset: r.pos,
    });
  }
  for (const key of MANDATORY_KEYS) {
    if (!keyOrder.includes(key))
      throw new EvidenceMalformedError('missing', { field: key, offset: mapHead.offset });
  }
  return {
    payload: ctx.out as NitroPayload,
    payloadMap: mapHead.width === 'indefinite' ? 'indefinite' : 'definite',
    keyOrder,
  };
}

/** Options of {@link encodeNitroPayload}. */
export interface EncodeNitroPayloadOptions {
  /** Encode the map with indefinite length (0xbf … 0xff), as recent NSM versions do. Default false. */
  indefinite?: boolean;
  /**
   * Key order. Keys listed here but absent from the fields are skipped; present keys not
   * listed follow in the NSM order. Default: the NSM order (module_id, digest, timestamp,
   * pcrs, certificate, cabundle, public_key, user_data, nonce).
   */
  keyOrder?: readonly NitroPayloadKey[];
  /** Non-minimal head widths by item path (see {@link NitroHeadWidths}). Default: all minimal. */
  heads?: NitroHeadWidths;
}

function checkFields(fields: NitroPayload): void {
  if (typeof fields.moduleId !== 'string') throw new TypeError('moduleId must be a string');
  if (typeof fields.digest !== 'string') throw new TypeError('digest must be a string');
  if (!(fields.pcrs instanceof Map)) throw new TypeError('pcrs must be a Map');
  if (!(fields.certificate instanceof Uint8Array)) throw new TypeError('certificate must be bytes');
  if (!Array.isArray(fields.cabundle)) throw new TypeError('cabundle must be an array');
}

function orderKeys(fields: NitroPayload, keyOrder: readonly NitroPayloadKey[]): NitroPayloadKey[] {
  const present = (k: NitroPayloadKey): boolean => FIELD_CODECS[k].present(fields);
  const listed = keyOrder.filter(
    (k, i) => KNOWN_KEYS.has(k) && keyOrder.indexOf(k) === i && present(k),
  );
  return [...listed, ...NITRO_PAYLOAD_KEYS.filter((k) => !listed.includes(k) && present(k))];
}

/**
 * Encodes an AttestationDocument map. It checks types only, not the B4.2 limits, so that
 * simulators can also build invalid documents for negative tests.
 *
 * @example
 * ```ts
 * const payload = encodeNitroPayload(
 *   { moduleId: 'i-0abc-enc0def', digest: 'SHA384', timestamp: Date.now(), pcrs, certificate, cabundle },
 *   { indefinite: true },
 * );
 * ```
 */
export function encodeNitroPayload(
  fields: NitroPayload,
  options: EncodeNitroPayloadOptions = {},
): Uint8Array {
  checkFields(fields);
  const heads = options.heads ?? {};
  const keys = orderKeys(fields, options.keyOrder ?? NITRO_PAYLOAD_KEYS);
  const w = new CborWriter();
  const mapWidth = heads['payload.map'];
  if (options.indefinite === true) w.head(Major.map, 0, 'indefinite');
  else
    w.head(Major.map, keys.length, mapWidth === 'indefinite' ? undefined : mapWidth, 'payload.map');
  for (const key of keys) {
    w.textString(key, heads[`key.${key}`], `key.${key}`);
    FIELD_CODECS[key].write(w, fields, heads);
  }
  if (options.indefinite === true) w.break();
  return w.finish();
}
