/**
 * The issuing CA (service/ca/issuer.ts): a self-signed root has the CA profile (basicConstraints
 * CA:true pathLen 0 and keyUsage keyCertSign + cRLSign, both critical; SKI); an operator's
 * intermediate made with `openssl` (skipped with a message when absent) loads with its chain and
 * issues certificates `openssl verify` accepts; loading refuses a key that does not match, a
 * certificate that is not a CA or may not sign certificates, a broken chain, an unsupported key,
 * garbage and an expired CA, each with its code.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { toPem } from '../../../service/ca/asn1.js';
import { CaError, type CaCode } from '../../../service/ca/errors.js';
import {
  caChainPem,
  createRootCa,
  loadIssuingCa,
  type IssuingCa,
} from '../../../service/ca/issuer.js';
import { earDigest, issueWorkloadCertificate } from '../../../service/ca/profile.js';
import { NO_OPENSSL, OPENSSL, openssl } from './fixtures.js';
import { newKeyPair } from '../../../common/key-pair.js';

const ID = 'wimse://prod.example/ns/payments/api';

async function refused(code: CaCode, run: () => Promise<unknown>): Promise<void> {
  await assert.rejects(run(), (err: unknown) => {
    assert.ok(err instanceof CaError, `a CaError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

function keyPem(ca: IssuingCa): string {
  return ca.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

describe('a self-signed root', { timeout: 120_000 }, () => {
  test('has the CA profile, for ES256 and ES384', async () => {
    for (const [alg, sigOid, curve] of [
      ['ES256', '1.2.840.10045.4.3.2', 'prime256v1'],
      ['ES384', '1.2.840.10045.4.3.3', 'secp384r1'],
    ] as const) {
      const ca = await createRootCa({
        commonName: 'twi CA',
        organization: 'twi',
        alg,
        validitySeconds: 86_400,
      });
      const cert = pkijs.Certificate.fromBER(ca.certificate);
      assert.equal(cert.version, 2);
      assert.equal(cert.signatureAlgorithm.algorithmId, sigOid);
      assert.deepEqual(ca.chain, [ca.certificate]);
      assert.equal(cert.notAfter.value.getTime() - cert.notBefore.value.getTime(), 86_400_000);
      assert.equal(ca.privateKey.asymmetricKeyDetails?.namedCurve, curve);
      const byId = new Map((cert.extensions ?? []).map((e) => [e.extnID, e]));
      assert.deepEqual([...byId.keys()], ['2.5.29.19', '2.5.29.15', '2.5.29.14']);
      const bc = new pkijs.BasicConstraints({
        schema: asn1js.fromBER(byId.get('2.5.29.19')!.extnValue.valueBlock.valueHexView).result,
      });
      assert.equal(byId.get('2.5.29.19')!.critical, true);
      assert.equal(bc.cA, true);
      assert.equal(bc.pathLenConstraint, 0);
      assert.equal(byId.get('2.5.29.15')!.critical, true);
      const ku = asn1js.fromBER(byId.get('2.5.29.15')!.extnValue.valueBlock.valueHexView)
        .result as asn1js.BitString;
      assert.deepEqual([...ku.valueBlock.valueHexView], [0x06]);
      const subject = cert.subject.typesAndValues.map((t) => [t.type, t.value.valueBlock.value]);
      assert.deepEqual(subject, [
        ['2.5.4.10', 'twi'],
        ['2.5.4.3', 'twi CA'],
      ]);
      const x509 = new X509Certificate(ca.certificate);
      assert.ok(x509.ca);
      assert.ok(x509.verify(x509.publicKey), 'self-signed');
      assert.equal(caChainPem(ca), toPem('CERTIFICATE', ca.certificate));
    }
  });

  test('a bad option is caller misuse (TypeError)', async () => {
    await assert.rejects(createRootCa({ commonName: '' }), TypeError);
    await assert.rejects(createRootCa({ commonName: 'x', validitySeconds: 0 }), TypeError);
    await assert.rejects(createRootCa({ commonName: 'x', alg: 'RS256' as 'ES256' }), TypeError);
  });
});

describe('loading an operator CA (no openssl needed)', { timeout: 120_000 }, () => {
  let root: IssuingCa;
  let other: IssuingCa;
  before(async () => {
    root = await createRootCa({ commonName: 'operator root' });
    other = await createRootCa({ commonName: 'another root', alg: 'ES384' });
  });

  test('a root and its own key load back, PEM or DER, key as PEM or KeyObject', async () => {
    const pem = await loadIssuingCa({
      certificate: toPem('CERTIFICATE', root.certificate),
      privateKey: keyPem(root),
    });
    const der = await loadIssuingCa({ certificate: root.certificate, privateKey: root.privateKey });
    for (const ca of [pem, der]) {
      assert.equal(ca.alg, 'ES256');
      assert.deepEqual(ca.keyId, root.keyId);
      assert.deepEqual(ca.subject, root.subject);
      assert.deepEqual(ca.chain, [root.certificate]);
    }
  });

  test("ERR_CA_KEY_MISMATCH: a key that is not the certificate's", async () => {
    await refused('ERR_CA_KEY_MISMATCH', () =>
      loadIssuingCa({
        certificate: root.certificate,
        privateKey: newKeyPair('ec', { namedCurve: 'prime256v1' }).privateKey,
      }),
    );
  });

  test('ERR_CA_NOT_CA: an issued workload certificate and its key', async () => {
    const leaf = newKeyPair('ec', { namedCurve: 'prime256v1' });
    const issued = await issueWorkloadCertificate(root, {
      publicKey: leaf.publicKey,
      workloadId: ID,
      jti: 'j',
      earSha256: earDigest('e'),
    });
    await refused('ERR_CA_NOT_CA', () =>
      loadIssuingCa({ certificate: issued.pem, privateKey: leaf.privateKey }),
    );
  });

  test('ERR_CA_CHAIN: a chain certificate that did not issue it', async () => {
    await refused('ERR_CA_CHAIN', () =>
      loadIssuingCa({
        certificate: root.certificate,
        chain: [other.certificate],
        privateKey: root.privateKey,
      }),
    );
  });

  test('ERR_CA_UNSUPPORTED_ALG, ERR_CA_INVALID, ERR_CA_EXPIRED', async () => {
    const rsa = newKeyPair('rsa', { modulusLength: 2048 }).privateKey;
    await refused('ERR_CA_UNSUPPORTED_ALG', () =>
      loadIssuingCa({ certificate: root.certificate, privateKey: rsa }),
    );
    await refused('ERR_CA_INVALID', () =>
      loadIssuingCa({
        certificate: new Uint8Array([0x30, 3, 1, 1, 0]),
        privateKey: root.privateKey,
      }),
    );
    await refused('ERR_CA_INVALID', () =>
      loadIssuingCa({ certificate: 'not pem', privateKey: root.privateKey }),
    );
    await refused('ERR_CA_INVALID', () =>
      loadIssuingCa({ certificate: root.certificate, privateKey: 'not a key' }),
    );
    await refused('ERR_CA_EXPIRED', () =>
      loadIssuingCa({
        certificate: root.certificate,
        privateKey: root.privateKey,
        now: new Date(root.notAfter.getTime() + 1000),
      }),
    );
  });
});

/** Runs a shell script in a scratch directory and returns the named files' text. */
function shell(script: string, outputs: string[]): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'twi-ca-'));
  try {
    execFileSync('sh', ['-ec', script], { cwd: dir, stdio: 'pipe' });
    return Object.fromEntries(outputs.map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe(
  'an operator intermediate made with openssl',
  { timeout: 120_000, skip: NO_OPENSSL },
  () => {
    let files: Record<string, string> = {};
    before(() => {
      if (!OPENSSL) return;
      files = shell(
        `
cat > ext.cnf <<'EOF2'
[int]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[crlonly]
basicConstraints=critical,CA:TRUE
keyUsage=critical,cRLSign
[leaf]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
EOF2
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key -out root.pem \\
  -subj '/O=Operator/CN=Operator Root' -days 30 \\
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root2.key -out root2.pem \\
  -subj '/CN=Other Root' -days 30 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
for name in int crlonly leaf; do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout $name.key -out $name.csr -subj "/CN=$name"
  openssl x509 -req -in $name.csr -CA root.pem -CAkey root.key -CAcreateserial -days 10 \\
    -extfile ext.cnf -extensions $name -out $name.pem
done
`,
        [
          'root.pem',
          'root2.pem',
          'int.pem',
          'int.key',
          'root.key',
          'crlonly.pem',
          'crlonly.key',
          'leaf.pem',
          'leaf.key',
        ],
      );
    });

    test('loads with its chain and issues what openssl verify accepts', async () => {
      const ca = await loadIssuingCa({
        certificate: files['int.pem']!,
        chain: [files['root.pem']!],
        privateKey: files['int.key']!,
      });
      assert.equal(ca.alg, 'ES384');
      assert.equal(ca.chain.length, 2);
      const ski = openssl(['x509', '-in', 'int.pem', '-noout', '-ext', 'subjectKeyIdentifier'], {
        'int.pem': files['int.pem']!,
      });
      assert.ok(
        ski.replace(/[^0-9A-F]/g, '').endsWith(Buffer.from(ca.keyId).toString('hex').toUpperCase()),
      );
      const leaf = newKeyPair('ed25519');
      const issued = await issueWorkloadCertificate(ca, {
        publicKey: leaf.publicKey,
        workloadId: ID,
        jti: 'j-2',
        earSha256: earDigest('ear'),
      });
      assert.equal(issued.chain.length, 3);
      const out = openssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'int.pem', 'leaf.pem'], {
        'root.pem': files['root.pem']!,
        'int.pem': files['int.pem']!,
        'leaf.pem': issued.pem,
      });
      assert.equal(out.trim(), 'leaf.pem: OK');
      // a chain given as one PEM bundle with the certificate works the same
      const bundled = await loadIssuingCa({
        certificate: files['int.pem']! + files['root.pem']!,
        privateKey: files['int.key']!,
      });
      assert.deepEqual(bundled.chain, ca.chain);
    });

    test('refusals: key mismatch, not a CA, no keyCertSign, a chain from another root', async () => {
      await refused('ERR_CA_KEY_MISMATCH', () =>
        loadIssuingCa({
          certificate: files['int.pem']!,
          chain: [files['root.pem']!],
          privateKey: files['root.key']!,
        }),
      );
      await refused('ERR_CA_NOT_CA', () =>
        loadIssuingCa({ certificate: files['leaf.pem']!, privateKey: files['leaf.key']! }),
      );
      await refused('ERR_CA_NOT_CA', () =>
        loadIssuingCa({ certificate: files['crlonly.pem']!, privateKey: files['crlonly.key']! }),
      );
      await refused('ERR_CA_CHAIN', () =>
        loadIssuingCa({
          certificate: files['int.pem']!,
          chain: [files['root2.pem']!],
          privateKey: files['int.key']!,
        }),
      );
      await refused('ERR_CA_CHAIN', () =>
        loadIssuingCa({
          certificate: files['int.pem']!,
          chain: [files['leaf.pem']!],
          privateKey: files['int.key']!,
        }),
      );
    });
  },
);
