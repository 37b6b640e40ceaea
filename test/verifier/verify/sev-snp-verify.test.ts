/**
 * The SEV-SNP verify stage: every real sample of the manifest verifies at its `verify_at`
 * with the pinned vendor roots (with and without the supplied ASK/ARK chain, and from a
 * certificate table) and fails at each `also_expect` instant; the Turin cert-only VCEK
 * chains to ARK-Turin; simulated evidence of every product, report version and key kind
 * verifies against configured simulator roots and is refused with vendor roots only; the
 * cache is hit on repeat.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAnchorStore } from '../../../endorsements/anchors.js';
import { openSimulatedPki } from '../../../simulators/pki/store.js';
import type { AmdProduct } from '../../../simulators/pki/amd.js';
import type { SimulatedPki } from '../../../simulators/pki/store.js';
import { simulateSnp } from '../../../simulators/sev-snp.js';
import type { SnpSimOptions } from '../../../simulators/sev-snp.js';
import { isTwiError } from '../../../common/errors.js';
import {
  parseSnpReport,
  serializeSnpCertTable,
} from '../../../verifier/platforms/sev-snp/index.js';
import { verifySnp } from '../../../verifier/platforms/sev-snp/verify/verify.js';
import { verifySnpChain } from '../../../verifier/platforms/sev-snp/verify/chain.js';
import {
  loadSnpCaCertificates,
  loadSnpKeyCert,
} from '../../../verifier/platforms/sev-snp/collateral/endorsements.js';
import { createVerificationCache } from '../../../verifier/verify/cache.js';
import { isVerified } from '../../../verifier/verify/mint.js';
import type {
  AnchorStore,
  SuppliedEndorsements,
  VerifyContext,
} from '../../../verifier/verify/types.js';
import { parsePemChain } from '../../../common/x509/certificate.js';
import { haveVectors, loadManifest, readVector } from '../../helpers/vectors.js';
import type { AlsoExpect, Sample } from '../../helpers/vectors.js';

const skip = haveVectors ? false : 'real vectors not present';
const snpSamples = haveVectors
  ? loadManifest().samples.filter((s) => s.platform === 'sev-snp')
  : [];
const withReport = snpSamples.filter((s) => s.files.report !== undefined);
const certOnly = snpSamples.filter((s) => s.files.report === undefined);

const vendorAnchors = loadAnchorStore();
const sharedCache = createVerificationCache();

function ctxAt(at: string | Date, anchors: AnchorStore = vendorAnchors, cache = sharedCache) {
  return { now: new Date(at), anchors, cache } satisfies VerifyContext;
}

function keyCertFile(s: Sample): string {
  return s.files.vcek ?? s.files.vlek!;
}

function endorsementsOf(s: Sample, withChain = true): SuppliedEndorsements {
  return {
    snpKeyCert: readVector(keyCertFile(s)),
    ...(withChain ? { snpCaChain: readVector(s.files.ca_chain!) } : {}),
  };
}

/** The code an `also_expect` entry implies, from its reason text. */
function timeCode(a: AlsoExpect): string {
  if (/not yet valid/i.test(a.reason)) return 'ERR_CERT_NOT_YET_VALID';
  if (/expired/i.test(a.reason)) return 'ERR_CERT_EXPIRED';
  throw new Error(`unexpected also_expect reason: ${a.reason}`);
}

function assertCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isTwiError(err), `expected a twi error, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

describe('real SEV-SNP samples', { skip }, () => {
  for (const s of withReport) {
    const report = () => parseSnpReport(readVector(s.files.report!));
    const m = s.measurements as Record<string, unknown>;

    test(`${s.name}: verifies at ${s.verify_at} with the vendor roots`, () => {
      const v = verifySnp(
        report(),
        endorsementsOf(s),
        ctxAt(s.verify_at, vendorAnchors, createVerificationCache()),
      );
      assert.ok(isVerified(v));
      assert.equal(v.platform, 'sev-snp');
      assert.equal(v.anchor.source, 'vendor');
      assert.equal(v.anchor.subject, `ARK-${v.details.product as string}`);
      for (const field of [
        'measurement',
        'report_data',
        'host_data',
        'chip_id',
        'reported_tcb',
      ] as const) {
        assert.equal(v.claims[field], m[field], field);
      }
      assert.deepEqual(v.claims.reported_tcb_parts, m.reported_tcb_parts);
      const kind = (s.signing_key as string).toLowerCase();
      assert.equal(v.details.keyKind, kind);
      assert.equal(v.details.reportVersion, s.report_version);
      assert.deepEqual(
        v.collateral.map((c) => c.kind),
        [kind, kind === 'vlek' ? 'asvk' : 'ask'],
      );
      assert.equal(v.collateral[0]!.sha256, (s.sha256 as Record<string, string>)[kind]);
    });

    test(`${s.name}: verifies with the built-in intermediates (no snpCaChain)`, () => {
      const v = verifySnp(report(), endorsementsOf(s, false), ctxAt(s.verify_at));
      assert.equal(v.anchor.source, 'vendor');
    });

    test(`${s.name}: verifies from a certificate table alone`, () => {
      const [signer, ark] = parsePemChain(readVector(s.files.ca_chain!));
      const kind = s.files.vlek === undefined ? 'vcek' : 'vlek';
      const table = serializeSnpCertTable([
        { kind, data: readVector(keyCertFile(s)) },
        { kind: 'ask', data: signer!.der },
        { kind: 'ark', data: ark!.der },
      ]);
      const v = verifySnp(report(), { snpCertTable: table }, ctxAt(s.verify_at));
      assert.equal(v.details.keyKind, kind);
    });

    for (const a of s.also_expect ?? []) {
      test(`${s.name}: fails at ${a.verify_at} (${a.reason}), cold and warm cache`, () => {
        const cold = ctxAt(a.verify_at, vendorAnchors, createVerificationCache());
        assertCode(() => verifySnp(report(), endorsementsOf(s), cold), timeCode(a));
        verifySnp(report(), endorsementsOf(s), ctxAt(s.verify_at));
        assertCode(() => verifySnp(report(), endorsementsOf(s), ctxAt(a.verify_at)), timeCode(a));
      });
    }
  }

  test('repeating a real report hits the cache and adds no entries', () => {
    const s = withReport[0]!;
    const cache = createVerificationCache();
    const ctx = ctxAt(s.verify_at, vendorAnchors, cache);
    verifySnp(parseSnpReport(readVector(s.files.report!)), endorsementsOf(s), ctx);
    const { hits, size } = { ...cache.stats };
    verifySnp(parseSnpReport(readVector(s.files.report!)), endorsementsOf(s), ctx);
    assert.ok(cache.stats.hits > hits, 'hits rise');
    assert.equal(cache.stats.size, size);
  });
});

describe('certificate-only SEV-SNP samples', { skip }, () => {
  for (const s of certOnly) {
    const key = () => loadSnpKeyCert(readVector(keyCertFile(s)), sharedCache);
    const cas = () => loadSnpCaCertificates(readVector(s.files.ca_chain!), sharedCache);

    test(`${s.name}: the key certificate chains to the ARK of its product`, () => {
      const k = key();
      const chain = verifySnpChain(
        { key: k, product: k.product, intermediates: cas() },
        ctxAt(s.verify_at),
      );
      assert.equal(chain.ark.subjectCn, `ARK-${k.product}`);
      assert.equal(chain.verified.path.length, 3);
      const bare = verifySnpChain({ key: k, product: k.product }, ctxAt(s.verify_at));
      assert.equal(bare.ark.sha256, chain.ark.sha256);
    });

    for (const a of s.also_expect ?? []) {
      test(`${s.name}: chain fails at ${a.verify_at} (${a.reason})`, () => {
        const k = key();
        assertCode(
          () =>
            verifySnpChain(
              { key: k, product: k.product, intermediates: cas() },
              ctxAt(a.verify_at),
            ),
          timeCode(a),
        );
      });
    }
  }
});

describe('simulated SEV-SNP evidence', () => {
  const NOW = new Date('2025-06-01T00:00:00Z');
  let dir: string;
  let sim: SimulatedPki;
  let configured: AnchorStore;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twi-snp-verify-'));
    sim = await openSimulatedPki(dir, {
      seed: 'sev-snp-verify-test',
      now: new Date('2025-01-01T00:00:00Z'),
    });
    configured = loadAnchorStore([join(dir, 'roots')]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: [AmdProduct, SnpSimOptions][] = [];
  for (const product of ['Milan', 'Genoa', 'Turin'] as const) {
    for (const version of [2, 3, 5] as const) cases.push([product, { version }]);
    cases.push([product, { version: 3, signingKey: 'vlek' }]);
  }

  for (const [product, opts] of cases) {
    const label = `${product} v${opts.version} ${opts.signingKey ?? 'vcek'}`;
    const make = () => simulateSnp(sim.amd(product), opts);
    const parse = (bytes: Uint8Array) => parseSnpReport(bytes);

    test(`${label}: verifies with the simulator roots configured`, () => {
      const r = make();
      const cache = createVerificationCache();
      const e = { snpKeyCert: r.vcekDer, snpCaChain: new TextEncoder().encode(r.caChainPem) };
      const v = verifySnp(parse(r.report), e, ctxAt(NOW, configured, cache));
      assert.equal(v.anchor.source, 'configured');
      assert.equal(v.anchor.subject, `ARK-${product}`);
      assert.equal(v.details.product, product);
      assert.equal(v.details.keyKind, r.keyKind);
      assert.equal(v.details.reportVersion, opts.version);
      assert.equal(v.details.committedEqualsCurrent, true);
      const hits = cache.stats.hits;
      verifySnp(parse(r.report), e, ctxAt(NOW, configured, cache));
      assert.ok(cache.stats.hits > hits, 'cache hits rise on repeat');
    });

    test(`${label}: verifies from the cert table alone`, () => {
      const r = make();
      const v = verifySnp(parse(r.report), { snpCertTable: r.certTable }, ctxAt(NOW, configured));
      assert.equal(v.anchor.source, 'configured');
    });

    test(`${label}: rejected with the vendor roots only`, () => {
      const r = make();
      const e = { snpKeyCert: r.vcekDer, snpCaChain: new TextEncoder().encode(r.caChainPem) };
      assertCode(() => verifySnp(parse(r.report), e, ctxAt(NOW)), 'ERR_CHAIN_UNTRUSTED_ROOT');
    });
  }

  test('Turin: fmcSPL is compared and the 8-byte hwID matches CHIP_ID[0..8]', () => {
    const r = simulateSnp(sim.amd('Turin'), { version: 5, reportedTcb: { fmc: 3 } });
    const v = verifySnp(
      parseSnpReport(r.report),
      { snpCertTable: r.certTable },
      ctxAt(NOW, configured),
    );
    const keyCert = v.details.keyCert as { tcb: unknown };
    assert.deepEqual(keyCert.tcb, { fmc: 3, bl: 1, tee: 1, snp: 4, ucode: 9 });
    assert.deepEqual(v.claims.reported_tcb_parts, { fmc: 3, bl: 1, tee: 1, snp: 4, ucode: 9 });
    assert.equal((v.details.keyCert as { hwIdChecked: boolean }).hwIdChecked, true);
  });

  test('MASK_CHIP_KEY: a zeroed CHIP_ID is not compared with hwID', () => {
    const r = simulateSnp(sim.amd('Genoa'), { version: 3, maskChipKey: true });
    const v = verifySnp(
      parseSnpReport(r.report),
      { snpCertTable: r.certTable },
      ctxAt(NOW, configured),
    );
    assert.equal((v.details.keyCert as { hwIdChecked: boolean }).hwIdChecked, false);
  });

  test('details decode POLICY and the TCBs', () => {
    const r = simulateSnp(sim.amd('Milan'), { version: 5, debug: true, currentTcb: { snp: 28 } });
    const v = verifySnp(
      parseSnpReport(r.report),
      { snpCertTable: r.certTable },
      ctxAt(NOW, configured),
    );
    const policy = v.details.policy as { debug: boolean; smt: boolean; migrateMa: boolean };
    assert.equal(policy.debug, true);
    assert.equal(policy.smt, true);
    assert.equal(policy.migrateMa, false);
    assert.equal(v.details.committedEqualsCurrent, false);
    assert.equal(v.details.reportedTcbWithinCurrent, true);
    assert.doesNotThrow(() => JSON.stringify(v.details));
  });
});
