/**
 * The Nitro verify stage against the real documents of the vectors manifest (at their
 * recorded instants, pinned AWS root) and against simulated documents (simulator root
 * configured, or vendor roots only), including the content-hash cache.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveVectors, loadManifest, readVector } from '../../helpers/vectors.js';
import type { Sample } from '../../helpers/vectors.js';
import { loadAnchorStore } from '../../../endorsements/anchors.js';
import { parseNitroDocument } from '../../../verifier/platforms/nitro/index.js';
import type { NitroDocument } from '../../../verifier/platforms/nitro/index.js';
import { verifyNitro } from '../../../verifier/platforms/nitro/verify.js';
import { createVerificationCache } from '../../../verifier/verify/cache.js';
import type { VerificationCache } from '../../../verifier/verify/cache.js';
import { isVerified } from '../../../verifier/verify/mint.js';
import type { AnchorStore, VerifyContext } from '../../../verifier/verify/types.js';
import { simulateNitro } from '../../../simulators/nitro.js';
import { openSimulatedPki } from '../../../simulators/pki/store.js';
import type { NitroPki } from '../../../simulators/pki/aws.js';

const AWS_ROOT_SHA256 = '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b';
const ZERO_PCR = /^0+$/;

const samples: Sample[] = haveVectors
  ? loadManifest().samples.filter((s) => s.platform === 'nitro')
  : [];
const vendorAnchors = loadAnchorStore();
/** Shared across the real-sample tests, so that failures are also checked with a warm cache. */
const sharedCache = createVerificationCache();

function ctxAt(
  now: string | Date,
  anchors: AnchorStore = vendorAnchors,
  cache: VerificationCache = createVerificationCache(),
): VerifyContext {
  return { now: new Date(now), anchors, cache };
}

function docOf(s: Sample): NitroDocument {
  const file = s.files.cose_sign1;
  assert.ok(file, `${s.name} lists a cose_sign1 file`);
  return parseNitroDocument(readVector(file));
}

