/**
 * Fixtures of the CA tests: real PKCS#10 requests built with pkijs and signed with node:crypto
 * (any key type, any requested extensions), and a runner for the `openssl` command line when it
 * is installed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

/** Whether the `openssl` command is installed (tests that need it skip with a message if not). */
export const OPENSSL = spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0;

/** The skip message of tests that need `openssl`. */
export const NO_OPENSSL = OPENSSL ? false : 'openssl is not installed: command-line checks skipped';

/** Runs `openssl` with `args` in a scratch directory holding `files`; returns stdout. */
export function openssl(args: string[], files: Record<string, string | Uint8Array> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'twi-ca-'));
  try {
    for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
    return execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Like `openssl`, but also returns the files named in `outputs` after the run. */
export function opensslFiles(
  args: string[],
  files: Record<string, string | Uint8Array>,
  outputs: string[],
): Record<string, Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'twi-ca-'));
  try {
    for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    return Object.fromEntries(
      outputs.map((name) => [name, execFileSync('cat', [join(dir, name)])]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What to put in a test CSR. */
export interface CsrSpec {
  /** The key pair that signs (and whose public key the request carries unless `publicKey`). */
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Requested SANs: `uri:…` or `dns:…`. */
  readonly sans?: readonly string[];
  /** Ask for basicConstraints CA:true. */
  readonly ca?: boolean;
  /** Signature hash for ECDSA/RSA (default sha256). */
  readonly hash?: 'sha256' | 'sha384' | 'sha512';
}

const SIG_OIDS: Record<string, Record<string, string>> = {
  ec: {
    sha256: '1.2.840.10045.4.3.2',
    sha384: '1.2.840.10045.4.3.3',
    sha512: '1.2.840.10045.4.3.4',
  },
  rsa: {
    sha256: '1.2.840.113549.1.1.11',
    sha384: '1.2.840.113549.1.1.12',
    sha512: '1.2.840.113549.1.1.13',
  },
};

/** A DER PKCS#10 request: pkijs builds it, node:crypto signs it with the spec's key. */
export function makeCsr(spec: CsrSpec): Uint8Array {
  const csr = new pkijs.CertificationRequest();
  csr.version = 0;
  csr.subject = pkijs.RelativeDistinguishedNames.fromBER(
    new asn1js.Sequence({
      value: [
        new asn1js.Set({
          value: [
            new asn1js.Sequence({
              value: [
                new asn1js.ObjectIdentifier({ value: '2.5.4.3' }),
                new asn1js.Utf8String({ value: 'workload' }),
              ],
            }),
          ],
        }),
      ],
    }).toBER(false),
  );
  csr.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(
    spec.publicKey.export({ format: 'der', type: 'spki' }),
  );
  const extensions: pkijs.Extension[] = [];
  if (spec.sans?.length) {
    const names = spec.sans.map((s) =>
      s.startsWith('uri:')
        ? new pkijs.GeneralName({ type: 6, value: s.slice(4) })
        : new pkijs.GeneralName({ type: 2, value: s.replace(/^dns:/, '') }),
    );
    extensions.push(
      new pkijs.Extension({
        extnID: '2.5.29.17',
        critical: false,
        extnValue: new pkijs.GeneralNames({ names }).toSchema().toBER(false),
      }),
    );
  }
  if (spec.ca) {
    extensions.push(
      new pkijs.Extension({
        extnID: '2.5.29.19',
        critical: true,
        extnValue: new pkijs.BasicConstraints({ cA: true }).toSchema().toBER(false),
      }),
    );
  }
  if (extensions.length) {
    csr.attributes = [
      new pkijs.Attribute({
        type: '1.2.840.113549.1.9.14',
        values: [new pkijs.Extensions({ extensions }).toSchema()],
      }),
    ];
  }
  const type = spec.privateKey.asymmetricKeyType!;
  const hash = spec.hash ?? 'sha256';
  const rsa = type === 'rsa';
  const eddsa = type === 'ed25519' || type === 'ed448';
  const oid =
    type === 'ed25519'
      ? '1.3.101.112'
      : type === 'ed448'
        ? '1.3.101.113'
        : SIG_OIDS[rsa ? 'rsa' : 'ec']![hash]!;
  csr.signatureAlgorithm = new pkijs.AlgorithmIdentifier({
    algorithmId: oid,
    ...(rsa ? { algorithmParams: new asn1js.Null() } : {}),
  });
  const encoder = csr as unknown as { encodeTBS(): asn1js.Sequence };
  const tbs = new Uint8Array(encoder.encodeTBS().toBER(false));
  csr.tbsView = tbs;
  const signature = sign(eddsa ? null : hash, tbs, spec.privateKey);
  csr.signatureValue = new asn1js.BitString({ valueHex: signature });
  return new Uint8Array(csr.toSchema().toBER(false));
}

/** base64url of bytes, as on the wire. */
export function b64u(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}
