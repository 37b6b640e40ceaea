/**
 * The AMD KDS client against the simulated KDS: a VCEK (Milan, Turin) that equals the one
 * `simulateSnp` signs with and verifies the simulated report; the `cert_chain` fetched when
 * the ASK is not known; URL shapes (Turin: 8-byte hwid and fmcSPL); hwID, TCB, product,
 * ARK and CRL-signer mismatches, tampering and expiry are invalid; 429/5xx unavailable.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAnchorStore } from '../../endorsements/anchors.js';
import { createKdsClient, kdsUrl, verifyKdsEndorsement } from '../../endorsements/kds.js';
import { createHttpFetcher } from '../../endorsements/provider/http-fetcher.js';
import type { Fetcher } from '../../endorsements/provider/types.js';
import type { EndorsementRequest } from '../../verifier/verify/endorsement-provider.js';
import { openSimulatedPki } from '../../simulators/pki/store.js';
import type { AmdProduct } from '../../simulators/pki/amd.js';
import type { SimulatedPki } from '../../simulators/pki/store.js';
import { startCollateralServer } from '../../simulators/servers/collateral-server.js';
import type { CollateralServer } from '../../simulators/servers/collateral-server.js';
import { simulateSnp } from '../../simulators/sev-snp.js';
import { decodeSnpTcb, parseSnpReport } from '../../verifier/platforms/sev-snp/index.js';
import type { SnpReport } from '../../verifier/platforms/sev-snp/index.js';
import { verifySnp } from '../../verifier/platforms/sev-snp/verify/verify.js';
import { createVerificationCache } from '../../verifier/verify/cache.js';
import type { AnchorStore } from '../../verifier/verify/types.js';
import { recording, rejection } from './fixtures-http.js';

const now = new Date('2026-02-01T12:00:00Z');
const http = createHttpFetcher({ timeoutMs: 2000 });

let dir: string;
let pki: SimulatedPki;
let server: CollateralServer;
let anchors: AnchorStore;

interface Chip {
  report: SnpReport;
  vcekDer: Uint8Array;
  request: Extract<EndorsementRequest, { kind: 'amd-vcek' }>;
}

function chip(product: AmdProduct): Chip {
  const sim = simulateSnp(pki.amd(product), { seed: `kds-${product}` });
  const report = parseSnpReport(sim.report);
  const hwid = Buffer.from(report.chipId).toString('hex');
  const tcb = decodeSnpTcb(report.reportedTcb, product);
  return { report, vcekDer: sim.vcekDer, request: { kind: 'amd-vcek', product, hwid, tcb } };
}

function client(fetcher: Fetcher = http, a: AnchorStore = anchors) {
  return createKdsClient({ baseUrl: server.url, fetcher, anchors: a });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twi-kds-'));
  pki = await openSimulatedPki(join(dir, 'pki'), {
    seed: 'kds-test',
    now: new Date('2026-01-01T00:00:00Z'),
  });
  anchors = loadAnchorStore([join(dir, 'pki', 'roots')]);
  server = await startCollateralServer({ pki, now: () => now });
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('KDS client against the simulated KDS', () => {
  for (const product of ['Milan', 'Turin'] as const) {
    test(`${product}: the VCEK is the simulator's and verifies its report`, async () => {
      const c = chip(product);
      const kds = client();
      const vcek = await kds.get(c.request, { now });
      assert.deepEqual(vcek.body, c.vcekDer);
      assert.equal(vcek.nextUpdate.toISOString(), '2026-03-03T12:00:00.000Z', 'capped at 30 days');
      assert.match(vcek.issuerChain!, new RegExp('^-----BEGIN CERTIFICATE-----'));
      verifyKdsEndorsement(vcek, anchors, now);
      const chain = await kds.get({ kind: 'amd-cert-chain', product, keyKind: 'vcek' }, { now });
      verifyKdsEndorsement(chain, anchors, now);
      const crl = await kds.get({ kind: 'amd-crl', product, keyKind: 'vcek' }, { now });
      verifyKdsEndorsement(crl, anchors, now);
      const ctx = { now, anchors, cache: createVerificationCache() };
      const v = verifySnp(c.report, { snpKeyCert: vcek.body, snpCrl: crl.body }, ctx);
      assert.equal(v.anchor.subject.includes(`ARK-${product}`), true);
    });
  }

  test('asks the KDS URLs (Turin: fmcSPL and an 8-byte hwid)', async () => {
    const turin = chip('Turin').request;
    const hwid8 = turin.hwid.slice(0, 16);
    const { fmc, bl, tee, snp, ucode } = turin.tcb;
    assert.equal(
      kdsUrl(turin),
      `https://kdsintf.amd.com/vcek/v1/Turin/${hwid8}?fmcSPL=${fmc}&blSPL=${bl}&teeSPL=${tee}&snpSPL=${snp}&ucodeSPL=${ucode}`,
    );
    const milan = chip('Milan').request;
    assert.match(
      kdsUrl(milan),
      /^https:\/\/kdsintf\.amd\.com\/vcek\/v1\/Milan\/[0-9a-f]{128}\?blSPL=4&teeSPL=0&snpSPL=27&ucodeSPL=222$/,
    );
    assert.equal(
      kdsUrl({ kind: 'amd-cert-chain', product: 'Genoa', keyKind: 'vlek' }),
      'https://kdsintf.amd.com/vlek/v1/Genoa/cert_chain',
    );
    assert.equal(
      kdsUrl({ kind: 'amd-crl', product: 'Turin', keyKind: 'vcek' }, 'http://x/'),
      'http://x/vcek/v1/Turin/crl',
    );
    assert.throws(() => kdsUrl({ ...turin, tcb: { bl, tee, snp, ucode } }), /fmcSPL/);
    assert.throws(() => kdsUrl({ ...milan, tcb: { ...milan.tcb, fmc: 0 } }), /Turin only/);
    assert.throws(() => kdsUrl({ ...milan, hwid: hwid8 }), /64 bytes/);
    const { urls, fetcher } = recording(http);
    await client(fetcher).get(turin, { now });
    assert.deepEqual(urls, [kdsUrl(turin, server.url)]);
  });

  test('without a known ASK the cert_chain is fetched once', async () => {
    const arksOnly = join(dir, 'arks-only');
    mkdirSync(arksOnly, { recursive: true });
    writeFileSync(join(arksOnly, 'ark-milan.pem'), pki.amd('Milan').ark.pem);
    const a = loadAnchorStore([arksOnly]);
    const { urls, fetcher } = recording(http);
    const kds = client(fetcher, a);
    const c = chip('Milan');
    await kds.get(c.request, { now });
    await kds.get({ ...c.request, tcb: { ...c.request.tcb, snp: 28 } }, { now });
    assert.equal(urls.filter((u) => u.endsWith('/vcek/v1/Milan/cert_chain')).length, 1);
    const e = await kds.get(c.request, { now });
    verifyKdsEndorsement(e, a, now);
    assert.throws(() => verifyKdsEndorsement({ ...e, issuerChain: undefined }, a, now), {
      code: 'ERR_ENDORSEMENT_INVALID',
    });
  });

  test('a VCEK for another hwID, TCB or product is invalid', async () => {
    const c = chip('Milan');
    const other = chip('Turin').request.hwid.slice(0, 16);
    const cases: [(u: string) => string, RegExp][] = [
      [(u) => u.replace(c.request.hwid, 'ab'.repeat(64)), /hwID differs/],
      [(u) => u.replace('snpSPL=27', 'snpSPL=26'), /snpSPL is 26, requested 27/],
      [
        (u) =>
          u.replace(
            /Milan\/[0-9a-f]+\?.*/,
            `Turin/${other}?fmcSPL=1&blSPL=4&teeSPL=0&snpSPL=27&ucodeSPL=222`,
          ),
        /not Milan/,
      ],
    ];
    for (const [rewrite, why] of cases) {
      const err = await rejection(
        client((u, init) => http(rewrite(u), init)).get(c.request, { now }),
      );
      assert.equal(err.code, 'ERR_ENDORSEMENT_INVALID');
      assert.match(err.message, why);
    }
  });

  test('a chain whose ARK is not pinned, or a CRL of another ARK, is invalid', async () => {
    const vendorOnly = client(http, loadAnchorStore());
    const chainErr = await rejection(
      vendorOnly.get({ kind: 'amd-cert-chain', product: 'Milan', keyKind: 'vcek' }, { now }),
    );
    assert.match(chainErr.message, /not the pinned ARK-Milan/);
    const swapped = client((u, init) => http(u.replace('/Milan/crl', '/Turin/crl'), init));
    const crlErr = await rejection(
      swapped.get({ kind: 'amd-crl', product: 'Milan', keyKind: 'vcek' }, { now }),
    );
    assert.match(crlErr.message, /not signed by the pinned ARK-Milan/);
  });

  test('tampered and expired VCEKs, chains and CRLs are invalid', async () => {
    const c = chip('Milan');
    const requests: EndorsementRequest[] = [
      c.request,
      { kind: 'amd-cert-chain', product: 'Milan', keyKind: 'vlek' },
      { kind: 'amd-crl', product: 'Milan', keyKind: 'vcek' },
    ];
    for (const [fault, why] of [
      [{ tampered: true }, /signature|not signed/],
      [{ expired: true }, /expired/],
    ] as const) {
      server.setFaults(fault);
      for (const r of fault.expired ? [requests[0]!, requests[2]!] : requests) {
        const err = await rejection(client().get(r, { now }));
        assert.equal(err.code, 'ERR_ENDORSEMENT_INVALID', `${JSON.stringify(fault)} ${r.kind}`);
        assert.match(err.message, why);
      }
    }
    server.setFaults({});
  });

  test('429 and 5xx are unavailable (with Retry-After), VLEKs are not served', async () => {
    const c = chip('Milan');
    server.setFaults({ paths: { '/vcek': { status429: { retryAfterSeconds: 3, count: 1 } } } });
    const limited = await rejection(client().get(c.request, { now }));
    assert.equal(limited.code, 'ERR_ENDORSEMENT_UNAVAILABLE');
    assert.equal(limited.status, 429);
    assert.equal(limited.retryAfterMs, 3000);
    server.setFaults({ status5xx: { status: 500, count: 1 } });
    const failed = await rejection(client().get(c.request, { now }));
    assert.equal(failed.status, 500);
    await client().get(c.request, { now });
    server.setFaults({});
    const vlek = await rejection(
      client().get({ kind: 'amd-vlek', product: 'Milan', tcb: c.request.tcb }, { now }),
    );
    assert.equal(vlek.code, 'ERR_ENDORSEMENT_UNAVAILABLE');
    await assert.rejects(client().get({ kind: 'intel-root-crl' }, { now }), TypeError);
  });

  test('stored copies: edits and stretched nextUpdate are caught', async () => {
    const e = await client().get(chip('Milan').request, { now });
    assert.throws(
      () => verifyKdsEndorsement({ ...e, sha256: '0'.repeat(64) }, anchors, now),
      /sha256/,
    );
    const stretched = { ...e, nextUpdate: new Date('2027-01-01T00:00:00Z') };
    assert.throws(() => verifyKdsEndorsement(stretched, anchors, now), /later than its content/);
    const later = new Date('2060-01-01T00:00:00Z');
    assert.throws(() => verifyKdsEndorsement(e, anchors, later), {
      code: 'ERR_ENDORSEMENT_INVALID',
    });
  });
});
