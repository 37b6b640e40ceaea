/**
 * The JSON form of an endorsement, shared by the directory store and offline bundles:
 * metadata as JSON, the exact body bytes as base64. Decoding checks every field, the
 * request's shape, the key and the body's SHA-256; it never trusts what it reads.
 *
 * @internal
 * @module
 */
import { sha256Hex } from '../../common/bytes.js';
import { EndorsementInvalidError } from '../../common/errors.js';
import {
  requestKey,
  type AmdProduct,
  type AmdTcbSpl,
  type Endorsement,
  type EndorsementRequest,
  type EndorsementSource,
} from '../../verifier/verify/endorsement-provider.js';

/** One endorsement as stored on disk or in a bundle. */
export interface EndorsementRecord {
  key: string;
  request: EndorsementRequest;
  /** Standard base64 of the exact body bytes. */
  body: string;
  issuerChain?: string;
  /** Lowercase hex SHA-256 of the body. */
  sha256: string;
  fetchedAt: string;
  nextUpdate: string;
  source?: EndorsementSource;
}

/** A record that does not decode; `field` names what is wrong. */
export class RecordFormatError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'RecordFormatError';
  }
}

/**
 * The weakest verify hook: the body still hashes to `sha256` and `fetchedAt` is not after
 * `nextUpdate`. For tools that move collateral around (the `twi endorsements` CLI); the
 * verify stage checks the vendor signatures again when it uses the collateral.
 */
export function verifyIntegrity(e: Endorsement): void {
  const key = requestKey(e.request);
  if (sha256Hex(e.body) !== e.sha256) {
    throw new EndorsementInvalidError(`${key}: body does not match its sha256`);
  }
  if (e.fetchedAt.getTime() > e.nextUpdate.getTime()) {
    throw new EndorsementInvalidError(`${key}: fetchedAt is after nextUpdate`);
  }
}

/** The record of an endorsement (`withSource` keeps where it came from, for stores). */
export function encodeRecord(e: Endorsement, withSource = false): EndorsementRecord {
  const record: EndorsementRecord = {
    key: requestKey(e.request),
    request: e.request,
    body: Buffer.from(e.body.buffer, e.body.byteOffset, e.body.byteLength).toString('base64'),
    sha256: e.sha256,
    fetchedAt: e.fetchedAt.toISOString(),
    nextUpdate: e.nextUpdate.toISOString(),
  };
  if (e.issuerChain !== undefined) record.issuerChain = e.issuerChain;
  if (withSource) record.source = e.source;
  return record;
}

/**
 * Decodes and checks a record: shape, request, key = `requestKey(request)`, base64 body,
 * SHA-256 of the body. Throws {@link RecordFormatError} naming the first bad field.
 */
export function decodeRecord(value: unknown, source: EndorsementSource): Endorsement {
  const o = asObject(value, 'entry');
  const request = parseRequest(o.request);
  const key = str(o, 'key');
  if (key !== requestKey(request)) {
    throw new RecordFormatError('key', `${key} is not the key of its request`);
  }
  const bodyText = str(o, 'body');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(bodyText) || bodyText.length % 4 !== 0) {
    throw new RecordFormatError('body', 'not base64');
  }
  const body = new Uint8Array(Buffer.from(bodyText, 'base64'));
  const sha256 = str(o, 'sha256');
  if (sha256Hex(body) !== sha256) {
    throw new RecordFormatError('sha256', 'does not match the body');
  }
  const issuerChain = o.issuerChain === undefined ? undefined : str(o, 'issuerChain');
  return {
    request,
    body,
    ...(issuerChain === undefined ? {} : { issuerChain }),
    sha256,
    fetchedAt: instant(o, 'fetchedAt'),
    nextUpdate: instant(o, 'nextUpdate'),
    source,
  };
}

/** The `source` a store recorded, when it is one of the known values. */
export function recordedSource(value: unknown): EndorsementSource | undefined {
  const s = (value as { source?: unknown } | null)?.source;
  return s === 'network' || s === 'offline' || s === 'cache' ? s : undefined;
}

const PRODUCTS: readonly AmdProduct[] = ['Milan', 'Genoa', 'Turin'];

/** Checks that a value read from outside is a well-formed {@link EndorsementRequest}. */
export function parseRequest(value: unknown): EndorsementRequest {
  const o = asObject(value, 'request');
  const kind = str(o, 'kind', 'request.kind');
  switch (kind) {
    case 'tdx-tcb-info':
      return { kind, fmspc: match(o, 'fmspc', /^[0-9a-fA-F]{12}$/) };
    case 'tdx-qe-identity':
    case 'intel-root-crl':
      return { kind };
    case 'pck-crl':
      return { kind, ca: oneOf(o, 'ca', ['platform', 'processor'] as const) };
    case 'amd-vcek':
      return {
        kind,
        product: oneOf(o, 'product', PRODUCTS),
        hwid: match(o, 'hwid', /^(?:[0-9a-fA-F]{16}|[0-9a-fA-F]{128})$/),
        tcb: parseTcb(o.tcb),
      };
    case 'amd-vlek':
      return { kind, product: oneOf(o, 'product', PRODUCTS), tcb: parseTcb(o.tcb) };
    case 'amd-cert-chain':
    case 'amd-crl':
      return {
        kind,
        product: oneOf(o, 'product', PRODUCTS),
        keyKind: oneOf(o, 'keyKind', ['vcek', 'vlek'] as const),
      };
    default:
      throw new RecordFormatError('request.kind', `unknown kind ${JSON.stringify(kind)}`);
  }
}

function parseTcb(value: unknown): AmdTcbSpl {
  const o = asObject(value, 'request.tcb');
  const spl = (name: string): number => {
    const n = o[name];
    if (!Number.isInteger(n) || (n as number) < 0 || (n as number) > 255) {
      throw new RecordFormatError(`request.tcb.${name}`, 'must be an integer from 0 to 255');
    }
    return n as number;
  };
  const tcb = { bl: spl('bl'), tee: spl('tee'), snp: spl('snp'), ucode: spl('ucode') };
  return o.fmc === undefined ? tcb : { ...tcb, fmc: spl('fmc') };
}

function asObject(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RecordFormatError(field, 'must be an object');
  }
  return value as Record<string, unknown>;
}

function str(o: Record<string, unknown>, name: string, field = name): string {
  const v = o[name];
  if (typeof v !== 'string') throw new RecordFormatError(field, 'must be a string');
  return v;
}

function match(o: Record<string, unknown>, name: string, re: RegExp): string {
  const v = str(o, name, `request.${name}`);
  if (!re.test(v)) throw new RecordFormatError(`request.${name}`, `bad value ${v}`);
  return v;
}

function oneOf<T extends string>(
  o: Record<string, unknown>,
  name: string,
  values: readonly T[],
): T {
  const v = str(o, name, `request.${name}`);
  if (!(values as readonly string[]).includes(v)) {
    throw new RecordFormatError(`request.${name}`, `must be one of ${values.join(', ')}`);
  }
  return v as T;
}

function instant(o: Record<string, unknown>, name: string): Date {
  const v = str(o, name);
  const d = new Date(v);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(d.getTime())) {
    throw new RecordFormatError(name, 'must be an ISO 8601 instant');
  }
  return d;
}
