/**
 * Simulated AWS Nitro Enclaves PKI: the "aws.nitro-enclaves" root (Root-G1 profile), the
 * regional, zonal and instance intermediates that attestation documents carry in their
 * `cabundle`, and per-document leaf certificates, all ECDSA P-384 with SHA-384 and with
 * the names and extensions of AWS's real certificates. Only the keys differ.
 *
 * @module
 */
import { deriveBytes, bytesToBigint } from './drbg.js';
import {
  authorityKeyIdentifier,
  basicConstraints,
  crlDistributionPoint,
  keyIdOverPublicKey,
  keyUsage,
  subjectKeyIdentifier,
  type KeyUsageFlag,
} from './extensions.js';
import { deriveEcKey, type EcKeyPair } from './keys.js';
import { addSeconds, addYears, hex, wholeSeconds } from './util.js';
import {
  issueCertificate,
  type DistinguishedName,
  type Extension,
  type IssuedCert,
} from './x509.js';

/** Options of a per-document leaf certificate. */
export interface NitroLeafOptions {
  /** Enclave module id, e.g. `i-0827e799ec9232d44-enc019b55a68bd2ed4b`. */
  moduleId: string;
  notBefore: Date;
  /** Default: notBefore + 3 hours, as the Nitro Secure Module issues. */
  notAfter?: Date;
}

/** A simulated Nitro PKI. */
export interface NitroPki {
  readonly root: IssuedCert<EcKeyPair>;
  /** Regional, zonal and instance CAs: `cabundle` is `[root, ...intermediates]`. */
  readonly intermediates: readonly IssuedCert<EcKeyPair>[];
  /** The DER certificates of an attestation document's `cabundle`, root first. */
  readonly cabundle: readonly Uint8Array[];
  /** Instance id the instance CA is named after (`i-` and 17 hex digits). */
  readonly instanceId: string;
  /** Issues the leaf of one attestation document; its key is deterministic per (moduleId, notBefore). */
  issueLeaf(o: NitroLeafOptions): IssuedCert<EcKeyPair>;
}

const CA_USAGE: KeyUsageFlag[] = ['digitalSignature', 'keyCertSign', 'cRLSign'];

const ROOT_NAME: DistinguishedName = [
  ['C', 'US'],
  ['O', 'Amazon'],
  ['OU', 'AWS'],
  ['CN', 'aws.nitro-enclaves'],
];

