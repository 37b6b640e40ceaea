/**
 * Issue 12 item 3 over HTTP: the verifier decides the collateral. A simulated PCS serves the
 * current TCB Info (evaluation data number 17, the platform OutOfDate); the attester sends
 * the previous one (16, UpToDate). The PCS's wins; with the PCS unreachable, supplied
 * collateral older than the newest seen for the FMSPC is refused; an SEV-SNP attester's VCEK
 * does not bypass the CRL; the EAR names every piece of collateral and where it came from.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadAnchorStore } from '../../endorsements/anchors.js';
import { createHttpFetcher } from '../../endorsements/provider/http-fetcher.js';
import type { EndorsementProvider } from '../../verifier/verify/endorsement-provider.js';
import { createEndorsementStack } from '../../endorsements/stack.js';
import { simulateSnp, simulateTdx, type SimulatedPki } from '../../simulators/index.js';
import {
  startCollateralServer,
  type CollateralServer,
} from '../../simulators/servers/collateral-server.js';
import { bindingReportData, jwkThumbprint } from '../../wire/binding.js';
import type { TdxCollateralV3 } from '../../verifier/platforms/tdx/index.js';
import { b64u, NOW, startTestService, workloadKey, type TestService } from './harness.js';

const DAY = 86_400_000;
const FMSPC = '50806f000000';

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly ear: Record<string, unknown> | undefined;
}

interface CollateralClaim {
  kind: string;
  sha256: string;
  source?: string;
  tcb_evaluation_data_number?: number;
  issue_date?: string;
}

/** TDX collateral as the simulated PKI signs it, issued a day before `at`. */
function tdxCollateral(
  pki: SimulatedPki,
  at: Date,
  tcbEvaluationDataNumber: number,
  status: 'UpToDate' | 'OutOfDate',
): TdxCollateralV3 {
  return simulateTdx(pki.intel(), {
    seed: 'svc-td',
    now: at,
    tcbEvaluationDataNumber,
    platformTcb: { status },
  }).collateral;
}

function verification(ear: Record<string, unknown> | undefined, platform: string) {
  const submods = ear?.submods as Record<string, Record<string, unknown>>;
  return submods[platform]!['tag:twi.dev,2026:ear#verification'] as {
    tcb_status?: string;
    collateral: CollateralClaim[];
    error?: { code: string };
  };
}

function piece(ear: Record<string, unknown> | undefined, platform: string, kind: string) {
  const found = verification(ear, platform).collateral.find((c) => c.kind === kind);
  assert.ok(found, `the EAR names the ${kind}`);
  return found;
}

