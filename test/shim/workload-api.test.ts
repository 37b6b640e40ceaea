/**
 * The Workload API server in-process, on states the e2e test cannot set up at will: no
 * credential yet, a revoked one, no held key (FetchX509SVID refused with SPIRE's status), a
 * stream that waits for its first message and sends one per change (none for a repeat), streams
 * ended with status OK on shutdown, the socket modes, and SPIFFE_ENDPOINT_SOCKET in the client.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { newKeyPair } from '../../common/key-pair.js';
import type { Credential } from '../../shim/credential.js';
import { createWorkloadApiClient, WorkloadApiError } from '../../shim/client.js';
import type { Jwks } from '../../wimse/jwks.js';
import { importPublicJwk } from '../../wimse/jws.js';
import { issueWit } from '../../wimse/wit.js';
import type { WatchedBundle } from '../../wimse/bundle-watch.js';
import { startWorkloadApi } from '../../shim/workload-api/server.js';
import type { WorkloadApi, WorkloadApiState } from '../../shim/workload-api/server.js';

const SUB = 'spiffe://unit.example/app';

function refusedWith(code: string, grpc: number, message?: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof WorkloadApiError, String(e));
    assert.equal(e.code, code);
    assert.equal(e.grpcStatus, grpc);
    if (message) assert.match(e.message, message);
    return true;
  };
}

describe('Workload API server (in-process)', { timeout: 60_000 }, () => {
  let dir: string;
  let api: WorkloadApi;
  let credential: Credential | undefined;
  let bundle: WatchedBundle | undefined;
  let revoked: string | undefined;
  const listeners = new Set<() => void>();
  const changed = (): void => listeners.forEach((l) => l());
  const state: WorkloadApiState = {
    credential: () => credential,
    bundle: () => bundle,
    revoked: () => revoked,
    x509WorkloadKey: false,
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    now: () => new Date(),
  };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twi-wlapi-unit-'));
    api = await startWorkloadApi({ socketPath: join(dir, 'api.sock'), state });
  });
  after(async () => {
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens owner-only, and 0660 with a group', async () => {
    assert.equal(statSync(api.socketPath).mode & 0o777, 0o600);
    assert.equal(api.endpoint, `unix://${api.socketPath}`);
    const grouped = await startWorkloadApi({
      socketPath: join(dir, 'group.sock'),
      gid: process.getgid!(),
      state,
    });
    try {
      assert.equal(statSync(grouped.socketPath).mode & 0o777, 0o660);
    } finally {
      await grouped.close();
    }
  });

  it('reads SPIFFE_ENDPOINT_SOCKET, and needs an endpoint', async () => {
    const saved = process.env.SPIFFE_ENDPOINT_SOCKET;
    try {
      delete process.env.SPIFFE_ENDPOINT_SOCKET;
      assert.throws(() => createWorkloadApiClient(), TypeError);
      process.env.SPIFFE_ENDPOINT_SOCKET = api.endpoint;
      const c = createWorkloadApiClient();
      await assert.rejects(
        c.fetchX509SVID(),
        refusedWith('ERR_WORKLOAD_API_PERMISSION_DENIED', status.PERMISSION_DENIED),
      );
      c.close();
    } finally {
      if (saved === undefined) delete process.env.SPIFFE_ENDPOINT_SOCKET;
      else process.env.SPIFFE_ENDPOINT_SOCKET = saved;
    }
  });

  it('refuses FetchX509SVID without a held key: PERMISSION_DENIED "no identity issued"', async () => {
    const c = createWorkloadApiClient({ endpoint: api.socketPath });
    try {
      await assert.rejects(
        c.fetchX509SVID(),
        refusedWith(
          'ERR_WORKLOAD_API_PERMISSION_DENIED',
          status.PERMISSION_DENIED,
          /^PERMISSION_DENIED: no identity issued$/,
        ),
      );
    } finally {
      c.close();
    }
  });

  it('answers UNAVAILABLE without a credential, saying why when it was revoked', async () => {
    const c = createWorkloadApiClient({ endpoint: api.socketPath });
    try {
      await assert.rejects(
        c.fetchJWTSVID('rp'),
        refusedWith('ERR_WORKLOAD_API_UNAVAILABLE', status.UNAVAILABLE, /attestation pending/),
      );
      revoked = 'the credential j1 was revoked';
      await assert.rejects(
        c.fetchJWTSVID('rp'),
        refusedWith(
          'ERR_WORKLOAD_API_UNAVAILABLE',
          status.UNAVAILABLE,
          /j1 was revoked; re-attesting/,
        ),
      );
      await assert.rejects(
        c.fetchJWTSVID([]),
        refusedWith(
          'ERR_WORKLOAD_API_INVALID_ARGUMENT',
          status.INVALID_ARGUMENT,
          /audience must be specified/,
        ),
      );
      await assert.rejects(
        c.validateJWTSVID('x.y.z', 'rp'),
        refusedWith('ERR_WORKLOAD_API_UNAVAILABLE', status.UNAVAILABLE, /no trust bundle/),
      );
      await assert.rejects(
        c.validateJWTSVID('', 'rp'),
        refusedWith(
          'ERR_WORKLOAD_API_INVALID_ARGUMENT',
          status.INVALID_ARGUMENT,
          /svid must be specified/,
        ),
      );
    } finally {
      revoked = undefined;
      c.close();
    }
  });

  it('streams JWT bundles: the first once there is one, one per change, none for a repeat', async () => {
    const issuer = newKeyPair('ec', { namedCurve: 'P-256' });
    const workload = newKeyPair('ec', { namedCurve: 'P-256' });
    const jwkOf = (k: typeof issuer): Record<string, unknown> =>
      k.publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
    const issuerJwk = { ...jwkOf(issuer), kid: 'k1', alg: 'ES256', use: 'wit-svid' };
    const { wit } = await issueWit({
      sub: SUB,
      cnfJwk: { ...jwkOf(workload), alg: 'ES256' },
      key: { privateKey: issuer.privateKey, alg: 'ES256', kid: 'k1' },
      lifetimeSeconds: 600,
      now: new Date(),
    });
    const c = createWorkloadApiClient({ endpoint: api.socketPath });
    const seen: Record<string, Jwks>[] = [];
    const stop = c.watchJWTBundles((b) => seen.push(b));
    try {
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(seen.length, 0, 'nothing before a bundle and a credential');
      const x509Only = { use: 'x509-svid', kty: 'EC', x5c: ['AA=='] };
      bundle = { keys: [issuerJwk, x509Only] };
      credential = {
        wit,
        ear: '',
        sub: SUB,
        jti: undefined,
        issuedAt: new Date(),
        expiresAt: new Date(Date.now() + 600_000),
      };
      changed();
      await waitFor(() => seen.length === 1);
      const keys = seen[0]!['unit.example']!.keys;
      assert.deepEqual(
        keys.map((k) => [k.kid, k.use]),
        [['k1', 'jwt-svid']],
      );
      importPublicJwk(keys[0]!);
      changed(); // same bundle: no message
      bundle = { keys: [issuerJwk, { ...issuerJwk, kid: 'k2' }] };
      changed();
      await waitFor(() => seen.length === 2);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(seen.length, 2);
      assert.equal(seen[1]!['unit.example']!.keys.length, 2);
      // ValidateJWTSVID with the relying-party library against this bundle.
      const v = await c.validateJWTSVID(wit, 'rp');
      assert.equal(v.spiffeId, SUB);
      assert.equal(v.claims.sub, SUB);
      bundle = { ...bundle, revoked_jtis: [String(v.claims.jti)] };
      await assert.rejects(
        c.validateJWTSVID(wit, 'rp'),
        refusedWith(
          'ERR_WORKLOAD_API_INVALID_ARGUMENT',
          status.INVALID_ARGUMENT,
          /ERR_WIT_REVOKED/,
        ),
      );
    } finally {
      stop();
      c.close();
    }
  });

  it('ends open streams with status OK on shutdown', async () => {
    const own = await startWorkloadApi({ socketPath: join(dir, 'close.sock'), state });
    const { Client, credentials, Metadata } = await import('@grpc/grpc-js');
    const { loadSync } = await import('@grpc/proto-loader');
    const { WORKLOAD_PROTO } = await import('../../shim/workload-api/proto.js');
    const m = (
      loadSync(WORKLOAD_PROTO, { keepCase: true }).SpiffeWorkloadAPI as Record<string, never>
    ).FetchJWTBundles as unknown as {
      path: string;
      requestSerialize: (v: object) => Buffer;
      responseDeserialize: (b: Buffer) => object;
    };
    const raw = new Client(own.endpoint, credentials.createInsecure());
    const md = new Metadata();
    md.set('workload.spiffe.io', 'true');
    const s = raw.makeServerStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      {},
      md,
    );
    const ended = new Promise<number>((resolve) =>
      s.on('status', (st: { code: number }) => resolve(st.code)),
    );
    s.on('error', () => undefined);
    // The state of the test before has a bundle and a credential: a first message comes.
    await new Promise((resolve) => s.once('data', resolve));
    const t0 = Date.now();
    await own.close();
    assert.equal(await ended, status.OK);
    assert.ok(Date.now() - t0 < 2000);
    raw.close();
  });
});

async function waitFor(f: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
