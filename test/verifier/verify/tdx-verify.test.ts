/**
 * The TDX verify stage: every real sample of the manifest gives its expected outcome at its
 * recorded instant and fails at each `also_expect` instant, with a fresh cache and with
 * one warm cache shared by all cases; simulated evidence verifies only with the simulator
 * root configured; and warm verifications reuse the cached work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAnchorStore } from '../../../endorsements/anchors.js';
import { createIntelPki } from '../../../simulators/pki/intel.js';
import { simulateTdx } from '../../../simulators/tdx.js';
import type { TcbStatus, TdxSimOptions } from '../../../simulators/tdx.js';
import { parseTdxQuote } from '../../../verifier/platforms/tdx/index.js';
import type { TdxQuote } from '../../../verifier/platforms/tdx/index.js';
import { verifyTdx } from '../../../verifier/platforms/tdx/verify/verify.js';
import { parseTdxCollateral } from '../../../verifier/platforms/tdx/collateral/v3.js';
import { createVerificationCache } from '../../../verifier/verify/cache.js';
import type { VerificationCache } from '../../../verifier/verify/cache.js';
import { isVerified } from '../../../verifier/verify/mint.js';
import type { AnchorStore, VerifiedEvidence } from '../../../verifier/verify/types.js';
import { haveVectors, loadManifest, readVector } from '../../helpers/vectors.js';
import type { Sample } from '../../helpers/vectors.js';

const skip = haveVectors ? false : 'real vectors not present';
const samples = haveVectors ? loadManifest().samples.filter((s) => s.platform === 'tdx') : [];
const vendor = loadAnchorStore();
const TIME_CODES = [
  'ERR_CERT_EXPIRED',
  'ERR_CERT_NOT_YET_VALID',
  'ERR_CRL_EXPIRED',
  'ERR_COLLATERAL_EXPIRED',
];
const INTEL_ROOT_SHA256 = '44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3';

interface Detail {
  platform_tcb_level: { status: string; tcb_date: string | null };
  tdx_module: { id: string; status: string } | null;
  qe_tcb: { status: string; qe_isvsvn: number };
}

type Outcome = { ok: VerifiedEvidence } | { code: string; message: string };

function outcome(fn: () => VerifiedEvidence): Outcome {
  try {
    return { ok: fn() };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (typeof e.code !== 'string') throw err;
    return { code: e.code, message: e.message ?? '' };
  }
}

function load(s: Sample): { quote: TdxQuote; collateral: string } {
  return {
    quote: parseTdxQuote(readVector(s.files.quote!)),
    collateral: Buffer.from(readVector(s.files.collateral!)).toString('utf8'),
  };
}

function run(s: Sample, at: string, cache: VerificationCache, anchors = vendor): Outcome {
  const { quote, collateral } = load(s);
  return outcome(() =>
    verifyTdx(quote, { tdxCollateral: collateral }, { now: new Date(at), anchors, cache }),
  );
}

const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

function checkVerified(s: Sample, v: VerifiedEvidence): void {
  const detail = s.evaluation_detail as Detail;
  assert.ok(isVerified(v));
  assert.equal(v.platform, 'tdx');
  assert.equal(v.tcbStatus, s.expected.tcb_status);
  assert.deepEqual([...v.advisoryIds], s.expected.advisory_ids);
  assert.deepEqual(v.anchor, {
    sha256: INTEL_ROOT_SHA256,
    subject: 'Intel SGX Root CA',
    source: 'vendor',
  });
  const claims: Readonly<Record<string, unknown>> = v.claims;
  for (const [k, value] of Object.entries(s.measurements ?? {})) assert.deepEqual(claims[k], value);
  assert.equal(v.details.fmspc, s.fmspc);
  assert.equal(v.details.pckCa, /Platform CA/.test(String(s.pck_ca)) ? 'platform' : 'processor');
  assert.equal(v.details.platformStatus, detail.platform_tcb_level.status);
  assert.equal(v.details.tcbDate, detail.platform_tcb_level.tcb_date);
  assert.equal(v.details.moduleId, detail.tdx_module?.id ?? null);
  assert.equal(v.details.qeStatus, detail.qe_tcb.status);
  assert.equal(v.details.qeIsvSvn, detail.qe_tcb.qe_isvsvn);
  assert.equal(v.details.trailingBytes, s.trailing_bytes);
  assert.equal(JSON.stringify(JSON.parse(JSON.stringify(v.details))), JSON.stringify(v.details));
}

function checkCollateralRefs(s: Sample, v: VerifiedEvidence): void {
  const { quote, collateral } = load(s);
  const c = JSON.parse(collateral) as Record<string, string>;
  const pem = quote.signatureData.certificationData.pckCertChain.pem;
  assert.deepEqual(v.collateral, [
    { kind: 'pck-chain', sha256: sha256(pem) },
    { kind: 'tcb-info', sha256: sha256(c.tcb_info!) },
    { kind: 'qe-identity', sha256: sha256(c.qe_identity!) },
    { kind: 'pck-crl', sha256: sha256(Buffer.from(c.pck_crl!, 'hex')) },
    { kind: 'root-ca-crl', sha256: sha256(Buffer.from(c.root_ca_crl!, 'hex')) },
  ]);
}

function checkExpected(s: Sample, o: Outcome): void {
  if (s.expected.verifies) {
    assert.ok('ok' in o, `expected to verify, got ${'code' in o ? o.code + ': ' + o.message : ''}`);
    checkVerified(s, o.ok);
    return;
  }
  // The failing TDX samples are those whose PCK TCB matches no level of their TCB Info.
  assert.equal((s.evaluation_detail as Detail).platform_tcb_level.status, 'NoMatch');
  assert.ok('code' in o);
  assert.equal(o.code, 'ERR_TCB_LEVEL_NOT_FOUND', o.message);
}

function checkTimeFailure(o: Outcome, at: string): void {
  assert.ok('code' in o, `must not verify at ${at}`);
  assert.ok(TIME_CODES.includes(o.code), `${at}: ${o.code} ${o.message}`);
}

for (const s of samples) {
  test(`${s.name}: expected outcome at verify_at, fresh cache`, { skip }, () => {
    const o = run(s, s.verify_at, createVerificationCache());
    checkExpected(s, o);
    if ('ok' in o) checkCollateralRefs(s, o.ok);
  });

  test(`${s.name}: fails at every also_expect instant, fresh cache`, { skip }, () => {
    for (const a of s.also_expect ?? []) {
      assert.equal(a.verifies, false);
      checkTimeFailure(run(s, a.verify_at, createVerificationCache()), a.verify_at);
    }
  });

  test(`${s.name}: typed collateral gives the same result as its JSON text`, { skip }, () => {
    const { quote, collateral } = load(s);
    const ctx = { now: new Date(s.verify_at), anchors: vendor, cache: createVerificationCache() };
    const typed = parseTdxCollateral(collateral);
    const o = outcome(() => verifyTdx(quote, { tdxCollateral: typed }, ctx));
    checkExpected(s, o);
    if ('ok' in o) checkCollateralRefs(s, o.ok);
    for (const a of s.also_expect ?? []) {
      const at = { ...ctx, now: new Date(a.verify_at) };
      checkTimeFailure(
        outcome(() => verifyTdx(quote, { tdxCollateral: typed }, at)),
        a.verify_at,
      );
    }
  });

  test(`${s.name}: collateral as bytes gives the same result as text`, { skip }, () => {
    const { quote } = load(s);
    const ctx = { now: new Date(s.verify_at), anchors: vendor, cache: createVerificationCache() };
    const o = outcome(() =>
      verifyTdx(quote, { tdxCollateral: readVector(s.files.collateral!) }, ctx),
    );
    checkExpected(s, o);
  });
}

test('one warm cache across every sample and instant changes no outcome', { skip }, () => {
  const shared = createVerificationCache();
  for (let round = 0; round < 2; round++) {
    for (const s of samples) {
      checkExpected(s, run(s, s.verify_at, shared));
      for (const a of s.also_expect ?? [])
        checkTimeFailure(run(s, a.verify_at, shared), a.verify_at);
      checkExpected(s, run(s, s.verify_at, shared));
    }
  }
});

/** Outcome as comparable text: the code, or the status and advisories. */
function summary(o: Outcome): string {
  return 'ok' in o ? `ok ${o.ok.tcbStatus} ${o.ok.advisoryIds.join(',')}` : o.code;
}

