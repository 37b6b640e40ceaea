/**
 * Two workloads, each behind its own `twi shim --x509-workload-key` under device emulation (TDX,
 * SEV-SNP, Nitro), talk mutual TLS with the certificates their shims were issued: workload A
 * serves HTTPS from its files with `createMtlsServer`, workload B connects with `mtlsAgent`,
 * `mtlsConnect`, curl and `openssl s_client`; `openssl verify` accepts both leaves against
 * `bundle.pem`; the `jti` A sees for B resolves to B's provenance record at the verifier. A
 * certificate of another CA, an expired one (injected clock; `openssl verify -attime`) and a
 * revoked one (admin revoke, pushed by the bundle) are refused with their codes, and B's shim
 * replaces its revoked certificate with one A accepts.
 *
 * The held-key mode is the one where a workload process terminates TLS itself: with the TEE key
 * (`--x509` alone) the key never leaves the shim, so there is no `svid-key.pem` to serve with.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, startShimProcess, startVerifier, waitForCredential } from './setup.js';
import type { ShimProcess, TestVerifier } from './setup.js';
import { issue, newCa } from '../wimse/mtls-fixtures.js';
import type { Workload } from '../wimse/mtls-fixtures.js';
import { createShimClient } from '../../shim/client.js';
import { certificatePem } from '../../shim/x509.js';
import { verifyProvenanceAnswer } from '../../provenance/verify-answer.js';
import type { ProvenanceAnswer } from '../../provenance/verify-answer.js';
import type { PublishedLogKey } from '../../provenance/tree-head.js';
import type { ShimX509 } from '../../shim/client.js';
import { deviceEmulatorLibrary } from '../../simulators/device-emu/emulator.js';
import { normalizePolicy } from '../../verifier/policy/normalize.js';
import { watchBundle } from '../../wimse/bundle-watch.js';
import type { BundleWatch } from '../../wimse/bundle-watch.js';
import type { MtlsError } from '../../wimse/errors.js';
import {
  asMtlsError,
  createMtlsServer,
  mtlsAgent,
  mtlsConnect,
  mtlsPeer,
} from '../../wimse/mtls.js';
import type { MtlsOptions } from '../../wimse/mtls.js';
import type { MtlsAllowList } from '../../wimse/x509-peer.js';
import { waitFor } from '../helpers/poll.js';

const OPENSSL = spawnSync('openssl', ['version']).status === 0;
const CURL = spawnSync('curl', ['--version']).status === 0;
const EMULATOR = existsSync(deviceEmulatorLibrary());
const ADDON = existsSync(join(dirname(deviceEmulatorLibrary()), 'twi_native.node'));
const MISSING = [
  ...(OPENSSL ? [] : ['openssl']),
  ...(CURL ? [] : ['curl']),
  ...(EMULATOR ? [] : ['the device emulator (build/Release/twi_devemu.so)']),
  ...(ADDON ? [] : ['the native addon (build/Release/twi_native.node)']),
];
const SKIP = MISSING.length > 0 ? `not installed: ${MISSING.join(', ')}` : false;

/** A workload's credential as its shim delivers it: the files, and `x509()` of the client. */
interface Side {
  readonly shim: ShimProcess;
  readonly x: ShimX509;
  readonly svid: string;
  readonly key: string;
  readonly bundle: string;
}

