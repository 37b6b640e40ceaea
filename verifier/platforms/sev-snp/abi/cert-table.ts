/**
 * The GHCB certificate table (extended report certs buffer, configfs-tsm `auxblob`;
 * GHCB 56421 §4.1.8.1, SPEC-DIGEST A2.2): 24-byte entries `{GUID[16], offset u32, length u32}`
 * ended by an all-zero entry, offsets counted from the start of the buffer.
 *
 * @module
 */
import { EvidenceMalformedError } from '../../../../common/errors.js';
import { ByteReader, ByteWriter, fromHex, isZero, toHex } from '../../../../common/bytes.js';

/** What a certificate-table entry holds, by its GUID. */
export type SnpCertKind = 'vcek' | 'vlek' | 'ask' | 'ark' | 'crl' | 'unknown';

/** GUIDs of the known entries (the ASK GUID also carries the ASVK). */
export const SNP_CERT_GUIDS: Readonly<Record<Exclude<SnpCertKind, 'unknown'>, string>> = {
  vcek: '63da758d-e664-4564-adc5-f4b93be8accd',
  vlek: 'a8074bc2-a25a-483e-aae6-39c045a0b8a1',
  ask: '4ab7b379-bbac-4fe4-a02f-05aef327c782',
  ark: 'c0b406a4-a803-4952-9743-3fb6014cd0ae',
  crl: '92f81bc3-5811-4d3d-97ff-d19f88dc67ea',
};

/** One entry of a certificate table. */
export interface SnpCertTableEntry {
  /** GUID, lowercase canonical form (bytes in RFC 4122 order). */
  guid: string;
  kind: SnpCertKind;
  /** The entry's bytes (DER for certificates and the CRL). */
  data: Uint8Array;
}

/** An entry to write: a `guid`, or a known `kind` whose GUID is used. */
export interface SnpCertTableInput {
  guid?: string;
  kind?: SnpCertKind;
  data: Uint8Array;
}

const ENTRY_SIZE = 24;
const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function guidString(b: Uint8Array): string {
  const h = toHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function kindOf(guid: string): SnpCertKind {
  for (const [kind, g] of Object.entries(SNP_CERT_GUIDS))
    if (g === guid) return kind as SnpCertKind;
  return 'unknown';
}

interface Header {
  guid: string;
  offset: number;
  length: number;
}

function readHeaders(r: ByteReader): Header[] {
  const headers: Header[] = [];
  for (let i = 0; ; i++) {
    const field = `cert_table[${i}]`;
    const guid = r.bytesOf(16, `${field}.guid`);
    const offset = r.u32(`${field}.offset`);
    const length = r.u32(`${field}.length`);
    if (offset === 0 && length === 0 && isZero(guid)) return headers;
    headers.push({ guid: guidString(guid), offset, length });
  }
}

/**
 * Parses a certificate table. An empty buffer is an empty table; otherwise the table must
 * end with an all-zero entry, and every entry must point inside the buffer, after the table.
 * Bytes not referenced by any entry (page padding) are ignored.
 *
 * @throws EvidenceMalformedError naming `cert_table[i].offset` (or `.length`, or the
 *   truncated entry) on any bounds violation.
 */
export function parseSnpCertTable(bytes: Uint8Array): SnpCertTableEntry[] {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('cert table must be a Uint8Array');
  if (bytes.length === 0) return [];
  const headers = readHeaders(new ByteReader(bytes));
  const tableEnd = (headers.length + 1) * ENTRY_SIZE;
  return headers.map((h, i) => {
    const at = (field: string, delta: number) => ({
      field: `cert_table[${i}].${field}`,
      offset: i * ENTRY_SIZE + delta,
    });
    if (h.offset < tableEnd) {
      throw new EvidenceMalformedError(
        `${h.offset} points into the table (which ends at ${tableEnd})`,
        at('offset', 16),
      );
    }
    if (h.offset + h.length > bytes.length) {
      throw new EvidenceMalformedError(
        `entry [${h.offset}, ${h.offset + h.length}) runs past the ${bytes.length}-byte buffer`,
        at('length', 20),
      );
    }
    const data = bytes.slice(h.offset, h.offset + h.length);
    return { guid: h.guid, kind: kindOf(h.guid), data };
  });
}

function guidBytes(e: SnpCertTableInput): Uint8Array {
  const guid = e.guid ?? (e.kind && e.kind !== 'unknown' ? SNP_CERT_GUIDS[e.kind] : undefined);
  if (guid === undefined || !GUID_RE.test(guid)) {
    throw new TypeError(`cert table entry needs a GUID or a known kind, got ${guid ?? e.kind}`);
  }
  return fromHex(guid.replace(/-/g, ''));
}

/**
 * Writes a certificate table: the entries, the all-zero terminator, then each entry's data
 * in order with no padding. `parseSnpCertTable(serializeSnpCertTable(e))` gives `e` back.
 *
 * @throws TypeError for an entry with neither a GUID nor a known kind.
 */
export function serializeSnpCertTable(entries: readonly SnpCertTableInput[]): Uint8Array {
  const header = new ByteWriter();
  const body = new ByteWriter();
  let offset = (entries.length + 1) * ENTRY_SIZE;
  for (const e of entries) {
    header.raw(guidBytes(e)).u32(offset).u32(e.data.length);
    body.raw(e.data);
    offset += e.data.length;
  }
  header.raw(new Uint8Array(ENTRY_SIZE));
  return header.raw(body.finish()).finish();
}
