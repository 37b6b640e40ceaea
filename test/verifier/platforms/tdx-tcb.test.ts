/**
 * Intel TDX TCB evaluation: every real sample gives the manifest's status, advisories,
 * module and QE statuses; synthetic TCB Info covers each rule of spec digest C1.4/C1.5.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseTdxCollateral,
  verifyTdxCollateral,
} from '../../../verifier/platforms/tdx/collateral/v3.js';
import { parseTdQeIdentity } from '../../../verifier/platforms/tdx/collateral/qe-identity.js';
import { parseTdxTcbInfo } from '../../../verifier/platforms/tdx/collateral/tcb-info.js';
import { parseTdxQuote } from '../../../verifier/platforms/tdx/index.js';
import { parsePckExtensions } from '../../../verifier/platforms/tdx/collateral/pck-extensions.js';
import {
  evaluateTdxModule,
  evaluateTdxTcb,
  matchPlatformTcbLevel,
  matchQeIdentity,
} from '../../../verifier/platforms/tdx/verify/tcb-match.js';
import type { TdxTcbInput } from '../../../verifier/platforms/tdx/verify/tcb-match.js';
import {
  convergeTcbStatus,
  TCB_STATUSES,
} from '../../../verifier/platforms/tdx/verify/tcb-status.js';
import type { TcbStatus } from '../../../verifier/platforms/tdx/verify/tcb-status.js';
import { parseCertificateDer, parsePemChain } from '../../../common/x509/certificate.js';
import { createTrustAnchors } from '../../../common/x509/chain.js';
import { haveVectors, loadManifest, readVector } from '../../helpers/vectors.js';

const skip = haveVectors ? false : 'real vectors not present';
const samples = haveVectors ? loadManifest().samples.filter((s) => s.platform === 'tdx') : [];

function code(expected: string) {
  return (e: unknown): boolean => {
    const err = e as { code?: string; message?: string };
    assert.equal(err.code, expected, err.message);
    return true;
  };
}

interface Detail {
  platform_tcb_level: { status: string; advisory_ids: string[]; tcb_date: string | null };
  tdx_module: { id: string; status: string; advisory_ids: string[] } | null;
  qe_tcb: { status: string; qe_isvsvn: number };
}

for (const s of samples) {
  test(`${s.name}: TCB evaluation gives the expected status`, { skip }, () => {
    const root = parseCertificateDer(readVector('roots/intel-sgx-root-ca.der'));
    const collateral = parseTdxCollateral(readVector(s.files.collateral!));
    const { tcbInfo, qeIdentity } = verifyTdxCollateral(collateral, createTrustAnchors([root]));
    const quote = parseTdxQuote(readVector(s.files.quote!));
    const cert = quote.signatureData.certificationData;
    const pck = parsePckExtensions(parsePemChain(cert.pckCertChain.pem)[0]!);
    const input: TdxTcbInput = {
      pckTcb: pck.tcb,
      teeTcbSvn: quote.body.teeTcbSvn,
      ...(quote.body.teeTcbSvn2 ? { teeTcbSvn2: quote.body.teeTcbSvn2 } : {}),
      mrSignerSeam: quote.body.mrSignerSeam,
      seamAttributes: quote.body.seamAttributes,
      qeReport: cert.qeReport,
      tcbInfo,
      qeIdentity,
    };
    const detail = s.evaluation_detail as Detail;

    const module = evaluateTdxModule(input);
    assert.equal(module.identityId, detail.tdx_module?.id);
    if (detail.tdx_module) assert.equal(module.status, detail.tdx_module.status);
    assert.equal(cert.qeReport.isvSvn, detail.qe_tcb.qe_isvsvn);
    assert.equal(matchQeIdentity(cert.qeReport, qeIdentity).tcbStatus, detail.qe_tcb.status);

    if (s.expected.tcb_status === undefined) {
      assert.equal(detail.platform_tcb_level.status, 'NoMatch');
      assert.throws(() => matchPlatformTcbLevel(input), code('ERR_TCB_LEVEL_NOT_FOUND'));
      assert.throws(() => evaluateTdxTcb(input), code('ERR_TCB_LEVEL_NOT_FOUND'));
      return;
    }
    const result = evaluateTdxTcb(input);
    assert.equal(result.status, s.expected.tcb_status);
    assert.deepEqual([...result.advisoryIds], s.expected.advisory_ids);
    assert.equal(result.platformLevel.tcbStatus, detail.platform_tcb_level.status);
    assert.deepEqual([...result.platformLevel.advisoryIds], detail.platform_tcb_level.advisory_ids);
    assert.equal(result.tcbDate, detail.platform_tcb_level.tcb_date);
    assert.equal(result.qeLevel.tcbStatus, detail.qe_tcb.status);
    assert.equal(result.relaunchAdvised, false);
  });
}

// ---- synthetic collateral -------------------------------------------------------------

const ZERO48 = '00'.repeat(48);
const comps = (svns: number[]) => JSON.stringify(svns.map((svn) => ({ svn })));
const pad = (xs: number[]) => [...xs, ...new Array(16 - xs.length).fill(0)];

interface LevelSpec {
  sgx: number[];
  pce?: number;
  tdx: number[];
  status: TcbStatus;
  date?: string;
  adv?: string[];
}

function level(l: LevelSpec): string {
  const adv = l.adv ? `,"advisoryIDs":${JSON.stringify(l.adv)}` : '';
  return `{"tcb":{"sgxtcbcomponents":${comps(pad(l.sgx))},"pcesvn":${l.pce ?? 11},"tdxtcbcomponents":${comps(pad(l.tdx))}},"tcbDate":"${l.date ?? '2024-03-13T00:00:00Z'}","tcbStatus":"${l.status}"${adv}}`;
}

function isvLevels(levels: [number, TcbStatus, string[]?][]): string {
  return JSON.stringify(
    levels.map(([isvsvn, tcbStatus, adv]) => ({
      tcb: { isvsvn },
      tcbDate: '2024-03-13T00:00:00Z',
      tcbStatus,
      ...(adv ? { advisoryIDs: adv } : {}),
    })),
  );
}

function tcbInfo(
  levels: LevelSpec[],
  modules: [string, [number, TcbStatus, string[]?][]][],
): string {
  const signer = `"mrsigner":"${ZERO48}","attributes":"0000000000000000","attributesMask":"FFFFFFFFFFFFFFFF"`;
  const ids = modules.map(([id, lv]) => `{"id":"${id}",${signer},"tcbLevels":${isvLevels(lv)}}`);
  return `{"id":"TDX","version":3,"issueDate":"2025-01-01T00:00:00Z","nextUpdate":"2025-02-01T00:00:00Z","fmspc":"00A06D080000","pceId":"0000","tcbType":0,"tcbEvaluationDataNumber":17,"tdxModule":{${signer}},"tdxModuleIdentities":[${ids.join(',')}],"tcbLevels":[${levels.map(level).join(',')}]}`;
}

const QE_SIGNER = 'dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5';

function qeIdentity(levels: [number, TcbStatus, string[]?][]): string {
  return `{"id":"TD_QE","version":2,"issueDate":"2025-01-01T00:00:00Z","nextUpdate":"2025-02-01T00:00:00Z","tcbEvaluationDataNumber":17,"miscselect":"00000000","miscselectMask":"FFFFFFFF","attributes":"11000000000000000000000000000000","attributesMask":"FBFFFFFFFFFFFFFF0000000000000000","mrsigner":"${QE_SIGNER.toUpperCase()}","isvprodid":2,"tcbLevels":${isvLevels(levels)}}`;
}

const LEVELS: LevelSpec[] = [
  { sgx: [7, 7], tdx: [5, 0, 7], status: 'UpToDate', date: '2024-03-13T00:00:00Z' },
  {
    sgx: [6, 6],
    tdx: [3, 0, 6],
    status: 'OutOfDate',
    date: '2023-08-09T00:00:00Z',
    adv: ['INTEL-SA-00960'],
  },
  {
    sgx: [5, 5],
    tdx: [0, 0, 5],
    status: 'ConfigurationNeeded',
    adv: ['INTEL-SA-00837', 'INTEL-SA-00960'],
  },
];
const MODULES: [string, [number, TcbStatus, string[]?][]][] = [
  ['TDX_03', [[3, 'UpToDate']]],
  [
    'TDX_01',
    [
      [4, 'UpToDate'],
      [2, 'OutOfDate', ['INTEL-SA-01036']],
    ],
  ],
];

function input(over: Partial<TdxTcbInput> & { svn?: number[]; sgx?: number[] } = {}): TdxTcbInput {
  const { svn, sgx, ...rest } = over;
  return {
    pckTcb: { sgxTcbComponents: pad(sgx ?? [7, 7]), pceSvn: 11 },
    teeTcbSvn: Uint8Array.from(pad(svn ?? [4, 1, 7])),
    mrSignerSeam: new Uint8Array(48),
    seamAttributes: new Uint8Array(8),
    qeReport: {
      miscSelect: 0,
      attributes: Uint8Array.from(Buffer.from('11' + '00'.repeat(15), 'hex')),
      mrSigner: Uint8Array.from(Buffer.from(QE_SIGNER, 'hex')),
      isvProdId: 2,
      isvSvn: 4,
    },
    tcbInfo: parseTdxTcbInfo(tcbInfo(LEVELS, MODULES)),
    qeIdentity: parseTdQeIdentity(
      qeIdentity([
        [4, 'UpToDate'],
        [2, 'OutOfDate', ['INTEL-SA-00615']],
      ]),
    ),
    ...rest,
  };
}

test('the first level all components reach wins; levels are not re-sorted', () => {
  assert.equal(evaluateTdxTcb(input()).platformLevel.tcbStatus, 'UpToDate');
  const r = evaluateTdxTcb(input({ sgx: [6, 7] }));
  assert.equal(r.status, 'OutOfDate');
  assert.equal(r.tcbDate, '2023-08-09T00:00:00Z');
  assert.deepEqual(r.sgxLevel, r.platformLevel);
  assert.throws(() => evaluateTdxTcb(input({ sgx: [4, 9] })), code('ERR_TCB_LEVEL_NOT_FOUND'));
  const lowPce = input();
  assert.throws(
    () => evaluateTdxTcb({ ...lowPce, pckTcb: { ...lowPce.pckTcb, pceSvn: 10 } }),
    code('ERR_TCB_LEVEL_NOT_FOUND'),
  );
});

test('TEE_TCB_SVN bytes 0–1 are skipped when the module version is non-zero', () => {
  // Module 1.4 is below level 0's "5": skipped, the module identity judges it instead.
  const skipped = evaluateTdxTcb(input({ svn: [4, 1, 7] }));
  assert.equal(skipped.platformLevel.tcbStatus, 'UpToDate');
  assert.equal(skipped.module.identityId, 'TDX_01');
  // Version 0: every byte counts, module SVN 4 < 5 drops to the OutOfDate level.
  const all = evaluateTdxTcb(input({ svn: [4, 0, 7] }));
  assert.equal(all.platformLevel.tcbStatus, 'OutOfDate');
  assert.equal(all.module.identityId, undefined);
  assert.equal(all.moduleLevel, undefined);
  // The SGX match (level 0) and the TDX match (level 1) differ: late microcode 6 < 7.
  const split = evaluateTdxTcb(input({ svn: [4, 1, 6] }));
  assert.equal(split.sgxLevel.tcbStatus, 'UpToDate');
  assert.equal(split.platformLevel.tcbStatus, 'OutOfDate');
});

test('TDX module identity: TDX_XX lookup, MRSIGNERSEAM, SEAMATTRIBUTES, own levels', () => {
  assert.throws(() => evaluateTdxTcb(input({ svn: [4, 2, 7] })), code('ERR_TDX_MODULE_MISMATCH'));
  const signer = new Uint8Array(48);
  signer[47] = 1;
  assert.throws(
    () => evaluateTdxTcb(input({ mrSignerSeam: signer })),
    code('ERR_TDX_MODULE_MISMATCH'),
  );
  assert.throws(
    () => evaluateTdxTcb(input({ svn: [4, 0, 7], mrSignerSeam: signer })),
    code('ERR_TDX_MODULE_MISMATCH'),
  );
  assert.throws(
    () => evaluateTdxTcb(input({ seamAttributes: Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1) })),
    code('ERR_TDX_MODULE_MISMATCH'),
  );
  assert.throws(() => evaluateTdxTcb(input({ svn: [1, 1, 7] })), code('ERR_TCB_LEVEL_NOT_FOUND'));
  const noModule = input();
  const info = { ...noModule.tcbInfo, tdxModule: undefined };
  assert.throws(
    () =>
      evaluateTdxTcb({ ...noModule, tcbInfo: info, teeTcbSvn: Uint8Array.from(pad([5, 0, 7])) }),
    code('ERR_TDX_MODULE_MISMATCH'),
  );
  assert.equal(evaluateTdxTcb(input({ svn: [3, 3, 7] })).module.identityId, 'TDX_03');
});

test('an out-of-date module converges with the platform level and adds its advisories', () => {
  const r = evaluateTdxTcb(input({ svn: [2, 1, 7] }));
  assert.equal(r.platformLevel.tcbStatus, 'UpToDate');
  assert.equal(r.module.status, 'OutOfDate');
  assert.equal(r.status, 'OutOfDate');
  assert.deepEqual([...r.advisoryIds], ['INTEL-SA-01036']);
  const config = evaluateTdxTcb(input({ sgx: [5, 5], svn: [2, 1, 5] }));
  assert.equal(config.status, 'OutOfDateConfigurationNeeded');
  assert.deepEqual([...config.advisoryIds], ['INTEL-SA-00837', 'INTEL-SA-00960', 'INTEL-SA-01036']);
});

test('QE identity: masks, MRSIGNER, ISVPRODID, ISVSVN levels and convergence', () => {
  const base = input();
  const qe = (over: Partial<TdxTcbInput['qeReport']>) => ({
    ...base,
    qeReport: { ...base.qeReport, ...over },
  });
  evaluateTdxTcb(
    qe({ attributes: Uint8Array.from(Buffer.from('15' + '00'.repeat(7) + 'ff'.repeat(8), 'hex')) }),
  );
  assert.throws(() => evaluateTdxTcb(qe({ miscSelect: 1 })), code('ERR_QE_IDENTITY_MISMATCH'));
  assert.throws(
    () => evaluateTdxTcb(qe({ attributes: new Uint8Array(16) })),
    code('ERR_QE_IDENTITY_MISMATCH'),
  );
  assert.throws(
    () => evaluateTdxTcb(qe({ mrSigner: new Uint8Array(32) })),
    code('ERR_QE_IDENTITY_MISMATCH'),
  );
  assert.throws(() => evaluateTdxTcb(qe({ isvProdId: 1 })), code('ERR_QE_IDENTITY_MISMATCH'));
  assert.throws(() => evaluateTdxTcb(qe({ isvSvn: 1 })), code('ERR_TCB_LEVEL_NOT_FOUND'));
  const old = evaluateTdxTcb(qe({ isvSvn: 3 }));
  assert.equal(old.qeLevel.tcbStatus, 'OutOfDate');
  assert.equal(old.status, 'OutOfDate');
  assert.deepEqual([...old.advisoryIds], ['INTEL-SA-00615']);
  const revoked = input({ qeIdentity: parseTdQeIdentity(qeIdentity([[2, 'Revoked']])) });
  assert.equal(evaluateTdxTcb(revoked).status, 'Revoked');
});

test('convergence table (Intel QVL convergeTcbStatusWith*)', () => {
  const expected: Record<TcbStatus, [TcbStatus, TcbStatus]> = {
    UpToDate: ['OutOfDate', 'Revoked'],
    SWHardeningNeeded: ['OutOfDate', 'Revoked'],
    ConfigurationNeeded: ['OutOfDateConfigurationNeeded', 'Revoked'],
    ConfigurationAndSWHardeningNeeded: ['OutOfDateConfigurationNeeded', 'Revoked'],
    OutOfDate: ['OutOfDate', 'Revoked'],
    OutOfDateConfigurationNeeded: ['OutOfDateConfigurationNeeded', 'Revoked'],
    Revoked: ['Revoked', 'Revoked'],
  };
  for (const platform of TCB_STATUSES) {
    assert.equal(convergeTcbStatus(platform, 'UpToDate'), platform);
    assert.equal(convergeTcbStatus(platform, 'OutOfDate'), expected[platform][0]);
    assert.equal(convergeTcbStatus(platform, 'Revoked'), expected[platform][1]);
  }
});

test('TD 1.5: relaunch is advised when TEE_TCB_SVN2 reaches the newest levels', () => {
  const outdated = { svn: [2, 1, 6] };
  const r = evaluateTdxTcb(input({ ...outdated, teeTcbSvn2: Uint8Array.from(pad([4, 1, 7])) }));
  assert.equal(r.status, 'OutOfDate');
  assert.equal(r.relaunchAdvised, true);
  const notYet = evaluateTdxTcb(
    input({ ...outdated, teeTcbSvn2: Uint8Array.from(pad([4, 1, 6])) }),
  );
  assert.equal(notYet.relaunchAdvised, false);
  const sameModule = evaluateTdxTcb(
    input({ svn: [4, 1, 7], teeTcbSvn2: Uint8Array.from(pad([4, 1, 7])) }),
  );
  assert.equal(sameModule.relaunchAdvised, false);
  assert.throws(
    () => evaluateTdxTcb(input({ ...outdated, teeTcbSvn2: Uint8Array.from(pad([4, 9, 7])) })),
    code('ERR_TDX_MODULE_MISMATCH'),
  );
});

test('malformed TCB Info and QE Identity are invalid collateral', () => {
  const bad = (text: string) => () => parseTdxTcbInfo(text);
  assert.throws(bad('{"id":"SGX","version":3}'), code('ERR_COLLATERAL_INVALID'));
  assert.throws(
    bad(tcbInfo(LEVELS, MODULES).replace('"UpToDate"', '"Fine"')),
    code('ERR_COLLATERAL_INVALID'),
  );
  assert.throws(
    bad(tcbInfo(LEVELS, MODULES).replace('"fmspc":"00A06D080000"', '"fmspc":"00A06D08"')),
    code('ERR_COLLATERAL_INVALID'),
  );
  assert.throws(bad(tcbInfo([], MODULES)), code('ERR_COLLATERAL_INVALID'));
  assert.throws(
    () => parseTdQeIdentity(qeIdentity([]).replace('"TD_QE"', '"QE"')),
    code('ERR_COLLATERAL_INVALID'),
  );
  assert.throws(() => parseTdQeIdentity(qeIdentity([])), code('ERR_COLLATERAL_INVALID'));
  assert.throws(() => evaluateTdxTcb({ ...input(), teeTcbSvn: new Uint8Array(15) }), TypeError);
});
