/**
 * The certificate-issuance part of `npm run bench` (issue 14 "Done when"), two pairs measured
 * in the same run, their subjects alternating round by round ({@link measureGroup}) so that a
 * load shift on a shared machine touches both sides of a ratio alike:
 *
 * - **attest with a CSR vs without**: the whole flow (challenge → simulated Nitro evidence
 *   bound to the nonce and a P-256 workload key → `POST /v1/attest`) against one verifier
 *   instance in a child process (SQLite, the generated ES256 root CA), as `attest-bench.ts`
 *   drives it, at a fixed concurrency; one side sends a PKCS#10 request for the bound key and
 *   must get a certificate chain back, the other sends none. The ratio is what issuing the
 *   X.509 certificate costs on top of the WIT.
 * - **mutual TLS vs plain TLS handshakes**: a new connection per handshake, no session
 *   resumption, both ends in this process on loopback. Mutual TLS goes through the
 *   `wimse/mtls.ts` helpers (`createMtlsTlsServer`, `mtlsConnect`) with ECDSA P-256 workload
 *   certificates issued by the CA core of `service/ca/`; plain TLS is node `tls`, server
 *   authentication only, with the same server certificate and key. A handshake counts once the
 *   server has admitted the socket and its one-byte greeting reached the client (the same on
 *   both sides).
 *
 * `test/bench/run.ts` calls {@link runX509Bench} after the attest flow. Standalone: `node
 * dist/test/bench/x509-bench.js [--seconds S] [--concurrency N] [--quick] [--json FILE]`, the
 * JSON going to `bench-results-x509.json` in the project root by default.
 *
 * @module
 */
import { type JsonWebKey, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import tls from 'node:tls';
import { jwkThumbprint } from '../../wire/binding.js';
import { createMtlsTlsServer, mtlsConnect } from '../../wimse/mtls.js';
import type { X509Bundle } from '../../wimse/x509-peer.js';
import { projectRoot } from '../helpers/vectors.js';
import { startInstance, type Instance } from '../load/instances.js';
import {
  createLoadPki,
  evidenceCmw,
  nitroDocument,
  type LoadPki,
  type LoadWorkloadKey,
} from '../load/nitro-evidence.js';
import { b64u, makeCsr } from '../service/ca/fixtures.js';
import { bundleOf, issue, newCa, type Workload } from '../wimse/mtls-fixtures.js';
import { localSubject, measureGroup } from './timing.js';
import type { Rate, RoundResult, Subject, TimingPlan } from './timing.js';
import { newKeyPair } from '../../common/key-pair.js';

/** The attest pair: with and without a CSR, same service instance, same evidence kind. */
export interface X509AttestResults {
  readonly evidence: 'nitro';
  readonly store: 'sqlite';
  readonly concurrency: number;
  /** Whole flows per second (challenge + simulation + attest) with a `csr`. */
  readonly withCsr: Rate;
  /** The same without a `csr`. */
  readonly withoutCsr: Rate;
  /** `withCsr.opsPerSec ÷ withoutCsr.opsPerSec`. */
  readonly ratio: number;
  /** Successful flows counted on each side (warm-up included). */
  readonly successes: { readonly withCsr: number; readonly withoutCsr: number };
  /** Failures by `side status code` (or `side network NAME`). */
  readonly errors: Readonly<Record<string, number>>;
  /** No failure, and every CSR answer carried a certificate chain (and no other did). */
  readonly ok: boolean;
}

/** The handshake pair: mutual TLS through the wimse helpers vs plain server-auth TLS. */
export interface X509TlsResults {
  readonly keyType: 'ECDSA P-256';
  /** TLS version negotiated (the same on both sides). */
  readonly protocol: string;
  /** Mutual-TLS handshakes per second (`createMtlsTlsServer` + `mtlsConnect`). */
  readonly mtls: Rate;
  /** Plain TLS handshakes per second (node `tls`, server authentication only). */
  readonly plain: Rate;
  /** `mtls.opsPerSec ÷ plain.opsPerSec`. */
  readonly ratio: number;
  /**
   * For reading the ratio: node `tls` mutual TLS (client certificate, chain checks only, no
   * wimse checks), same certificates. mTLS ÷ this is what the helpers add on top of the protocol.
   */
  readonly nodeMutual: Rate;
}

/** What the x509 bench writes (standalone, and under `x509` in `bench-results.json`). */
export interface X509BenchResults {
  readonly schema: 'twi-bench-x509/1';
  readonly mode: 'quick' | 'full';
  readonly machine: { readonly cpu: string; readonly cores: number; readonly node: string };
  readonly plan: TimingPlan;
  readonly attest: X509AttestResults;
  readonly tls: X509TlsResults;
}

/** Options of {@link runX509Bench}. */
export interface X509BenchOptions {
  /** Measured seconds per subject (rounds share it; warm-up on top). */
  readonly seconds: number;
  /** Virtual users of the attest pair. */
  readonly concurrency: number;
  /** Two rounds instead of five. */
  readonly quick: boolean;
}

const REQUEST_TIMEOUT_MS = 10_000;

/** The timing plan of `o`: the seconds split over the rounds, a warm-up of one round. */
export function x509Plan(o: Pick<X509BenchOptions, 'seconds' | 'quick'>): TimingPlan {
  const rounds = o.quick ? 2 : 5;
  const roundMs = Math.max(100, Math.round((o.seconds * 1000) / rounds));
  return { warmupMs: roundMs, rounds, roundMs };
}

interface WorkloadKeyPair extends LoadWorkloadKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

function workloadKeyPair(): WorkloadKeyPair {
  const { publicKey, privateKey } = newKeyPair('ec', { namedCurve: 'P-256' });
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as JsonWebKey), alg: 'ES256' };
  const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  return { jwk, spki, jkt: jwkThumbprint(jwk), privateKey, publicKey };
}

