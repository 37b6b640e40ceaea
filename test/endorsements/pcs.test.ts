/**
 * The Intel PCS client against the simulated PCS: TCB Info, QE Identity and both CRLs are
 * verified before they are returned, re-verify as stored copies, and assemble into
 * collateral with which a simulated quote verifies; URL shapes; tampered, mismatched,
 * ambiguous and expired responses are invalid; 404, 429, 5xx, dropped and hanging
 * connections are unavailable.
 */
import { tdxCollateralOf } from '../../verifier/platforms/tdx/collateral/pcs-body.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAnchorStore } from '../../endorsements/anchors.js';
import {
  createPcsClient,
  INTEL_ROOT_CRL_URL,
  pcsUrl,
  verifyPcsEndorsement,
} from '../../endorsements/pcs.js';
import { createHttpFetcher } from '../../endorsements/provider/http-fetcher.js';
import type { Fetcher } from '../../endorsements/provider/types.js';
import type {
  Endorsement,
  EndorsementRequest,
} from '../../verifier/verify/endorsement-provider.js';
import { createIntelPki } from '../../simulators/pki/intel.js';
import type { SimulatedPki } from '../../simulators/pki/store.js';
import { startCollateralServer } from '../../simulators/servers/collateral-server.js';
import type { CollateralServer } from '../../simulators/servers/collateral-server.js';
import { simulateTdx } from '../../simulators/tdx.js';
import { parseTdxQuote } from '../../verifier/platforms/tdx/index.js';
import { verifyTdx } from '../../verifier/platforms/tdx/verify/verify.js';
import { createVerificationCache } from '../../verifier/verify/cache.js';
import type { AnchorStore } from '../../verifier/verify/types.js';
import { recording, rejection } from './fixtures-http.js';

const created = new Date('2026-01-01T00:00:00Z');
const now = new Date('2026-02-01T12:00:00Z');
const FMSPC = '50806f000000';
const REQUESTS: Record<string, EndorsementRequest> = {
  tcbInfo: { kind: 'tdx-tcb-info', fmspc: FMSPC },
  qeIdentity: { kind: 'tdx-qe-identity' },
  pckCrl: { kind: 'pck-crl', ca: 'platform' },
  rootCrl: { kind: 'intel-root-crl' },
};

let dir: string;
let intelOnly: SimulatedPki;
let server: CollateralServer;
let anchors: AnchorStore;
const http = createHttpFetcher({ timeoutMs: 500 });

/** An Intel-only simulated PKI: cheap (no RSA keys), root written for the anchor store. */
function intelPki(path: string): SimulatedPki {
  const intel = createIntelPki({ seed: 'pcs-test', notBefore: created });
  writeFileSync(join(path, 'intel-sgx-root-ca.pem'), intel.root.pem);
  const none = (): never => {
    throw new TypeError('Intel only');
  };
  return {
    dir: path,
    seed: 'pcs-test',
    createdAt: created,
    intel: () => intel,
    amd: none,
    nitro: none,
  };
}

/** A fetcher that rewrites what the server answered. */
function rewriting(
  edit: (url: string, body: string, headers: Record<string, string>) => string,
  mapUrl: (url: string) => string = (u) => u,
): Fetcher {
  return async (url, init) => {
    const res = await http(mapUrl(url), init);
    const headers = { ...res.headers };
    const body = edit(url, Buffer.from(res.body).toString('latin1'), headers);
    return { ...res, headers, body: new Uint8Array(Buffer.from(body, 'latin1')) };
  };
}