function chainSha256(doc: NitroDocument): string {
  const h = createHash('sha256').update(doc.payload.certificate);
  for (const der of doc.payload.cabundle) h.update(der);
  return h.digest('hex');
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

test('the manifest lists Nitro samples, debug and not', { skip: !haveVectors }, () => {
  assert.ok(samples.length >= 4);
  const pcr0 = samples.map((s) => (s.measurements as { pcrs: Record<string, string> }).pcrs['0']);
  assert.ok(pcr0.some((v) => ZERO_PCR.test(v ?? '')));
  assert.ok(pcr0.some((v) => !ZERO_PCR.test(v ?? '')));
});

for (const s of samples) {
  test(`${s.name}: verifies at ${s.verify_at} with the pinned AWS root`, () => {
    const doc = docOf(s);
    const v = verifyNitro(doc, {}, ctxAt(s.verify_at));
    assert.ok(isVerified(v));
    assert.equal(v.platform, 'nitro');
    assert.deepEqual(v.anchor, {
      sha256: AWS_ROOT_SHA256,
      subject: 'aws.nitro-enclaves',
      source: 'vendor',
    });
    assert.deepEqual(v.claims, s.measurements);
    assert.deepEqual(v.advisoryIds, []);
    assert.equal(v.tcbStatus, undefined);
    assert.deepEqual(v.collateral, [{ kind: 'nitro-chain', sha256: chainSha256(doc) }]);
    const m = s.measurements as { pcrs: Record<string, string>; [k: string]: unknown };
    // Debug samples verify: all-zero PCRs are a policy question, reported in details.
    const debug = ['0', '1', '2'].every((i) => ZERO_PCR.test(m.pcrs[i] ?? ''));
    assert.deepEqual(v.details, {
      moduleId: s.module_id,
      digest: 'SHA384',
      timestamp: new Date(s.timestamp_ms as number).toISOString(),
      pcrCount: Object.keys(m.pcrs).length,
      debug,
      hasNonce: m.nonce !== null,
      hasUserData: m.user_data !== null,
      hasPublicKey: m.public_key !== null,
    });
  });

  for (const a of s.also_expect ?? []) {
    test(`${s.name}: fails at ${a.verify_at} (${a.reason}), cold and warm cache`, () => {
      assert.equal(a.verifies, false);
      const doc = docOf(s);
      assert.equal(
        codeOf(() => verifyNitro(doc, {}, ctxAt(a.verify_at))),
        'ERR_CERT_EXPIRED',
      );
      verifyNitro(doc, {}, ctxAt(s.verify_at, vendorAnchors, sharedCache));
      const hits = sharedCache.stats.hits;
      const warm = ctxAt(a.verify_at, vendorAnchors, sharedCache);
      assert.equal(
        codeOf(() => verifyNitro(doc, {}, warm)),
        'ERR_CERT_EXPIRED',
      );
      assert.equal(sharedCache.stats.hits, hits + 1, 'the expired chain came from the cache');
      verifyNitro(doc, {}, ctxAt(s.verify_at, vendorAnchors, sharedCache));
    });
  }
}

test(
  'a real document repeated hits the cache once per verification',
  { skip: !haveVectors },
  () => {
    const s = samples[0]!;
    const doc = docOf(s);
    const ctx = ctxAt(s.verify_at);
    verifyNitro(doc, {}, ctx);
    assert.deepEqual(ctx.cache.stats, { hits: 0, misses: 2, size: 2 });
    for (let i = 1; i <= 3; i++) {
      verifyNitro(docOf(s), {}, ctx);
      assert.equal(ctx.cache.stats.hits, i);
    }
    assert.equal(ctx.cache.stats.misses, 2);
  },
);

const SIM_NOW = new Date('2026-03-01T12:00:00Z');
let simDir = '';
let nitro: NitroPki;
let simAnchors: AnchorStore;

before(async () => {
  simDir = mkdtempSync(join(tmpdir(), 'twi-nitro-verify-'));
  const sim = await openSimulatedPki(simDir, {
    seed: 'twi-nitro-verify-test',
    now: new Date('2026-01-15T00:00:00Z'),
  });
  nitro = sim.nitro();
  simAnchors = loadAnchorStore([join(simDir, 'roots')]);
});

after(() => {
  if (simDir !== '') rmSync(simDir, { recursive: true, force: true });
});

const SIM_CASES = [
  { name: 'untagged', debug: false, tagged: false },
  { name: 'tagged', debug: false, tagged: true },
  { name: 'debug, untagged', debug: true, tagged: false },
  { name: 'debug, tagged, definite map', debug: true, tagged: true, indefinite: false },
];

for (const c of SIM_CASES) {
  test(`simulated (${c.name}): verifies with the simulator root configured`, () => {
    const { document } = simulateNitro(nitro, {
      now: SIM_NOW,
      debug: c.debug,
      tagged: c.tagged,
      indefinite: c.indefinite,
      nonce: new Uint8Array(32).fill(7),
      publicKey: 'absent',
    });
    const doc = parseNitroDocument(document);
    assert.equal(doc.encoding.tagged, c.tagged);
    const v = verifyNitro(doc, {}, ctxAt(SIM_NOW, simAnchors));
    assert.equal(v.anchor.source, 'configured');
    assert.equal(v.anchor.subject, 'aws.nitro-enclaves');
    assert.notEqual(v.anchor.sha256, AWS_ROOT_SHA256);
    assert.ok(simAnchors.configured.has(v.anchor.sha256));
    assert.equal(v.details.debug, c.debug);
    assert.equal(v.details.hasNonce, true);
    assert.equal(v.details.hasUserData, false, 'null user_data is not user data');
    assert.equal(v.details.hasPublicKey, false);
    assert.equal(v.details.timestamp, SIM_NOW.toISOString());
  });

  test(`simulated (${c.name}): rejected with the vendor roots only`, () => {
    const { document } = simulateNitro(nitro, { now: SIM_NOW, debug: c.debug, tagged: c.tagged });
    const doc = parseNitroDocument(document);
    const code = codeOf(() => verifyNitro(doc, {}, ctxAt(SIM_NOW)));
    assert.equal(code, 'ERR_CHAIN_UNTRUSTED_ROOT');
  });
}

test('simulated: a shared cache never carries a result across anchor stores', () => {
  const doc = parseNitroDocument(simulateNitro(nitro, { now: SIM_NOW }).document);
  const cache = createVerificationCache();
  verifyNitro(doc, {}, ctxAt(SIM_NOW, simAnchors, cache));
  const code = codeOf(() => verifyNitro(doc, {}, ctxAt(SIM_NOW, vendorAnchors, cache)));
  assert.equal(code, 'ERR_CHAIN_UNTRUSTED_ROOT');
  verifyNitro(doc, {}, ctxAt(SIM_NOW, simAnchors, cache));
});

test('simulated: a new leaf under a known cabundle reuses the bundle; repeats hit', () => {
  const ctx = ctxAt(SIM_NOW, simAnchors);
  const first = parseNitroDocument(simulateNitro(nitro, { now: SIM_NOW }).document);
  verifyNitro(first, {}, ctx);
  assert.deepEqual(ctx.cache.stats, { hits: 0, misses: 2, size: 2 });
  const later = new Date(SIM_NOW.getTime() + 60_000);
  const second = parseNitroDocument(simulateNitro(nitro, { now: later }).document);
  assert.notDeepEqual(second.payload.certificate, first.payload.certificate);
  verifyNitro(second, {}, { ...ctx, now: later });
  assert.deepEqual(ctx.cache.stats, { hits: 1, misses: 3, size: 3 }, 'bundle hit, leaf miss');
  verifyNitro(second, {}, { ...ctx, now: later });
  verifyNitro(first, {}, ctx);
  assert.deepEqual(ctx.cache.stats, { hits: 3, misses: 3, size: 3 });
});

test('simulated: the leaf window is checked at now, per document', () => {
  const doc = parseNitroDocument(simulateNitro(nitro, { now: SIM_NOW }).document);
  const ctx = ctxAt(SIM_NOW, simAnchors);
  const leafEnd = new Date(SIM_NOW.getTime() + 3 * 3600_000);
  verifyNitro(doc, {}, { ...ctx, now: leafEnd });
  const late = { ...ctx, now: new Date(leafEnd.getTime() + 1000) };
  assert.equal(
    codeOf(() => verifyNitro(doc, {}, late)),
    'ERR_CERT_EXPIRED',
  );
  const early = { ...ctx, now: new Date(SIM_NOW.getTime() - 4000) };
  assert.equal(
    codeOf(() => verifyNitro(doc, {}, early)),
    'ERR_CERT_NOT_YET_VALID',
  );
});

test('an invalid now is caller misuse, not a pass', () => {
  const doc = parseNitroDocument(simulateNitro(nitro, { now: SIM_NOW }).document);
  const ctx = ctxAt(SIM_NOW, simAnchors);
  assert.throws(() => verifyNitro(doc, {}, { ...ctx, now: new Date(NaN) }), TypeError);
});