test('around each collateral window edge, warm and fresh caches agree', { skip }, () => {
  for (const s of samples) {
    const [from, until] = (s.collateral_valid_window as [string, string]).map(Date.parse);
    const warm = createVerificationCache();
    run(s, s.verify_at, warm);
    for (const t of [from! - 1, from!, from! + 1, until! - 1, until!, until! + 1]) {
      const at = new Date(t).toISOString();
      assert.equal(summary(run(s, at, warm)), summary(run(s, at, createVerificationCache())), at);
    }
  }
});

// Simulated evidence: the simulator's root is trusted only when configured.

const pki = createIntelPki({ seed: 'twi-tdx-verify', notBefore: new Date('2024-01-01T00:00:00Z') });
const simNow = new Date('2026-03-01T12:00:00Z');
const simRootSha256 = sha256(pki.root.der);

function simAnchors(): AnchorStore {
  const dir = mkdtempSync(join(tmpdir(), 'twi-tdx-verify-'));
  try {
    writeFileSync(join(dir, 'intel-sgx-root-ca.der'), pki.root.der);
    return loadAnchorStore([dir]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const configured = simAnchors();

function simulate(opts: Partial<TdxSimOptions>): { quote: TdxQuote; collateral: string } {
  const sim = simulateTdx(pki, { seed: 'td-verify', now: simNow, ...opts });
  return { quote: parseTdxQuote(sim.quote), collateral: JSON.stringify(sim.collateral) };
}

const shapes: { name: string; opts: Partial<TdxSimOptions>; version: number; type: number }[] = [
  { name: 'v4', opts: { version: 4 }, version: 4, type: 2 },
  { name: 'v5 TD 1.0', opts: { version: 5, bodyType: 2 }, version: 5, type: 2 },
  { name: 'v5 TD 1.5', opts: { version: 5, bodyType: 3 }, version: 5, type: 3 },
];
const statuses: { status: TcbStatus; advisoryIds: string[] }[] = [
  { status: 'UpToDate', advisoryIds: [] },
  { status: 'OutOfDate', advisoryIds: ['INTEL-SA-00001', 'INTEL-SA-00002'] },
  { status: 'Revoked', advisoryIds: ['INTEL-SA-00003'] },
];

for (const shape of shapes) {
  for (const level of statuses) {
    test(`simulated ${shape.name}, ${level.status}: verifies under the configured simulator root`, () => {
      const { quote, collateral } = simulate({ ...shape.opts, platformTcb: level });
      const ctx = { now: simNow, anchors: configured, cache: createVerificationCache() };
      const v = verifyTdx(quote, { tdxCollateral: collateral }, ctx);
      assert.equal(v.tcbStatus, level.status);
      assert.deepEqual([...v.advisoryIds], level.advisoryIds);
      assert.deepEqual(v.anchor, {
        sha256: simRootSha256,
        subject: 'Intel SGX Root CA',
        source: 'configured',
      });
      assert.ok(v.platform === 'tdx');
      assert.equal(v.details.quoteVersion, shape.version);
      assert.equal(v.details.bodyType, shape.type);
      assert.equal('tee_tcb_svn2' in v.claims, shape.type === 3);
    });
  }
  test(`simulated ${shape.name}: rejected with the vendor roots only`, () => {
    const { quote, collateral } = simulate(shape.opts);
    const ctx = { now: simNow, anchors: vendor, cache: createVerificationCache() };
    assert.throws(
      () => verifyTdx(quote, { tdxCollateral: collateral }, ctx),
      (e: { code?: string }) => e.code === 'ERR_CHAIN_UNTRUSTED_ROOT',
    );
  });
}

/** A cache that records which keys were computed and stored; `taken()` drains the record. */
function recordingCache(): VerificationCache & { taken(): string[] } {
  const inner = createVerificationCache();
  const sets: string[] = [];
  return {
    taken: () => sets.splice(0),
    stats: inner.stats,
    get: <T>(key: string): T | undefined => inner.get<T>(key),
    set: <T>(key: string, value: T): void => {
      sets.push(key);
      inner.set(key, value);
    },
  };
}

test('a second verification of the same quote is one cache hit, with no new misses', () => {
  const { quote, collateral } = simulate({ version: 5 });
  const cache = recordingCache();
  const ctx = { now: simNow, anchors: configured, cache };
  const first = verifyTdx(quote, { tdxCollateral: collateral }, ctx);
  const { hits, misses } = cache.stats;
  assert.ok(misses > 0);
  assert.ok(cache.taken().length > 0);
  const second = verifyTdx(quote, { tdxCollateral: collateral }, ctx);
  assert.equal(cache.stats.misses, misses);
  assert.equal(cache.stats.hits, hits + 1);
  assert.deepEqual(cache.taken(), []);
  assert.deepEqual(second, first);
});

test('another quote of the same platform reuses every cached piece', () => {
  const cache = recordingCache();
  const ctx = { now: simNow, anchors: configured, cache };
  const a = simulate({ reportData: new Uint8Array(64).fill(1) });
  verifyTdx(a.quote, { tdxCollateral: a.collateral }, ctx);
  // New REPORTDATA (a new nonce): only the quote signature is new.
  cache.taken();
  const b = simulate({ reportData: new Uint8Array(64).fill(2) });
  const vb = verifyTdx(b.quote, { tdxCollateral: b.collateral }, ctx);
  assert.ok(vb.platform === 'tdx');
  assert.equal(vb.claims.report_data, '02'.repeat(64));
  assert.deepEqual(cache.taken(), []);
  // A newer TDX module SVN on the same platform: the TCB is evaluated again, but the
  // collateral, PCK chain and QE binding come from the cache.
  const teeTcbSvn = Uint8Array.of(7, 1, 3, ...new Array<number>(13).fill(0));
  const c = simulate({ reportData: new Uint8Array(64).fill(3), teeTcbSvn });
  verifyTdx(c.quote, { tdxCollateral: a.collateral }, ctx);
  assert.deepEqual(
    cache.taken().map((k) => k.split('/').slice(0, 2).join('/')),
    ['tdx/platform'],
  );
});

test('typed collateral: a fresh equal copy is one cache hit; a changed field is not', () => {
  const { quote, collateral } = simulate({});
  const cache = recordingCache();
  const ctx = { now: simNow, anchors: configured, cache };
  const first = verifyTdx(quote, { tdxCollateral: parseTdxCollateral(collateral) }, ctx);
  const { hits, misses } = cache.stats;
  cache.taken();
  const second = verifyTdx(quote, { tdxCollateral: parseTdxCollateral(collateral) }, ctx);
  assert.deepEqual(second, first);
  assert.equal(cache.stats.misses, misses);
  assert.equal(cache.stats.hits, hits + 1);
  assert.deepEqual(cache.taken(), []);
  const typed = parseTdxCollateral(collateral);
  const signature = Buffer.from(typed.tcbInfoSignature);
  signature[5]! ^= 1;
  assert.throws(
    () => verifyTdx(quote, { tdxCollateral: { ...typed, tcbInfoSignature: signature } }, ctx),
    (e: { code?: string }) => e.code === 'ERR_SIGNATURE_INVALID',
  );
  assert.throws(
    () =>
      verifyTdx(
        quote,
        { tdxCollateral: { ...typed, tcbInfo: 42 } as unknown as typeof typed },
        createCtx(),
      ),
    TypeError,
  );
  function createCtx() {
    return { now: simNow, anchors: configured, cache: createVerificationCache() };
  }
});

test('the cache keeps results for different anchor sets apart', () => {
  const { quote, collateral } = simulate({});
  const cache = createVerificationCache();
  const ok = verifyTdx(
    quote,
    { tdxCollateral: collateral },
    { now: simNow, anchors: configured, cache },
  );
  assert.equal(ok.anchor.source, 'configured');
  assert.throws(
    () => verifyTdx(quote, { tdxCollateral: collateral }, { now: simNow, anchors: vendor, cache }),
    (e: { code?: string }) => e.code === 'ERR_CHAIN_UNTRUSTED_ROOT',
  );
});

test('a warm platform record never masks new collateral or an altered quote', () => {
  const cache = createVerificationCache();
  const ctx = { now: simNow, anchors: configured, cache };
  const upToDate = simulate({});
  const outOfDate = simulate({ platformTcb: { status: 'OutOfDate', advisoryIds: ['INTEL-SA-9'] } });
  assert.equal(
    verifyTdx(upToDate.quote, { tdxCollateral: upToDate.collateral }, ctx).tcbStatus,
    'UpToDate',
  );
  const v = verifyTdx(upToDate.quote, { tdxCollateral: outOfDate.collateral }, ctx);
  assert.equal(v.tcbStatus, 'OutOfDate');
  assert.deepEqual([...v.advisoryIds], ['INTEL-SA-9']);
  // The same quote object changed in place after it verified.
  upToDate.quote.signatureData.certificationData.qeReport.isvSvn++;
  assert.throws(
    () => verifyTdx(upToDate.quote, { tdxCollateral: upToDate.collateral }, ctx),
    (e: { code?: string; subject?: string }) =>
      e.code === 'ERR_SIGNATURE_INVALID' && e.subject === 'qe_report_signature',
  );
});
