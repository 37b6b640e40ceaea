/**
 * Shared set-up of the service tests: a service over real HTTP on loopback with an SQLite
 * store and a simulated PKI, and evidence bound to a nonce and a workload key.
 */
import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadAnchorStore } from '../../endorsements/anchors.js';
import {
  openSimulatedPki,
  simulateNitro,
  simulateSnp,
  simulateTdx,
  type SimulatedPki,
} from '../../simulators/index.js';
import { bindingReportData, jwkThumbprint } from '../../verifier/binding.js';
import { createService } from '../../verifier/service/index.js';
import type { ProvenanceOptions } from '../../verifier/service/provenance.js';
import { openStore, type Store } from '../../verifier/store/index.js';

export const PKI_CREATED = new Date('2025-01-01T00:00:00Z');
export const NOW = new Date('2025-06-01T00:00:00Z');
export const b64u = (b: Uint8Array | string): string => Buffer.from(b).toString('base64url');

export type Platform = 'tdx' | 'sev-snp' | 'nitro';

export interface Workload {
  jwk: JsonWebKey & { alg: string };
  spki: Uint8Array;
}

export function workloadKey(): Workload {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as JsonWebKey), alg: 'ES256' };
  return { jwk, spki: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })) };
}

/** A CMW collection with evidence bound to `nonce` and `key`. */
export function evidenceCmw(
  pki: SimulatedPki,
  platform: Platform,
  nonce: string,
  key: Workload,
  extra: { debug?: boolean; mrtd?: Uint8Array } = {},
): Record<string, unknown> {
  const nonceBytes = new Uint8Array(Buffer.from(nonce, 'base64url'));
  const reportData = bindingReportData(nonceBytes, jwkThumbprint(key.jwk));
  const cmw: Record<string, unknown> = { __cmwc_t: 'tag:twi.dev,2026:evidence' };
  if (platform === 'tdx') {
    const sim = simulateTdx(pki.intel(), {
      seed: 'svc-td',
      now: NOW,
      reportData,
      ...(extra.debug !== undefined && { debug: extra.debug }),
      ...(extra.mrtd && { mrTd: extra.mrtd }),
    });
    cmw.tdx = ['application/vnd.twi.tdx-quote', b64u(sim.quote), 4];
    cmw.collateral = [
      'application/vnd.twi.tdx-collateral+json',
      b64u(JSON.stringify(sim.collateral)),
      2,
    ];
  } else if (platform === 'sev-snp') {
    const sim = simulateSnp(pki.amd('Genoa'), { seed: 'svc-snp', reportData, debug: extra.debug });
    cmw.snp = ['application/vnd.twi.sev-snp-report', b64u(sim.report), 4];
    cmw.certs = ['application/vnd.twi.sev-snp-certs', b64u(sim.certTable), 2];
  } else {
    const sim = simulateNitro(pki.nitro(), {
      now: NOW,
      seed: 'svc-nitro',
      nonce: nonceBytes,
      publicKey: key.spki,
      userData: reportData,
      debug: extra.debug,
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
}): Promise<TestService> {
  const dir = mkdtempSync(join(tmpdir(), `${o.seed}-`));
  const pki = await openSimulatedPki(join(dir, 'pki'), { seed: o.seed, now: PKI_CREATED });
  const store = await openStore('sqlite:' + join(dir, 'twi.db'));
  const app = await createService({
    store,
    anchors: loadAnchorStore([join(dir, 'pki', 'roots')]),
    issuer: 'https://verifier.example',
    trustDomain: 'example.org',
    now: o.clock,
    logLevel: 'silent',
    ...(o.adminToken !== undefined && { adminToken: o.adminToken }),
    ...(o.provenance && { provenance: o.provenance }),
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
