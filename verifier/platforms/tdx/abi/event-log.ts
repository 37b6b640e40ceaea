/**
 * The TD's CC event log (the CCEL ACPI table's log area, `/sys/firmware/acpi/tables/data/CCEL`):
 * the TCG PC Client crypto-agile format (SHA1-format `TCG_PCClientPCREvent` carrying the
 * `Spec ID Event03` header, then `TCG_PCR_EVENT2` records), little-endian throughout. The
 * record's `PCRIndex` holds the CC measurement-register index: 0 = MRTD, 1..4 = RTMR0..RTMR3
 * (UEFI 2.10 §38.4.1). Bounded and byte-exact: parse then serialize gives the same bytes
 * (without the unused 0xFF/0x00 tail of the log area).
 *
 * @internal
 * @module
 */
import { EventLogMalformedError } from '../../../../common/errors.js';
import { MAX_CCEL_BYTES } from '../../../../wire/messages.js';

/** TPM_ALG_ID of SHA-384, the digest RTMRs extend with. */
export const TPM_ALG_SHA384 = 0x000c;
/** EV_NO_ACTION: informational, never extended. */
export const EV_NO_ACTION = 0x00000003;
/** Largest log accepted (the wire's bound). */
export const MAX_EVENT_LOG_BYTES = MAX_CCEL_BYTES;
/** Most events one log may hold. */
export const MAX_CC_EVENTS = 4096;
/** Most digest algorithms the header may declare. */
const MAX_ALGORITHMS = 8;
/** Largest digest (SHA-512). */
const MAX_DIGEST_SIZE = 64;
const SPEC_ID_SIGNATURE = 'Spec ID Event03\0';
const SHA1_SIZE = 20;

/** One algorithm of the header: `TCG_EfiSpecIdEventAlgorithmSize`. */
export interface TcgAlgorithm {
  readonly alg: number;
  readonly size: number;
}

/** The `TCG_EfiSpecIDEventStruct` of the first event. */
export interface TcgSpecId {
  readonly platformClass: number;
  readonly specVersionMinor: number;
  readonly specVersionMajor: number;
  readonly specErrata: number;
  readonly uintnSize: number;
  readonly algorithms: readonly TcgAlgorithm[];
  readonly vendorInfo: Uint8Array;
}

/** One digest of an event (`TPMT_HA`). */
export interface TcgDigest {
  readonly alg: number;
  readonly digest: Uint8Array;
}

/** One `TCG_PCR_EVENT2`. */
export interface TcgEvent {
  /** CC MR index: 0 = MRTD, 1..4 = RTMR0..3. */
  readonly mrIndex: number;
  readonly type: number;
  readonly digests: readonly TcgDigest[];
  readonly data: Uint8Array;
}

/** A parsed CC event log. */
export interface TcgEventLog {
  readonly specId: TcgSpecId;
  readonly events: readonly TcgEvent[];
}

class Reader {
  offset = 0;
  constructor(private readonly b: Uint8Array) {}

  private view(n: number, field: string): DataView {
    if (this.offset + n > this.b.length) {
      throw new EventLogMalformedError(
        `needs ${n} bytes, ${this.b.length - this.offset} left (truncated log)`,
        { field, offset: this.offset },
      );
    }
    const v = new DataView(this.b.buffer, this.b.byteOffset + this.offset, n);
    this.offset += n;
    return v;
  }

  u8(field: string): number {
    return this.view(1, field).getUint8(0);
  }
  u16(field: string): number {
    return this.view(2, field).getUint16(0, true);
  }
  u32(field: string): number {
    return this.view(4, field).getUint32(0, true);
  }
  bytes(n: number, field: string): Uint8Array {
    const v = this.view(n, field);
    return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + n));
  }
  get left(): number {
    return this.b.length - this.offset;
  }
  /** True when everything left is the unused log area (all 0xFF or all 0x00). */
  atPadding(): boolean {
    const rest = this.b.subarray(this.offset);
    return rest.every((x) => x === 0xff) || rest.every((x) => x === 0);
  }
}

function malformed(message: string, field: string, offset: number): never {
  throw new EventLogMalformedError(message, { field, offset });
}

function parseSpecId(r: Reader): TcgSpecId {
  const start = r.offset;
  const pcr = r.u32('TCG_PCClientPCREvent.PCRIndex');
  const type = r.u32('TCG_PCClientPCREvent.EventType');
  if (pcr !== 0 || type !== EV_NO_ACTION) {
    malformed('the first event is not the EV_NO_ACTION Spec ID event', 'EventType', start);
  }
  r.bytes(SHA1_SIZE, 'TCG_PCClientPCREvent.Digest');
  const size = r.u32('TCG_PCClientPCREvent.EventSize');
  const body = r.offset;
  if (size > r.left) malformed(`EventSize ${size} exceeds the log`, 'EventSize', body - 4);
  const sig = Buffer.from(r.bytes(16, 'SpecIdEvent.signature')).toString('latin1');
  if (sig !== SPEC_ID_SIGNATURE) {
    malformed('not "Spec ID Event03" (not a crypto-agile log)', 'SpecIdEvent.signature', body);
  }
  const platformClass = r.u32('SpecIdEvent.platformClass');
  const specVersionMinor = r.u8('SpecIdEvent.specVersionMinor');
  const specVersionMajor = r.u8('SpecIdEvent.specVersionMajor');
  const specErrata = r.u8('SpecIdEvent.specErrata');
  const uintnSize = r.u8('SpecIdEvent.uintnSize');
  const at = r.offset;
  const count = r.u32('SpecIdEvent.numberOfAlgorithms');
  if (count < 1 || count > MAX_ALGORITHMS) {
    malformed(`${count} algorithms (1 to ${MAX_ALGORITHMS})`, 'numberOfAlgorithms', at);
  }
  const algorithms: TcgAlgorithm[] = [];
  for (let i = 0; i < count; i++) {
    const o = r.offset;
    const alg = r.u16(`digestSizes[${i}].algorithmId`);
    const dsize = r.u16(`digestSizes[${i}].digestSize`);
    if (dsize < 1 || dsize > MAX_DIGEST_SIZE) {
      malformed(`digest size ${dsize}`, `digestSizes[${i}].digestSize`, o + 2);
    }
    if (alg === TPM_ALG_SHA384 && dsize !== 48) {
      malformed('SHA-384 declared with a size other than 48', `digestSizes[${i}]`, o);
    }
    if (algorithms.some((a) => a.alg === alg)) {
      malformed(`algorithm 0x${alg.toString(16)} declared twice`, `digestSizes[${i}]`, o);
    }
    algorithms.push({ alg, size: dsize });
  }
  const vendorInfo = r.bytes(r.u8('SpecIdEvent.vendorInfoSize'), 'SpecIdEvent.vendorInfo');
  if (r.offset - body !== size) {
    malformed(
      `EventSize ${size} but the Spec ID event is ${r.offset - body} bytes`,
      'EventSize',
      body - 4,
    );
  }
  return {
    platformClass,
    specVersionMinor,
    specVersionMajor,
    specErrata,
    uintnSize,
    algorithms,
    vendorInfo,
  };
}

