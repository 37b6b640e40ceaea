/**
 * Splitting the PEM certificate chain of certification data type 5 into DER certificates.
 * The PEM bytes themselves are kept verbatim by the codec; this only derives the DER view.
 *
 * @module
 */
import { EvidenceMalformedError } from '../../../../common/errors.js';
import { CERT_TYPE_PCK_CHAIN } from '../abi/types.js';
import type { PckCertChain } from '../abi/types.js';

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

/**
 * A PEM body: the base64 alphabet and whitespace, padding only at the end. One character
 * class keeps this cheap on the hot path; the exact DER is checked when it is decoded.
 */
const BASE64_BODY = /^[A-Za-z0-9+/\r\n\t ]+={0,2}[\r\n\t ]*$/;

/** Offsets of the base64 bodies of each block, after checking the framing and alphabet. */
function pemBodies(text: string, offset: number): [number, number][] {
  const bodies: [number, number][] = [];
  let pos = 0;
  for (;;) {
    const begin = text.indexOf(BEGIN, pos);
    if (begin < 0) break;
    checkFiller(text, pos, begin, offset);
    const bodyStart = begin + BEGIN.length;
    const end = text.indexOf(END, bodyStart);
    if (end < 0) fail('unterminated PEM certificate block', offset + begin);
    const body = text.slice(bodyStart, end);
    if (!/[A-Za-z0-9+/]/.test(body) || !BASE64_BODY.test(body)) {
      fail('PEM certificate block is not valid base64', offset + bodyStart);
    }
    bodies.push([bodyStart, end]);
    pos = end + END.length;
  }
  checkFiller(text, pos, text.length, offset);
  if (bodies.length === 0) fail('contains no PEM certificate', offset);
  return bodies;
}

function latin1(pem: Uint8Array): string {
  return Buffer.from(pem.buffer, pem.byteOffset, pem.byteLength).toString('latin1');
}

/**
 * Checks that PEM text is a sequence of well-formed certificate blocks, without decoding them.
 *
 * @throws {@link EvidenceMalformedError} (field `pck_cert_chain`) as {@link splitPemCertificates}.
 */
export function checkPemCertificates(pem: Uint8Array, offset = 0): void {
  pemBodies(latin1(pem), offset);
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
  const text = latin1(pem);
  return pemBodies(text, offset).map(([from, to]) => {
    const compact = text.slice(from, to).replace(/[\r\n\t ]/g, '');
    if (compact.length % 4 !== 0) fail('PEM certificate block is not valid base64', offset + from);
    return new Uint8Array(Buffer.from(compact, 'base64'));
  });
}

/**
 * The type-5 certification data for PEM bytes already checked with {@link checkPemCertificates}.
 * `certificates` is decoded on first use: a verifier that already knows this chain (by its
 * bytes) never pays for the base64 decoding.
 */
export function pckCertChainOf(pem: Uint8Array): PckCertChain {
  let decoded: Uint8Array[] | undefined;
  return {
    type: CERT_TYPE_PCK_CHAIN,
    pem,
    get certificates(): Uint8Array[] {
      decoded ??= splitPemCertificates(pem);
      return decoded;
    },
  };
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
  checkPemCertificates(bytes);
  return pckCertChainOf(bytes);
}
