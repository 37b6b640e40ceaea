/**
 * Set-up of the identity and workload-key tests: a service over a store that outlives it
 * (so a restart on the same store can be shown), and simulated evidence whose measurements
 * the test chooses.
 */
import type { JsonWebKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadAnchorStore } from '../../endorsements/anchors.js';
import { openSimulatedPki, type SimulatedPki } from '../../simulators/index.js';
import type { Policy } from '../../verifier/policy/types.js';
import { createService } from '../../service/service.js';
import { openStore } from '../../service/store/open.js';
import type { Store } from '../../service/store/types.js';
import { evidenceCmw, NOW, PKI_CREATED, type Platform } from './harness.js';

export const TOKEN = 'identity-admin-token';

/** Measurements to put into simulated evidence (48-byte values unless named otherwise). */
export interface Measurements {
  rtmr0?: Uint8Array;
  mrTd?: Uint8Array;
  hostData?: Uint8Array;
  measurement?: Uint8Array;
  pcrs?: Record<number, Uint8Array>;
}

/** A 48-byte (or `n`-byte) value filled with `b`. */
export const fill = (b: number, n = 48): Uint8Array => new Uint8Array(n).fill(b);
export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** A CMW with evidence bound to `nonce` and `jwk`, carrying the chosen measurements. */
export function cmwWith(
  pki: SimulatedPki,
  platform: Platform,
  nonce: string,
  jwk: JsonWebKey,
  spki: Uint8Array,
  m: Measurements = {},
): Record<string, unknown> {
  return evidenceCmw(
    pki,
    platform,
    nonce,
    { jwk, spki },
    {
      seed: 'id',
      ...(m.mrTd && { mrtd: m.mrTd }),
      ...(m.rtmr0 && { rtmr0: m.rtmr0 }),
      ...(m.hostData && { hostData: m.hostData }),
      ...(m.measurement && { measurement: m.measurement }),
      ...(m.pcrs && { pcrs: m.pcrs }),
    },
  );
}

/** A directory with a simulated PKI and an SQLite store path, shared by service restarts. */
export interface Site {
  readonly dir: string;
  readonly pki: SimulatedPki;
  readonly dbPath: string;
  remove(): void;
}

export async function openSite(seed: string): Promise<Site> {
  const dir = mkdtempSync(join(tmpdir(), `${seed}-`));
  const pki = await openSimulatedPki(join(dir, 'pki'), { seed, now: PKI_CREATED });
  return {
    dir,
    pki,
    dbPath: join(dir, 'twi.db'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A running service of a site. */
export interface Running {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly base: string;
  close(): Promise<void>;
}

/** Starts a service on the site's store, with `policy` as its policy file. */
export async function startOn(site: Site, policy?: Policy): Promise<Running> {
  const store = await openStore('sqlite:' + site.dbPath);
  const app = await createService({
    store,
    anchors: loadAnchorStore([join(site.dir, 'pki', 'roots')]),
    issuer: 'https://verifier.example',
    trustDomain: 'example.org',
    now: () => NOW,
    logLevel: 'silent',
    adminToken: TOKEN,
    syncIntervalMs: 0,
    noncePurgeIntervalMs: 0,
    ...(policy && { policy }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  if (!addr || typeof addr !== 'object') throw new Error('no listen address');
  return {
    app,
    store,
    base: `http://127.0.0.1:${addr.port}`,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

/** The JSON payload of a compact JWS. */
export function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

/** What an attestation answered. */
export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  /** The WIT's claims (200 only). */
  readonly wit?: Record<string, unknown>;
  /** The EAR's claims (200, and 403 refusals that carry it). */
  readonly ear?: Record<string, unknown>;
}

/** POST JSON to `base + path`. */
export async function postJson(base: string, path: string, body: unknown): Promise<Response> {
  return fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** A fresh challenge nonce. */
export async function challenge(base: string): Promise<string> {
  const r = await fetch(base + '/v1/challenge', { method: 'POST' });
  return ((await r.json()) as { nonce: string }).nonce;
}

/** Sends an attest body and decodes the answer. */
export async function sendAttest(base: string, body: unknown): Promise<Answer> {
  const r = await postJson(base, '/v1/attest', body);
  const out = (await r.json()) as Record<string, unknown>;
  return {
    status: r.status,
    body: out,
    ...(typeof out.wit === 'string' && { wit: payloadOf(out.wit) }),
    ...(typeof out.ear === 'string' && { ear: payloadOf(out.ear) }),
  };
}