function parseEvent(r: Reader, n: number, algs: readonly TcgAlgorithm[]): TcgEvent {
  const at = (f: string): string => `events[${n}].${f}`;
  const mrIndex = r.u32(at('PCRIndex'));
  const type = r.u32(at('EventType'));
  const countAt = r.offset;
  const count = r.u32(at('Digests.count'));
  if (count < 1 || count > algs.length) {
    malformed(`${count} digests (1 to ${algs.length})`, at('Digests.count'), countAt);
  }
  const digests: TcgDigest[] = [];
  for (let i = 0; i < count; i++) {
    const o = r.offset;
    const alg = r.u16(at(`Digests[${i}].hashAlg`));
    const known = algs.find((a) => a.alg === alg);
    if (!known)
      malformed(`algorithm 0x${alg.toString(16)} not in the header`, at(`Digests[${i}]`), o);
    if (digests.some((d) => d.alg === alg)) malformed('digest repeated', at(`Digests[${i}]`), o);
    digests.push({ alg, digest: r.bytes(known.size, at(`Digests[${i}].digest`)) });
  }
  const sizeAt = r.offset;
  const size = r.u32(at('EventSize'));
  if (size > r.left) malformed(`EventSize ${size} exceeds the log`, at('EventSize'), sizeAt);
  return { mrIndex, type, digests, data: r.bytes(size, at('Event')) };
}

/**
 * Parses a CC event log. Parsing stops at the end of the bytes or where the rest is the
 * unused log area (all 0xFF or all 0x00).
 *
 * @throws {EventLogMalformedError} `ERR_EVENT_LOG_MALFORMED` naming the field and offset: over
 *   {@link MAX_EVENT_LOG_BYTES}, truncated, not crypto-agile, an undeclared algorithm, more than
 *   {@link MAX_CC_EVENTS} events.
 */
export function parseTcgEventLog(bytes: Uint8Array): TcgEventLog {
  if (bytes.length > MAX_EVENT_LOG_BYTES) {
    malformed(`${bytes.length} bytes, over ${MAX_EVENT_LOG_BYTES}`, 'event log', 0);
  }
  const r = new Reader(bytes);
  const specId = parseSpecId(r);
  const events: TcgEvent[] = [];
  while (r.left > 0 && !r.atPadding()) {
    if (events.length === MAX_CC_EVENTS) {
      malformed(`more than ${MAX_CC_EVENTS} events`, 'events', r.offset);
    }
    events.push(parseEvent(r, events.length, specId.algorithms));
  }
  return { specId, events };
}

class Writer {
  private readonly parts: Uint8Array[] = [];
  u8(v: number): this {
    return this.put(Uint8Array.of(v));
  }
  u16(v: number): this {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, v, true);
    return this.put(b);
  }
  u32(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    return this.put(b);
  }
  put(b: Uint8Array): this {
    this.parts.push(b);
    return this;
  }
  bytes(): Uint8Array {
    return new Uint8Array(Buffer.concat(this.parts));
  }
}

/** Serializes a CC event log (the inverse of {@link parseTcgEventLog}). */
export function serializeTcgEventLog(log: TcgEventLog): Uint8Array {
  const s = log.specId;
  const spec = new Writer()
    .put(new Uint8Array(Buffer.from(SPEC_ID_SIGNATURE, 'latin1')))
    .u32(s.platformClass)
    .u8(s.specVersionMinor)
    .u8(s.specVersionMajor)
    .u8(s.specErrata)
    .u8(s.uintnSize)
    .u32(s.algorithms.length);
  for (const a of s.algorithms) spec.u16(a.alg).u16(a.size);
  const specBytes = spec.u8(s.vendorInfo.length).put(s.vendorInfo).bytes();
  const w = new Writer()
    .u32(0)
    .u32(EV_NO_ACTION)
    .put(new Uint8Array(SHA1_SIZE))
    .u32(specBytes.length)
    .put(specBytes);
  for (const e of log.events) {
    w.u32(e.mrIndex).u32(e.type).u32(e.digests.length);
    for (const d of e.digests) w.u16(d.alg).put(d.digest);
    w.u32(e.data.length).put(e.data);
  }
  return w.bytes();
}
