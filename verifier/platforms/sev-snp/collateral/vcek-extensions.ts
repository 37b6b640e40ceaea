/**
 * The AMD extensions of a VCEK or VLEK certificate (`1.3.6.1.4.1.3704.1.*`, spec digest
 * C2.3): struct version, product name, the TCB security patch levels (SPLs) the key was
 * derived for, the chip's hardware id (VCEK) or the cloud provider id (VLEK).
 *
 * @internal
 * @module
 */
import * as asn1js from 'asn1js';
import { VerificationError } from '../../../../common/errors.js';
import { certLabel } from '../../../../common/x509/certificate.js';
import type { Certificate } from '../../../../common/x509/certificate.js';
import {
  decodeDer,
  matchSchema,
  readSmallInt,
  readString,
} from '../../../../common/x509/decode.js';
import type { Block } from '../../../../common/x509/decode.js';

const AMD = '1.3.6.1.4.1.3704.1';

/** The TCB SPLs, each 0–255. `fmcSpl` exists on Turin (`.3.9`); `spl4`–`spl7` are reserved. */
export interface VcekTcb {
  readonly blSpl: number;
  readonly teeSpl: number;
  readonly snpSpl: number;
  readonly ucodeSpl: number;
  readonly fmcSpl: number | undefined;
  readonly spl4: number | undefined;
  readonly spl5: number | undefined;
  readonly spl6: number | undefined;
  readonly spl7: number | undefined;
}

/** The parsed AMD extensions. */
export interface VcekExtensions {
  /** From the subject CN: `SEV-VCEK` or `SEV-VLEK`. */
  readonly keyKind: 'VCEK' | 'VLEK';
  readonly structVersion: number | undefined;
  /** E.g. `Milan-B0`, `Genoa`, `Turin`, `Milan` (VLEKs carry no stepping). */
  readonly productName: string;
  readonly tcb: VcekTcb;
  /** VCEK only: 64 bytes (Milan, Genoa) or 8 bytes (Turin). */
  readonly hwId: Uint8Array | undefined;
  /** VLEK only: the cloud service provider id. */
  readonly cspId: string | undefined;
}

const TCB_OIDS = {
  blSpl: '3.1',
  teeSpl: '3.2',
  spl4: '3.4',
  spl5: '3.5',
  spl6: '3.6',
  spl7: '3.7',
  snpSpl: '3.3',
  ucodeSpl: '3.8',
  fmcSpl: '3.9',
} as const;

/** structVersion and the SPLs: an INTEGER, each (spec digest C2.3). */
const SPL = new asn1js.Integer({ name: 'value' });
/** productName and cspId: IA5String as AMD writes them; UTF8String and PrintableString read too. */
const TEXT = new asn1js.Choice({
  value: [
    new asn1js.IA5String({ name: 'value' }),
    new asn1js.Utf8String({ name: 'value' }),
    new asn1js.PrintableString({ name: 'value' }),
  ],
});

/** Decodes an extension value and checks it against `schema`. */
function valueOf(der: Uint8Array, schema: asn1js.AsnSchemaType, field: string): Block {
  return matchSchema(decodeDer(der, field), schema, field).value as Block;
}

