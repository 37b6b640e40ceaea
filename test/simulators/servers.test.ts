/**
 * The simulated collateral server: its PCS and KDS paths and headers, request counters,
 * every fault switch (latency, 429 with a count, 5xx, hang, down, expired, tampered,
 * per-path prefixes), the `--fault` SPEC parser, and `twi simulate serve` starting,
 * serving and stopping cleanly on SIGTERM.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSimulatedPki } from '../../simulators/pki/store.js';
import type { SimulatedPki } from '../../simulators/pki/store.js';
import { FaultState, mergeFaults, parseFaultSpec } from '../../simulators/servers/faults.js';
import { startCollateralServer } from '../../simulators/servers/collateral-server.js';
import type { CollateralServer } from '../../simulators/servers/collateral-server.js';
import { parseCrlDer } from '../../common/x509/crl.js';
import { cliPath } from '../helpers/cli.js';

const now = new Date('2026-02-01T12:00:00Z');
let dir: string;
let pki: SimulatedPki;
let server: CollateralServer;

async function get(path: string, timeoutMs = 2000) {
  const res = await fetch(server.url + path, { signal: AbortSignal.timeout(timeoutMs) });
  return {
    status: res.status,
    headers: res.headers,
    body: new Uint8Array(await res.arrayBuffer()),
  };
}

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twi-servers-'));
  pki = await openSimulatedPki(join(dir, 'pki'), {
    seed: 'servers-test',
    now: new Date('2026-01-01T00:00:00Z'),
  });
  server = await startCollateralServer({ pki, now: () => now });
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('simulated collateral server', () => {
  test('serves the PCS paths with URL-encoded issuer chains', async () => {
    const tcb = await get('/tdx/certification/v4/tcb?fmspc=00906ED50000');
    assert.equal(tcb.status, 200);
    assert.match(
      text(tcb.body),
      /^\{"tcbInfo":\{"id":"TDX","version":3,.*"fmspc":"00906ED50000".*\},"signature":"[0-9a-f]{128}"\}$/,
    );
    const chain = decodeURIComponent(tcb.headers.get('tcb-info-issuer-chain')!);
    assert.equal(chain, pki.intel().issuerChainPem);
    const qe = await get('/tdx/certification/v4/qe/identity');
    assert.match(text(qe.body), /^\{"enclaveIdentity":\{"id":"TD_QE"/);
    assert.ok(qe.headers.get('sgx-enclave-identity-issuer-chain'));
    const crl = await get('/sgx/certification/v4/pckcrl?ca=processor&encoding=der');
    assert.equal(parseCrlDer(crl.body).nextUpdate?.toISOString(), '2026-03-02T12:00:00.000Z');
    assert.equal(
      decodeURIComponent(crl.headers.get('sgx-pck-crl-issuer-chain')!),
      pki.intel().pckCrlIssuerChainPem('processor'),
    );
    assert.match(
      text((await get('/sgx/certification/v4/pckcrl?ca=platform')).body),
      /^-----BEGIN X509 CRL-----/,
    );
    const rootHex = text((await get('/sgx/certification/v4/rootcacrl')).body);
    assert.deepEqual(
      Buffer.from(rootHex, 'hex'),
      Buffer.from((await get('/IntelSGXRootCA.der')).body),
    );
    assert.equal((await get('/tdx/certification/v4/tcb?fmspc=xyz')).status, 400);
    assert.equal((await get('/sgx/certification/v4/pckcrl?ca=other')).status, 400);
  });

  test('serves the KDS paths; VCEKs are deterministic', async () => {
    const hwid = 'ab'.repeat(64);
    const path = `/vcek/v1/Genoa/${hwid}?blSPL=10&teeSPL=0&snpSPL=23&ucodeSPL=84`;
    const vcek = await get(path);
    assert.equal(vcek.status, 200);
    const expected = pki
      .amd('Genoa')
      .issueVcek({ hwid: Buffer.from(hwid, 'hex'), tcb: { bl: 10, tee: 0, snp: 23, ucode: 84 } });
    assert.deepEqual(Buffer.from(vcek.body), Buffer.from(expected.der));
    assert.equal(
      text((await get('/vlek/v1/Genoa/cert_chain')).body),
      pki.amd('Genoa').caChainPem(true),
    );
    assert.equal(parseCrlDer((await get('/vcek/v1/Genoa/crl')).body).issuer.der.length > 0, true);
    assert.equal(
      (await get(`/vcek/v1/Turin/${'ab'.repeat(8)}?blSPL=1&teeSPL=1&snpSPL=4&ucodeSPL=9`)).status,
      400,
      'fmcSPL missing',
    );
    assert.equal(
      (await get(`/vcek/v1/Genoa/${hwid}?fmcSPL=1&blSPL=10&teeSPL=0&snpSPL=23&ucodeSPL=84`)).status,
      400,
    );
    assert.equal(
      (await get(`/vcek/v1/Genoa/abcd?blSPL=1&teeSPL=1&snpSPL=4&ucodeSPL=9`)).status,
      400,
    );
    assert.equal((await get('/vcek/v1/Naples/cert_chain')).status, 404);
    assert.equal((await get('/nothing')).status, 404);
    const post = await fetch(`${server.url}/vcek/v1/Genoa/crl`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(server.counters.get('/vcek/v1/Genoa/crl'), 2);
  });

  test('latency, 429 with a count, 5xx, per-path prefixes', async () => {
    server.setFaults({
      latencyMs: 150,
      paths: {
        '/tdx': { status429: { retryAfterSeconds: 7, count: 2 } },
        '/tdx/certification/v4/qe': { status5xx: {} },
      },
    });
    const t0 = Date.now();
    const first = await get('/tdx/certification/v4/tcb?fmspc=00906ED50000');
    assert.ok(Date.now() - t0 >= 140, 'latency applied');
    assert.equal(first.status, 429);
    assert.equal(first.headers.get('retry-after'), '7');
    assert.equal((await get('/tdx/certification/v4/tcb?fmspc=00906ED50000')).status, 429);
    assert.equal(
      (await get('/tdx/certification/v4/tcb?fmspc=00906ED50000')).status,
      200,
      'count spent',
    );
    assert.equal(
      (await get('/tdx/certification/v4/qe/identity')).status,
      503,
      'the longer prefix decides',
    );
    assert.equal((await get('/IntelSGXRootCA.der')).status, 200);
    server.setFaults({});
  });

  test('hang never answers, down drops the connection', async () => {
    server.setFaults({ paths: { '/vcek': { hang: true } } });
    await assert.rejects(get('/vcek/v1/Milan/crl', 300), { name: 'TimeoutError' });
    server.setFaults({ down: true });
    await assert.rejects(get('/IntelSGXRootCA.der'), TypeError);
    server.setFaults({});
    assert.equal((await get('/IntelSGXRootCA.der')).status, 200);
  });

  test('expired and tampered content', async () => {
    server.setFaults({ expired: true });
    const crl = parseCrlDer((await get('/IntelSGXRootCA.der')).body);
    assert.ok(crl.nextUpdate!.getTime() < now.getTime());
    const tcbExpired = JSON.parse(
      text((await get('/tdx/certification/v4/tcb?fmspc=00906ED50000')).body),
    );
    assert.ok(Date.parse(tcbExpired.tcbInfo.nextUpdate) < now.getTime());
    server.setFaults({ paths: { '/tdx': { tampered: true } } });
    const tampered = text((await get('/tdx/certification/v4/qe/identity', 2000)).body);
    server.setFaults({});
    const original = text((await get('/tdx/certification/v4/qe/identity')).body);
    assert.notEqual(tampered, original);
    assert.equal(tampered.length, original.length, 'one character changed, JSON still valid');
    assert.doesNotThrow(() => JSON.parse(tampered));
    assert.equal(JSON.parse(tampered).signature, JSON.parse(original).signature);
  });

  test('fault SPECs', () => {
    assert.deepEqual(parseFaultSpec('429:/vcek:retry-after=2:count=3'), {
      paths: { '/vcek': { status429: { retryAfterSeconds: 2, count: 3 } } },
    });
    assert.deepEqual(parseFaultSpec('latency:500'), { latencyMs: 500 });
    assert.deepEqual(parseFaultSpec('tampered:/tdx'), { paths: { '/tdx': { tampered: true } } });
    assert.deepEqual(parseFaultSpec('502:count=1'), { status5xx: { status: 502, count: 1 } });
    assert.deepEqual(parseFaultSpec('5xx'), { status5xx: {} });
    for (const bad of ['teapot', '429:count=x', 'latency', '429:oops', '600'])
      assert.throws(() => parseFaultSpec(bad), TypeError, bad);
    const merged = mergeFaults(['latency:5', 'hang:/a', 'down:/a', 'expired'].map(parseFaultSpec));
    assert.deepEqual(merged, {
      latencyMs: 5,
      expired: true,
      paths: { '/a': { hang: true, down: true } },
    });
    const d = new FaultState(merged).decide('/a/b');
    assert.deepEqual(d, { latencyMs: 5, action: { kind: 'down' }, expired: true, tampered: false });
    assert.throws(() => new FaultState({ paths: { nope: {} } }), TypeError);
  });

  test('twi simulate serve prints the URLs, serves with faults and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        cliPath,
        'simulate',
        'serve',
        '--pki',
        join(dir, 'pki'),
        '--port',
        '0',
        '--fault',
        '503:/tdx:count=1',
        '--at',
        now.toISOString(),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    const deadline = Date.now() + 20_000;
    while (!/--kds-url (\S+)/.test(out) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const url = /--pcs-url (\S+)/.exec(out)?.[1];
    assert.ok(url?.startsWith('http://127.0.0.1:'), out);
    const qe = `${url}/tdx/certification/v4/qe/identity`;
    assert.equal((await fetch(qe)).status, 503);
    assert.equal((await fetch(qe)).status, 200);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(out, /stopped \(SIGTERM\)/);
  });
});
