/**
 * Smoke test of the certificate-issuance bench (`x509-bench.ts`): standalone in `--quick` mode,
 * and as part of `npm run bench --quick --attest-only`, it writes JSON of the documented shape
 * with positive rates, every attest-with-CSR answered with a chain and no error. Speed is not
 * asserted (the machine may be shared); docs/benchmarks.md reports a full run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Rate } from './timing.js';
import type { X509BenchResults } from './x509-bench.js';

const here = dirname(fileURLToPath(import.meta.url));

function assertRate(rate: Rate, what: string): void {
  assert.ok(Number.isFinite(rate.opsPerSec) && rate.opsPerSec > 0, `${what}: ${rate.opsPerSec}`);
  assert.ok(rate.rounds.length > 0 && rate.rounds.every((r) => r > 0), `${what} rounds`);
}

const ratio = (a: Rate, b: Rate): number => Math.round((a.opsPerSec / b.opsPerSec) * 1000) / 1000;

function assertShape(r: X509BenchResults): void {
  assert.equal(r.schema, 'twi-bench-x509/1');
  assert.equal(r.mode, 'quick');
  assert.ok(r.machine.cores > 0);
  assert.match(r.machine.node, /^v\d+/);
  assert.equal(r.plan.rounds, 2);
  const a = r.attest;
  assert.equal(a.evidence, 'nitro');
  assert.equal(a.store, 'sqlite');
  assert.equal(a.concurrency, 4);
  assertRate(a.withCsr, 'attest with csr');
  assertRate(a.withoutCsr, 'attest without csr');
  assert.equal(a.ratio, ratio(a.withCsr, a.withoutCsr));
  assert.ok(a.successes.withCsr > 0 && a.successes.withoutCsr > 0);
  assert.deepEqual(a.errors, {}, 'no failure, every csr answered with a chain');
  assert.equal(a.ok, true);
  const t = r.tls;
  assert.equal(t.keyType, 'ECDSA P-256');
  assert.match(t.protocol, /^TLSv1\.[23]$/);
  assertRate(t.mtls, 'mTLS handshakes');
  assertRate(t.plain, 'plain TLS handshakes');
  assertRate(t.nodeMutual, 'node mutual TLS handshakes');
  assert.equal(t.ratio, ratio(t.mtls, t.plain));
}

test('x509-bench --quick writes results of the expected shape', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-x509-bench-smoke-'));
  try {
    const json = join(dir, 'out.json');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(here, 'x509-bench.js'), '--quick', '--json', json],
      { timeout: 110_000 },
    );
    assert.match(stdout, /attest with csr \/ without: [\d.]+/);
    assert.match(stdout, /mTLS \/ plain TLS handshakes: [\d.]+/);
    assertShape(JSON.parse(readFileSync(json, 'utf8')) as X509BenchResults);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  'bench --quick --attest-only carries the x509 part after the attest flow',
  { timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twi-x509-bench-smoke-'));
    try {
      const json = join(dir, 'out.json');
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [join(here, 'run.js'), '--quick', '--attest-only', '--json', json],
        { timeout: 110_000 },
      );
      assert.match(stdout, /Certificate issuance/);
      const res = JSON.parse(readFileSync(json, 'utf8')) as {
        attestFlow?: unknown;
        x509?: X509BenchResults;
      };
      assert.ok(res.attestFlow, 'the attest flow ran');
      assert.ok(res.x509, 'the x509 part is in the JSON');
      assertShape(res.x509);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