function profileError(cert: Certificate, message: string, cause?: unknown): VerificationError {
  return new VerificationError(
    'ERR_CERT_PROFILE',
    `${certLabel(cert)}: ${message}`,
    certLabel(cert),
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Reads the AMD extensions of a VCEK/VLEK.
 *
 * @throws {VerificationError} `ERR_CERT_PROFILE` when the subject is neither SEV-VCEK nor
 *   SEV-VLEK, a mandatory extension is missing or malformed, a VCEK lacks hwID or carries
 *   a cspId, or a VLEK the reverse (spec digest C2.3).
 * @example
 * parseVcekExtensions(vcek).tcb.snpSpl; // 27
 */
export function parseVcekExtensions(cert: Certificate): VcekExtensions {
  const keyKind = keyKindOf(cert);
  try {
    const hwId = cert.extensions.get(`${AMD}.4`)?.value.slice();
    const cspIdExt = cert.extensions.get(`${AMD}.5`);
    const cspId = cspIdExt && readString(valueOf(cspIdExt.value, TEXT, 'cspId'), 'cspId');
    if (keyKind === 'VCEK' && (hwId === undefined || cspId !== undefined)) {
      throw profileError(cert, 'a VCEK must carry hwID and no cspId');
    }
    if (keyKind === 'VLEK' && (cspId === undefined || hwId !== undefined)) {
      throw profileError(cert, 'a VLEK must carry cspId and no hwID');
    }
    return Object.freeze({
      keyKind,
      structVersion: optionalInt(cert, '1'),
      productName: productNameOf(cert),
      tcb: readTcb(cert),
      hwId,
      cspId,
    });
  } catch (err) {
    if (err instanceof VerificationError) throw err;
    throw profileError(cert, `malformed AMD extension: ${(err as Error).message}`, err);
  }
}

function keyKindOf(cert: Certificate): 'VCEK' | 'VLEK' {
  if (cert.subjectCn === 'SEV-VCEK') return 'VCEK';
  if (cert.subjectCn === 'SEV-VLEK') return 'VLEK';
  throw profileError(cert, 'subject CN is neither SEV-VCEK nor SEV-VLEK');
}

function optionalInt(cert: Certificate, suffix: string): number | undefined {
  const ext = cert.extensions.get(`${AMD}.${suffix}`);
  if (ext === undefined) return undefined;
  const field = `${AMD}.${suffix}`;
  return readSmallInt(valueOf(ext.value, SPL, field), field, 0, 255);
}

function requiredInt(cert: Certificate, suffix: string): number {
  const v = optionalInt(cert, suffix);
  if (v === undefined) throw profileError(cert, `extension ${AMD}.${suffix} is missing`);
  return v;
}

function readTcb(cert: Certificate): VcekTcb {
  return Object.freeze({
    blSpl: requiredInt(cert, TCB_OIDS.blSpl),
    teeSpl: requiredInt(cert, TCB_OIDS.teeSpl),
    snpSpl: requiredInt(cert, TCB_OIDS.snpSpl),
    ucodeSpl: requiredInt(cert, TCB_OIDS.ucodeSpl),
    fmcSpl: optionalInt(cert, TCB_OIDS.fmcSpl),
    spl4: optionalInt(cert, TCB_OIDS.spl4),
    spl5: optionalInt(cert, TCB_OIDS.spl5),
    spl6: optionalInt(cert, TCB_OIDS.spl6),
    spl7: optionalInt(cert, TCB_OIDS.spl7),
  });
}

function productNameOf(cert: Certificate): string {
  const ext = cert.extensions.get(`${AMD}.2`);
  if (ext === undefined) throw profileError(cert, `extension ${AMD}.2 (productName) is missing`);
  const name = readString(valueOf(ext.value, TEXT, 'productName'), 'productName');
  if (name.length === 0) throw profileError(cert, 'empty productName');
  return name;
}

/**
 * The product family of a VCEK/VLEK (`Milan`, `Genoa`, `Turin`): the productName
 * extension up to the first '-', else the issuer CN (`SEV-<product>`, `SEV-VLEK-<product>`).
 *
 * @throws {VerificationError} `ERR_CERT_PROFILE` when neither names a product.
 */
export function productFromCertificate(cert: Certificate): string {
  const ext = cert.extensions.get(`${AMD}.2`);
  if (ext !== undefined) {
    try {
      return productNameOf(cert).split('-')[0]!;
    } catch (err) {
      if (err instanceof VerificationError) throw err;
      throw profileError(cert, 'malformed productName', err);
    }
  }
  const m = /^SEV-(?:VLEK-)?([A-Za-z]+)$/.exec(cert.issuerCn ?? '');
  if (m === null) throw profileError(cert, 'no productName extension and no SEV-<product> issuer');
  return m[1]!;
}
