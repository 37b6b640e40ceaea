/**
 * Adversarial SEV-SNP evidence: every forged, mismatched, stale, revoked or malformed
 * input is refused with its own stable code. Simulated evidence is verified against the
 * simulator's roots (configured), so each case isolates one defect.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAnchorStore } from '../../../endorsements/anchors.js';
import { openSimulatedPki } from '../../../simulators/pki/store.js';
import type { AmdPki } from '../../../simulators/pki/amd.js';
import type { SimulatedPki } from '../../../simulators/pki/store.js';
import { simulateSnp } from '../../../simulators/sev-snp.js';
import type { SnpSimOptions, SnpSimResult } from '../../../simulators/sev-snp.js';
import { isTwiError } from '../../../common/errors.js';
import {
  parseSnpReport,
  serializeSnpCertTable,
  SNP_PRODUCT_CPUID,
} from '../../../verifier/platforms/sev-snp/index.js';
import type { SnpReport } from '../../../verifier/platforms/sev-snp/index.js';
import { verifySnp } from '../../../verifier/platforms/sev-snp/verify/verify.js';
import { createVerificationCache } from '../../../verifier/verify/cache.js';
import type { AnchorStore, SuppliedEndorsements } from '../../../verifier/verify/types.js';
import { parsePemChain } from '../../../common/x509/certificate.js';
import { createTrustAnchors } from '../../../common/x509/chain.js';

const NOW = new Date('2025-06-01T00:00:00Z');
const SEED = 'sev-snp-adversarial';
const TCB = { bl: 4, tee: 0, snp: 27, ucode: 222 };

let dir: string;
let sim: SimulatedPki;
let anchors: AnchorStore;
const vendorOnly = loadAnchorStore();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twi-snp-adversarial-'));
  sim = await openSimulatedPki(dir, { seed: SEED, now: new Date('2025-01-01T00:00:00Z') });
  anchors = loadAnchorStore([join(dir, 'roots')]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const milan = (): AmdPki => sim.amd('Milan');
const genoa = (): AmdPki => sim.amd('Genoa');

function ctx(over: { now?: Date; anchors?: AnchorStore } = {}) {
  return {
    now: over.now ?? NOW,
    anchors: over.anchors ?? anchors,
    cache: createVerificationCache(),
  };
}

function withChain(r: SnpSimResult, keyCert: Uint8Array = r.vcekDer): SuppliedEndorsements {
  return { snpKeyCert: keyCert, snpCaChain: new TextEncoder().encode(r.caChainPem) };
}

function flip(bytes: Uint8Array, offset: number): Uint8Array {
  const out = bytes.slice();
  out[offset]! ^= 0x01;
  return out;
}

function expectCode(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isTwiError(err), `expected a twi error, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

function simulate(pki: AmdPki, opts: SnpSimOptions = {}): SnpSimResult {
  return simulateSnp(pki, { version: 3, reportedTcb: TCB, ...opts });
}

function verifyBytes(report: Uint8Array, e: SuppliedEndorsements, c = ctx()) {
  return verifySnp(parseSnpReport(report), e, c);
}

describe('SEV-SNP adversarial', () => {
  test('control: the unmodified simulated report verifies', () => {
    const r = simulate(milan());
    assert.equal(verifyBytes(r.report, withChain(r)).anchor.source, 'configured');
  });

  test('forged report: one bit flipped in MEASUREMENT (signed area)', () => {
    const r = simulate(milan());
    expectCode(
      () => verifyBytes(flip(r.report, 0x90), withChain(r)),
      'ERR_SIGNATURE_INVALID',
      /SIGNATURE/,
    );
  });

  test('forged report: one bit flipped in the signature R', () => {
    const r = simulate(milan());
    expectCode(() => verifyBytes(flip(r.report, 0x2a0), withChain(r)), 'ERR_SIGNATURE_INVALID');
  });

  test("VCEK of another chip: chip B's VCEK presented for chip A's report", () => {
    const a = simulate(milan(), { seed: 'chip-a' });
    const b = simulate(milan(), { seed: 'chip-b' });
    expectCode(
      () => verifyBytes(a.report, withChain(a, b.vcekDer)),
      'ERR_KEY_MISMATCH',
      /hwID .* CHIP_ID/,
    );
  });

  test('Turin: VCEK of another chip (8-byte hwID differs from CHIP_ID[0..8])', () => {
    const a = simulate(sim.amd('Turin'), { seed: 'turin-a', reportedTcb: {} });
    const b = simulate(sim.amd('Turin'), { seed: 'turin-b', reportedTcb: {} });
    expectCode(() => verifyBytes(a.report, withChain(a, b.vcekDer)), 'ERR_KEY_MISMATCH');
  });

  test('wrong product ARK: Genoa-CPUID report whose VCEK (productName Genoa) chains to ARK-Milan', () => {
    const r = simulate(milan(), { cpuid: SNP_PRODUCT_CPUID.Genoa });
    const misissued = milan().issueVcek({ hwid: r.fields.chipId, tcb: TCB, productName: 'Genoa' });
    expectCode(
      () => verifyBytes(r.report, withChain(r, misissued.der)),
      'ERR_PRODUCT_MISMATCH',
      /chains to ARK-Milan/,
    );
  });

  test('wrong product anchors: Genoa report with only ARK-Milan trusted', () => {
    const r = simulate(genoa(), { reportedTcb: {} });
    const milanOnly: AnchorStore = {
      ...anchors,
      amd: createTrustAnchors(anchors.amd.certificates.filter((c) => c.subjectCn === 'ARK-Milan')),
    };
    expectCode(
      () => verifyBytes(r.report, withChain(r), ctx({ anchors: milanOnly })),
      'ERR_CHAIN_UNTRUSTED_ROOT',
    );
  });

  test('VCEK TCB differs from REPORTED_TCB', () => {
    const r = simulate(milan());
    const other = milan().issueVcek({ hwid: r.fields.chipId, tcb: { ...TCB, snp: 26 } });
    expectCode(
      () => verifyBytes(r.report, withChain(r, other.der)),
      'ERR_TCB_MISMATCH',
      /VCEK snpSPL 26 differs from REPORTED_TCB SNP 27/,
    );
  });

  test('VLEK-signed report presented with a VCEK', () => {
    const vlek = simulate(milan(), { signingKey: 'vlek' });
    const vcek = simulate(milan());
    expectCode(
      () => verifyBytes(vlek.report, withChain(vcek)),
      'ERR_KEY_MISMATCH',
      /SIGNING_KEY 1/,
    );
  });

  test('SIGNING_KEY = VCEK with a VLEK certificate', () => {
    const vcek = simulate(milan());
    const vlek = simulate(milan(), { signingKey: 'vlek' });
    expectCode(
      () => verifyBytes(vcek.report, withChain(vlek)),
      'ERR_KEY_MISMATCH',
      /SIGNING_KEY 0/,
    );
  });

  test('SIGNING_KEY = 7 (no key) is refused whatever the certificate', () => {
    const r = simulate(milan());
    const report: SnpReport = { ...parseSnpReport(r.report), signerInfo: 7 << 2 };
    expectCode(() => verifySnp(report, withChain(r), ctx()), 'ERR_KEY_MISMATCH', /no key/);
  });

  test('expired VCEK', () => {
    const validity = {
      notBefore: new Date('2025-01-01T00:00:00Z'),
      notAfter: new Date('2025-03-01T00:00:00Z'),
    };
    const r = simulate(milan(), { keyCertValidity: validity });
    expectCode(() => verifyBytes(r.report, withChain(r)), 'ERR_CERT_EXPIRED', /SEV-VCEK/);
  });

  test('not-yet-valid VCEK', () => {
    const r = simulate(milan(), {
      keyCertValidity: { notBefore: new Date('2025-09-01T00:00:00Z') },
    });
    expectCode(() => verifyBytes(r.report, withChain(r)), 'ERR_CERT_NOT_YET_VALID', /SEV-VCEK/);
  });

  test('revoked ASK in an ARK-signed AMD CRL', () => {
    const r = simulate(milan());
    const window = {
      thisUpdate: new Date('2025-05-01T00:00:00Z'),
      nextUpdate: new Date('2025-07-01T00:00:00Z'),
    };
    const good = milan().crl({ ...window });
    const v = verifyBytes(r.report, { ...withChain(r), snpCrl: good });
    assert.deepEqual(
      v.collateral.map((c) => c.kind),
      ['vcek', 'ask', 'amd-crl'],
    );
    const revoked = milan().crl({ ...window, revoked: [milan().ask.serial] });
    expectCode(
      () => verifyBytes(r.report, { ...withChain(r), snpCrl: revoked }),
      'ERR_CERT_REVOKED',
      /SEV-Milan/,
    );
  });

  test('AMD CRL past its nextUpdate', () => {
    const r = simulate(milan());
    const stale = milan().crl({
      thisUpdate: new Date('2025-02-01T00:00:00Z'),
      nextUpdate: new Date('2025-03-01T00:00:00Z'),
    });
    expectCode(() => verifyBytes(r.report, { ...withChain(r), snpCrl: stale }), 'ERR_CRL_EXPIRED');
  });

  test("AMD CRL of another product's ARK", () => {
    const r = simulate(milan());
    const foreign = genoa().crl({
      thisUpdate: new Date('2025-05-01T00:00:00Z'),
      nextUpdate: new Date('2025-07-01T00:00:00Z'),
    });
    expectCode(
      () => verifyBytes(r.report, { ...withChain(r), snpCrl: foreign }),
      'ERR_CRL_INVALID',
    );
  });

  test('chain to an unknown root (simulator roots not configured)', () => {
    const r = simulate(milan());
    expectCode(
      () => verifyBytes(r.report, withChain(r), ctx({ anchors: vendorOnly })),
      'ERR_CHAIN_UNTRUSTED_ROOT',
    );
  });

  test('tampered ASK signature', () => {
    const r = simulate(milan());
    const [ask, ark] = parsePemChain(r.caChainPem);
    const tampered = flip(ask!.der, ask!.der.length - 1);
    const chain = new Uint8Array([...tampered, ...ark!.der]);
    const e = { snpKeyCert: r.vcekDer, snpCaChain: chain };
    const c = ctx();
    expectCode(() => verifyBytes(r.report, e, c), 'ERR_SIGNATURE_INVALID', /SEV-Milan/);
    const misses = c.cache.stats.misses;
    expectCode(() => verifyBytes(r.report, e, c), 'ERR_SIGNATURE_INVALID');
    assert.equal(c.cache.stats.misses, misses, 'the refused chain is served from the cache');
  });

  test('missing key certificate (none supplied, or a cert table without VCEK/VLEK)', () => {
    const r = simulate(milan());
    expectCode(() => verifyBytes(r.report, {}), 'ERR_ENDORSEMENT_MISSING');
    const [ask, ark] = parsePemChain(r.caChainPem);
    const table = serializeSnpCertTable([
      { kind: 'ask', data: ask!.der },
      { kind: 'ark', data: ark!.der },
    ]);
    expectCode(() => verifyBytes(r.report, { snpCertTable: table }), 'ERR_ENDORSEMENT_MISSING');
  });

  test('an ASK presented as the key certificate', () => {
    const r = simulate(milan());
    expectCode(() => verifyBytes(r.report, withChain(r, milan().ask.der)), 'ERR_CERT_PROFILE');
  });

  test('CPUID product (Genoa) differs from the VCEK product (Milan)', () => {
    const r = simulate(milan(), { cpuid: SNP_PRODUCT_CPUID.Genoa });
    expectCode(
      () => verifyBytes(r.report, withChain(r)),
      'ERR_PRODUCT_MISMATCH',
      /CPUID_FAM_ID 0x19 .* Genoa/,
    );
  });

  test('truncated report (parse)', () => {
    const r = simulate(milan());
    expectCode(() => parseSnpReport(r.report.subarray(0, 0x4a0 - 1)), 'ERR_EVIDENCE_MALFORMED');
  });

  test('unsupported report VERSION (parse)', () => {
    const r = simulate(milan());
    const v6 = r.report.slice();
    new DataView(v6.buffer).setUint32(0, 6, true);
    expectCode(() => parseSnpReport(v6), 'ERR_EVIDENCE_UNSUPPORTED', /VERSION 6/);
  });
});
