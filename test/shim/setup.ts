/**
 * End-to-end set-up of the shim tests: a verifier service on loopback (SQLite, the simulated
 * PKI's roots as trust anchors, a simulated PCS for TDX collateral), a relying party guarded by
 * the WIMSE middleware with a bundle watcher, and `twi shim --emulate` processes.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { loadAnchorStore } from '../../endorsements/anchors.js';
import { createEndorsementStack } from '../../endorsements/stack.js';
import { openSimulatedPki } from '../../simulators/index.js';
import { startCollateralServer } from '../../simulators/servers/collateral-server.js';
import type { CollateralServer } from '../../simulators/servers/collateral-server.js';
import { createShimClient } from '../../shim/client.js';
import { createService } from '../../service/service.js';
import { GENEROUS_LIMITS } from '../service/harness.js';
import { openStore } from '../../service/store/open.js';
import type { Store } from '../../service/store/types.js';
import type { ServiceTls } from '../../service/tls.js';
import type { Policy } from '../../verifier/policy/types.js';
import { bundleTrust, watchBundle } from '../../wimse/bundle-watch.js';
import type { BundleWatch } from '../../wimse/bundle-watch.js';
import { createMemoryReplayCache } from '../../wimse/replay.js';
import { wimseMiddleware } from '../../wimse/request.js';
import type { WorkloadRequest } from '../../wimse/request.js';

export const TWI_CLI = fileURLToPath(new URL('../../cli/twi.js', import.meta.url));
export const WORKLOAD = fileURLToPath(new URL('./workload.js', import.meta.url));
export const ADMIN_TOKEN = 'shim-test-admin-token-0123456789';
export const TRUST_DOMAIN = 'shim.example';

/** A verifier service that can be stopped and started again on the same port and store. */
export interface TestVerifier {
  readonly dir: string;
  readonly pkiDir: string;
  readonly store: Store;
  base: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the verifier (and the simulated PCS it takes TDX collateral from). */
export async function startVerifier(o: {
  witLifetimeSeconds?: number;
  seed: string;
  /** Appraisal policy (default: the built-in one). */
  policy?: Policy;
  /** Serve HTTPS with this certificate (`base` is then `https://127.0.0.1:PORT`). */
  tls?: ServiceTls;
}): Promise<TestVerifier> {
  const dir = mkdtempSync(join(tmpdir(), `twi-shim-${o.seed}-`));
  const pkiDir = join(dir, 'pki');
  const pki = await openSimulatedPki(pkiDir, { seed: o.seed });
  const pcs: CollateralServer = await startCollateralServer({ pki });
  const anchors = loadAnchorStore([join(pkiDir, 'roots')]);
  const store = await openStore('sqlite:' + join(dir, 'twi.db'));
  const provider = createEndorsementStack({ anchors, pcsUrl: pcs.url, kdsUrl: pcs.url });
  let app: FastifyInstance | undefined;
  let port = 0;
  const v: TestVerifier = {
    dir,
    pkiDir,
    store,
    base: '',
    async start() {
      app = await createService({
        store,
        anchors,
        provider,
        issuer: 'https://verifier.shim.example',
        trustDomain: TRUST_DOMAIN,
        logLevel: 'silent',
        adminToken: ADMIN_TOKEN,
        heartbeatMs: 1000,
        limits: GENEROUS_LIMITS,
        ...(o.witLifetimeSeconds !== undefined && { witLifetimeSeconds: o.witLifetimeSeconds }),
        ...(o.policy !== undefined && { policy: o.policy }),
        ...(o.tls !== undefined && { tls: o.tls }),
      });
      await app.listen({ host: '127.0.0.1', port });
      const addr = app.server.address();
      if (!addr || typeof addr !== 'object') throw new Error('no listen address');
      port = addr.port;
      v.base = `${o.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    },
    async stop() {
      await app?.close();
      app = undefined;
    },
    async close() {
      await v.stop();
      await pcs.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await v.start();
  return v;
}

/** A relying party on loopback: `GET /v1/hello` behind the WIMSE middleware. */
export interface TestRp {
  readonly url: string;
  readonly audience: string;
  readonly watch: BundleWatch;
  close(): Promise<void>;
}

export async function startRp(verifierBase: string): Promise<TestRp> {
  const watch = watchBundle(new URL('/v1/bundle/events', verifierBase), {
    minBackoffMs: 50,
    maxBackoffMs: 500,
  });
  const trust = bundleTrust(watch);
  let audience = '';
  const guard = wimseMiddleware({
    jwks: trust.jwks,
    isRevoked: trust.isRevoked,
    trustDomains: [TRUST_DOMAIN],
    get expectedAudience() {
      return audience;
    },
    replayCache: createMemoryReplayCache(),
  });
  const server: Server = createServer((req: WorkloadRequest, res) =>
    guard(req, res, () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ workload: req.workload!.workloadId }));
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('no listen address');
  const url = `http://127.0.0.1:${addr.port}`;
  audience = `${url}/v1/hello`;
  await watch.ready;
  return {
    url,
    audience,
    watch,
    close: () =>
      new Promise<void>((resolve) => {
        watch.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A running `twi shim --emulate` process. */
export interface ShimProcess {
  readonly proc: ChildProcess;
  readonly socket: string;
  readonly files: string;
  stderr(): string;
  /** Resolves with the exit status. */
  readonly exited: Promise<number>;
  stop(): Promise<number>;
}

/** Starts `twi shim --emulate P` (optionally with a workload command) in `dir`. */
export function startShimProcess(o: {
  platform: 'tdx' | 'sev-snp' | 'nitro';
  verifier: TestVerifier;
  dir: string;
  renewFraction?: number;
  retryMaxMs?: number;
  command?: string[];
  env?: Record<string, string>;
  /** More `twi shim` flags, e.g. `--x509`. */
  flags?: string[];
  /** Names the socket and files directory (default: the platform). */
  name?: string;
  /** Without `--files` (agent mode takes none). */
  noFiles?: boolean;
}): ShimProcess {
  const name = o.name ?? o.platform;
  const socket = join(o.dir, `shim-${name}.sock`);
  const files = join(o.dir, `files-${name}`);
  const args = [TWI_CLI, 'shim', '--emulate', o.platform, '--pki', o.verifier.pkiDir];
  args.push('--verifier', o.verifier.base, '--socket', socket);
  if (!o.noFiles) args.push('--files', files);
  if (o.renewFraction !== undefined) args.push('--renew-fraction', String(o.renewFraction));
  if (o.retryMaxMs !== undefined) args.push('--retry-max-ms', String(o.retryMaxMs));
  if (o.flags) args.push(...o.flags);
  if (o.command) args.push('--', ...o.command);
  const proc = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...o.env },
  });
  let err = '';
  let out = '';
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number>((resolve) =>
    proc.once('exit', (code) => resolve(code ?? 128)),
  );
  return {
    proc,
    socket,
    files,
    stderr: () => err + out,
    exited,
    async stop() {
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

/** Waits until the shim serves a WIT (or fails with what it printed). */
export async function waitForCredential(s: ShimProcess, timeoutMs = 60_000): Promise<void> {
  const client = createShimClient({ socketPath: s.socket });
  const until = Date.now() + timeoutMs;
  let exited = false;
  void s.exited.then(() => (exited = true));
  while (Date.now() < until && !exited) {
    if (existsSync(s.socket)) {
      try {
        await client.wit();
        return;
      } catch {
        // not yet
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the shim served no credential:\n${s.stderr()}`);
}
