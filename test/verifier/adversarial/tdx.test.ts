/**
 * Adversarial TDX evidence: each named attack or fault yields its exact error code, with a
 * fresh cache and with a cache already warm from the genuine evidence (so caching cannot
 * turn a rejection into an acceptance). Real samples where the fault can be made from
 * them, the simulated Intel PKI where it needs a signature only Intel could make.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAnchorStore } from '../../../endorsements/anchors.js';
import { createIntelPki } from '../../../simulators/pki/intel.js';
import { simulateTdx } from '../../../simulators/tdx.js';
import type { TdxSimOptions } from '../../../simulators/tdx.js';
import { SIM_DEFAULTS } from '../../../simulators/tdx-options.js';
import { fromHex, toHex } from '../../../common/bytes.js';
import { serializeSgxReportBody } from '../../../verifier/platforms/tdx/abi/sgx-report.js';
import {
  parseTdxQuote,
  pckCertChainFromPem,
  quoteSignedBytes,
  serializeTdxQuote,
  signedRegionLength,
} from '../../../verifier/platforms/tdx/index.js';
import type {
  QeReportCertificationData,
  TdxCollateralV3,
  TdxQuote,
  TdxSignatureData,
} from '../../../verifier/platforms/tdx/index.js';
import { verifyTdx } from '../../../verifier/platforms/tdx/verify/verify.js';
import { createVerificationCache } from '../../../verifier/verify/cache.js';
import type { VerificationCache } from '../../../verifier/verify/cache.js';
import type { AnchorStore } from '../../../verifier/verify/types.js';
import { haveVectors, loadManifest, readVector } from '../../helpers/vectors.js';
import type { Sample } from '../../helpers/vectors.js';
import { newKeyPair } from '../../../common/key-pair.js';

const skipReal = haveVectors ? false : 'real vectors not present';
const tdxSamples = haveVectors ? loadManifest().samples.filter((s) => s.platform === 'tdx') : [];
const vendor = loadAnchorStore();

// ---- evidence sources --------------------------------------------------------------------

interface Evidence {
  /** Bytes to parse, or a (possibly hand-built) parsed value. */
  quote: Uint8Array | TdxQuote;
  /** The `QuoteCollateralV3` object, raw text, or absent. */
  collateral: TdxCollateralV3 | string | undefined;
  now: Date;
  anchors: AnchorStore;
}

/** The evidence as the genuine source produced it. */
interface Genuine extends Evidence {
  quote: Uint8Array;
  collateral: TdxCollateralV3;
}

const real: Sample | undefined = tdxSamples.find((s) => s.expected.verifies);

function realEvidence(s: Sample | undefined = real): Genuine {
  assert.ok(s, 'no verifying TDX sample in the manifest');
  return {
    quote: readVector(s.files.quote!),
    collateral: JSON.parse(Buffer.from(readVector(s.files.collateral!)).toString('utf8')),
    now: new Date(s.verify_at),
    anchors: vendor,
  };
}

