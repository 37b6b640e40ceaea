import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { runCli } from '../helpers/cli.js';
import { buildCorim } from '../../endorsements/corim/encode.js';
import { tdxReferenceTriple } from '../../endorsements/corim/templates.js';
import { loadManifest, vectorsDir } from '../helpers/vectors.js';

const evidenceKey: Record<string, string> = {
  tdx: 'quote',
  'sev-snp': 'report',
  nitro: 'cose_sign1',
};
const samples = loadManifest().samples.filter((s) => s.files[evidenceKey[s.platform]!]);

interface VerifyJson {
  platform: string;
  verified: boolean;
  tcb_status: string | null;
  advisory_ids: string[];
  status: string;
  errors: { code: string; message: string }[];
  claims: Record<string, unknown>;
  ear: { eat_profile: string; submods: Record<string, { ear_status: string }> };
  ear_jwt: string;
}

function verify(args: string[]): { status: number | null; out: VerifyJson; stderr: string } {
  const r = runCli(['verify', ...args, '--json']);
  return { status: r.status, out: JSON.parse(r.stdout || 'null') as VerifyJson, stderr: r.stderr };
}

/** Debug TEEs per the manifest's claims: TDX DEBUG flag, SNP POLICY bit 19, Nitro zero PCR0. */
function isDebug(m: Record<string, unknown> | undefined): boolean {
  const pcrs = m?.pcrs as Record<string, string> | undefined;
  if (pcrs) return /^0+$/.test(pcrs['0']!);
  if (typeof m?.policy === 'string') return (BigInt(m.policy) & (1n << 19n)) !== 0n;
  return (m?.td_attribute_flags as { debug?: boolean } | undefined)?.debug === true;
}

for (const sample of samples) {
  const file = join(vectorsDir, sample.files[evidenceKey[sample.platform]!]!);

  test(`twi verify ${sample.name} at its verify_at gives the manifest outcome`, () => {
    const { status, out, stderr } = verify([file, '--at', sample.verify_at]);
    assert.equal(out.platform, sample.platform, stderr);
    assert.equal(out.verified, sample.expected.verifies, JSON.stringify(out.errors));
    if (sample.expected.tcb_status !== undefined) {
      assert.equal(out.tcb_status, sample.expected.tcb_status);
      assert.deepEqual(out.advisory_ids, sample.expected.advisory_ids ?? []);
    }
    assert.deepEqual(out.claims, sample.measurements);
    const tier = out.ear.submods[sample.platform]!.ear_status;
    assert.equal(tier, out.status);
    assert.equal(decodeJwt(out.ear_jwt).ear_status, out.status, 'the JWT carries the same EAR');
    assert.equal(decodeProtectedHeader(out.ear_jwt).typ, 'eat+jwt');
    if (!sample.expected.verifies) {
      assert.equal(out.status, 'contraindicated');
      assert.equal(status, 2);
    } else if (isDebug(sample.measurements)) {
      assert.equal(out.status, 'contraindicated', 'debug TEEs are contraindicated by default');
      assert.ok(out.errors.some((e) => e.code === 'ERR_DEBUG_ENABLED'));
      assert.equal(status, 2);
    } else if (sample.platform === 'sev-snp' && sample.measurements?.['vmpl'] !== 0) {
      assert.equal(out.status, 'contraindicated', 'the default policy wants VMPL 0');
      assert.ok(out.errors.some((e) => e.code === 'ERR_VMPL_NOT_ALLOWED'));
      assert.equal(status, 2);
    } else if (sample.expected.tcb_status === 'OutOfDate') {
      assert.equal(out.status, 'warning');
      assert.equal(status, 1);
    } else {
      assert.equal(out.status, 'affirming', JSON.stringify(out.errors));
      assert.equal(status, 0);
    }
  });

  for (const also of sample.also_expect ?? []) {
    test(`twi verify ${sample.name} at ${also.verify_at} fails (${also.reason})`, () => {
      const { status, out } = verify([file, '--at', also.verify_at]);
      assert.equal(out.verified, also.verifies);
      assert.equal(out.status, 'contraindicated');
      assert.equal(status, 2);
      assert.match(out.errors[0]!.code, /EXPIRED|NOT_YET_VALID/);
    });
  }
}

