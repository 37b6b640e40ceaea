/**
 * Load runner of the verifier service (issue 5 "Bad input and load"): one or two verifier
 * instances in child processes on loopback (two share one PostgreSQL schema), and a fixed
 * number of virtual users that each loop challenge → simulated Nitro evidence bound to the
 * nonce → attest, the challenges going round-robin across the instances. Every 50th request
 * also replays a nonce that was already accepted, to the other instance, which must answer
 * 409 `ERR_NONCE_REUSED`. Bounded in time; afterwards the store is checked (credentials =
 * successes, no nonce accepted twice), the children are stopped and the schema dropped.
 *
 * Usage: `node dist/test/load/attest-load.js [--seconds 60] [--store sqlite|postgres]
 * [--instances 1|2] [--concurrency 16] [--json FILE]`. PostgreSQL is `$TWI_PG_URL` or
 * `postgres://postgres@127.0.0.1:5432/test`.
 *
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startInstance, summariseRss, type Instance, type RssSummary } from './instances.js';
import { dropSchema, postgresLedger, sqliteLedger, type LedgerCounts } from './ledger.js';
import {
  createLoadPki,
  evidenceCmw,
  nitroDocument,
  workloadKey,
  type LoadPki,
  type LoadWorkloadKey,
} from './nitro-evidence.js';
import { summariseLatency, type LatencySummary } from './stats.js';

/** Options of {@link runAttestLoad}. */
export interface LoadOptions {
  readonly seconds: number;
  readonly store: 'sqlite' | 'postgres';
  readonly instances: number;
  readonly concurrency: number;
  /** Every `replayEvery`-th request is followed by a replay (default 50). */
  readonly replayEvery?: number;
  /** PostgreSQL URL (default `$TWI_PG_URL` or the local test database). */
  readonly postgresUrl?: string;
}

/** Outcome of a load run. */
export interface LoadReport {
  readonly options: Required<LoadOptions>;
  readonly elapsedSeconds: number;
  readonly requests: number;
  readonly successes: number;
  readonly requestsPerSecond: number;
  /** Failures by `status code` (or `network NAME`). */
  readonly errors: Readonly<Record<string, number>>;
  readonly errorCount: number;
  /** `POST /v1/attest` latency. */
  readonly attestMs: LatencySummary;
  /** Whole flow latency: challenge + simulation + attest. */
  readonly flowMs: LatencySummary;
  /** Simulation time in the load process, per request and as a share of the run's wall time. */
  readonly client: { readonly simulateMsPerRequest: number; readonly loadCpuShare: number };
  readonly replays: {
    readonly sent: number;
    readonly refused: number;
    readonly accepted: number;
    readonly other: Readonly<Record<string, number>>;
  };
  readonly ledger: LedgerCounts;
  /** Nonces the store shows accepted twice (credentials for one nonce − 1, summed). */
  readonly doubleAccepted: number;
  readonly rss: readonly RssSummary[];
  /** All checks passed: no error, no double accept, every replay refused, ledger = successes. */
  readonly ok: boolean;
}

const DEFAULT_PG = 'postgres://postgres@127.0.0.1:5432/test';
const REQUEST_TIMEOUT_MS = 10_000;

interface Tally {
  requests: number;
  successes: number;
  errors: Record<string, number>;
  attestMs: number[];
  flowMs: number[];
  simulateMs: number;
  accepted: string[];
  replays: { sent: number; refused: number; accepted: number; other: Record<string, number> };
}

const bump = (m: Record<string, number>, k: string): void => void (m[k] = (m[k] ?? 0) + 1);

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

function failure(status: number, json: unknown): string {
  const code = (json as { code?: unknown } | null)?.code;
  return `${status} ${typeof code === 'string' ? code : 'no-code'}`;
}

function networkFailure(err: unknown): string {
  const e = err as { name?: string; cause?: { code?: string } };
  return `network ${e.cause?.code ?? e.name ?? 'error'}`;
}

/** Attest request with evidence freshly simulated for `nonce`; adds the simulation time. */
function attestBody(pki: LoadPki, nonce: string, key: LoadWorkloadKey, t: Tally): unknown {
  const started = performance.now();
  const evidence = evidenceCmw(nitroDocument(pki, nonce, key));
  t.simulateMs += performance.now() - started;
  return { nonce, evidence, key: key.jwk };
}

