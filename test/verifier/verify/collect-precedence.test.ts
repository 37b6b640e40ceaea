/**
 * Collateral precedence in the library (no service): the provider's TDX collateral wins over
 * the attester's; without a provider the supplied collateral is used, but the policy minimum
 * `min_tcb_evaluation_data_number` and the per-FMSPC record (when a history is given) still
 * apply; an SEV-SNP VCEK supplied with the report does not skip the CRL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAnchorStore } from '../../../endorsements/anchors.js';
import { collectEndorsements } from '../../../verifier/verify/collect.js';
import { getPlatform } from '../../../verifier/platforms/registry.js';
import { createHttpFetcher } from '../../../endorsements/provider/http-fetcher.js';
import { createEndorsementStack } from '../../../endorsements/stack.js';
import {
  openSimulatedPki,
  simulateSnp,
  simulateTdx,
  type SimulatedPki,
} from '../../../simulators/index.js';
import {
  startCollateralServer,
  type CollateralServer,
} from '../../../simulators/servers/collateral-server.js';
import { parsePolicy } from '../../../verifier/policy/loader.js';
import { parseSnpReport } from '../../../verifier/platforms/sev-snp/index.js';
import { parseTdxQuote } from '../../../verifier/platforms/tdx/index.js';
import { appraiseEvidence, appraiseEvidenceWithProvider } from '../../../verifier/pipeline.js';
import { openStore } from '../../../service/store/open.js';
import type { Store } from '../../../service/store/types.js';
import { createVerificationCache } from '../../../verifier/verify/cache.js';
import type { AnchorStore } from '../../../verifier/verify/types.js';

const NOW = new Date('2026-03-01T00:00:00Z');
const DAY = 86_400_000;

describe('collateral precedence in the pipeline', { timeout: 240_000 }, () => {
  let dir: string;
  let pki: SimulatedPki;
  let anchors: AnchorStore;
  let server: CollateralServer;
  let store: Store;
  let quote: Uint8Array;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twi-precedence-'));
    pki = await openSimulatedPki(join(dir, 'pki'), { seed: 'precedence', now: NOW });
    anchors = loadAnchorStore([join(dir, 'pki', 'roots')]);
    server = await startCollateralServer({ pki, now: () => NOW });
    store = await openStore('sqlite:' + join(dir, 'twi.db'));
    quote = simulateTdx(pki.intel(), { seed: 'td', now: NOW }).quote;
  });

  after(async () => {
    await server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const stack = () =>
    createEndorsementStack({
      anchors,
      pcsUrl: server.url,
      kdsUrl: server.url,
      fetcher: createHttpFetcher({ timeoutMs: 5000 }),
    });

  const collateral = (n: number, at = NOW) =>
    JSON.stringify(
      simulateTdx(pki.intel(), { seed: 'td', now: at, tcbEvaluationDataNumber: n }).collateral,
    );

  const base = () => ({ evidence: quote, now: NOW, anchors, cache: createVerificationCache() });

  test('the provider answers: the supplied TDX collateral is not used, and a note says so', async () => {
    const supplied = { tdxCollateral: collateral(16) };
    const c = await collectEndorsements(
      getPlatform('tdx').endorsements,
      parseTdxQuote(quote),
      supplied,
      {
        provider: stack(),
        now: NOW,
      },
    );
    assert.notEqual(c.endorsements.tdxCollateral, supplied.tdxCollateral);
    assert.equal(c.sources['tcb-info'], 'pcs');
    assert.equal(c.used.length, 4);
    assert.match(c.notes[0] ?? '', /attester's TDX collateral was ignored/);
  });

  test('policy min_tcb_evaluation_data_number refuses lower collateral, from any source', async () => {
    const policy = parsePolicy({ id: 'min-18', tdx: { min_tcb_evaluation_data_number: 18 } });
    const supplied = appraiseEvidence({
      ...base(),
      policy,
      endorsements: { tdxCollateral: collateral(17) },
    });
    assert.equal(supplied.verified, true);
    assert.equal(supplied.status, 'contraindicated');
    assert.deepEqual(
      supplied.errors.map((e) => e.code),
      ['ERR_COLLATERAL_BELOW_MINIMUM', 'ERR_COLLATERAL_BELOW_MINIMUM'],
      'TCB Info and QE identity',
    );
    const fetched = await appraiseEvidenceWithProvider({ ...base(), policy, provider: stack() });
    assert.equal(fetched.status, 'contraindicated');
    assert.ok(fetched.errors.every((e) => e.code === 'ERR_COLLATERAL_BELOW_MINIMUM'));

    const atMinimum = appraiseEvidence({
      ...base(),
      policy,
      endorsements: { tdxCollateral: collateral(18) },
    });
    assert.equal(atMinimum.status, 'affirming', JSON.stringify(atMinimum.errors));
    assert.equal(atMinimum.appraisal.verification.collateral[1]?.source, 'attester');
  });

  test('without a provider, the per-FMSPC record still refuses older supplied collateral', async () => {
    const history = store.collateral;
    const first = await appraiseEvidenceWithProvider({
      ...base(),
      endorsements: { tdxCollateral: collateral(17) },
      collateralHistory: history,
    });
    assert.equal(first.status, 'affirming', JSON.stringify(first.errors));
    const older = await appraiseEvidenceWithProvider({
      ...base(),
      endorsements: { tdxCollateral: collateral(17, new Date(NOW.getTime() - 3 * DAY)) },
      collateralHistory: history,
    });
    assert.equal(older.verified, false);
    assert.equal(older.status, 'contraindicated');
    assert.equal(older.errors[0]?.code, 'ERR_COLLATERAL_ROLLBACK');
    assert.match(older.errors[0]?.message ?? '', /older than the newest the verifier has seen/);
    const tcbInfo = older.appraisal.verification.collateral.find((c) => c.kind === 'tcb-info');
    assert.equal(tcbInfo?.source, 'attester', 'the refused collateral is still named');

    const noHistory = appraiseEvidence({
      ...base(),
      endorsements: { tdxCollateral: collateral(17, new Date(NOW.getTime() - 3 * DAY)) },
    });
    assert.equal(noHistory.status, 'affirming', 'no record given, nothing to compare with');
  });

  test('SEV-SNP: a supplied VCEK still needs the CRL; allow-missing goes on without it and says so', async () => {
    const sim = simulateSnp(pki.amd('Genoa'), { seed: 'chip' });
    server.setFaults({ paths: { '/vcek/v1/Genoa/crl': { status5xx: { status: 503 } } } });
    try {
      const supplied = { snpKeyCert: sim.vcekDer };
      await assert.rejects(
        appraiseEvidenceWithProvider({
          ...base(),
          evidence: sim.report,
          endorsements: supplied,
          provider: stack(),
        }),
        { code: 'ERR_ENDORSEMENT_UNAVAILABLE' },
      );
      const c = await collectEndorsements(
        getPlatform('sev-snp').endorsements,
        parseSnpReport(sim.report),
        supplied,
        {
          provider: stack(),
          now: NOW,
          crlPolicy: 'allow-missing',
        },
      );
      assert.equal(c.endorsements.snpCrl, undefined);
      assert.match(c.notes[0] ?? '', /revocation not checked/);
      assert.equal(c.sources.vcek, 'attester');
      assert.equal(c.sources.ask, 'kds');
    } finally {
      server.setFaults({});
    }
  });
});
