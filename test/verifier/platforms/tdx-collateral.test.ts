/**
 * TDX collateral of every real sample: signatures over the exact texts, issuer chains to
 * the pinned Intel root, CRLs, validity windows at `verify_at` and at the `also_expect`
 * instants, PCK extensions, and the negative cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createIntelPki } from '../../../simulators/pki/intel.js';
import {
  checkCollateralWindow,
  checkTdxCollateralAt,
  parseTdxCollateral,
  verifyTdxCollateral,
} from '../../../verifier/platforms/tdx/collateral/v3.js';
import {
  checkTcbInfoMatchesPck,
  verifyTdxPckChain,
} from '../../../verifier/platforms/tdx/collateral/pck.js';
import type { TdxCollateral } from '../../../verifier/platforms/tdx/collateral/v3.js';
import { parseTdxQuote } from '../../../verifier/platforms/tdx/index.js';
import {
  parsePckExtensions,
  pckCaKind,
} from '../../../verifier/platforms/tdx/collateral/pck-extensions.js';
import { parseCertificateDer, parsePemChain } from '../../../common/x509/certificate.js';
import { checkChainAt, createTrustAnchors } from '../../../common/x509/chain.js';
import { checkCrlCurrent, parseCrlDer } from '../../../common/x509/crl.js';
import { haveVectors, loadManifest, readVector } from '../../helpers/vectors.js';
import type { Sample } from '../../helpers/vectors.js';

const skip = haveVectors ? false : 'real vectors not present';
const samples = haveVectors ? loadManifest().samples.filter((s) => s.platform === 'tdx') : [];

function code(expected: string, subject?: string) {
  return (e: unknown): boolean => {
    const err = e as { code?: string; subject?: string; message?: string };
    assert.equal(err.code, expected, err.message);
    if (subject !== undefined) assert.equal(err.subject, subject);
    return true;
  };
}

function anchors() {
  const root = parseCertificateDer(readVector('roots/intel-sgx-root-ca.der'));
  const pin = loadManifest().roots.find((r) => r.file === 'roots/intel-sgx-root-ca.der')!;
  return createTrustAnchors([root], [pin.certs![0]!.sha256_der]);
}

const collateralOf = (s: Sample): TdxCollateral =>
  parseTdxCollateral(readVector(s.files.collateral!));
const pckChainOf = (s: Sample) =>
  parsePemChain(
    parseTdxQuote(readVector(s.files.quote!)).signatureData.certificationData.pckCertChain.pem,
  );

interface Detail {
  pck_sgx_tcb_comps: number[];
  pck_pcesvn: number;
}
type Meta = { id: string; fmspc?: string; issue: string; next: string; tcbEval: number };
type Window = { this: string; next: string };

for (const s of samples) {
  test(
    `${s.name}: collateral verifies at verify_at and matches the PCK certificate`,
    { skip },
    () => {
      const now = new Date(s.verify_at);
      const verified = verifyTdxCollateral(collateralOf(s), anchors());
      checkTdxCollateralAt(verified, now);
      const tcbMeta = s.tcb_info as Meta;
      const qeMeta = s.qe_identity as Meta;
      assert.equal(verified.tcbInfo.fmspc, tcbMeta.fmspc!.toLowerCase());
      assert.equal(verified.tcbInfo.tcbEvaluationDataNumber, tcbMeta.tcbEval);
      assert.equal(verified.tcbInfo.issueDate.getTime(), Date.parse(tcbMeta.issue));
      assert.equal(verified.tcbInfo.nextUpdate.getTime(), Date.parse(tcbMeta.next));
      assert.equal(verified.qeIdentity.id, qeMeta.id);
      assert.equal(verified.qeIdentity.nextUpdate.getTime(), Date.parse(qeMeta.next));
      assert.equal(verified.tcbInfoChain.path[0]!.subjectCn, 'Intel SGX TCB Signing');

      const chainCerts = pckChainOf(s);
      const pck = parsePckExtensions(chainCerts[0]!);
      const detail = s.evaluation_detail as Detail;
      assert.deepEqual([...pck.tcb.sgxTcbComponents], detail.pck_sgx_tcb_comps);
      assert.deepEqual([...pck.tcb.cpuSvn], detail.pck_sgx_tcb_comps);
      assert.equal(pck.tcb.pceSvn, detail.pck_pcesvn);
      assert.equal(pck.fmspc, s.fmspc);
      assert.equal(pck.pceId, verified.tcbInfo.pceId);
      assert.equal(pck.ppid.length, 16);
      assert.equal(pckCaKind(chainCerts[0]!), 'platform');
      assert.equal(pck.sgxType, 'Scalable');
      assert.equal(pck.platformInstanceId?.length, 16);
      assert.ok(pck.configuration !== undefined);
      checkTcbInfoMatchesPck(verified.tcbInfo, pck);

      const chain = verifyTdxPckChain(chainCerts, verified, anchors());
      checkChainAt(chain, { now, requireCrlFor: 'all' });
    },
  );

  test(`${s.name}: every validity window fails at the also_expect instants`, { skip }, () => {
    const verified = verifyTdxCollateral(collateralOf(s), anchors());
    for (const a of s.also_expect ?? []) {
      const at = new Date(a.verify_at);
      assert.equal(a.verifies, false);
      const windows: [Window, () => void, string][] = [
        [s.root_ca_crl as Window, () => checkCrlCurrent(verified.rootCaCrl, at), 'ERR_CRL_EXPIRED'],
        [s.pck_crl as Window, () => checkCrlCurrent(verified.pckCrl, at), 'ERR_CRL_EXPIRED'],
        [
          metaWindow(s.tcb_info as Meta),
          () => checkCollateralWindow(verified.tcbInfo, at, 'tcbInfo'),
          'ERR_COLLATERAL_EXPIRED',
        ],
        [
          metaWindow(s.qe_identity as Meta),
          () => checkCollateralWindow(verified.qeIdentity, at, 'qeIdentity'),
          'ERR_COLLATERAL_EXPIRED',
        ],
      ];
      let first: string | undefined;
      for (const [w, check, expected] of windows) {
        if (Date.parse(w.this) <= at.getTime() && at.getTime() < Date.parse(w.next)) check();
        else {
          assert.throws(check, code(expected));
          first ??= expected;
        }
      }
      assert.ok(first !== undefined, `${a.verify_at} is inside every window`);
      assert.throws(() => checkTdxCollateralAt(verified, at), code(first));
    }
  });
}

function metaWindow(m: Meta): Window {
  return { this: m.issue, next: m.next };
}

const first = samples[0];

function tamperOneSvn(text: string): string {
  const at = text.indexOf('"svn":') + 6;
  const digit = Number(text[at]);
  return text.slice(0, at) + String((digit + 1) % 10) + text.slice(at + 1);
}

test('one changed byte of TCB Info or QE Identity text breaks its signature', { skip }, () => {
  const c = collateralOf(first!);
  const tcbInfo = tamperOneSvn(c.tcbInfo);
  assert.equal(Buffer.from(tcbInfo).length, Buffer.from(c.tcbInfo).length);
  assert.throws(
    () => verifyTdxCollateral({ ...c, tcbInfo }, anchors()),
    code('ERR_SIGNATURE_INVALID', 'tcbInfo'),
  );
  const qeIdentity = c.qeIdentity.replace('"version":2', '"version":3');
  assert.throws(
    () => verifyTdxCollateral({ ...c, qeIdentity }, anchors()),
    code('ERR_SIGNATURE_INVALID', 'qeIdentity'),
  );
  const sig = c.tcbInfoSignature.slice();
  sig[0] ^= 1;
  assert.throws(
    () => verifyTdxCollateral({ ...c, tcbInfoSignature: sig }, anchors()),
    code('ERR_SIGNATURE_INVALID', 'tcbInfo'),
  );
});

test('TCB Info for another FMSPC than the PCK certificate is a mismatch', { skip }, () => {
  const other = samples.find((s) => s.fmspc !== first!.fmspc)!;
  const verified = verifyTdxCollateral(collateralOf(other), anchors());
  const pck = parsePckExtensions(pckChainOf(first!)[0]!);
  assert.throws(
    () => checkTcbInfoMatchesPck(verified.tcbInfo, pck),
    code('ERR_COLLATERAL_MISMATCH', 'tcbInfo.fmspc'),
  );
  assert.throws(
    () => checkTcbInfoMatchesPck(verified.tcbInfo, { fmspc: other.fmspc as string, pceId: 'ffff' }),
    code('ERR_COLLATERAL_MISMATCH', 'tcbInfo.pceId'),
  );
  checkTcbInfoMatchesPck(verified.tcbInfo, {
    fmspc: (other.fmspc as string).toUpperCase(),
    pceId: '0000',
  });
});

test('a PCK CRL from the other PCK CA is a mismatch', { skip }, () => {
  const verified = verifyTdxCollateral(collateralOf(first!), anchors());
  const sim = createIntelPki({
    seed: 'twi-collateral',
    notBefore: new Date('2020-01-01T00:00:00Z'),
  });
  const window = {
    thisUpdate: new Date('2025-01-01T00:00:00Z'),
    nextUpdate: new Date('2025-02-01T00:00:00Z'),
  };
  const pckCrl = parseCrlDer(sim.pckCrl('processor', window));
  assert.throws(
    () => verifyTdxPckChain(pckChainOf(first!), { ...verified, pckCrl }, anchors()),
    code('ERR_COLLATERAL_MISMATCH', 'pckCrl'),
  );
});

test(
  'collateral signed by a certificate other than Intel SGX TCB Signing is refused',
  { skip },
  () => {
    const c = collateralOf(first!);
    assert.throws(
      () => verifyTdxCollateral({ ...c, tcbInfoIssuerChain: c.pckCrlIssuerChain }, anchors()),
      code('ERR_CERT_PROFILE', 'tcbInfoIssuerChain'),
    );
  },
);

test('collateral chained to another root is untrusted', { skip }, () => {
  const sim = createIntelPki({
    seed: 'twi-collateral',
    notBefore: new Date('2020-01-01T00:00:00Z'),
  });
  const simAnchors = createTrustAnchors([parseCertificateDer(sim.root.der)]);
  assert.throws(
    () => verifyTdxCollateral(collateralOf(first!), simAnchors),
    code('ERR_CHAIN_UNTRUSTED_ROOT', 'Intel SGX Root CA'),
  );
});

test('malformed collateral JSON is invalid, not a crash', { skip }, () => {
  const raw = JSON.parse(
    Buffer.from(readVector(first!.files.collateral!)).toString('utf8'),
  ) as Record<string, unknown>;
  const bad = (o: Record<string, unknown>) => () => parseTdxCollateral(JSON.stringify(o));
  assert.throws(() => parseTdxCollateral('{'), code('ERR_COLLATERAL_INVALID'));
  assert.throws(
    bad({ ...raw, tcb_info: undefined }),
    code('ERR_COLLATERAL_INVALID', 'collateral.tcb_info'),
  );
  assert.throws(bad({ ...raw, tcb_info_signature: 'abcd' }), code('ERR_COLLATERAL_INVALID'));
  assert.throws(bad({ ...raw, pck_crl: 'xyz' }), code('ERR_COLLATERAL_INVALID'));
  const c = parseTdxCollateral(raw as never);
  assert.throws(
    () => verifyTdxCollateral({ ...c, pckCrl: c.pckCrl.subarray(0, 30) }, anchors()),
    code('ERR_CRL_INVALID'),
  );
  assert.throws(
    () => verifyTdxCollateral({ ...c, tcbInfoIssuerChain: 'not pem' }, anchors()),
    code('ERR_COLLATERAL_INVALID', 'tcbInfoIssuerChain'),
  );
});
