/**
 * A simulated Intel PCS and AMD KDS on one `node:http` server: the real URL shapes
 * (see `intel-routes.ts`, `amd-routes.ts`) answered from a simulated PKI, with switchable
 * faults (see `faults.ts`) for testing clients, retries, timeouts and caches.
 *
 * @internal
 * @module
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SimulatedPki } from '../pki/store.js';
import { amdRoute } from './amd-routes.js';
import { FaultState } from './faults.js';
import type { FaultConfig, FaultDecision } from './faults.js';
import { intelRoute } from './intel-routes.js';
import { textResponse } from './routes.js';
import type { RouteContext, ServedTdxOptions, SimResponse } from './routes.js';

/** Options of {@link startCollateralServer}. */
export interface CollateralServerOptions {
  /** The simulated PKI that signs everything served. */
  readonly pki: SimulatedPki;
  /** TCP port; default 0 (any free port). */
  readonly port?: number;
  /** Interface to listen on; default loopback `127.0.0.1`. */
  readonly host?: string;
  /** The server's clock (collateral windows are placed around it); default the wall clock. */
  readonly now?: () => Date;
  /** Faults in force from the start; default none. */
  readonly faults?: FaultConfig;
  /** The platform the TDX TCB Info / QE Identity describe; default the simulator's defaults. */
  readonly tdx?: ServedTdxOptions;
  /** FMSPCs (hex) that have TCB Info; others get 404. Default: every FMSPC. */
  readonly fmspcs?: readonly string[];
}

/** A running simulated collateral server. */
export interface CollateralServer {
  /** `http://host:port` — the base URL for both the PCS and the KDS client. */
  readonly url: string;
  /** Requests received so far, by path (without the query), faulted ones included. */
  readonly counters: ReadonlyMap<string, number>;
  /** Replaces the faults in force (and resets their counts). */
  setFaults(faults: FaultConfig): void;
  /** Stops listening and drops every connection, hanging ones included. */
  close(): Promise<void>;
}

function send(res: ServerResponse, r: SimResponse): void {
  const body = typeof r.body === 'string' ? Buffer.from(r.body, 'utf8') : Buffer.from(r.body);
  res.writeHead(r.status, { ...r.headers, 'content-length': String(body.length) });
  res.end(body);
}

function route(req: IncomingMessage, url: URL, ctx: RouteContext): SimResponse {
  if (req.method !== 'GET') return textResponse(405, 'only GET is served');
  try {
    return intelRoute(url, ctx) ?? amdRoute(url, ctx) ?? textResponse(404, 'no such path');
  } catch (err) {
    if (err instanceof TypeError) return textResponse(400, err.message);
    return textResponse(500, err instanceof Error ? err.message : String(err));
  }
}

interface ServerState {
  faults: FaultState;
  readonly counters: Map<string, number>;
  readonly timers: Set<NodeJS.Timeout>;
  readonly options: CollateralServerOptions;
  readonly fmspcs: ReadonlySet<string> | undefined;
}

function delay(state: ServerState, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      state.timers.delete(t);
      resolve();
    }, ms);
    state.timers.add(t);
  });
}

function answer(
  req: IncomingMessage,
  res: ServerResponse,
  d: FaultDecision,
  state: ServerState,
  url: URL,
): void {
  if (res.destroyed) return;
  const { action } = d;
  if (action.kind === 'down') {
    req.socket.destroy();
    return;
  }
  if (action.kind === 'hang') return;
  if (action.kind === 'status') {
    const headers: Record<string, string> =
      action.retryAfterSeconds === undefined
        ? {}
        : { 'retry-after': String(action.retryAfterSeconds) };
    send(res, { ...textResponse(action.status, 'simulated fault'), headers: { ...headers } });
    return;
  }
  const ctx: RouteContext = {
    pki: state.options.pki,
    now: (state.options.now ?? (() => new Date()))(),
    expired: d.expired,
    tampered: d.tampered,
    tdx: state.options.tdx ?? {},
    fmspcs: state.fmspcs,
  };
  send(res, route(req, url, ctx));
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  state: ServerState,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://simulated');
  state.counters.set(url.pathname, (state.counters.get(url.pathname) ?? 0) + 1);
  const decision = state.faults.decide(url.pathname);
  if (decision.latencyMs > 0) await delay(state, decision.latencyMs);
  answer(req, res, decision, state, url);
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/**
 * Starts the simulated PCS + KDS server. It listens on loopback by default; the same
 * base URL serves both vendors' paths. TDX collateral is built with the TDX simulator's
 * builder (TCB Info for any FMSPC, QE Identity, PCK and Root CA CRLs) around the server's
 * `now`; VCEKs are issued on the fly by the simulated AMD PKI.
 *
 * @throws when the port cannot be bound; TypeError for malformed faults.
 * @example
 * ```ts
 * const server = await startCollateralServer({ pki: await openSimulatedPki(dir) });
 * const pcs = createPcsClient({ baseUrl: server.url, fetcher, anchors });
 * server.setFaults({ paths: { '/vcek': { status429: { retryAfterSeconds: 2, count: 1 } } } });
 * await server.close();
 * ```
 */
export async function startCollateralServer(
  options: CollateralServerOptions,
): Promise<CollateralServer> {
  const state: ServerState = {
    faults: new FaultState(options.faults),
    counters: new Map(),
    timers: new Set(),
    options,
    fmspcs: options.fmspcs && new Set(options.fmspcs.map((f) => f.toLowerCase())),
  };
  const server = createServer((req, res) => {
    handle(req, res, state).catch((err: unknown) => {
      if (!res.headersSent) send(res, textResponse(500, String(err)));
    });
  });
  const host = options.host ?? '127.0.0.1';
  const address = await listen(server, options.port ?? 0, host);
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    counters: state.counters,
    setFaults(faults) {
      state.faults = new FaultState(faults);
    },
    close() {
      for (const t of state.timers) clearTimeout(t);
      state.timers.clear();
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
