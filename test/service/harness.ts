/**
 * Shared set-up of the service tests: a service over real HTTP on loopback with an SQLite
 * store and a simulated PKI, and evidence bound to a nonce and a workload key.
 */
import type { JsonWebKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadAnchorStore } from '../../endorsements/anchors.js';
import type { EndorsementProvider } from '../../verifier/verify/endorsement-provider.js';
import {
  openSimulatedPki,
  simulateNitro,
  simulateSnp,
  simulateTdx,
  type SimulatedPki,
} from '../../simulators/index.js';
import { bindingReportData, jwkThumbprint } from '../../wire/binding.js';
import { createService } from '../../service/service.js';
import type { ProvenanceOptions } from '../../service/provenance.js';
import { openStore } from '../../service/store/open.js';
import type { Store } from '../../service/store/types.js';
import { newKeyPair } from '../../common/key-pair.js';
import type { ServiceLimits } from '../../service/limits.js';
import type { ServiceCaOptions } from '../../service/ca-keys.js';
import type { EarProfile } from '../../verifier/ear/profiles.js';

/**
 * Limits for tests that send many requests from one address quickly: the rate limit and the
 * caps are raised rather than the defaults weakened.
 */
export const GENEROUS_LIMITS: ServiceLimits = {
  rateLimit: { perSecond: 100_000, burst: 100_000 },
  maxSubscribers: 10_000,
  maxSubscribersPerClient: 10_000,
};

export const PKI_CREATED = new Date('2025-01-01T00:00:00Z');
export const NOW = new Date('2025-06-01T00:00:00Z');
export const b64u = (b: Uint8Array | string): string => Buffer.from(b).toString('base64url');

export type Platform = 'tdx' | 'sev-snp' | 'nitro';

export interface Workload {
  jwk: JsonWebKey & { alg: string };
  spki: Uint8Array;
}

export function workloadKey(): Workload {
  const { publicKey } = newKeyPair('ec', { namedCurve: 'P-256' });
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as JsonWebKey), alg: 'ES256' };
  return { jwk, spki: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })) };
}

/** What a test may choose in simulated evidence (48-byte values unless named otherwise). */
export interface EvidenceOptions {
  debug?: boolean;
  mrtd?: Uint8Array;
  /** TDX RTMR0; RTMR1–3 are then fixed values. */
  rtmr0?: Uint8Array;
  /** SEV-SNP HOST_DATA (32 bytes). */
  hostData?: Uint8Array;
  /** SEV-SNP MEASUREMENT. */
  measurement?: Uint8Array;
  pcrs?: Record<number, Uint8Array>;
  /** Prefix of the simulators' seeds (default `svc`). */
  seed?: string;
}

const fill48 = (b: number): Uint8Array => new Uint8Array(48).fill(b);

/** A CMW collection with evidence bound to `nonce` and `key`. */
export function evidenceCmw(
  pki: SimulatedPki,
  platform: Platform,
  nonce: string,
  key: Pick<Workload, 'spki'> & { jwk: JsonWebKey },
  extra: EvidenceOptions = {},
): Record<string, unknown> {
  const nonceBytes = new Uint8Array(Buffer.from(nonce, 'base64url'));
  const reportData = bindingReportData(nonceBytes, jwkThumbprint(key.jwk));
  const seed = extra.seed ?? 'svc';
  const cmw: Record<string, unknown> = { __cmwc_t: 'tag:twi.dev,2026:evidence' };
  if (platform === 'tdx') {
    const sim = simulateTdx(pki.intel(), {
      seed: `${seed}-td`,
      now: NOW,
      reportData,
      ...(extra.debug !== undefined && { debug: extra.debug }),
      ...(extra.mrtd && { mrTd: extra.mrtd }),
      ...(extra.rtmr0 && { rtmr: [extra.rtmr0, fill48(0x11), fill48(0x12), fill48(0x13)] }),
    });
    cmw.tdx = ['application/vnd.twi.tdx-quote', b64u(sim.quote), 4];
    cmw.collateral = [
      'application/vnd.twi.tdx-collateral+json',
      b64u(JSON.stringify(sim.collateral)),
      2,
    ];
  } else if (platform === 'sev-snp') {
    const sim = simulateSnp(pki.amd('Genoa'), {
      seed: `${seed}-snp`,
      reportData,
      debug: extra.debug,
      ...(extra.hostData && { hostData: extra.hostData }),
      ...(extra.measurement && { measurement: extra.measurement }),
    });
    cmw.snp = ['application/vnd.twi.sev-snp-report', b64u(sim.report), 4];
    cmw.certs = ['application/vnd.twi.sev-snp-certs', b64u(sim.certTable), 2];
  } else {
    const sim = simulateNitro(pki.nitro(), {
      now: NOW,
      seed: `${seed}-nitro`,
      nonce: nonceBytes,
      publicKey: key.spki,
      userData: reportData,
      debug: extra.debug,
      ...(extra.pcrs && { pcrs: extra.pcrs }),
    });
    cmw.nitro = ['application/vnd.twi.nitro-attestation', b64u(sim.document), 4];
  }
  return cmw;
}

/** A running service under test. */
export interface TestService {
  readonly dir: string;
  readonly store: Store;
  readonly app: FastifyInstance;
  readonly base: string;
  readonly pki: SimulatedPki;
  close(): Promise<void>;
}