describe('collateral precedence over HTTP', { timeout: 300_000 }, () => {
  let service: TestService;
  let server: CollateralServer;
  let current: EndorsementProvider;

  /** A fresh stack (empty cache, no retries) on the simulated PCS/KDS, as after a restart. */
  function restartProvider(): void {
    current = createEndorsementStack({
      anchors: loadAnchorStore([join(service.dir, 'pki', 'roots')]),
      pcsUrl: server.url,
      kdsUrl: server.url,
      fetcher: createHttpFetcher({ timeoutMs: 5000 }),
    });
  }

  before(async () => {
    const provider: EndorsementProvider = { get: (r, o) => current.get(r, o) };
    service = await startTestService({ seed: 'twi-collateral', clock: () => NOW, provider });
    server = await startCollateralServer({
      pki: service.pki,
      now: () => NOW,
      tdx: { tcbEvaluationDataNumber: 17, platformTcb: { status: 'OutOfDate' } },
    });
    restartProvider();
  });

  after(async () => {
    await server?.close();
    await service?.close();
  });

  async function attest(evidence: (nonce: Uint8Array, reportData: Uint8Array) => object) {
    const key = workloadKey();
    const c = await fetch(service.base + '/v1/challenge', { method: 'POST' });
    const { nonce } = (await c.json()) as { nonce: string };
    const nonceBytes = new Uint8Array(Buffer.from(nonce, 'base64url'));
    const reportData = bindingReportData(nonceBytes, jwkThumbprint(key.jwk));
    const r = await fetch(service.base + '/v1/attest', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ nonce, evidence: evidence(nonceBytes, reportData), key: key.jwk }),
    });
    const body = (await r.json()) as Record<string, unknown>;
    const ear = typeof body.ear === 'string' ? decodeJwt(body.ear) : undefined;
    return { status: r.status, body, ear } satisfies Answer;
  }

  function decodeJwt(jwt: string): Record<string, unknown> {
    return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
  }

  /** A TDX attestation carrying `collateral` as an attester-supplied endorsement. */
  function attestTdx(collateral?: TdxCollateralV3): Promise<Answer> {
    return attest((_nonce, reportData) => {
      const sim = simulateTdx(service.pki.intel(), { seed: 'svc-td', now: NOW, reportData });
      return {
        __cmwc_t: 'tag:twi.dev,2026:evidence',
        tdx: ['application/vnd.twi.tdx-quote', b64u(sim.quote), 4],
        ...(collateral && {
          collateral: [
            'application/vnd.twi.tdx-collateral+json',
            b64u(JSON.stringify(collateral)),
            2,
          ],
        }),
      };
    });
  }

  function attestSnp(withVcek: boolean): Promise<Answer> {
    return attest((_nonce, reportData) => {
      const sim = simulateSnp(service.pki.amd('Genoa'), { seed: 'svc-snp', reportData });
      return {
        __cmwc_t: 'tag:twi.dev,2026:evidence',
        snp: ['application/vnd.twi.sev-snp-report', b64u(sim.report), 4],
        ...(withVcek && { vcek: ['application/pkix-cert', b64u(sim.vcekDer), 2] }),
      };
    });
  }

  test('supplied older TDX collateral is ignored while the PCS answers (no rollback)', async () => {
    const older = tdxCollateral(service.pki, new Date(NOW.getTime() - 10 * DAY), 16, 'UpToDate');
    const a = await attestTdx(older);
    // Before issue 12 the attester's TCB Info won: 200 and a credential on an OutOfDate TCB.
    assert.equal(a.status, 403, JSON.stringify(a.body));
    assert.equal(a.body.code, 'ERR_APPRAISAL_WARNING');
    assert.equal(verification(a.ear, 'tdx').tcb_status, 'OutOfDate');
    const tcbInfo = piece(a.ear, 'tdx', 'tcb-info');
    assert.equal(tcbInfo.source, 'pcs');
    assert.equal(tcbInfo.tcb_evaluation_data_number, 17);
    assert.equal(tcbInfo.issue_date, new Date(NOW.getTime() - DAY).toISOString());
    assert.equal(piece(a.ear, 'tdx', 'qe-identity').source, 'pcs');
    assert.equal(piece(a.ear, 'tdx', 'pck-crl').source, 'pcs');
    assert.equal(piece(a.ear, 'tdx', 'pck-chain').source, 'attester');
    const seen = await service.store.collateral.newestTdx(FMSPC);
    assert.equal(seen?.tcbInfo.tcbEvaluationDataNumber, 17, 'the fetched collateral is recorded');

    const again = await attestTdx(older);
    assert.equal(piece(again.ear, 'tdx', 'tcb-info').source, 'cache', 'then served from cache');
  });

  test('PCS unreachable: supplied collateral older than the newest seen is refused', async () => {
    server.setFaults({ down: true });
    restartProvider();
    const older = tdxCollateral(service.pki, new Date(NOW.getTime() - 10 * DAY), 16, 'UpToDate');
    const a = await attestTdx(older);
    assert.equal(a.status, 403, JSON.stringify(a.body));
    assert.equal(a.body.code, 'ERR_APPRAISAL_CONTRAINDICATED');
    const errors = a.body.errors as { code: string }[];
    assert.equal(errors[0]?.code, 'ERR_COLLATERAL_ROLLBACK');
    assert.equal(verification(a.ear, 'tdx').error?.code, 'ERR_COLLATERAL_ROLLBACK');
    const refused = piece(a.ear, 'tdx', 'tcb-info');
    assert.equal(refused.source, 'attester');
    assert.equal(refused.tcb_evaluation_data_number, 16);

    // Same evaluation data number as the newest seen, but issued earlier: still older.
    const sameNumber = tdxCollateral(
      service.pki,
      new Date(NOW.getTime() - 5 * DAY),
      17,
      'UpToDate',
    );
    const b = await attestTdx(sameNumber);
    assert.equal(b.status, 403);
    assert.equal((b.body.errors as { code: string }[])[0]?.code, 'ERR_COLLATERAL_ROLLBACK');
  });

  test('PCS unreachable: supplied collateral at least as recent is used, and raises the record', async () => {
    const newer = tdxCollateral(service.pki, NOW, 18, 'UpToDate');
    const a = await attestTdx(newer);
    assert.equal(a.status, 200, JSON.stringify(a.body));
    const tcbInfo = piece(a.ear, 'tdx', 'tcb-info');
    assert.equal(tcbInfo.source, 'attester');
    assert.equal(tcbInfo.tcb_evaluation_data_number, 18);
    assert.equal(piece(a.ear, 'tdx', 'qe-identity').tcb_evaluation_data_number, 18);
    const seen = await service.store.collateral.newestTdx(FMSPC);
    assert.equal(seen?.tcbInfo.tcbEvaluationDataNumber, 18);
    assert.equal(seen?.qeIdentity.tcbEvaluationDataNumber, 18);

    // What the PCS served before is now older than the record: refused when supplied.
    const pcsCopy = tdxCollateral(service.pki, NOW, 17, 'OutOfDate');
    const b = await attestTdx(pcsCopy);
    assert.equal((b.body.errors as { code: string }[])[0]?.code, 'ERR_COLLATERAL_ROLLBACK');

    const none = await attestTdx();
    assert.equal(none.status, 503, 'without collateral from anyone: unavailable');
    assert.equal(none.body.code, 'ERR_ENDORSEMENT_UNAVAILABLE');
  });

  test('SEV-SNP: with the AMD CRL unavailable a supplied VCEK is refused like a fetched one', async () => {
    server.setFaults({ paths: { '/vcek/v1/Genoa/crl': { status5xx: { status: 503 } } } });
    restartProvider();
    for (const withVcek of [false, true]) {
      const a = await attestSnp(withVcek);
      assert.equal(a.status, 503, `VCEK supplied: ${withVcek}; ${JSON.stringify(a.body)}`);
      assert.equal(a.body.code, 'ERR_ENDORSEMENT_UNAVAILABLE');
    }
    server.setFaults({});
    const ok = await attestSnp(true);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(piece(ok.ear, 'sev-snp', 'vcek').source, 'attester');
    // The chain came from the KDS on the refused attempts and is cached since.
    assert.equal(piece(ok.ear, 'sev-snp', 'ask').source, 'cache');
    assert.equal(piece(ok.ear, 'sev-snp', 'amd-crl').source, 'kds');
    const fetchedVceks = [...server.counters.keys()].filter(
      (p) => p.startsWith('/vcek/v1/Genoa/') && !p.endsWith('/crl') && !p.endsWith('/cert_chain'),
    );
    assert.equal(fetchedVceks.length, 1, 'only the attestation without a VCEK fetched one');
  });
});