async function post(url: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const r = await fetch(url, {
    method: 'POST',
    ...(body !== undefined && {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return { status: r.status, json: await r.json() };
}

const bump = (m: Record<string, number>, k: string): void => void (m[k] = (m[k] ?? 0) + 1);

interface AttestTally {
  successes: number;
  missingChain: number;
  errors: Record<string, number>;
}

/**
 * One side of the attest pair: `concurrency` virtual users looping challenge → evidence →
 * attest (with `csr` when given) until the time box ends; only successes count.
 */
function attestSubject(
  id: string,
  base: string,
  pki: LoadPki,
  concurrency: number,
  key: LoadWorkloadKey,
  csr: string | undefined,
  t: AttestTally,
): Subject {
  const once = async (): Promise<boolean> => {
    try {
      const c = await post(base + '/v1/challenge');
      if (c.status !== 200) {
        bump(t.errors, `${id} challenge ${c.status}`);
        return false;
      }
      const nonce = (c.json as { nonce: string }).nonce;
      const r = await post(base + '/v1/attest', {
        nonce,
        evidence: evidenceCmw(nitroDocument(pki, nonce, key)),
        key: key.jwk,
        ...(csr !== undefined && { csr }),
      });
      if (r.status !== 200) {
        const code = (r.json as { code?: unknown } | null)?.code;
        bump(t.errors, `${id} ${r.status} ${typeof code === 'string' ? code : 'no-code'}`);
        return false;
      }
      const chain = (r.json as { x509?: { chain?: unknown[] } }).x509?.chain;
      if ((csr !== undefined) !== (Array.isArray(chain) && chain.length > 0)) t.missingChain++;
      return true;
    } catch (err) {
      const e = err as { name?: string; cause?: { code?: string } };
      bump(t.errors, `${id} network ${e.cause?.code ?? e.name ?? 'error'}`);
      return false;
    }
  };
  return {
    id,
    async run(ms: number): Promise<RoundResult> {
      const start = performance.now();
      const end = start + ms;
      let ops = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < end) if (await once()) ops++;
        }),
      );
      t.successes += ops;
      return { ops, ms: performance.now() - start };
    },
  };
}

