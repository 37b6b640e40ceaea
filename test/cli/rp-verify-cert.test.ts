/**
 * `twi rp verify-cert`: a workload certificate issued by the CA core is accepted against the
 * bundle (file or URL) with its identifier, jti, serial and expiry; another CA's, an expired,
 * a revoked and an unlisted one exit 2 with their codes; unreadable input exits 3.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { cliPath, runCli } from '../helpers/cli.js';
import { bundleOf, issue, newCa } from '../wimse/mtls-fixtures.js';

const ID = 'spiffe://prod.example/ns/shop/sa/api';

test(
  'twi rp verify-cert accepts good certificates and refuses bad ones',
  { timeout: 180_000 },
  async () => {
    const ca = await newCa();
    const other = await newCa('another CA');
    const good = await issue(ca, ID);
    const foreign = await issue(other, ID);
    const dir = mkdtempSync(join(tmpdir(), 'twi-verify-cert-'));
    try {
      const file = (name: string, body: string | Uint8Array) => {
        writeFileSync(join(dir, name), body);
        return join(dir, name);
      };
      const bundle = file('bundle.json', JSON.stringify(bundleOf([ca])));
      const revoked = file(
        'revoked.json',
        JSON.stringify(bundleOf([ca], { revoked_jtis: [good.jti] })),
      );
      const pem = file('svid.pem', good.cert);
      const der = file('svid.der', good.der);
      const run = (cert: string, b: string, ...more: string[]) =>
        runCli(['rp', 'verify-cert', '--cert', cert, '--bundle', b, ...more]);

      const ok = run(pem, bundle, '--json');
      assert.equal(ok.status, 0, ok.stderr);
      assert.deepEqual(JSON.parse(ok.stdout), {
        accepted: true,
        workload_id: ID,
        trust_domain: 'prod.example',
        jti: good.jti,
        serial: good.serial,
        not_after: good.notAfter.toISOString(),
      });
      const text = run(der, bundle, '--allow', ID, '--allow', 'other.example');
      assert.equal(text.status, 0, text.stderr);
      assert.match(
        text.stdout,
        new RegExp(`^accepted: ${ID}\\n  jti: ${good.jti}\\n  serial: ${good.serial}\\n`),
      );

      const rejected = (args: string[], code: string) => {
        const r = run(...(args as [string, string, ...string[]]));
        assert.equal(r.status, 2, `${code}: ${r.stdout}${r.stderr}`);
        assert.match(r.stdout, new RegExp(`^rejected: ${code}: `));
      };
      rejected([file('foreign.pem', foreign.cert), bundle], 'ERR_PEER_UNTRUSTED');
      const later = new Date(good.notAfter.getTime() + 60_000).toISOString();
      rejected([pem, bundle, '--at', later], 'ERR_PEER_EXPIRED');
      rejected([pem, revoked], 'ERR_PEER_REVOKED');
      rejected(
        [pem, bundle, '--allow', 'spiffe://prod.example/ns/shop/sa/db'],
        'ERR_PEER_ID_NOT_ALLOWED',
      );
      rejected([pem, bundle, '--allow', 'other.example'], 'ERR_PEER_ID_NOT_ALLOWED');

      // The bundle by URL (as GET /v1/bundle serves it).
      const server = createServer((_req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(bundleOf([ca])));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/bundle`;
        // Asynchronously: the bundle server runs in this process.
        const { stdout } = await promisify(execFile)(process.execPath, [
          cliPath,
          'rp',
          'verify-cert',
          '--cert',
          pem,
          '--bundle',
          url,
          '--json',
        ]);
        assert.equal((JSON.parse(stdout) as { jti: string }).jti, good.jti);
      } finally {
        server.close();
      }

      assert.equal(run(join(dir, 'missing.pem'), bundle).status, 3);
      assert.equal(run(file('junk.pem', 'not a certificate'), bundle).status, 2);
      assert.equal(run(pem, bundle, '--at', 'yesterday').status, 3);
      assert.equal(run(pem, bundle, '--allow', 'spiffe://prod.example/a/').status, 3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