async function replay(pki: LoadPki, base: string, key: LoadWorkloadKey, t: Tally): Promise<void> {
  const nonce = t.accepted[Math.floor(Math.random() * t.accepted.length)]!;
  t.replays.sent++;
  try {
    const r = await post(base + '/v1/attest', attestBody(pki, nonce, key, t));
    const code = (r.json as { code?: unknown } | null)?.code;
    if (r.status === 409 && code === 'ERR_NONCE_REUSED') t.replays.refused++;
    else if (r.status === 200) t.replays.accepted++;
    else bump(t.replays.other, failure(r.status, r.json));
  } catch (err) {
    bump(t.replays.other, networkFailure(err));
  }
}

async function virtualUser(
  pki: LoadPki,
  urls: readonly string[],
  deadline: number,
  replayEvery: number,
  t: Tally,
): Promise<void> {
  const key = workloadKey();
  while (performance.now() < deadline) {
    const n = t.requests++;
    const which = n % urls.length;
    const base = urls[which]!;
    const started = performance.now();
    try {
      const c = await post(base + '/v1/challenge');
      if (c.status !== 200) {
        bump(t.errors, 'challenge ' + failure(c.status, c.json));
        continue;
      }
      const nonce = (c.json as { nonce: string }).nonce;
      const body = attestBody(pki, nonce, key, t);
      const sent = performance.now();
      const r = await post(base + '/v1/attest', body);
      const done = performance.now();
      if (r.status === 200) {
        t.successes++;
        t.attestMs.push(done - sent);
        t.flowMs.push(done - started);
        if (t.accepted.length < 10_000) t.accepted.push(nonce);
        else t.accepted[n % t.accepted.length] = nonce;
      } else {
        bump(t.errors, failure(r.status, r.json));
      }
    } catch (err) {
      bump(t.errors, networkFailure(err));
    }
    if (n % replayEvery === replayEvery - 1 && t.accepted.length > 0) {
      await replay(pki, urls[(which + 1) % urls.length]!, key, t);
    }
  }
}

function resolveOptions(o: LoadOptions): Required<LoadOptions> {
  const r: Required<LoadOptions> = {
    replayEvery: 50,
    postgresUrl: process.env.TWI_PG_URL ?? DEFAULT_PG,
    ...o,
  };
  if (!(r.seconds > 0)) throw new RangeError('--seconds must be > 0');
  if (!Number.isInteger(r.instances) || r.instances < 1) throw new RangeError('--instances ≥ 1');
  if (!Number.isInteger(r.concurrency) || r.concurrency < 1) {
    throw new RangeError('--concurrency ≥ 1');
  }
  if (r.store !== 'sqlite' && r.store !== 'postgres')
    throw new TypeError('--store sqlite|postgres');
  return r;
}

/**
 * Runs one bounded load test (see the module notes) and returns its measurements; the
 * instances are stopped, the temp directory removed and the schema dropped in every case.
 *
 * @example
 * ```ts
 * const r = await runAttestLoad({ seconds: 3, store: 'sqlite', instances: 1, concurrency: 8 });
 * r.ok; // true
 * ```
 */