const pki = createIntelPki({
  seed: 'twi-tdx-adversarial',
  notBefore: new Date('2024-01-01T00:00:00Z'),
});
const simNow = new Date('2026-03-01T12:00:00Z');
const SIM_SEED = 'td-adv';
const simAnchors = (() => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-tdx-adversarial-'));
  try {
    writeFileSync(join(dir, 'intel-sgx-root-ca.der'), pki.root.der);
    return loadAnchorStore([dir]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
})();

function simEvidence(opts: Partial<TdxSimOptions> = {}): Genuine {
  const { quote, collateral } = simulateTdx(pki, { seed: SIM_SEED, now: simNow, ...opts });
  return { quote, collateral, now: simNow, anchors: simAnchors };
}

function verify(e: Evidence, cache: VerificationCache, over: Partial<Evidence> = {}): unknown {
  const x = { ...e, ...over };
  const quote = x.quote instanceof Uint8Array ? parseTdxQuote(x.quote) : x.quote;
  const c = x.collateral;
  const endorsements =
    c === undefined ? {} : { tdxCollateral: typeof c === 'string' ? c : JSON.stringify(c) };
  return verifyTdx(quote, endorsements, { now: x.now, anchors: x.anchors, cache });
}

/** Parses a fresh copy, lets `edit` change it, and serializes it again. */
function edited(bytes: Uint8Array, edit: (q: TdxQuote) => void): Uint8Array {
  const q = parseTdxQuote(bytes);
  edit(q);
  return serializeTdxQuote(q);
}

function flipped(bytes: Uint8Array, offset: number): Uint8Array {
  const out = bytes.slice();
  out[offset]! ^= 0x01;
  return out;
}

/** Re-signs a TCB Info or QE Identity text with the simulated TCB signing key. */
function resigned(c: TdxCollateralV3, field: 'tcb_info' | 'qe_identity', text: string) {
  return { ...c, [field]: text, [`${field}_signature`]: pki.signCollateral(text) };
}

/**
 * The simulated quote with its QE report changed by `edit` and signed again with the PCK
 * key (the simulator derives the same key for the same seed and TCB): evidence only a
 * holder of a PCK private key could make.
 */
function resignedQe(
  e: Genuine,
  edit: (c: QeReportCertificationData, sig: TdxSignatureData) => void,
): Uint8Array {
  const pck = pki.issuePck({
    ca: 'platform',
    cpusvn: SIM_DEFAULTS.sgxTcbComps,
    pcesvn: SIM_DEFAULTS.pceSvn,
    fmspc: fromHex(SIM_DEFAULTS.fmspc),
    label: `tdx-sim/${SIM_SEED}`,
  });
  return edited(e.quote, (q) => {
    const c = q.signatureData.certificationData;
    edit(c, q.signatureData);
    c.qeReportSignature = pck.key.signRaw(serializeSgxReportBody(c.qeReport));
  });
}

const at = (iso: string | Date, deltaMs: number): Date =>
  new Date(new Date(iso).getTime() + deltaMs);

/** The first verifying sample whose TCB Info expires before every other validity end. */
function sampleWithTcbInfoExpiringFirst(): Sample {
  const found = tdxSamples.find((s) => {
    const r = s as Sample & Record<string, { next?: string; this?: string }>;
    const tcbNext = Date.parse(r.tcb_info!.next!);
    const others = [r.qe_identity!.next!, r.pck_crl!.next!, r.root_ca_crl!.next!].map(Date.parse);
    return s.expected.verifies && others.every((o) => o > tcbNext + 1000);
  });
  assert.ok(found, 'no TDX sample whose TCB Info expires before its other collateral');
  return found;
}

// ---- the cases ---------------------------------------------------------------------------

type Change = (e: Genuine) => Partial<Evidence>;
interface Case {
  name: string;
  expected: string;
  real: boolean;
  run: (cache: VerificationCache) => unknown;
}

const cases: Case[] = [];
/** A case on the first verifying real sample (or `sample`), changed by `change`. */
const onReal = (name: string, expected: string, change: Change, sample?: () => Sample): void => {
  const run = (cache: VerificationCache): unknown => {
    const e = realEvidence(sample?.());
    return verify(e, cache, change(e));
  };
  cases.push({ name, expected, real: true, run });
};
/** A case on simulated evidence made with `opts`, changed by `change`. */
const onSim = (name: string, expected: string, opts: Partial<TdxSimOptions>, change?: Change) => {
  const run = (cache: VerificationCache): unknown => {
    const e = simEvidence(opts);
    return verify(e, cache, change?.(e) ?? {});
  };
  cases.push({ name, expected, real: false, run });
};
const quoteEdit =
  (edit: (q: TdxQuote) => void): Change =>
  (e) => ({ quote: edited(e.quote, edit) });
const validity = (s: Sample | undefined, doc: string, end: 'this' | 'next', ms: number): Date =>
  at((s as unknown as Record<string, Record<string, string>>)[doc]![end]!, ms);

onReal('quote signature with one byte flipped', 'ERR_SIGNATURE_INVALID (signature)', (e) => ({
  quote: flipped(e.quote, signedRegionLength(parseTdxQuote(e.quote)) + 4 + 10),
}));
onReal(
  'TD report body with one byte flipped (REPORTDATA)',
  'ERR_SIGNATURE_INVALID (signature)',
  quoteEdit((q) => void (q.body.reportData[0]! ^= 1)),
);
onReal(
  'header user_data with one byte flipped',
  'ERR_SIGNATURE_INVALID (signature)',
  quoteEdit((q) => void (q.header.userData[3]! ^= 1)),
);
onReal(
  'attestation key swapped for the attacker’s, quote re-signed with it',
  'ERR_QE_REPORT_DATA_MISMATCH (qe_report.report_data)',
  quoteEdit((q) => {
    const { publicKey, privateKey } = newKeyPair('ec', { namedCurve: 'P-256' });
    const { x, y } = publicKey.export({ format: 'jwk' });
    q.signatureData.attestationKey = Buffer.from(x! + y!, 'base64url');
    const key = { key: privateKey, dsaEncoding: 'ieee-p1363' as const };
    q.signatureData.signature = sign('sha256', quoteSignedBytes(q), key);
  }),
);
onReal(
  'QE report signature with one byte flipped',
  'ERR_SIGNATURE_INVALID (qe_report_signature)',
  quoteEdit((q) => void (q.signatureData.certificationData.qeReportSignature[7]! ^= 1)),
);
onReal(
  'QE report ISVSVN raised (report no longer signed)',
  'ERR_SIGNATURE_INVALID (qe_report_signature)',
  quoteEdit((q) => void q.signatureData.certificationData.qeReport.isvSvn++),
);
onReal(
  'QE auth data altered and re-serialised',
  'ERR_QE_REPORT_DATA_MISMATCH (qe_report.report_data)',
  quoteEdit((q) => {
    const c = q.signatureData.certificationData;
    c.qeAuthData = Uint8Array.from([...c.qeAuthData, 0x42]);
  }),
);
onSim(
  'QE REPORTDATA upper half not zero (QE report validly signed)',
  'ERR_QE_REPORT_DATA_MISMATCH (qe_report.report_data)',
  {},
  (e) => ({ quote: resignedQe(e, (c) => void (c.qeReport.reportData[40] = 1)) }),
);
onSim(
  'attestation key not on P-256, bound by a validly signed QE report',
  'ERR_SIGNATURE_INVALID (attestation_key)',
  {},
  (e) => ({
    quote: resignedQe(e, (c, sig) => {
      sig.attestationKey = new Uint8Array(64).fill(1);
      const hash = createHash('sha256').update(sig.attestationKey).update(c.qeAuthData).digest();
      c.qeReport.reportData = new Uint8Array([...hash, ...new Uint8Array(32)]);
    }),
  }),
);
onSim('simulated PCK chain against the vendor roots only', 'ERR_CHAIN_UNTRUSTED_ROOT', {}, () => ({
  anchors: vendor,
}));
onReal(
  'real quote carrying a PCK chain from another root',
  'ERR_CHAIN_UNTRUSTED_ROOT',
  quoteEdit((q) => {
    const sim = parseTdxQuote(simEvidence().quote).signatureData.certificationData;
    q.signatureData.certificationData.pckCertChain = pckCertChainFromPem(sim.pckCertChain.pem);
  }),
);
onSim('PCK certificate on the PCK CRL', 'ERR_CERT_REVOKED', { pckRevoked: true });
onReal('PCK CRL expired (one second after nextUpdate)', 'ERR_CRL_EXPIRED', () => ({
  now: validity(real, 'pck_crl', 'next', 1000),
}));
onReal('PCK CRL not yet valid (one second before thisUpdate)', 'ERR_CRL_EXPIRED', () => ({
  now: validity(real, 'pck_crl', 'this', -1000),
}));
onSim('Root CA CRL expired', 'ERR_CRL_EXPIRED', {}, (e) => {
  const old = { thisUpdate: at(simNow, -400 * 86400e3), nextUpdate: at(simNow, -3600e3) };
  return { collateral: { ...e.collateral, root_ca_crl: toHex(pki.rootCrl(old)) } };
});
onReal('TCB Info text with one byte changed', 'ERR_SIGNATURE_INVALID (tcbInfo)', (e) => {
  const tcbInfo = e.collateral.tcb_info.replace('"tcbType":0', '"tcbType":1');
  assert.notEqual(tcbInfo, e.collateral.tcb_info);
  return { collateral: { ...e.collateral, tcb_info: tcbInfo } };
});
onReal(
  'TCB Info signature swapped with the QE Identity’s',
  'ERR_SIGNATURE_INVALID (tcbInfo)',
  ({ collateral: c }) => ({
    collateral: {
      ...c,
      tcb_info_signature: c.qe_identity_signature,
      qe_identity_signature: c.tcb_info_signature,
    },
  }),
);
onSim('TCB Info for another FMSPC', 'ERR_COLLATERAL_MISMATCH (tcbInfo.fmspc)', {}, () => ({
  collateral: simEvidence({ fmspc: '00906ed50000' }).collateral,
}));
onSim('QE Identity of another MRSIGNER', 'ERR_QE_IDENTITY_MISMATCH', {}, (e) => {
  const other = `"mrsigner":"${'AB'.repeat(32)}"`;
  const text = e.collateral.qe_identity.replace(/"mrsigner":"[0-9A-Fa-f]{64}"/, other);
  assert.notEqual(text, e.collateral.qe_identity);
  return { collateral: resigned(e.collateral, 'qe_identity', text) };
});
onSim('no TCB level matches the platform', 'ERR_TCB_LEVEL_NOT_FOUND', {
  platformTcb: { match: false },
});
onReal(
  'TCB Info expired while the CRLs and QE Identity are current',
  'ERR_COLLATERAL_EXPIRED',
  () => ({ now: validity(sampleWithTcbInfoExpiringFirst(), 'tcb_info', 'next', 1000) }),
  sampleWithTcbInfoExpiringFirst,
);
onSim('TDX module identity for TEE_TCB_SVN[1] missing', 'ERR_TDX_MODULE_MISMATCH', {}, (e) => {
  const text = e.collateral.tcb_info.replace('"id":"TDX_01"', '"id":"TDX_7F"');
  assert.notEqual(text, e.collateral.tcb_info);
  return { collateral: resigned(e.collateral, 'tcb_info', text) };
});
onReal('collateral missing', 'ERR_ENDORSEMENT_MISSING (tdxCollateral)', () => ({
  collateral: undefined,
}));
onReal('collateral that is not JSON', 'ERR_COLLATERAL_INVALID', () => ({
  collateral: '{"tcb_info": ',
}));
onReal('truncated quote', 'ERR_EVIDENCE_MALFORMED', (e) => ({ quote: e.quote.subarray(0, 1000) }));
onReal('TEE type of SGX in the header bytes', 'ERR_EVIDENCE_UNSUPPORTED (tee_type)', (e) => {
  const quote = e.quote.slice();
  quote.set([0, 0, 0, 0], 4);
  return { quote };
});
onReal(
  'hand-built quote value with another TEE type',
  'ERR_EVIDENCE_UNSUPPORTED (tee_type)',
  (e) => {
    const q = parseTdxQuote(e.quote);
    return { quote: { ...q, header: { ...q.header, teeType: 0 } } as unknown as TdxQuote };
  },
);
onReal('QE vendor ID that is not Intel’s', 'ERR_EVIDENCE_UNSUPPORTED (qe_vendor_id)', (e) => ({
  quote: flipped(e.quote, 12),
}));
onSim(
  'PCK CRL of the Platform CA for a Processor CA certificate',
  'ERR_COLLATERAL_MISMATCH (collateral.pck_crl)',
  { pckCa: 'processor' },
  () => ({ collateral: simEvidence().collateral }),
);
// Intel roots share one name, so the Root CA CRL, which every collateral chain is checked
// with, ties TCB Info, QE Identity and the PCK chain to the one root that signed it.
onReal('TCB Info signed under another configured root', 'ERR_CRL_INVALID', (e) => {
  const sim = simEvidence().collateral;
  const collateral = {
    ...e.collateral,
    tcb_info: sim.tcb_info,
    tcb_info_signature: sim.tcb_info_signature,
    tcb_info_issuer_chain: sim.tcb_info_issuer_chain,
  };
  // simAnchors trusts Intel's root and the simulator's: each chain alone verifies.
  return { collateral, anchors: simAnchors };
});

// ---- the harness -------------------------------------------------------------------------

/** `expected` is a code, optionally followed by the error's subject (or field) in parentheses. */
function expectError(run: () => unknown, expected: string): void {
  const [, code, subject] = /^(\S+)(?: \((.+)\))?$/.exec(expected)!;
  assert.throws(run, (err: unknown) => {
    const e = err as { code?: string; message?: string; subject?: string; field?: string };
    assert.equal(e.code, code, e.message);
    if (subject !== undefined) assert.equal(e.subject ?? e.field, subject, e.message);
    return true;
  });
}

/** One cache warmed with every genuine source the cases start from. */
const warm = createVerificationCache();
test('the genuine evidence behind the cases verifies', () => {
  verify(simEvidence(), warm);
  verify(simEvidence({ pckCa: 'processor' }), warm);
  if (haveVectors)
    for (const s of tdxSamples.filter((x) => x.expected.verifies)) verify(realEvidence(s), warm);
});

test('at least 15 adversarial cases', () => {
  assert.ok(cases.length >= 15, `${cases.length} cases`);
});

for (const c of cases) {
  test(`${c.name} → ${c.expected}`, { skip: c.real ? skipReal : false }, () => {
    expectError(() => c.run(createVerificationCache()), c.expected);
    expectError(() => c.run(warm), c.expected);
    expectError(() => c.run(warm), c.expected);
  });
}
