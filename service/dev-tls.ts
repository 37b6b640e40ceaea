/**
 * The development TLS certificate of `twi serve --dev-tls`: a throw-away ECDSA P-256 CA signs one
 * server certificate for `localhost`, `127.0.0.1` and `::1`; the CA's private key is discarded
 * once it has signed, so trusting `ca.pem` trusts that one certificate only. The files live in
 * `DATA/dev-tls/` (directory 0700, files 0600) and are reused on later starts while the
 * certificate has more than a day to run.
 *
 * @internal
 * @module
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { newKeyPair } from '../common/key-pair.js';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import {
  certificateTime,
  ENGINE,
  keyIdentifierExtensions,
  keyUsageBits,
  makeExtension,
  OID,
  randomSerial,
  toPem,
} from './ca/asn1.js';
import { createRootCa, KEY_USAGE, type IssuingCa } from './ca/issuer.js';

/** Lifetime of the development CA and certificate: 90 days. */
export const DEV_TLS_VALIDITY_SECONDS = 90 * 24 * 3600;

/** Names of the development certificate. */
export const DEV_TLS_NAMES: readonly string[] = ['localhost', '127.0.0.1', '::1'];

/** What to put in a TLS leaf certificate. */
export interface TlsLeafOptions {
  /** Subject commonName. */
  readonly commonName: string;
  /** subjectAltName entries: DNS names and IP addresses (v4 or v6). */
  readonly names: readonly string[];
  /** The extended key usage: a server (default) or a client certificate. */
  readonly usage?: 'server' | 'client';
  /** Validity from `now`, seconds (default {@link DEV_TLS_VALIDITY_SECONDS}; capped by the CA). */
  readonly validitySeconds?: number;
  readonly now?: Date;
}

function ipBytes(ip: string): Uint8Array {
  if (isIP(ip) === 4) return new Uint8Array(ip.split('.').map(Number));
  // IPv6: expand '::' and write the eight groups.
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g as string, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

function generalName(n: string): pkijs.GeneralName {
  if (isIP(n) !== 0) {
    return new pkijs.GeneralName({
      type: 7,
      value: new asn1js.OctetString({ valueHex: ipBytes(n) }),
    });
  }
  return new pkijs.GeneralName({ type: 2, value: n });
}

function cnName(commonName: string): pkijs.RelativeDistinguishedNames {
  return new pkijs.RelativeDistinguishedNames({
    typesAndValues: [
      new pkijs.AttributeTypeAndValue({
        type: OID.commonName,
        value: new asn1js.Utf8String({ value: commonName }),
      }),
    ],
  });
}

/**
 * Issues a TLS leaf certificate (ECDSA P-256, new key) under `ca`: basicConstraints CA:false,
 * keyUsage digitalSignature, extKeyUsage serverAuth or clientAuth, the subjectAltNames given.
 * Used for the development certificate, and by tests for client certificates.
 */
export async function issueTlsLeaf(
  ca: IssuingCa,
  o: TlsLeafOptions,
): Promise<{ certificate: Uint8Array; privateKey: KeyObject }> {
  const now = o.now ?? new Date();
  const validity = o.validitySeconds ?? DEV_TLS_VALIDITY_SECONDS;
  const end = new Date(Math.min(now.getTime() + validity * 1000, ca.notAfter.getTime()));
  const { privateKey, publicKey } = newKeyPair('ec', { namedCurve: 'prime256v1' });
  const spki = pkijs.PublicKeyInfo.fromBER(publicKey.export({ format: 'der', type: 'spki' }));
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ valueHex: randomSerial() });
  cert.issuer = pkijs.RelativeDistinguishedNames.fromBER(ca.subject);
  cert.subject = cnName(o.commonName);
  cert.notBefore = certificateTime(new Date(now.getTime() - 60_000));
  cert.notAfter = certificateTime(end);
  cert.subjectPublicKeyInfo = spki;
  const purpose = o.usage === 'client' ? OID.clientAuth : OID.serverAuth;
  cert.extensions = [
    makeExtension(OID.basicConstraints, true, new pkijs.BasicConstraints({ cA: false }).toSchema()),
    makeExtension(OID.keyUsage, true, keyUsageBits([KEY_USAGE.digitalSignature])),
    makeExtension(
      OID.extKeyUsage,
      false,
      new pkijs.ExtKeyUsage({ keyPurposes: [purpose] }).toSchema(),
    ),
    makeExtension(
      OID.subjectAltName,
      false,
      new pkijs.GeneralNames({ names: o.names.map(generalName) }).toSchema(),
    ),
    ...keyIdentifierExtensions(ca.keyId, spki),
  ];
  await cert.sign(ca.signingKey, ca.hash, ENGINE);
  return { certificate: new Uint8Array(cert.toSchema().toBER(false)), privateKey };
}

/** The files of the development certificate. */
export interface DevTlsFiles {
  /** `DATA/dev-tls`, mode 0700. */
  readonly dir: string;
  /** The CA certificate to trust (`curl --cacert`, `twi rp --cacert`, `NODE_EXTRA_CA_CERTS`). */
  readonly caFile: string;
  /** The server certificate followed by the CA certificate. */
  readonly certFile: string;
  /** The server certificate's private key, PKCS#8. */
  readonly keyFile: string;
  /** True when this call made them, false when existing ones were reused. */
  readonly created: boolean;
}

/** True when the files exist, the key is the certificate's, and it runs for more than a day. */
function reusable(certFile: string, keyFile: string, caFile: string, now: Date): boolean {
  if (![certFile, keyFile, caFile].every((f) => existsSync(f))) return false;
  try {
    const cert = new X509Certificate(readFileSync(certFile));
    const ca = new X509Certificate(readFileSync(caFile));
    const key = readFileSync(keyFile, 'utf8');
    return (
      cert.checkPrivateKey(createPrivateKey(key)) &&
      cert.verify(ca.publicKey) &&
      new Date(cert.validTo).getTime() - now.getTime() > 24 * 3600 * 1000
    );
  } catch {
    return false;
  }
}

/**
 * The development certificate under `dataDir`: reused when valid, else made anew (a new CA
 * each time, so an old `ca.pem` stops being trusted). The directory is created or tightened to
 * 0700 and every file is written 0600.
 */
export async function ensureDevTls(dataDir: string, now: Date = new Date()): Promise<DevTlsFiles> {
  const dir = join(dataDir, 'dev-tls');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const caFile = join(dir, 'ca.pem');
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  if (reusable(certFile, keyFile, caFile, now)) {
    for (const f of [caFile, certFile, keyFile]) chmodSync(f, 0o600);
    return { dir, caFile, certFile, keyFile, created: false };
  }
  const ca = await createRootCa({
    commonName: 'twi development CA (localhost only)',
    validitySeconds: DEV_TLS_VALIDITY_SECONDS + 3600,
    now: new Date(now.getTime() - 60_000),
  });
  const leaf = await issueTlsLeaf(ca, { commonName: 'localhost', names: DEV_TLS_NAMES, now });
  const caPem = toPem('CERTIFICATE', ca.certificate);
  // Never into an existing file: its mode could be wider than 0600 until a later chmod.
  const write = (file: string, text: string): void => {
    rmSync(file, { force: true });
    writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
  };
  write(keyFile, leaf.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
  write(certFile, toPem('CERTIFICATE', leaf.certificate) + caPem);
  write(caFile, caPem);
  return { dir, caFile, certFile, keyFile, created: true };
}