/** The attest pair against one verifier instance (see the module notes). */
export async function measureAttestPair(
  plan: TimingPlan,
  concurrency: number,
): Promise<X509AttestResults> {
  const dir = mkdtempSync(join(tmpdir(), 'twi-bench-x509-'));
  let instance: Instance | undefined;
  try {
    const pki = createLoadPki(dir);
    instance = await startInstance({ url: 'sqlite:' + join(dir, 'twi.db') }, pki.rootsDir);
    const withKey = workloadKeyPair();
    const csr = b64u(makeCsr(withKey));
    const tallies = {
      withCsr: { successes: 0, missingChain: 0, errors: {} } as AttestTally,
      withoutCsr: { successes: 0, missingChain: 0, errors: {} } as AttestTally,
    };
    // The CSR side uses the key its CSR was made for (the key the evidence binds).
    const subjects = [
      attestSubject('attest+csr', instance.url, pki, concurrency, withKey, csr, tallies.withCsr),
      attestSubject(
        'attest',
        instance.url,
        pki,
        concurrency,
        workloadKeyPair(),
        undefined,
        tallies.withoutCsr,
      ),
    ];
    const rates = await measureGroup(subjects, plan);
    const withCsr = rates.get('attest+csr')!;
    const withoutCsr = rates.get('attest')!;
    const errors = { ...tallies.withCsr.errors, ...tallies.withoutCsr.errors };
    const missing = tallies.withCsr.missingChain + tallies.withoutCsr.missingChain;
    if (missing > 0) errors['certificate chain missing or unexpected'] = missing;
    return {
      evidence: 'nitro',
      store: 'sqlite',
      concurrency,
      withCsr,
      withoutCsr,
      ratio: ratioOf(withCsr, withoutCsr),
      successes: {
        withCsr: tallies.withCsr.successes,
        withoutCsr: tallies.withoutCsr.successes,
      },
      errors,
      ok: Object.keys(errors).length === 0,
    };
  } finally {
    await instance?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function ratioOf(a: Rate, b: Rate): number {
  return Math.round((a.opsPerSec / b.opsPerSec) * 1000) / 1000;
}

function listen(server: tls.Server): Promise<number> {
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => done((server.address() as AddressInfo).port));
  });
}

function closeServer(server: tls.Server): Promise<void> {
  return new Promise((done) => server.close(() => done()));
}

/**
 * One handshake: `connect` opens a new connection, which counts once the server's one-byte
 * greeting arrives (so the server has finished, and for mTLS admitted, its side); then closed.
 */
function handshake(connect: () => tls.TLSSocket, protocol: { seen?: string }): Promise<void> {
  return new Promise((done, fail) => {
    const socket = connect();
    socket.once('error', fail);
    socket.once('data', () => {
      protocol.seen ??= socket.getProtocol() ?? 'unknown';
      socket.destroy();
      done();
    });
  });
}

