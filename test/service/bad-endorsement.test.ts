/**
 * A VCEK whose public key does not decode (issue 12 finding: HTTP 500 on `/v1/attest` and
 * `/v1/appraise`, exit 70 from `twi verify`) is a typed input error: 400 with
 * `ERR_EVIDENCE_MALFORMED` from both endpoints, and exit 3 with
 * one line from the CLI. The intact VCEK still attests, so the refusal is the key's doing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simulateSnp } from '../../simulators/index.js';
import { bindingReportData, jwkThumbprint } from '../../wire/binding.js';
import { parseCertificateDer } from '../../common/x509/certificate.js';
import { runCli } from '../helpers/cli.js';
import { b64u, NOW, startTestService, workloadKey, type TestService } from './harness.js';

/** The VCEK with one byte of its EC point's X coordinate changed: the point leaves the curve. */
function badKeyVcek(der: Uint8Array): Uint8Array {
  const spki = parseCertificateDer(der).spki;
  const end = Buffer.from(der).indexOf(Buffer.from(spki)) + spki.length;
  const out = der.slice();
  out[end - 60] = out[end - 60]! ^ 0x01;
  return out;
}

describe('a VCEK whose public key does not decode', { timeout: 120_000 }, () => {
  let service: TestService;

  before(async () => {
    service = await startTestService({ seed: 'twi-bad-vcek', clock: () => NOW });
  });
  after(() => service.close());

  async function challenge(): Promise<string> {
    const r = await fetch(service.base + '/v1/challenge', { method: 'POST' });
    return ((await r.json()) as { nonce: string }).nonce;
  }

  /** SEV-SNP evidence bound to `nonce` with the VCEK (as given) as `application/pkix-cert`. */
  function body(nonce: string, spoil: boolean) {
    const key = workloadKey();
    const nonceBytes = new Uint8Array(Buffer.from(nonce, 'base64url'));
    const reportData = bindingReportData(nonceBytes, jwkThumbprint(key.jwk));
    const sim = simulateSnp(service.pki.amd('Milan'), { seed: 'bad-vcek', reportData });
    const vcek = spoil ? badKeyVcek(sim.vcekDer) : sim.vcekDer;
    const evidence = {
      __cmwc_t: 'tag:twi.dev,2026:evidence',
      snp: ['application/vnd.twi.sev-snp-report', b64u(sim.report), 4],
      vcek: ['application/pkix-cert', b64u(vcek), 2],
    };
    return { nonce, evidence, key: key.jwk, vcek, report: sim.report };
  }

  async function post(path: string, b: unknown): Promise<Response> {
    return fetch(service.base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(b),
    });
  }

  test('the spoiled certificate still parses as X.509, but its key does not decode', async () => {
    const { vcek } = body(await challenge(), true);
    const x509 = new X509Certificate(vcek);
    assert.throws(() => x509.publicKey, { code: 'ERR_OSSL_EVP_DECODE_ERROR' });
  });

  test('/v1/attest and /v1/appraise answer 400 ERR_EVIDENCE_MALFORMED', async () => {
    for (const path of ['/v1/attest', '/v1/appraise']) {
      const nonce = await challenge();
      const { evidence, key } = body(nonce, true);
      const r = await post(
        path,
        path === '/v1/attest' ? { nonce, evidence, key } : { nonce, evidence },
      );
      const p = (await r.json()) as { code: string; status: number; detail: string };
      assert.equal(r.status, 400, `${path}: ${JSON.stringify(p)}`);
      assert.equal(p.code, 'ERR_EVIDENCE_MALFORMED');
      assert.match(p.detail, /snpKeyCert.*subjectPublicKeyInfo.*does not decode/);
    }
    // The same evidence with the intact VCEK attests: the refusal is the key's doing.
    const nonce = await challenge();
    const good = body(nonce, false);
    const ok = await post('/v1/attest', { nonce, evidence: good.evidence, key: good.key });
    assert.equal(ok.status, 200, JSON.stringify(await ok.json()));
  });

  test('twi verify --vcek bad.der exits 3 with one line naming the field', () => {
    const b = body('A'.repeat(43), true);
    const report = join(service.dir, 'bad.report.bin');
    const vcek = join(service.dir, 'bad.der');
    writeFileSync(report, b.report);
    writeFileSync(vcek, b.vcek);
    const anchors = join(service.dir, 'pki', 'roots');
    const args = ['verify', report, '--vcek', vcek, '--trust-anchors', anchors];
    const r = runCli([...args, '--at', NOW.toISOString()]);
    assert.equal(r.status, 3, r.stderr + r.stdout);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /ERR_EVIDENCE_MALFORMED: .*subjectPublicKeyInfo/);
  });
});
