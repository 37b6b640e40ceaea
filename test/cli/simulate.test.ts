import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { bindingReportData, jwkThumbprint } from '../../wire/binding.js';
import { parseTdxQuote, tdxClaims } from '../../verifier/platforms/tdx/index.js';
import {
  decodeSnpSignerInfo,
  parseSnpReport,
  snpClaims,
} from '../../verifier/platforms/sev-snp/index.js';
import { parseNitroDocument, nitroClaims } from '../../verifier/platforms/nitro/index.js';
import { newKeyPair } from '../../common/key-pair.js';

const at = '2026-06-01T12:00:00Z';
const pkiSeed = 'cli-test-seed';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'twi-sim-cli-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function simulate(dir: string, platform: string, extra: string[] = []): string {
  const out = join(dir, `${platform}.bin`);
  const r = runCli([
    'simulate',
    platform,
    '--out',
    out,
    '--pki',
    join(dir, 'pki'),
    '--pki-seed',
    pkiSeed,
    '--at',
    at,
    ...extra,
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^${platform}: wrote `));
  return out;
}

test('twi simulate writes evidence and collateral files for every platform, with the roots', () => {
  withDir((dir) => {
    const tdx = simulate(dir, 'tdx', ['--version', '5', '--body-type', '3']);
    const collateral = JSON.parse(readFileSync(`${tdx}.collateral.json`, 'utf8')) as Record<
      string,
      string
    >;
    for (const k of ['tcb_info', 'qe_identity', 'pck_crl', 'root_ca_crl', 'tcb_info_signature']) {
      assert.equal(typeof collateral[k], 'string', k);
    }
    assert.equal(parseTdxQuote(readFileSync(tdx)).header.version, 5);

    const snp = simulate(dir, 'sev-snp', ['--product', 'genoa', '--version', '3']);
    assert.ok(existsSync(`${snp}.vcek.der`) && existsSync(`${snp}.ca-chain.pem`));
    const report = parseSnpReport(readFileSync(snp));
    assert.equal(report.version, 3);
    assert.equal(report.product, 'Genoa');
    const vcek = new X509Certificate(readFileSync(`${snp}.vcek.der`));
    assert.match(vcek.issuer, /SEV-Genoa/);

    const vlek = simulate(dir, 'sev-snp', ['--vlek', '--out', join(dir, 'v.bin')]);
    assert.equal(vlek, join(dir, 'sev-snp.bin'), 'helper path; the last --out wins');
    assert.ok(existsSync(join(dir, 'v.bin.vlek.der')));
    const vlekReport = parseSnpReport(readFileSync(join(dir, 'v.bin')));
    assert.equal(decodeSnpSignerInfo(vlekReport.signerInfo).signingKey, 'vlek');

    const nitro = simulate(dir, 'nitro', ['--debug']);
    const pcrs = nitroClaims(parseNitroDocument(readFileSync(nitro))).pcrs as Record<
      string,
      string
    >;
    assert.match(pcrs['0']!, /^0+$/);

    for (const f of [
      'intel-sgx-root-ca.pem',
      'amd-milan-ask-ark.pem',
      'aws-nitro-enclaves-root-g1.pem',
    ]) {
      assert.ok(existsSync(join(dir, 'pki', 'roots', f)), f);
    }
  });
});

test('--nonce with --public-key binds both into REPORT_DATA (and Nitro nonce/public_key/user_data)', () => {
  withDir((dir) => {
    const { publicKey } = newKeyPair('ec', { namedCurve: 'P-256' });
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, publicKey.export({ format: 'pem', type: 'spki' }));
    const nonceHex = 'a1'.repeat(32);
    const expected = Buffer.from(
      bindingReportData(
        Buffer.from(nonceHex, 'hex'),
        jwkThumbprint(publicKey.export({ format: 'jwk' })),
      ),
    ).toString('hex');
    const args = ['--nonce', nonceHex, '--public-key', keyFile];
    const tdx = tdxClaims(parseTdxQuote(readFileSync(simulate(dir, 'tdx', args))));
    assert.equal(tdx.report_data, expected);
    const snp = snpClaims(parseSnpReport(readFileSync(simulate(dir, 'sev-snp', args))));
    assert.equal(snp.report_data, expected);
    const nitro = nitroClaims(parseNitroDocument(readFileSync(simulate(dir, 'nitro', args))));
    assert.equal(nitro.nonce, nonceHex);
    assert.equal(nitro.user_data, expected);
    const spki = publicKey.export({ format: 'der', type: 'spki' }).toString('hex');
    assert.equal(nitro.public_key, spki);

    const raw = tdxClaims(
      parseTdxQuote(readFileSync(simulate(dir, 'tdx', ['--report-data', 'abcd']))),
    );
    assert.equal(raw.report_data, 'abcd' + '00'.repeat(62));
  });
});

test('the same seeds and instant give byte-identical evidence', () => {
  const outputs: Buffer[][] = [];
  for (let i = 0; i < 2; i++) {
    withDir((dir) => {
      outputs.push(
        ['tdx', 'sev-snp', 'nitro'].map((p) => readFileSync(simulate(dir, p, ['--seed', '7']))),
      );
    });
  }
  assert.deepEqual(outputs[0], outputs[1]);
});

test('bad simulate options exit 3 with a usage error', () => {
  withDir((dir) => {
    const base = ['--out', join(dir, 'x.bin'), '--pki', join(dir, 'pki'), '--at', at];
    for (const args of [
      ['simulate', 'sgx', ...base],
      ['simulate', 'tdx', ...base, '--version', '3'],
      ['simulate', 'tdx', ...base, '--report-data', 'zz'],
      ['simulate', 'tdx', ...base, '--report-data', 'aa'.repeat(65)],
      ['simulate', 'sev-snp', ...base, '--product', 'naples'],
      ['simulate', 'tdx', ...base, '--tcb-status', 'Fine'],
      ['simulate', 'nitro', ...base, '--pcr', '40=00'],
      ['simulate', 'tdx', '--pki', join(dir, 'pki')],
    ]) {
      const r = runCli(args);
      assert.equal(r.status, 3, `${args.join(' ')}: ${r.stderr}`);
      // The first call creates the PKI (its progress line comes first); the error is the last line.
      const last = r.stderr.trimEnd().split('\n').at(-1)!;
      assert.match(last, /^(twi: ERR_USAGE: |error: )/);
    }
  });
});

test('twi demo (npm run demo) simulates, inspects and summarises each platform', () => {
  const r = runCli(['demo']);
  assert.equal(r.status, 0, r.stderr);
  for (const p of ['tdx', 'sev-snp', 'nitro'])
    assert.match(r.stdout, new RegExp(`\\[${p}\\] \\d+ bytes`));
  assert.match(r.stdout, /parsed back with the same codecs/);
});

test('creating a simulated PKI reports its steps on stderr, once; --quiet silences it', () => {
  withDir((dir) => {
    const pki = join(dir, 'pki');
    const args = ['simulate', 'nitro', '--out', join(dir, 'n.bin'), '--pki', pki, '--at', at];
    const first = runCli(args);
    assert.equal(first.status, 0, first.stderr);
    const steps = ['intel', 'aws', 'amd-milan', 'amd-genoa', 'amd-turin'].join('… ');
    assert.match(
      first.stderr,
      new RegExp(
        `^twi: creating simulated PKI in ${pki.replace(/[.]/g, '\\.')}: ${steps}… done \\(\\d+\\.\\d s\\)\\n$`,
      ),
    );
    assert.match(first.stdout, /^nitro: wrote /, 'stdout keeps only the result');
    const again = runCli(args);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stderr, '', 'an existing PKI is opened silently');

    const quiet = runCli([...args.slice(0, 4), '--pki', join(dir, 'quiet'), '--quiet']);
    assert.equal(quiet.status, 0, quiet.stderr);
    assert.equal(quiet.stderr, '');
    assert.ok(existsSync(join(dir, 'quiet', 'roots', 'amd-turin-ask-ark.pem')));
  });
});