/** Runs a command without blocking the event loop (the servers under test are in this process). */
function run(
  cmd: string,
  args: string[],
  input?: string,
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: 20_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ status: code ?? 128, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

function opensslVerify(
  bundle: string,
  cert: string,
  at?: Date,
): Promise<{ status: number; out: string }> {
  const args = ['verify', '-CAfile', bundle, '-untrusted', cert];
  if (at) args.push('-attime', String(Math.floor(at.getTime() / 1000)));
  return new Promise((resolve) =>
    execFile('openssl', [...args, cert], (err, stdout, stderr) =>
      resolve({ status: err ? 1 : 0, out: stdout + stderr }),
    ),
  );
}

/** Waits until the shim serves its certificate and has written the three files. */
async function sideOf(shim: ShimProcess, notJti?: string): Promise<Side> {
  const client = createShimClient({ socketPath: shim.socket });
  const svid = join(shim.files, 'svid.pem');
  const key = join(shim.files, 'svid-key.pem');
  const bundle = join(shim.files, 'bundle.pem');
  const x = await waitFor('the shim x509 answer and files', async () => {
    const x = await client.x509();
    if (x.jti === notJti || ![svid, key, bundle].every((f) => existsSync(f))) return undefined;
    return readFileSync(svid, 'utf8') === x.certificatePem ? x : undefined;
  });
  return { shim, x, svid, key, bundle };
}

/** curl's `--pinnedpubkey` value of a certificate's key. */
function spkiPin(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256//${createHash('sha256').update(spki).digest('base64')}`;
}

/** An HTTPS GET through an agent: the status, the JSON body and the verified server. */
function get(
  agent: https.Agent,
  port: number,
): Promise<{ status: number; body: { id: string; jti: string }; server: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      // Read before the end: a kept-alive socket then goes back to the agent's pool.
      const server = mtlsPeer(res)?.workloadId;
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: JSON.parse(text) as { id: string; jti: string },
          server,
        }),
      );
    });
    req.on('error', reject);
  });
}

/** Workload A's server: answers the verified client's identifier and `jti`. */
async function serve(
  o: MtlsOptions,
): Promise<{ port: number; refused: string[]; close(): Promise<void> }> {
  const refused: string[] = [];
  const server = createMtlsServer(
    { ...o, onReject: (err: MtlsError) => refused.push(err.code) },
    (req, res) => {
      const peer = mtlsPeer(req)!;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: peer.workloadId, jti: peer.jti }));
    },
  );
  // Long enough that a kept-alive connection is still open when the bundle revokes its peer.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function revoke(verifier: TestVerifier, jti: string): Promise<void> {
  const r = await fetch(`${verifier.base}/v1/admin/credentials/${jti}/revoke`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  assert.equal(r.status, 200, await r.text());
}

