/**
 * Per-field decoding (with the B4.2 validation rules) and encoding of the AttestationDocument
 * map values. One entry per CBOR key; errors name the spec field.
 *
 * @internal
 * @module
 */
import { EvidenceMalformedError, EvidenceUnsupportedError } from '../../../common/errors.js';
import { Major } from './cbor.js';
import type { CborReader, CborWriter, HeadLog, HeadWidth } from './cbor.js';
import { NITRO_LIMITS, NITRO_PCR_LENGTHS } from './types.js';
import type { NitroHeadWidths, NitroPayload, NitroPayloadKey } from './types.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Decoding state shared by the field readers. */
export interface FieldReadContext {
  r: CborReader;
  log: HeadLog;
  out: Partial<Mutable<NitroPayload>>;
}

interface FieldCodec {
  read(ctx: FieldReadContext): void;
  write(w: CborWriter, fields: NitroPayload, heads: NitroHeadWidths): void;
  /** The field's value is present (absent optional fields are not encoded). */
  present(fields: NitroPayload): boolean;
}

const OTHER_DIGESTS = new Set(['SHA256', 'SHA512']);

function readModuleId({ r, log, out }: FieldReadContext): void {
  const { value, head } = r.textString('module_id', NITRO_LIMITS.moduleId);
  if (value.length === 0)
    throw new EvidenceMalformedError('empty', { field: 'module_id', offset: head.offset });
  log.note('module_id', head);
  out.moduleId = value;
}

function readDigest({ r, log, out }: FieldReadContext): void {
  const { value, head } = r.textString('digest', NITRO_LIMITS.digest);
  const at = { field: 'digest', offset: head.offset };
  if (OTHER_DIGESTS.has(value))
    throw new EvidenceUnsupportedError(`${value} (only SHA384 is admitted)`, at);
  if (value !== 'SHA384') throw new EvidenceMalformedError('not a digest name', at);
  log.note('digest', head);
  out.digest = value;
}

function readTimestamp({ r, log, out }: FieldReadContext): void {
  const head = r.expect(Major.uint, 'timestamp', 'an unsigned integer');
  if (head.value === 0)
    throw new EvidenceMalformedError('zero', { field: 'timestamp', offset: head.offset });
  log.note('timestamp', head);
  out.timestamp = head.value;
}

function readPcrs({ r, log, out }: FieldReadContext): void {
  const mapHead = r.expect(Major.map, 'pcrs', 'a map');
  log.note('pcrs', mapHead);
  const pcrs = new Map<number, Uint8Array>();
  r.items(mapHead, 'pcrs', NITRO_LIMITS.pcrs, () => {
    const key = r.head('pcrs');
    if (key.major !== Major.uint || key.value > 31) {
      throw new EvidenceMalformedError('PCR index must be an integer 0..31', {
        field: 'pcrs',
        offset: key.offset,
      });
    }
    const field = `pcrs[${key.value}]`;
    if (pcrs.has(key.value))
      throw new EvidenceMalformedError('duplicate index', { field, offset: key.offset });
    log.note(`${field}.index`, key);
    const { value, head } = r.byteString(field, 32, 64);
    if (!NITRO_PCR_LENGTHS.includes(value.length)) {
      throw new EvidenceMalformedError(`length ${value.length} not 32, 48 or 64`, {
        field,
        offset: head.offset,
      });
    }
    log.note(field, head);
    pcrs.set(key.value, value);
  });
  if (pcrs.size === 0)
    throw new EvidenceMalformedError('no PCRs', { field: 'pcrs', offset: mapHead.offset });
  out.pcrs = pcrs;
}

function readCertificate({ r, log, out }: FieldReadContext): void {
  const { value, head } = r.byteString('certificate', 1, NITRO_LIMITS.certificate);
  log.note('certificate', head);
  out.certificate = value;
}