function client(
  fetcher: Fetcher = http,
  extra: Partial<Parameters<typeof createPcsClient>[0]> = {},
) {
  return createPcsClient({ baseUrl: server.url, fetcher, anchors, ...extra });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twi-pcs-'));
  intelOnly = intelPki(dir);
  anchors = loadAnchorStore([dir]);
  server = await startCollateralServer({
    pki: intelOnly,
    now: () => now,
    fmspcs: [FMSPC, '00906ed50000'],
  });
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('PCS client against the simulated PCS', () => {
  test('returns verified collateral with which a simulated quote verifies', async () => {
    const pcs = client();
    const got: Record<string, Endorsement> = {};
    for (const [name, request] of Object.entries(REQUESTS)) {
      got[name] = await pcs.get(request, { now });
      assert.equal(got[name]!.source, 'network');
      assert.deepEqual(got[name]!.request, request);
      verifyPcsEndorsement(got[name]!, anchors, now);
    }
    assert.equal(got.tcbInfo!.nextUpdate.toISOString(), '2026-03-02T12:00:00.000Z');
    assert.equal(got.pckCrl!.body[0], 0x30, 'CRLs are stored as DER');
    assert.match(got.tcbInfo!.issuerChain!, /^-----BEGIN CERTIFICATE-----/);
    assert.equal(got.rootCrl!.issuerChain, undefined);
    const collateral = tdxCollateralOf({
      tcbInfo: got.tcbInfo!,
      qeIdentity: got.qeIdentity!,
      pckCrl: got.pckCrl!,
      rootCrl: got.rootCrl!,
    });
    assert.ok(Buffer.from(got.tcbInfo!.body).toString('utf8').includes(collateral.tcbInfo));
    const { quote } = simulateTdx(intelOnly.intel(), { seed: 'pcs-quote', now });
    const cache = createVerificationCache();
    const v = verifyTdx(
      parseTdxQuote(quote),
      { tdxCollateral: collateral },
      { now, anchors, cache },
    );
    assert.equal(v.tcbStatus, 'UpToDate');
    assert.equal(v.anchor.source, 'configured');
  });

  test("the served TCB Info follows the server's platform options", async () => {
    const platformTcb = { status: 'OutOfDate' as const, advisoryIds: ['INTEL-SA-00001'] };
    const outdated = await startCollateralServer({
      pki: intelOnly,
      now: () => now,
      tdx: { platformTcb },
    });
    try {
      const pcs = createPcsClient({ baseUrl: outdated.url, fetcher: http, anchors });
      const [tcbInfo, qeIdentity, pckCrl, rootCrl] = await Promise.all(
        Object.values(REQUESTS).map((r) => pcs.get(r, { now })),
      );
      const collateral = tdxCollateralOf({
        tcbInfo: tcbInfo!,
        qeIdentity: qeIdentity!,
        pckCrl: pckCrl!,
        rootCrl: rootCrl!,
      });
      const { quote } = simulateTdx(intelOnly.intel(), { seed: 'pcs-old', now, platformTcb });
      const ctx = { now, anchors, cache: createVerificationCache() };
      const v = verifyTdx(parseTdxQuote(quote), { tdxCollateral: collateral }, ctx);
      assert.equal(v.tcbStatus, 'OutOfDate');
      assert.deepEqual([...v.advisoryIds], ['INTEL-SA-00001']);
    } finally {
      await outdated.close();
    }
  });

  test('asks the PCS v4 URLs', async () => {
    const { urls, fetcher } = recording(http);
    const pcs = client(fetcher, { update: 'early' });
    for (const request of Object.values(REQUESTS)) await pcs.get(request, { now });
    assert.deepEqual(urls, [
      `${server.url}/tdx/certification/v4/tcb?fmspc=50806F000000&update=early`,
      `${server.url}/tdx/certification/v4/qe/identity?update=early`,
      `${server.url}/sgx/certification/v4/pckcrl?ca=platform&encoding=der`,
      `${server.url}/IntelSGXRootCA.der`,
    ]);
    const intel = { baseUrl: 'https://api.trustedservices.intel.com', pccs: false };
    const vendorRoots = loadAnchorStore().intel.certificates;
    assert.equal(pcsUrl({ kind: 'intel-root-crl' }, intel, vendorRoots), INTEL_ROOT_CRL_URL);
    assert.equal(
      pcsUrl({ kind: 'pck-crl', ca: 'processor' }, intel, vendorRoots),
      'https://api.trustedservices.intel.com/sgx/certification/v4/pckcrl?ca=processor&encoding=der',
    );
    assert.throws(() => pcsUrl({ kind: 'tdx-tcb-info', fmspc: '50806f' }, intel, []), TypeError);
  });

  test('PCCS: the Root CA CRL comes hex-encoded from rootcacrl', async () => {
    const { urls, fetcher } = recording(http);
    const e = await client(fetcher, { pccs: true }).get(REQUESTS.rootCrl!, { now });
    assert.deepEqual(urls, [`${server.url}/sgx/certification/v4/rootcacrl`]);
    assert.equal(e.body[0], 0x30);
    verifyPcsEndorsement(e, anchors, now);
  });

  test('PCK CRL served as PEM (no encoding=der) is accepted and stored as DER', async () => {
    const e = await client(undefined, {}).get(REQUESTS.pckCrl!, { now });
    const pemFetcher: Fetcher = (url, init) => http(url.replace('&encoding=der', ''), init);
    const fromPem = await client(pemFetcher).get(REQUESTS.pckCrl!, { now });
    assert.deepEqual(fromPem.body, e.body);
  });

  test('signature is checked over the exact value bytes, not a re-serialisation', async () => {
    const spaced = rewriting((_u, b) =>
      b.replace('{"tcbInfo":', '{ "tcbInfo" :\n').replace(',"signature"', ' ,\r\n\t"signature"'),
    );
    const e = await client(spaced).get(REQUESTS.tcbInfo!, { now });
    verifyPcsEndorsement(e, anchors, now);
    const reserialised = rewriting((_u, b) => {
      const o = JSON.parse(b) as { tcbInfo: unknown; signature: string };
      return `{"tcbInfo":${JSON.stringify(o.tcbInfo, null, 1)},"signature":"${o.signature}"}`;
    });
    const err = await rejection(client(reserialised).get(REQUESTS.tcbInfo!, { now }));
    assert.equal(err.code, 'ERR_ENDORSEMENT_INVALID');
    assert.match(err.message, /signature does not verify/);
  });

  test('a repeated member is refused (ambiguity)', async () => {
    const dup = rewriting((_u, b) => b.replace(',"signature"', ',"tcbInfo":{},"signature"'));
    const err = await rejection(client(dup).get(REQUESTS.tcbInfo!, { now }));
    assert.equal(err.code, 'ERR_ENDORSEMENT_INVALID');
    assert.match(err.message, /appears twice/);
  });

  test('TCB Info for another FMSPC is invalid', async () => {
    const other = rewriting(
      (_u, b) => b,
      (u) => u.replace('50806F000000', '00906ED50000'),
    );
    const err = await rejection(client(other).get(REQUESTS.tcbInfo!, { now }));
    assert.equal(err.code, 'ERR_ENDORSEMENT_INVALID');
    assert.match(err.message, /FMSPC 00906ed50000, not 50806f000000/);
  });

  test('a missing or undecodable issuer chain header is invalid', async () => {
    const dropped = rewriting((_u, b, h) => (delete h['tcb-info-issuer-chain'], b));
    assert.match(
      (await rejection(client(dropped).get(REQUESTS.tcbInfo!, { now }))).message,
      /no tcb-info-issuer-chain/,
    );
    const legacy = rewriting((_u, b, h) => {
      h['sgx-tcb-info-issuer-chain'] = h['tcb-info-issuer-chain']!;
      delete h['tcb-info-issuer-chain'];
      return b;
    });
    verifyPcsEndorsement(await client(legacy).get(REQUESTS.tcbInfo!, { now }), anchors, now);
    const garbled = rewriting((_u, b, h) => ((h['tcb-info-issuer-chain'] = '%E0%A4%A'), b));
    assert.equal(
      (await rejection(client(garbled).get(REQUESTS.tcbInfo!, { now }))).code,
      'ERR_ENDORSEMENT_INVALID',
    );
  });

  test('collateral under a root that is not trusted is invalid', async () => {
    const pcs = createPcsClient({ baseUrl: server.url, fetcher: http, anchors: loadAnchorStore() });
    for (const request of Object.values(REQUESTS)) {
      const err = await rejection(pcs.get(request, { now }));
      assert.equal(err.code, 'ERR_ENDORSEMENT_INVALID');
      assert.match(err.message, /ERR_CHAIN_UNTRUSTED_ROOT|not signed by a pinned Intel root/);
    }
  });

  test('tampered and expired collateral is invalid', async () => {
    const cases = [
      [{ tampered: true }, /signature does not verify|not signed by/],
      [{ expired: true }, /expired/],
    ] as const;
    for (const [fault, why] of cases) {
      server.setFaults(fault);
      for (const request of Object.values(REQUESTS)) {
        const err = await rejection(client().get(request, { now }));
        assert.equal(
          err.code,
          'ERR_ENDORSEMENT_INVALID',
          `${JSON.stringify(fault)} ${request.kind}`,
        );
        assert.match(err.message, why);
      }
    }
    server.setFaults({});
  });

  test('statuses: 404 and 5xx unavailable with status, 429 with Retry-After', async () => {
    const unknown = await rejection(
      client().get({ kind: 'tdx-tcb-info', fmspc: '112233445566' }, { now }),
    );
    assert.equal(unknown.code, 'ERR_ENDORSEMENT_UNAVAILABLE');
    assert.equal(unknown.status, 404);
    server.setFaults({ paths: { '/tdx': { status429: { retryAfterSeconds: 2, count: 1 } } } });
    const limited = await rejection(client().get(REQUESTS.tcbInfo!, { now }));
    assert.equal(limited.code, 'ERR_ENDORSEMENT_UNAVAILABLE');
    assert.equal(limited.status, 429);
    assert.equal(limited.retryAfterMs, 2000);
    await client().get(REQUESTS.tcbInfo!, { now });
    server.setFaults({ paths: { '/sgx': { status5xx: { status: 502 } } } });
    const failed = await rejection(client().get(REQUESTS.pckCrl!, { now }));
    assert.equal(failed.status, 502);
    assert.equal(failed.retryAfterMs, undefined);
    server.setFaults({});
  });

  test('dropped and hanging connections are unavailable without status', async () => {
    for (const fault of [{ down: true }, { hang: true }]) {
      server.setFaults(fault);
      const err = await rejection(client().get(REQUESTS.qeIdentity!, { now }));
      assert.equal(err.code, 'ERR_ENDORSEMENT_UNAVAILABLE');
      assert.equal(err.status, undefined);
    }
    server.setFaults({});
  });

  test('stored copies re-verify; edits, expiry and misuse are caught', async () => {
    const e = await client().get(REQUESTS.tcbInfo!, { now });
    const later = new Date('2026-04-01T00:00:00Z');
    assert.equal(
      invalidCode(() => verifyPcsEndorsement(e, anchors, later)),
      'ERR_ENDORSEMENT_INVALID',
    );
    const edited = { ...e, body: e.body.map((b, i) => (i === e.body.length - 3 ? b ^ 1 : b)) };
    assert.equal(
      invalidCode(() => verifyPcsEndorsement(edited, anchors, now)),
      'ERR_ENDORSEMENT_INVALID',
    );
    const misdigested = { ...e, sha256: '00'.repeat(32) };
    assert.match(
      invalidMessage(() => verifyPcsEndorsement(misdigested, anchors, now)),
      /sha256/,
    );
    const stretched = { ...e, nextUpdate: later };
    assert.match(
      invalidMessage(() => verifyPcsEndorsement(stretched, anchors, now)),
      /later than its content/,
    );
    const amd: EndorsementRequest = { kind: 'amd-crl', product: 'Milan', keyKind: 'vcek' };
    await assert.rejects(client().get(amd, { now }), TypeError);
    assert.throws(() => tdxCollateralOf({ tcbInfo: e, qeIdentity: e, pckCrl: e, rootCrl: e }), {
      code: 'ERR_COLLATERAL_INVALID',
    });
  });
});

function invalidCode(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    return (err as { code: string }).code;
  }
  return 'none';
}

function invalidMessage(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  return 'none';
}