describe('two shims, mutual TLS with their certificates', { timeout: 600_000, skip: SKIP }, () => {
  let verifier: TestVerifier;
  let watch: BundleWatch;
  let dir: string;
  let foreign: Awaited<ReturnType<typeof newCa>>;
  let logKey: PublishedLogKey;
  before(async () => {
    verifier = await startVerifier({
      seed: 'shim-mtls-e2e',
      // Workload names tell A from B (both run the same emulated image).
      policy: normalizePolicy({
        id: 'tag:twi.dev,2026:policy/shim-mtls-e2e',
        platforms: ['tdx', 'sev-snp', 'nitro'],
        'sev-snp': { vmpl: [0] },
        allow_unregistered_workload_names: true,
      }),
    });
    watch = watchBundle(new URL('/v1/bundle/events', verifier.base), {
      minBackoffMs: 50,
      maxBackoffMs: 500,
    });
    await watch.ready;
    dir = mkdtempSync(join(tmpdir(), 'twi-shim-mtls-'));
    foreign = await newCa('another workload CA');
    logKey = (await (await fetch(`${verifier.base}/v1/log/key`)).json()) as PublishedLogKey;
  });
  after(async () => {
    watch?.close();
    await verifier?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const platform of ['tdx', 'sev-snp', 'nitro'] as const) {
    it(`${platform}: A serves, B connects; another CA, expired and revoked are refused`, async (t) => {
      const flags = (name: string): string[] => ['--x509-workload-key', '--workload', name];
      const shimA = startShimProcess({
        platform,
        verifier,
        dir,
        name: `${platform}-a`,
        flags: flags('a'),
      });
      const shimB = startShimProcess({
        platform,
        verifier,
        dir,
        name: `${platform}-b`,
        flags: flags('b'),
      });
      const cleanup: (() => Promise<void> | void)[] = [];
      try {
        await Promise.all([waitForCredential(shimA), waitForCredential(shimB)]);
        const [a, b] = await Promise.all([sideOf(shimA), sideOf(shimB)]);
        assert.match(
          a.x.spiffeId,
          new RegExp(`^spiffe://shim\\.example/${platform}/m/[0-9a-f]+/a$`),
        );
        assert.equal(b.x.spiffeId, a.x.spiffeId.replace(/\/a$/, '/b'));
        for (const s of [a, b]) {
          assert.equal(statSync(s.key).mode & 0o777, 0o600);
          assert.equal(statSync(s.svid).mode & 0o777, 0o600);
          assert.equal(statSync(s.shim.files).mode & 0o777, 0o700);
          assert.equal(readFileSync(s.key, 'utf8'), s.x.keyPem);
          assert.notEqual(s.x.jti, s.x.witJti, "the held key's certificate has its own jti");
        }

        // openssl verify accepts both leaves against either shim's bundle.pem.
        for (const s of [a, b]) {
          for (const bundle of [a.bundle, b.bundle]) {
            const v = await opensslVerify(bundle, s.svid);
            assert.equal(v.status, 0, v.out);
            assert.match(v.out, /: OK/);
          }
        }

        // Workload A serves from its files; only B is allowed.
        const allowB: MtlsAllowList = { ids: [b.x.spiffeId] };
        const allowA: MtlsAllowList = { ids: [a.x.spiffeId] };
        const server = await serve({
          bundle: watch,
          allow: allowB,
          cert: readFileSync(a.svid),
          key: readFileSync(a.key),
        });
        cleanup.push(() => server.close());
        const bCreds = { cert: readFileSync(b.svid), key: readFileSync(b.key) };

        // B with mtlsAgent: A sees B's identifier and the jti of B's certificate.
        const agent = mtlsAgent({
          bundle: watch,
          allow: allowA,
          ...bCreds,
          agent: { keepAlive: true },
        });
        cleanup.push(() => agent.destroy());
        const first = await get(agent, server.port);
        assert.equal(first.status, 200);
        assert.deepEqual(first.body, { id: b.x.spiffeId, jti: b.x.jti });
        assert.equal(first.server, a.x.spiffeId);

        // The jti resolves to B's provenance record at the verifier, included in its log.
        const prov = await fetch(`${verifier.base}/v1/provenance/${first.body.jti}`);
        assert.equal(prov.status, 200);
        const answer = (await prov.json()) as ProvenanceAnswer;
        const record = answer.record as { jti: string; sub: string; platform: string };
        assert.equal(record.jti, b.x.jti);
        assert.equal(record.sub, b.x.spiffeId);
        assert.equal(record.platform, platform);
        verifyProvenanceAnswer(answer, logKey, b.x.jti!);

        // B with mtlsConnect: the handshake completes with A, verified as A.
        const peerOfSocket = await new Promise<string | undefined>((resolve, reject) => {
          const socket = mtlsConnect({
            bundle: watch,
            allow: allowA,
            ...bCreds,
            host: '127.0.0.1',
            port: server.port,
          });
          socket.once('secureConnect', () => {
            resolve(mtlsPeer(socket)?.workloadId);
            socket.end();
          });
          socket.once('error', reject);
        });
        assert.equal(peerOfSocket, a.x.spiffeId);

        // curl with B's files: the chain of A verifies against bundle.pem, and only the host
        // name check fails (A is named by its URI SAN, no DNS name) …
        const curlArgs = ['-sS', '--cert', b.svid, '--key', b.key, '--cacert', b.bundle];
        const url = `https://127.0.0.1:${server.port}/`;
        const strict = await run('curl', [...curlArgs, url]);
        assert.equal(strict.status, 60, strict.stderr);
        assert.match(strict.stderr, /common name|subject name|host name/i);
        // (against another CA's file the chain itself fails)
        const otherCa = join(dir, 'other-ca.pem');
        writeFileSync(otherCa, certificatePem(foreign.certificate));
        const untrusted = await run('curl', [
          '-sS',
          '--cert',
          b.svid,
          '--key',
          b.key,
          '--cacert',
          otherCa,
          url,
        ]);
        assert.equal(untrusted.status, 60, untrusted.stderr);
        assert.match(untrusted.stderr, /SSL certificate problem/);
        // … so with the host name check off (-k) and A pinned by its key, A answers B's identity.
        const pinned = await run('curl', [
          ...curlArgs,
          '-k',
          '--pinnedpubkey',
          spkiPin(a.x.certificatePem),
          url,
        ]);
        assert.equal(pinned.status, 0, pinned.stderr);
        assert.deepEqual(JSON.parse(pinned.stdout), { id: b.x.spiffeId, jti: b.x.jti });
        const wrongPin = await run('curl', [
          ...curlArgs,
          '-k',
          '--pinnedpubkey',
          spkiPin(b.x.certificatePem),
          url,
        ]);
        assert.notEqual(wrongPin.status, 0, 'the pin is checked with -k');

        // openssl s_client with B's files: A's chain verifies against bundle.pem.
        const sc = await run(
          'openssl',
          [
            's_client',
            '-connect',
            `127.0.0.1:${server.port}`,
            '-cert',
            b.svid,
            '-key',
            b.key,
            '-CAfile',
            b.bundle,
            '-verify_return_error',
            '-ign_eof',
          ],
          'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
        );
        assert.equal(sc.status, 0, sc.stderr);
        assert.match(sc.stdout, /Verify return code: 0 \(ok\)/);
        assert.ok(
          sc.stdout.includes(JSON.stringify({ id: b.x.spiffeId, jti: b.x.jti })),
          sc.stdout,
        );

        // Another CA: a certificate for B's very identifier, from a CA not in the bundle.
        const dirX = mkdtempSync(join(dir, 'foreign-'));
        const impostor: Workload = await issue(foreign, b.x.spiffeId);
        const impostorFiles = { svid: join(dirX, 'svid.pem'), key: join(dirX, 'svid-key.pem') };
        writeFileSync(impostorFiles.svid, impostor.cert);
        writeFileSync(impostorFiles.key, impostor.key, { mode: 0o600 });
        const refusedBefore = server.refused.length;
        const impostorAgent = mtlsAgent({
          bundle: watch,
          allow: allowA,
          cert: impostor.cert,
          key: impostor.key,
        });
        cleanup.push(() => impostorAgent.destroy());
        await assert.rejects(get(impostorAgent, server.port));
        const vX = await opensslVerify(b.bundle, impostorFiles.svid);
        assert.notEqual(vX.status, 0);
        assert.match(vX.out, /self-signed certificate in certificate chain|local issuer/);
        const curlX = await run('curl', [
          '-sS',
          '-k',
          '--cert',
          impostorFiles.svid,
          '--key',
          impostorFiles.key,
          url,
        ]);
        assert.notEqual(curlX.status, 0, 'curl with the other CA fails');
        assert.deepEqual(server.refused.slice(refusedBefore), [
          'ERR_PEER_UNTRUSTED',
          'ERR_PEER_UNTRUSTED',
        ]);
        // And B refuses a server of another CA (Node's check runs first; mapped to its code).
        const fakeCred = await issue(foreign, a.x.spiffeId);
        const fakeA = await serve({
          bundle: watch,
          allow: allowB,
          cert: fakeCred.cert,
          key: fakeCred.key,
        });
        cleanup.push(() => fakeA.close());
        const toFake = mtlsAgent({ bundle: watch, allow: allowA, ...bCreds });
        cleanup.push(() => toFake.destroy());
        const fakeErr = await get(toFake, fakeA.port).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.equal(asMtlsError(fakeErr)?.code, 'ERR_PEER_UNTRUSTED');

        // Expired: A's server with a clock past B's notAfter; openssl at that time too.
        const afterB = new Date(
          Date.parse(new X509Certificate(b.x.certificatePem).validTo) + 60_000,
        );
        const late = await serve({
          bundle: watch,
          allow: allowB,
          cert: readFileSync(a.svid),
          key: readFileSync(a.key),
          now: () => afterB,
        });
        cleanup.push(() => late.close());
        const lateAgent = mtlsAgent({ bundle: watch, allow: allowA, ...bCreds });
        cleanup.push(() => lateAgent.destroy());
        await assert.rejects(get(lateAgent, late.port));
        assert.deepEqual(late.refused, ['ERR_PEER_EXPIRED']);
        const curlLate = await run('curl', [...curlArgs, '-k', `https://127.0.0.1:${late.port}/`]);
        assert.notEqual(curlLate.status, 0, 'curl with the expired certificate fails');
        assert.deepEqual(late.refused, ['ERR_PEER_EXPIRED', 'ERR_PEER_EXPIRED']);
        const vLate = await opensslVerify(b.bundle, b.svid, afterB);
        assert.notEqual(vLate.status, 0);
        assert.match(vLate.out, /certificate has expired/);
        // B, on a clock past A's notAfter, refuses A with the same code.
        const afterA = new Date(
          Date.parse(new X509Certificate(a.x.certificatePem).validTo) + 60_000,
        );
        const lateClient = mtlsAgent({
          bundle: watch,
          allow: allowA,
          ...bCreds,
          now: () => afterA,
        });
        cleanup.push(() => lateClient.destroy());
        const lateErr = await get(lateClient, server.port).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.equal(asMtlsError(lateErr)?.code, 'ERR_PEER_EXPIRED');

        // Revoked: the admin revokes B's certificate; the bundle event reaches A's server, which
        // drops B's open connection and refuses it from then on; B's shim re-attests.
        const kept = join(dir, `${platform}-b-revoked`);
        rmSync(kept, { recursive: true, force: true });
        mkdirSync(kept, { mode: 0o700 });
        copyFileSync(b.svid, join(kept, 'svid.pem'));
        copyFileSync(b.key, join(kept, 'svid-key.pem'));
        assert.equal((await get(agent, server.port)).status, 200, 'a kept-alive connection');
        const refusedOpen = server.refused.length;
        await revoke(verifier, b.x.jti!);
        await waitFor('the open connection dropped', async () =>
          server.refused.slice(refusedOpen).includes('ERR_PEER_REVOKED') ? true : undefined,
        );
        assert.ok((watch.latest()?.revoked_jtis ?? []).includes(b.x.jti!));
        // The kept-alive socket the server dropped may not be closed on this side yet: destroy
        // it, so the next request opens a new handshake the server must refuse.
        agent.destroy();
        const refusedNew = server.refused.length;
        await assert.rejects(get(agent, server.port));
        const curlRevoked = await run('curl', [
          '-sS',
          '-k',
          '--cert',
          join(kept, 'svid.pem'),
          '--key',
          join(kept, 'svid-key.pem'),
          url,
        ]);
        assert.notEqual(curlRevoked.status, 0, 'curl with the revoked certificate fails');
        await waitFor('the server records both refusals', async () =>
          server.refused.length >= refusedNew + 2 ? true : undefined,
        );
        assert.deepEqual(server.refused.slice(refusedNew), [
          'ERR_PEER_REVOKED',
          'ERR_PEER_REVOKED',
        ]);
        const revokedRecord = (await (
          await fetch(`${verifier.base}/v1/provenance/${b.x.jti}`)
        ).json()) as { revoked_at?: string };
        assert.ok(revokedRecord.revoked_at, 'the provenance record shows the revocation');

        // B's shim replaced the certificate: A accepts the new one.
        const b2 = await sideOf(shimB, b.x.jti);
        assert.equal(b2.x.spiffeId, b.x.spiffeId);
        const agent2 = mtlsAgent({
          bundle: watch,
          allow: allowA,
          cert: readFileSync(b2.svid),
          key: readFileSync(b2.key),
        });
        cleanup.push(() => agent2.destroy());
        const again = await get(agent2, server.port);
        assert.deepEqual(again.body, { id: b.x.spiffeId, jti: b2.x.jti });
        t.diagnostic(
          `A ${a.x.spiffeId}, B ${b.x.spiffeId}; B's jti ${b.x.jti} revoked, now ${b2.x.jti}`,
        );
      } finally {
        for (const c of cleanup.reverse()) await c();
        const [sa, sb] = await Promise.all([shimA.stop(), shimB.stop()]);
        assert.equal(sa, 0, shimA.stderr());
        assert.equal(sb, 0, shimB.stderr());
      }
    });
  }
});