function readCabundle({ r, log, out }: FieldReadContext): void {
  const arrayHead = r.expect(Major.array, 'cabundle', 'an array');
  log.note('cabundle', arrayHead);
  const certs: Uint8Array[] = [];
  r.items(arrayHead, 'cabundle', NITRO_LIMITS.cabundle, (i) => {
    const { value, head } = r.byteString(`cabundle[${i}]`, 1, NITRO_LIMITS.certificate);
    log.note(`cabundle[${i}]`, head);
    certs.push(value);
  });
  if (certs.length === 0)
    throw new EvidenceMalformedError('empty', { field: 'cabundle', offset: arrayHead.offset });
  out.cabundle = certs;
}

function readOptional(field: string, min: number, max: number) {
  return ({ r, log }: FieldReadContext): Uint8Array | null => {
    if (r.takeNull()) return null;
    const { value, head } = r.byteString(field, min, max);
    log.note(field, head);
    return value;
  };
}

const readPublicKey = readOptional('public_key', 1, NITRO_LIMITS.publicKey);
const readUserData = readOptional('user_data', 0, NITRO_LIMITS.userData);
const readNonce = readOptional('nonce', 0, NITRO_LIMITS.nonce);

function writeOptional(
  w: CborWriter,
  value: Uint8Array | null | undefined,
  width: HeadWidth | undefined,
  path: string,
) {
  if (value === null) w.null();
  else if (value !== undefined) w.byteString(value, width, path);
}

function writePcrs(
  w: CborWriter,
  pcrs: ReadonlyMap<number, Uint8Array>,
  heads: NitroHeadWidths,
): void {
  const width = heads['pcrs'];
  w.head(Major.map, width === 'indefinite' ? 0 : pcrs.size, width, 'pcrs');
  for (const [index, value] of pcrs) {
    if (!Number.isSafeInteger(index) || index < 0) throw new TypeError(`pcrs: bad index ${index}`);
    w.head(Major.uint, index, heads[`pcrs[${index}].index`], `pcrs[${index}].index`);
    w.byteString(value, heads[`pcrs[${index}]`], `pcrs[${index}]`);
  }
  if (width === 'indefinite') w.break();
}

function writeCabundle(w: CborWriter, certs: readonly Uint8Array[], heads: NitroHeadWidths): void {
  const width = heads['cabundle'];
  w.head(Major.array, width === 'indefinite' ? 0 : certs.length, width, 'cabundle');
  certs.forEach((cert, i) => w.byteString(cert, heads[`cabundle[${i}]`], `cabundle[${i}]`));
  if (width === 'indefinite') w.break();
}

const always = (): boolean => true;

/** Reader and writer of each payload key. */
export const FIELD_CODECS: Readonly<Record<NitroPayloadKey, FieldCodec>> = {
  module_id: {
    read: readModuleId,
    write: (w, f, h) => w.textString(f.moduleId, h['module_id'], 'module_id'),
    present: always,
  },
  digest: {
    read: readDigest,
    write: (w, f, h) => w.textString(f.digest, h['digest'], 'digest'),
    present: always,
  },
  timestamp: {
    read: readTimestamp,
    write: (w, f, h) => w.head(Major.uint, f.timestamp, h['timestamp'], 'timestamp'),
    present: always,
  },
  pcrs: { read: readPcrs, write: (w, f, h) => writePcrs(w, f.pcrs, h), present: always },
  certificate: {
    read: readCertificate,
    write: (w, f, h) => w.byteString(f.certificate, h['certificate'], 'certificate'),
    present: always,
  },
  cabundle: {
    read: readCabundle,
    write: (w, f, h) => writeCabundle(w, f.cabundle, h),
    present: always,
  },
  public_key: {
    read: (ctx) => {
      ctx.out.publicKey = readPublicKey(ctx);
    },
    write: (w, f, h) => writeOptional(w, f.publicKey, h['public_key'], 'public_key'),
    present: (f) => f.publicKey !== undefined,
  },
  user_data: {
    read: (ctx) => {
      ctx.out.userData = readUserData(ctx);
    },
    write: (w, f, h) => writeOptional(w, f.userData, h['user_data'], 'user_data'),
    present: (f) => f.userData !== undefined,
  },
  nonce: {
    read: (ctx) => {
      ctx.out.nonce = readNonce(ctx);
    },
    write: (w, f, h) => writeOptional(w, f.nonce, h['nonce'], 'nonce'),
    present: (f) => f.nonce !== undefined,
  },
};
