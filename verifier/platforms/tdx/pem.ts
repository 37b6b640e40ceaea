/**
 * Splitting the PEM certificate chain of certification data type 5 into DER certificates.
 * The PEM bytes themselves are kept verbatim by the codec; this only derives the DER view.
 *
 * @module
 */
import { EvidenceMalformedError } from '../../errors.js';
import { CERT_TYPE_PCK_CHAIN } from './types.js';
import type { PckCertChain } from './types.js';

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';
const FIELD = 'pck_cert_chain';

function fail(message: string, offset: number): never {
  throw new EvidenceMalformedError(message, { field: FIELD, offset });
}

/** Text between certificates may only be whitespace or NUL padding. */
function checkFiller(text: string, from: number, to: number, base: number): void {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0 && c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) {
      fail('unexpected text outside a PEM certificate block', base + i);
    }
  }
}

function decodeBase64(body: string, offset: number): Uint8Array {
  const compact = body.replace(/[\r\n\t ]/g, '');
  if (compact.length === 0 || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    fail('PEM certificate block is not valid base64', offset);
  }
  return new Uint8Array(Buffer.from(compact, 'base64'));
}

/**
 * Splits PEM text into DER certificates, in order.
 *
 * @param pem - the PEM bytes (ASCII; trailing NUL bytes allowed).
 * @param offset - offset of `pem` in the enclosing evidence, for error offsets.
 * @throws {@link EvidenceMalformedError} (field `pck_cert_chain`) when there is no certificate,
 *   a block is unterminated or not base64, or other text sits between blocks.
 */
export function splitPemCertificates(pem: Uint8Array, offset = 0): Uint8Array[] {
  const text = Buffer.from(pem.buffer, pem.byteOffset, pem.byteLength).toString('latin1');
  const certs: Uint8Array[] = [];
  let pos = 0;
  for (;;) {
    const begin = text.indexOf(BEGIN, pos);
    if (begin < 0) break;
    checkFiller(text, pos, begin, offset);
    const bodyStart = begin + BEGIN.length;
    const end = text.indexOf(END, bodyStart);
    if (end < 0) fail('unterminated PEM certificate block', offset + begin);
    certs.push(decodeBase64(text.slice(bodyStart, end), offset + bodyStart));
    pos = end + END.length;
  }
  checkFiller(text, pos, text.length, offset);
  if (certs.length === 0) fail('contains no PEM certificate', offset);
  return certs;
}

/**
 * Builds the type-5 certification data from PEM text, e.g. when assembling a quote.
 *
 * @example
 * ```ts
 * const chain = pckCertChainFromPem(leafPem + caPem + rootPem);
 * ```
 */
export function pckCertChainFromPem(pem: string | Uint8Array): PckCertChain {
  const bytes = typeof pem === 'string' ? new Uint8Array(Buffer.from(pem, 'utf8')) : pem.slice();
  return { type: CERT_TYPE_PCK_CHAIN, pem: bytes, certificates: splitPemCertificates(bytes) };
}
