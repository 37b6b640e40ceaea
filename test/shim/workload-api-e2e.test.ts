/**
 * The SPIFFE Workload API of `twi shim --x509-workload-key --workload-api-socket` under device
 * emulation, for TDX, SEV-SNP and Nitro: a client of `twi/shim` gets the X.509-SVID and uses it
 * for a mutual-TLS handshake, gets the JWT-SVID (the WIT) and makes a WIT + WPT call the
 * relying-party middleware accepts, validates it, reads both bundle kinds, and receives pushed
 * updates on renewal, on CA rotation and after a revocation; a call without the security header is refused with
 * INVALID_ARGUMENT. Every method is also called raw, from the proto with grpc-js's generic
 * client, without twi's client.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, credentials, Metadata, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { MethodDefinition } from '@grpc/proto-loader';
import {
  ADMIN_TOKEN,
  startRp,
  startShimProcess,
  startVerifier,
  TRUST_DOMAIN,
  waitForCredential,
} from './setup.js';
import type { ShimProcess, TestRp, TestVerifier } from './setup.js';
import { createShimClient, createWorkloadApiClient, WorkloadApiError } from '../../shim/client.js';
import type { WorkloadApiClient, WorkloadX509Svid } from '../../shim/client.js';
import { WORKLOAD_PROTO } from '../../shim/workload-api/proto.js';
import { createMtlsServer, mtlsAgent, mtlsPeer } from '../../wimse/mtls.js';
import { tokenHash } from '../../wimse/jws.js';
import { waitFor } from '../helpers/poll.js';

const leafOf = (s: WorkloadX509Svid): X509Certificate => new X509Certificate(s.chain[0]!);

/** An mTLS handshake with the SVID on both sides; the identity each side saw of the other. */
async function handshake(svid: WorkloadX509Svid): Promise<{ server: string; client: string }> {
  const options = {
    bundle: svid.bundle,
    allow: { trustDomains: [TRUST_DOMAIN] },
    cert: svid.certificatePem,
    key: svid.keyPem,
  };
  const server = createMtlsServer(options, (req, res) => res.end(mtlsPeer(req)?.workloadId));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const agent = mtlsAgent(options);
  try {
    const port = (server.address() as AddressInfo).port;
    return await new Promise((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
          const seen = mtlsPeer(res)?.workloadId ?? '';
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ server: seen, client: body }));
        })
        .on('error', reject);
    });
  } finally {
    agent.destroy();
    server.closeAllConnections();
    server.close();
  }
}

/** The proto's methods as grpc-js sees them, for raw calls. */
const METHODS = loadSync(WORKLOAD_PROTO, { keepCase: true, defaults: true, oneofs: true })
  .SpiffeWorkloadAPI as unknown as Record<string, MethodDefinition<object, object>>;

function header(): Metadata {
  const md = new Metadata();
  md.set('workload.spiffe.io', 'true');
  return md;
}

function rawUnary(c: Client, method: string, req: object, md: Metadata): Promise<object> {
  const m = METHODS[method]!;
  return new Promise((resolve, reject) =>
    c.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, req, md, (err, res) =>
      err ? reject(err) : resolve(res!),
    ),
  );
}

function rawFirst(c: Client, method: string, md: Metadata): Promise<object> {
  const m = METHODS[method]!;
  return new Promise((resolve, reject) => {
    const s = c.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, {}, md);
    s.once('data', (msg: object) => {
      s.cancel();
      resolve(msg);
    });
    s.once('error', (err: ServiceError) => reject(err));
  });
}