test('simulated evidence is affirming with the simulator roots as trust anchors, and rejected without', () => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-verify-cli-'));
  try {
    const at = '2026-05-01T10:00:00Z';
    for (const platform of ['tdx', 'sev-snp', 'nitro']) {
      const out = join(dir, `${platform}.bin`);
      const sim = runCli([
        'simulate',
        platform,
        '--out',
        out,
        '--pki',
        join(dir, 'pki'),
        '--at',
        at,
      ]);
      assert.equal(sim.status, 0, sim.stderr);
      const ok = verify([out, '--at', at, '--trust-anchors', join(dir, 'pki', 'roots')]);
      assert.equal(ok.out.verified, true, JSON.stringify(ok.out.errors));
      assert.equal(ok.out.status, 'affirming', JSON.stringify(ok.out.errors));
      assert.equal(ok.status, 0);
      assert.ok(
        JSON.stringify(ok.out.ear).includes('simulated'),
        'an EAR rooted at a configured anchor says so',
      );
      const rejected = verify([out, '--at', at]);
      assert.equal(rejected.out.verified, false);
      assert.equal(rejected.out.errors[0]!.code, 'ERR_CHAIN_UNTRUSTED_ROOT');
      assert.equal(rejected.status, 2);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('twi verify checks the nonce it is given', () => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-verify-nonce-'));
  try {
    const at = '2026-05-01T10:00:00Z';
    const nonce = 'ab'.repeat(32);
    const out = join(dir, 'q.bin');
    runCli([
      'simulate',
      'tdx',
      '--out',
      out,
      '--pki',
      join(dir, 'pki'),
      '--at',
      at,
      '--nonce',
      nonce,
    ]);
    const anchors = ['--trust-anchors', join(dir, 'pki', 'roots'), '--at', at];
    assert.equal(verify([out, ...anchors, '--nonce', nonce]).out.status, 'affirming');
    const wrong = verify([out, ...anchors, '--nonce', 'cd'.repeat(32)]);
    assert.equal(wrong.out.status, 'contraindicated');
    assert.equal(wrong.status, 2);
    assert.ok(wrong.out.errors.some((e) => /NONCE|REPORT_DATA/.test(e.code)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('twi verify exits 3 when it cannot appraise', () => {
  assert.equal(runCli(['verify', join(vectorsDir, 'missing.bin')]).status, 3);
  const tdx = samples.find((s) => s.platform === 'tdx')!;
  const file = join(vectorsDir, tdx.files.quote!);
  assert.equal(runCli(['verify', file, '--at', 'yesterday']).status, 3);
  assert.equal(runCli(['verify', file, '--platform', 'sgx']).status, 3);
  assert.equal(runCli(['verify', file, '--policy', join(vectorsDir, 'manifest.json')]).status, 3);
});

test('twi verify --corim merges CoRIM reference values into the policy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-verify-corim-'));
  try {
    const sample = samples.find(
      (s) => s.platform === 'tdx' && s.expected.tcb_status === 'UpToDate',
    )!;
    const m = sample.measurements as Record<string, string>;
    const file = join(vectorsDir, sample.files.quote!);
    const corimFor = (mrtd: string): string => {
      const path = join(dir, `${mrtd.slice(0, 8)}.corim`);
      const triple = tdxReferenceTriple({ mrtd, rtmrs: [m.rtmr0, m.rtmr1] });
      writeFileSync(
        path,
        buildCorim({ id: 'test-rim', comids: [{ tagId: 'td', referenceTriples: [triple] }] }),
      );
      return path;
    };
    const ok = verify([file, '--at', sample.verify_at, '--corim', corimFor(m.mrtd!)]);
    assert.equal(ok.out.status, 'affirming', JSON.stringify(ok.out.errors));
    assert.equal(ok.status, 0);
    const wrong = (m.mrtd!.startsWith('00') ? '11' : '00') + m.mrtd!.slice(2);
    const bad = verify([file, '--at', sample.verify_at, '--corim', corimFor(wrong)]);
    assert.equal(bad.out.status, 'contraindicated');
    assert.equal(bad.status, 2);
    assert.ok(
      bad.out.errors.some((e) => e.code === 'ERR_REFERENCE_MISMATCH' && /MRTD/.test(e.message)),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