/** Formats 16 bytes as a version-4 UUID, like the names of AWS's CRL objects. */
function uuidFrom(bytes: Uint8Array): string {
  const b = bytes.slice(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = hex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Real leaf serials are the enclave id (8 bytes), four zero bytes and the issue time in seconds. */
function leafSerial(seed: string, moduleId: string, notBefore: Date): bigint {
  const m = /-enc([0-9a-f]{16})$/i.exec(moduleId);
  const enclave = m
    ? Buffer.from(m[1]!, 'hex')
    : deriveBytes(seed, `aws/enclave-id/${moduleId}`, 8);
  const tail = Buffer.alloc(8);
  tail.writeUInt32BE(Math.floor(notBefore.getTime() / 1000) >>> 0, 4);
  return bytesToBigint(Buffer.concat([enclave, tail]));
}

interface NitroContext {
  seed: string;
  region: string;
  notBefore: Date;
  notAfter: Date;
}

interface NitroCa {
  cert: IssuedCert<EcKeyPair>;
  name: DistinguishedName;
}

function tagBytes(ctx: NitroContext, label: string, n: number): Uint8Array {
  return deriveBytes(ctx.seed, `aws/${label}`, n);
}

/** The subject of AWS's per-host certificates (instance CA, enclave leaf), as the real ones read. */
export function nitroHostName(cn: string): DistinguishedName {
  return [
    ['C', 'US'],
    ['ST', 'Washington'],
    ['L', 'Seattle'],
    ['O', 'Amazon'],
    ['OU', 'AWS'],
    ['CN', cn],
  ];
}

/** Issues one CA certificate; `issuer` undefined means self-signed. */
function issueCa(
  ctx: NitroContext,
  label: string,
  name: DistinguishedName,
  issuer: NitroCa | undefined,
  serialBytes: number,
  extensions: (key: EcKeyPair, issuerKey: EcKeyPair) => Extension[],
): NitroCa {
  const key = deriveEcKey(ctx.seed, `aws/${label}`, 'P-384');
  const issuerKey = issuer?.cert.key ?? key;
  const cert = issueCertificate({
    serial: bytesToBigint(tagBytes(ctx, `${label}/serial`, serialBytes)),
    issuer: issuer?.name ?? name,
    subject: name,
    notBefore: ctx.notBefore,
    notAfter: ctx.notAfter,
    subjectKey: key,
    issuerKey,
    extensions: extensions(key, issuerKey),
  });
  return { cert, name };
}

function keyIds(key: EcKeyPair, issuerKey: EcKeyPair): Extension[] {
  return [
    authorityKeyIdentifier(keyIdOverPublicKey(issuerKey.spki)),
    subjectKeyIdentifier(keyIdOverPublicKey(key.spki)),
  ];
}

function issueChain(ctx: NitroContext, instanceId: string): NitroCa[] {
  const { region } = ctx;
  const root = issueCa(ctx, 'root', ROOT_NAME, undefined, 16, (key) => [
    basicConstraints(true),
    subjectKeyIdentifier(keyIdOverPublicKey(key.spki)),
    keyUsage(CA_USAGE),
  ]);
  const regionalCn = `${hex(tagBytes(ctx, 'regional-id', 8))}.${region}.aws.nitro-enclaves`;
  const regionalName: DistinguishedName = [...ROOT_NAME.slice(0, 3), ['CN', regionalCn]];
  const regionalCrl = uuidFrom(tagBytes(ctx, 'regional-crl', 16));
  const regional = issueCa(ctx, 'regional', regionalName, root, 16, (key, by) => [
    basicConstraints(true, 2),
    ...keyIds(key, by),
    keyUsage(CA_USAGE),
    crlDistributionPoint(`http://aws-nitro-enclaves-crl.s3.amazonaws.com/crl/${regionalCrl}.crl`),
  ]);
  const zonalName: DistinguishedName = [
    ['CN', `${hex(tagBytes(ctx, 'zonal-id', 8))}.zonal.${region}.aws.nitro-enclaves`],
    ['OU', 'AWS'],
    ['O', 'Amazon'],
    ['C', 'US'],
    ['ST', 'WA'],
    ['L', 'Seattle'],
  ];
  const zonalCrl = uuidFrom(tagBytes(ctx, 'zonal-crl', 16));
  const zonal = issueCa(ctx, 'zonal', zonalName, regional, 16, (key, by) => [
    basicConstraints(true, 1),
    ...keyIds(key, by),
    keyUsage(CA_USAGE),
    crlDistributionPoint(
      `http://crl-${region}-aws-nitro-enclaves.s3.${region}.amazonaws.com/crl/${zonalCrl}.crl`,
    ),
  ]);
  const instanceName = nitroHostName(`${instanceId}.${region}.aws.nitro-enclaves`);
  const instance = issueCa(ctx, 'instance', instanceName, zonal, 20, (key, by) => [
    basicConstraints(true, 0),
    keyUsage(['keyCertSign']),
    ...keyIds(key, by).reverse(),
  ]);
  return [root, regional, zonal, instance];
}

function issueLeaf(
  ctx: NitroContext,
  instance: NitroCa,
  o: NitroLeafOptions,
): IssuedCert<EcKeyPair> {
  if (typeof o.moduleId !== 'string' || o.moduleId === '') {
    throw new TypeError('moduleId must be a non-empty string');
  }
  const from = wholeSeconds(o.notBefore);
  return issueCertificate({
    serial: leafSerial(ctx.seed, o.moduleId, from),
    issuer: instance.name,
    subject: nitroHostName(`${o.moduleId}.${ctx.region}.aws`),
    notBefore: from,
    notAfter: wholeSeconds(o.notAfter ?? addSeconds(from, 3 * 3600)),
    subjectKey: deriveEcKey(ctx.seed, `aws/leaf/${o.moduleId}/${from.toISOString()}`, 'P-384'),
    issuerKey: instance.cert.key,
    extensions: [
      basicConstraints(false),
      keyUsage(['digitalSignature', 'nonRepudiation'], { critical: false }),
    ],
  });
}

/**
 * Creates the simulated Nitro PKI. The root is valid from `notBefore` to `notAfter`
 * (default 30 years, as Root-G1); the intermediates span the same window (AWS's own are
 * re-issued every few days, which a long-lived simulator does not need).
 *
 * @example
 * ```ts
 * const nitro = createNitroPki({ seed, notBefore });
 * const leaf = nitro.issueLeaf({ moduleId: `${nitro.instanceId}-enc0123456789abcdef`, notBefore: now });
 * ```
 */
export function createNitroPki(opts: {
  seed: string;
  notBefore: Date;
  notAfter?: Date;
  /** Default 'us-east-1'. */
  region?: string;
}): NitroPki {
  const notBefore = wholeSeconds(opts.notBefore);
  const ctx: NitroContext = {
    seed: opts.seed,
    region: opts.region ?? 'us-east-1',
    notBefore,
    notAfter: wholeSeconds(opts.notAfter ?? addYears(notBefore, 30)),
  };
  const instanceId = 'i-' + hex(tagBytes(ctx, 'instance-id', 9)).slice(0, 17);
  const [root, ...cas] = issueChain(ctx, instanceId);
  const intermediates = cas.map((c) => c.cert);
  return {
    root: root!.cert,
    intermediates,
    cabundle: [root!.cert.der, ...intermediates.map((c) => c.der)],
    instanceId,
    issueLeaf: (o) => issueLeaf(ctx, cas[cas.length - 1]!, o),
  };
}