describe('SPIFFE Workload API of twi shim under device emulation', { timeout: 600_000 }, () => {
  let verifier: TestVerifier;
  let rp: TestRp;
  let dir: string;
  before(async () => {
    verifier = await startVerifier({ seed: 'shim-workload-api', witLifetimeSeconds: 12 });
    rp = await startRp(verifier.base);
    dir = mkdtempSync(join(tmpdir(), 'twi-shim-wlapi-'));
  });
  after(async () => {
    await rp?.close();
    await verifier?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const platform of ['tdx', 'sev-snp', 'nitro'] as const) {
    describe(platform, { timeout: 240_000 }, () => {
      let shim: ShimProcess;
      let socket: string;
      let spiffe: WorkloadApiClient;
      let raw: Client;
      before(async () => {
        socket = join(dir, `spiffe-${platform}.sock`);
        shim = startShimProcess({
          platform,
          verifier,
          dir,
          renewFraction: 0.5,
          flags: ['--x509-workload-key', '--workload-api-socket', socket],
        });
        await waitForCredential(shim);
        spiffe = createWorkloadApiClient({ endpoint: `unix://${socket}` });
        raw = new Client(`unix://${socket}`, credentials.createInsecure());
      });
      after(async () => {
        spiffe?.close();
        raw?.close();
        assert.equal(await shim.stop(), 0, shim.stderr());
      });

      it('serves the socket to the owner only', () => {
        assert.equal(statSync(socket).mode & 0o777, 0o600);
      });

      it('X.509-SVID: the WIT sub, a held key, and an mTLS handshake with it', async () => {
        const [svid] = await waitFor('an X.509-SVID', () => spiffe.fetchX509SVID());
        const wit = await createShimClient({ socketPath: shim.socket }).wit();
        assert.equal(svid!.spiffeId, wit.sub);
        assert.equal(leafOf(svid!).subjectAltName, `URI:${wit.sub}`);
        assert.ok(leafOf(svid!).checkPrivateKey(createPrivateKey(svid!.keyPem)));
        const seen = await handshake(svid!);
        assert.deepEqual(seen, { server: wit.sub, client: wit.sub });
        const bundles = await spiffe.fetchX509Bundles();
        assert.deepEqual(Object.keys(bundles), [TRUST_DOMAIN]);
        assert.equal(bundles[TRUST_DOMAIN]!.join(''), svid!.bundlePem);
      });

      it('JWT-SVID: the WIT, accepted with a WPT by the relying-party middleware', async () => {
        const local = createShimClient({ socketPath: shim.socket });
        const call = async (): Promise<{ status: number; body: string } | undefined> => {
          const jwt = await spiffe.fetchJWTSVID(rp.audience);
          const wpt = await local.wpt({ aud: rp.audience });
          const wth = JSON.parse(Buffer.from(wpt.token.split('.')[1]!, 'base64url').toString())
            .wth as string;
          if (wth !== tokenHash(jwt.token)) return undefined; // renewed in between
          const res = await fetch(`${rp.audience}`, {
            headers: { 'workload-identity-token': jwt.token, 'workload-proof-token': wpt.token },
          });
          assert.equal(jwt.spiffeId, (await local.wit()).sub);
          return { status: res.status, body: await res.text() };
        };
        const r = await waitFor('a WIT + WPT call', call);
        assert.equal(r.status, 200, r.body);
        assert.match(r.body, new RegExp(`spiffe://${TRUST_DOMAIN.replace('.', '\\.')}/`));
        const jwt = await spiffe.fetchJWTSVID(['a', 'b']);
        const v = await spiffe.validateJWTSVID(jwt.token, 'any-audience');
        assert.equal(v.spiffeId, jwt.spiffeId);
        assert.equal(v.claims.sub, jwt.spiffeId);
        assert.ok(v.claims.cnf, 'the claims show the key the WPT must be signed with');
        const bundles = await spiffe.fetchJWTBundles();
        const keys = bundles[TRUST_DOMAIN]!.keys;
        assert.ok(keys.length > 0);
        assert.ok(keys.every((k) => k.use === 'jwt-svid' && k.x5c === undefined));
      });

      it('refuses a tampered JWT-SVID and a call without the security header', async () => {
        const jwt = await spiffe.fetchJWTSVID('x');
        const [h, p] = jwt.token.split('.');
        const forged = `${h}.${p}.${Buffer.alloc(64, 1).toString('base64url')}`;
        await assert.rejects(spiffe.validateJWTSVID(forged, 'x'), (e: unknown) => {
          assert.ok(e instanceof WorkloadApiError);
          assert.equal(e.code, 'ERR_WORKLOAD_API_INVALID_ARGUMENT');
          assert.match(e.message, /ERR_WIT_SIGNATURE/);
          return true;
        });
        for (const method of ['FetchJWTSVID', 'ValidateJWTSVID']) {
          await assert.rejects(rawUnary(raw, method, {}, new Metadata()), (e: ServiceError) => {
            assert.equal(e.code, status.INVALID_ARGUMENT);
            assert.equal(e.details, 'security header missing from request');
            return true;
          });
        }
        for (const method of ['FetchX509SVID', 'FetchX509Bundles', 'FetchJWTBundles']) {
          await assert.rejects(rawFirst(raw, method, new Metadata()), (e: ServiceError) => {
            assert.equal(e.code, status.INVALID_ARGUMENT);
            assert.equal(e.details, 'security header missing from request');
            return true;
          });
        }
        await assert.rejects(rawUnary(raw, 'FetchJWTSVID', {}, header()), (e: ServiceError) => {
          assert.equal(e.code, status.INVALID_ARGUMENT);
          assert.equal(e.details, 'audience must be specified');
          return true;
        });
      });

      it('answers raw calls built from the proto, for every method', async () => {
        const x = (await rawFirst(raw, 'FetchX509SVID', header())) as {
          svids: { spiffe_id: string; x509_svid: Buffer; x509_svid_key: Buffer; bundle: Buffer }[];
        };
        assert.equal(x.svids.length, 1);
        const leaf = new X509Certificate(x.svids[0]!.x509_svid);
        assert.equal(leaf.subjectAltName, `URI:${x.svids[0]!.spiffe_id}`);
        assert.ok(x.svids[0]!.x509_svid_key.length > 0);
        const xb = (await rawFirst(raw, 'FetchX509Bundles', header())) as {
          bundles: Record<string, Buffer>;
        };
        assert.deepEqual(Object.keys(xb.bundles), [`spiffe://${TRUST_DOMAIN}`]);
        assert.ok(x.svids[0]!.bundle.length > 0);
        assert.ok(xb.bundles[`spiffe://${TRUST_DOMAIN}`]!.equals(x.svids[0]!.bundle));
        const jb = (await rawFirst(raw, 'FetchJWTBundles', header())) as {
          bundles: Record<string, Buffer>;
        };
        const jwks = JSON.parse(jb.bundles[`spiffe://${TRUST_DOMAIN}`]!.toString()) as {
          keys: unknown[];
        };
        assert.ok(jwks.keys.length > 0);
        const j = (await rawUnary(raw, 'FetchJWTSVID', { audience: ['rp'] }, header())) as {
          svids: { spiffe_id: string; svid: string }[];
        };
        assert.equal(j.svids[0]!.spiffe_id, x.svids[0]!.spiffe_id);
        const v = (await rawUnary(
          raw,
          'ValidateJWTSVID',
          { audience: 'rp', svid: j.svids[0]!.svid },
          header(),
        )) as { spiffe_id: string; claims: { fields: Record<string, { stringValue?: string }> } };
        assert.equal(v.spiffe_id, j.svids[0]!.spiffe_id);
        assert.equal(v.claims.fields.sub!.stringValue, v.spiffe_id);
        await assert.rejects(
          rawUnary(
            raw,
            'FetchJWTSVID',
            { audience: ['rp'], spiffe_id: `spiffe://${TRUST_DOMAIN}/other` },
            header(),
          ),
          (e: ServiceError) =>
            e.code === status.PERMISSION_DENIED && e.details === 'no identity issued',
        );
      });

      it('pushes the replacement of a revoked X.509-SVID', async () => {
        const seen: WorkloadX509Svid[] = [];
        const stop = spiffe.watchX509SVID((svids) => seen.push(svids[0]!));
        try {
          await waitFor('the first message', async () => (seen.length > 0 ? true : undefined));
          const { jti } = await createShimClient({ socketPath: shim.socket }).x509();
          const revoked = await waitFor('the SVID of that jti', async () => {
            const x = await createShimClient({ socketPath: shim.socket }).x509();
            return x.jti === jti ? seen.at(-1) : undefined;
          });
          const r = await fetch(`${verifier.base}/v1/admin/credentials/${jti}/revoke`, {
            method: 'POST',
            headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
          });
          assert.equal(r.status, 200, await r.text());
          const at = seen.length;
          await waitFor('the shim to see the revocation', async () =>
            shim.stderr().includes(`its jti ${jti} is listed`) ? true : undefined,
          );
          const next = await waitFor('a pushed replacement', async () =>
            seen.slice(at).find((s) => !leafOf(s).raw.equals(leafOf(revoked).raw)),
          );
          assert.equal(next.spiffeId, revoked.spiffeId);
          assert.notEqual((await createShimClient({ socketPath: shim.socket }).x509()).jti, jti);
        } finally {
          stop();
        }
      });

      it('pushes a new X.509-SVID on renewal and on CA rotation', async () => {
        const seen: WorkloadX509Svid[] = [];
        const stop = spiffe.watchX509SVID((svids) => seen.push(svids[0]!));
        try {
          await waitFor('the first message', async () => (seen.length > 0 ? true : undefined));
          const first = seen[0]!;
          const renewed = await waitFor('a renewed SVID', async () =>
            seen.find((s) => !leafOf(s).raw.equals(leafOf(first).raw)),
          );
          assert.equal(renewed.spiffeId, first.spiffeId);
          assert.equal(renewed.bundlePem, first.bundlePem, 'same CA: a renewal only');
          const r = await fetch(verifier.base + '/v1/admin/ca/rotate', {
            method: 'POST',
            headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
          });
          assert.equal(r.status, 200, await r.text());
          const rotated = await waitFor('an SVID message with the new CA', async () =>
            seen.find((s) => s.bundlePem !== first.bundlePem),
          );
          const cas = (rotated.bundlePem.match(/BEGIN CERTIFICATE/g) ?? []).length;
          assert.ok(cas > (first.bundlePem.match(/BEGIN CERTIFICATE/g) ?? []).length);
          // The SVID issued by the new CA still verifies against the pushed bundle.
          const fromNew = await waitFor('an SVID from the new CA', async () =>
            seen.find(
              (s) =>
                s.bundlePem === rotated.bundlePem && !leafOf(s).raw.equals(leafOf(rotated).raw),
            ),
          );
          const seenBy = await handshake(fromNew);
          assert.equal(seenBy.server, fromNew.spiffeId);
        } finally {
          stop();
        }
      });
    });
  }
});