/** The handshake pair (see the module notes). */
export async function measureTlsPair(plan: TimingPlan): Promise<X509TlsResults> {
  const ca = await newCa('twi bench CA');
  const server: Workload = await issue(ca, 'spiffe://bench.example/ns/bench/sa/server');
  const client: Workload = await issue(ca, 'spiffe://bench.example/ns/bench/sa/client');
  const bundle: X509Bundle = bundleOf([ca]);
  const greet = (socket: tls.TLSSocket): void => {
    socket.on('error', () => undefined);
    socket.end('k');
  };
  const mtlsServer = createMtlsTlsServer(
    { bundle, allow: { ids: [client.id] }, cert: server.cert, key: server.key },
    greet,
  );
  const plainServer = tls.createServer({ cert: server.cert, key: server.key }, greet);
  const caPem = `-----BEGIN CERTIFICATE-----\n${Buffer.from(ca.certificate)
    .toString('base64')
    .replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
  const mutualServer = tls.createServer(
    { cert: server.cert, key: server.key, ca: caPem, requestCert: true, rejectUnauthorized: true },
    greet,
  );
  try {
    const mtlsPort = await listen(mtlsServer);
    const plainPort = await listen(plainServer);
    const mutualPort = await listen(mutualServer);
    const seen = {
      mtls: {} as { seen?: string },
      plain: {} as { seen?: string },
      mutual: {} as { seen?: string },
    };
    const mtlsOnce = (): Promise<void> =>
      handshake(
        () =>
          mtlsConnect({
            bundle,
            allow: { ids: [server.id] },
            cert: client.cert,
            key: client.key,
            host: '127.0.0.1',
            port: mtlsPort,
          }),
        seen.mtls,
      );
    const plainOnce = (): Promise<void> =>
      handshake(
        () =>
          tls.connect({
            host: '127.0.0.1',
            port: plainPort,
            ca: caPem,
            rejectUnauthorized: true,
            // The workload certificate names a URI, not a host: the chain check stays on.
            checkServerIdentity: () => undefined,
          }),
        seen.plain,
      );
    const mutualOnce = (): Promise<void> =>
      handshake(
        () =>
          tls.connect({
            host: '127.0.0.1',
            port: mutualPort,
            ca: caPem,
            cert: client.cert,
            key: client.key,
            rejectUnauthorized: true,
            checkServerIdentity: () => undefined,
          }),
        seen.mutual,
      );
    const rates = await measureGroup(
      [
        localSubject('mtls', mtlsOnce, true),
        localSubject('plain', plainOnce, true),
        localSubject('node-mutual', mutualOnce, true),
      ],
      plan,
    );
    if (seen.mtls.seen !== seen.plain.seen || seen.mutual.seen !== seen.plain.seen) {
      throw new Error(`TLS versions differ: mTLS ${seen.mtls.seen}, plain ${seen.plain.seen}`);
    }
    const mtls = rates.get('mtls')!;
    const plain = rates.get('plain')!;
    return {
      keyType: 'ECDSA P-256',
      protocol: seen.mtls.seen ?? 'unknown',
      mtls,
      plain,
      ratio: ratioOf(mtls, plain),
      nodeMutual: rates.get('node-mutual')!,
    };
  } finally {
    await Promise.all([mtlsServer, plainServer, mutualServer].map(closeServer));
  }
}

/**
 * Runs both pairs: the attest pair, then the handshake pair.
 *
 * @example
 * ```ts
 * const r = await runX509Bench({ seconds: 1, concurrency: 4, quick: true });
 * r.attest.ratio; // attest-with-CSR/s ÷ attest-without/s
 * r.tls.ratio; // mTLS handshakes/s ÷ plain TLS handshakes/s
 * ```
 */
export async function runX509Bench(o: X509BenchOptions): Promise<X509BenchResults> {
  if (!(o.seconds > 0)) throw new RangeError('--seconds must be > 0');
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1) {
    throw new RangeError('--concurrency must be ≥ 1');
  }
  const plan = x509Plan(o);
  const attest = await measureAttestPair(plan, o.concurrency);
  const tlsPair = await measureTlsPair(plan);
  return {
    schema: 'twi-bench-x509/1',
    mode: o.quick ? 'quick' : 'full',
    machine: {
      cpu: cpus()[0]?.model.trim() ?? 'unknown',
      cores: availableParallelism(),
      node: process.version,
    },
    plan,
    attest,
    tls: tlsPair,
  };
}

/** The two comparison tables of `r`. */
export function formatX509Bench(r: X509BenchResults): string {
  const a = r.attest;
  const t = r.tls;
  const rows = [
    ['', 'ops/s (median)', 'rounds'],
    [`attest with csr (HTTP, SQLite, c=${a.concurrency})`, a.withCsr],
    [`attest without csr (same instance)`, a.withoutCsr],
    [`mutual TLS handshake (wimse/mtls.ts, ${t.keyType}, ${t.protocol})`, t.mtls],
    [`plain TLS handshake (node tls, server auth, same key type)`, t.plain],
    [`reference: node tls mutual handshake (chain checks only)`, t.nodeMutual],
  ].map((row) =>
    typeof row[1] === 'string'
      ? (row as string[])
      : [row[0] as string, String((row[1] as Rate).opsPerSec), (row[1] as Rate).rounds.join(' ')],
  );
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]): string =>
    row
      .map((cell, c) => (c === 1 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [
    `machine: ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}; plan ${JSON.stringify(r.plan)}`,
    ...rows.map(line),
    `attest with csr / without: ${a.ratio}; successes ${a.successes.withCsr} / ${a.successes.withoutCsr}; ` +
      `${a.ok ? 'OK' : `FAILED ${JSON.stringify(a.errors)}`}`,
    `mTLS / plain TLS handshakes: ${t.ratio} (node mutual / plain: ${ratioOf(t.nodeMutual, t.plain)})`,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string' },
      concurrency: { type: 'string' },
      quick: { type: 'boolean', default: false },
      json: { type: 'string', default: join(projectRoot, 'bench-results-x509.json') },
    },
    strict: true,
  });
  const quick = values.quick;
  const results = await runX509Bench({
    seconds: values.seconds === undefined ? (quick ? 1 : 10) : Number(values.seconds),
    concurrency: values.concurrency === undefined ? (quick ? 4 : 16) : Number(values.concurrency),
    quick,
  });
  console.log(formatX509Bench(results));
  writeFileSync(resolve(values.json), JSON.stringify(results, null, 2) + '\n');
  process.exitCode = results.attest.ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