export async function runAttestLoad(options: LoadOptions): Promise<LoadReport> {
  const o = resolveOptions(options);
  const dir = mkdtempSync(join(tmpdir(), 'twi-load-'));
  const schema = `twi_load_${process.pid}_${Date.now().toString(36)}`;
  const store =
    o.store === 'sqlite'
      ? { url: 'sqlite:' + join(dir, 'twi.db') }
      : { url: o.postgresUrl, schema };
  const instances: Instance[] = [];
  try {
    const pki = createLoadPki(dir);
    // One after the other, so that the first creates the schema and the signing key.
    for (let i = 0; i < o.instances; i++) instances.push(await startInstance(store, pki.rootsDir));
    const urls = instances.map((i) => i.url);
    const t: Tally = {
      requests: 0,
      successes: 0,
      errors: {},
      attestMs: [],
      flowMs: [],
      simulateMs: 0,
      accepted: [],
      replays: { sent: 0, refused: 0, accepted: 0, other: {} },
    };
    const cpu = process.cpuUsage();
    const started = performance.now();
    const deadline = started + o.seconds * 1000;
    await Promise.all(
      Array.from({ length: o.concurrency }, () =>
        virtualUser(pki, urls, deadline, o.replayEvery, t),
      ),
    );
    const elapsed = (performance.now() - started) / 1000;
    const usedCpu = process.cpuUsage(cpu);
    await Promise.all(instances.map((i) => i.stop()));
    const ledger =
      o.store === 'sqlite'
        ? sqliteLedger(join(dir, 'twi.db'))
        : await postgresLedger(o.postgresUrl, schema);
    const errorCount = Object.values(t.errors).reduce((a, b) => a + b, 0);
    const doubleAccepted = ledger.credentials - ledger.distinctNonces;
    const ok =
      errorCount === 0 &&
      doubleAccepted === 0 &&
      t.replays.accepted === 0 &&
      t.replays.refused === t.replays.sent &&
      ledger.credentials === t.successes;
    return {
      options: o,
      elapsedSeconds: Math.round(elapsed * 100) / 100,
      requests: t.successes + errorCount,
      successes: t.successes,
      requestsPerSecond: Math.round((t.successes / elapsed) * 10) / 10,
      errors: t.errors,
      errorCount,
      attestMs: summariseLatency(t.attestMs),
      flowMs: summariseLatency(t.flowMs),
      client: {
        simulateMsPerRequest:
          Math.round((t.simulateMs / Math.max(1, t.successes + t.replays.sent)) * 100) / 100,
        loadCpuShare:
          Math.round(((usedCpu.user + usedCpu.system) / 1000 / (elapsed * 1000)) * 100) / 100,
      },
      replays: t.replays,
      ledger,
      doubleAccepted,
      rss: instances.map((i) => summariseRss(i.rss)),
      ok,
    };
  } finally {
    await Promise.all(instances.map((i) => i.stop()));
    if (o.store === 'postgres') await dropSchema(o.postgresUrl, schema).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A human-readable summary of `r`. */
export function formatLoadReport(r: LoadReport): string {
  const o = r.options;
  const rss = r.rss
    .map(
      (s, i) =>
        `#${i + 1} ${s.startMiB} → ${s.midMiB} → ${s.endMiB} MiB (max ${s.maxMiB}, ${s.samples} samples)`,
    )
    .join('; ');
  return [
    `attest load: ${o.store}, ${o.instances} instance(s), concurrency ${o.concurrency}, ${r.elapsedSeconds} s`,
    `  successes        ${r.successes} (${r.requestsPerSecond} req/s)`,
    `  attest latency   p50 ${r.attestMs.p50} ms, p90 ${r.attestMs.p90} ms, p99 ${r.attestMs.p99} ms, max ${r.attestMs.max} ms`,
    `  flow latency     p50 ${r.flowMs.p50} ms, p99 ${r.flowMs.p99} ms (challenge + simulate + attest)`,
    `  errors           ${r.errorCount} ${JSON.stringify(r.errors)}`,
    `  replays          ${r.replays.sent} sent, ${r.replays.refused} refused (409), ${r.replays.accepted} accepted, other ${JSON.stringify(r.replays.other)}`,
    `  ledger           ${r.ledger.credentials} credentials, ${r.ledger.distinctNonces} distinct nonces, ${r.ledger.usedNonces} used nonces; double-accepted ${r.doubleAccepted}`,
    `  client           ${r.client.simulateMsPerRequest} ms simulation per request; load process CPU ${Math.round(r.client.loadCpuShare * 100)} % of one core`,
    `  server RSS       ${rss}`,
    `  result           ${r.ok ? 'OK' : 'FAILED'}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '60' },
      store: { type: 'string', default: 'sqlite' },
      instances: { type: 'string', default: '1' },
      concurrency: { type: 'string', default: '16' },
      json: { type: 'string' },
    },
    strict: true,
  });
  const report = await runAttestLoad({
    seconds: Number(values.seconds),
    store: values.store as LoadOptions['store'],
    instances: Number(values.instances),
    concurrency: Number(values.concurrency),
  });
  console.log(formatLoadReport(report));
  if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2) + '\n');
  process.exitCode = report.ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