/** Starts a service on loopback with a fresh SQLite store and simulated PKI in a temp dir. */
export async function startTestService(o: {
  seed: string;
  clock: () => Date;
  adminToken?: string;
  provenance?: ProvenanceOptions;
  /** Further `createService` options (refresh hint, purge interval, provider, ...). */
  bundleRefreshHintSeconds?: number;
  noncePurgeIntervalMs?: number;
  nonceTtlSeconds?: number;
  provider?: EndorsementProvider;
  /** Limits over {@link GENEROUS_LIMITS} (the hostile-traffic tests set tight ones). */
  limits?: ServiceLimits;
  logLevel?: string;
  logStream?: { write(line: string): void };
  /** Opens the store (default a fresh SQLite file in the temp dir). */
  openStore?: () => Promise<Store>;
  witLifetimeSeconds?: number;
  ca?: ServiceCaOptions;
  syncIntervalMs?: number;
  earProfile?: EarProfile;
  consoleReadOnly?: boolean;
  appraisalLogSize?: number;
}): Promise<TestService> {
  const dir = mkdtempSync(join(tmpdir(), `${o.seed}-`));
  const pki = await openSimulatedPki(join(dir, 'pki'), { seed: o.seed, now: PKI_CREATED });
  const store = await (o.openStore?.() ?? openStore('sqlite:' + join(dir, 'twi.db')));
  const app = await createService({
    store,
    anchors: loadAnchorStore([join(dir, 'pki', 'roots')]),
    issuer: 'https://verifier.example',
    trustDomain: 'example.org',
    now: o.clock,
    logLevel: o.logLevel ?? 'silent',
    limits: { ...GENEROUS_LIMITS, ...o.limits },
    ...(o.logStream && { logStream: o.logStream }),
    ...(o.adminToken !== undefined && { adminToken: o.adminToken }),
    ...(o.provenance && { provenance: o.provenance }),
    ...(o.bundleRefreshHintSeconds !== undefined && {
      bundleRefreshHintSeconds: o.bundleRefreshHintSeconds,
    }),
    ...(o.noncePurgeIntervalMs !== undefined && { noncePurgeIntervalMs: o.noncePurgeIntervalMs }),
    ...(o.nonceTtlSeconds !== undefined && { nonceTtlSeconds: o.nonceTtlSeconds }),
    ...(o.provider && { provider: o.provider }),
    ...(o.witLifetimeSeconds !== undefined && { witLifetimeSeconds: o.witLifetimeSeconds }),
    ...(o.ca && { ca: o.ca }),
    ...(o.syncIntervalMs !== undefined && { syncIntervalMs: o.syncIntervalMs }),
    ...(o.earProfile && { earProfile: o.earProfile }),
    ...(o.consoleReadOnly && { consoleReadOnly: true }),
    ...(o.appraisalLogSize !== undefined && { appraisalLogSize: o.appraisalLogSize }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  if (!addr || typeof addr !== 'object') throw new Error('no listen address');
  return {
    dir,
    store,
    app,
    base: `http://127.0.0.1:${addr.port}`,
    pki,
    async close() {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What a successful attestation gave, with the WIT's `jti` and `kid`. */
export interface IssuedWit {
  readonly wit: string;
  readonly jti: string;
  readonly kid: string;
}

/** challenge → attest against `base` with evidence from `pki`; the raw attest response. */
export async function attestRaw(
  base: string,
  pki: SimulatedPki,
  platform: Platform = 'tdx',
): Promise<Response> {
  const key = workloadKey();
  const c = await fetch(base + '/v1/challenge', { method: 'POST' });
  const { nonce } = (await c.json()) as { nonce: string };
  return fetch(base + '/v1/attest', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ nonce, evidence: evidenceCmw(pki, platform, nonce, key), key: key.jwk }),
  });
}

/** {@link attestRaw}, which must succeed; the WIT with its `jti` and `kid`. */
export async function attestWit(
  base: string,
  pki: SimulatedPki,
  platform: Platform = 'tdx',
): Promise<IssuedWit> {
  const r = await attestRaw(base, pki, platform);
  const out = (await r.json()) as { wit: string };
  if (r.status !== 200) throw new Error(`attest: ${r.status} ${JSON.stringify(out)}`);
  const [header, claims] = out.wit
    .split('.')
    .slice(0, 2)
    .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, string>);
  return { wit: out.wit, jti: claims!.jti!, kid: header!.kid! };
}

/** An admin API call with the bearer `token`; the JSON answer, which must be 200. */
export async function adminCall(
  base: string,
  token: string,
  method: string,
  path: string,
  body?: { data: string | Uint8Array; type: string },
): Promise<Record<string, unknown>> {
  const r = await fetch(base + '/v1/admin' + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body && { 'content-type': body.type }),
    },
    ...(body && { body: body.data }),
  });
  const out = (await r.json()) as Record<string, unknown>;
  if (r.status !== 200)
    throw new Error(`admin ${method} ${path}: ${r.status} ${JSON.stringify(out)}`);
  return out;
}

/**
 * Milliseconds until `verify` rejects with a `WimseError` of `code`, polled every ms, bounded
 * by `boundMs`.
 */
export async function timeToReject(
  verify: () => Promise<unknown>,
  code: string,
  boundMs = 5000,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    try {
      await verify();
    } catch (err) {
      if ((err as { code?: unknown }).code !== code) throw err;
      return performance.now() - started;
    }
    if (performance.now() - started > boundMs) {
      throw new Error(`${code} not seen within ${boundMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Median and maximum of `ms`, formatted for a diagnostic. */
export function medianMax(ms: readonly number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median =
    sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return `median ${median.toFixed(2)} ms, max ${sorted.at(-1)!.toFixed(2)} ms (n = ${ms.length})`;
}
