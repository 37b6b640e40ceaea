/**
 * The shim part of `npm run bench` (issue 7): time from `twi shim --emulate P` start to the
 * first credential served on its socket (verifier on loopback, emulated device, real native
 * addon), against the verifier's own `/v1/attest` time for that attestation (from its
 * metrics, same run); and the WPT signing rate through the socket, against signing the same
 * WPT in-process with a native key (the floor the socket and HTTP add to), alternating rounds;
 * and the SPIFFE Workload API's `FetchJWTSVID` (gRPC over its Unix socket) against the local
 * API's `GET /v1/wit` (HTTP over its Unix socket), the same token from the same shim, alternating
 * rounds.
 *
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey } from '../../native/keys.js';
import { createShimClient, createWorkloadApiClient } from '../../shim/client.js';
import { signCompact, tokenHash } from '../../wimse/jws.js';
import { startShimProcess, startVerifier, waitForCredential } from '../shim/setup.js';
import type { TestVerifier } from '../shim/setup.js';
import { median, round1, timeBoxAsync } from './timing.js';

const rateOf = (r: { ops: number; ms: number }): number => (r.ops * 1000) / r.ms;

/** One platform's figures. */
export interface ShimBenchRow {
  readonly platform: 'tdx' | 'sev-snp' | 'nitro';
  /** Start of `twi shim` to the first `GET /v1/wit` answered, per start (ms). */
  readonly startToCredentialMs: readonly number[];
  /** The verifier's `/v1/attest` handling time for each of those starts (ms). */
  readonly verifierAttestMs: readonly number[];
  readonly medianStartMs: number;
  readonly medianAttestMs: number;
  /** medianStartMs ÷ medianAttestMs. */
  readonly startToAttestRatio: number;
  /** WPTs per second through the socket (sequential client), per round. */
  readonly wptSocketRounds: readonly number[];
  /** The same WPT signed in-process with a native key, per round. */
  readonly wptInProcessRounds: readonly number[];
  readonly wptSocketPerSec: number;
  readonly wptInProcessPerSec: number;
  /** socket ÷ in-process. */
  readonly wptRatio: number;
  /** Workload API `FetchJWTSVID` calls per second (sequential client), per round. */
  readonly jwtSvidRounds: readonly number[];
  /** The local API's `GET /v1/wit` per second (sequential client), per round. */
  readonly httpWitRounds: readonly number[];
  readonly jwtSvidPerSec: number;
  readonly httpWitPerSec: number;
  /** FetchJWTSVID ÷ GET /v1/wit. */
  readonly jwtSvidRatio: number;
}

/** What the shim bench ran. */
export interface ShimBenchResults {
  readonly starts: number;
  readonly wptRounds: number;
  readonly wptRoundMs: number;
  readonly rows: ShimBenchRow[];
}

/** The verifier's `/v1/attest` handling time so far (its Prometheus summary): sum and count. */
export async function attestSeconds(v: TestVerifier): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`${v.base}/metrics`)).text();
  const num = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    sum: num('twi_attest_duration_seconds_sum'),
    count: num('twi_attest_duration_seconds_count'),
  };
}

async function oneStart(v: TestVerifier, platform: ShimBenchRow['platform'], dir: string) {
  const before = await attestSeconds(v);
  const t0 = process.hrtime.bigint();
  const spiffe = join(dir, `spiffe-${platform}.sock`);
  const shim = startShimProcess({
    platform,
    verifier: v,
    dir,
    flags: ['--workload-api-socket', spiffe],
  });
  try {
    await waitForCredential(shim);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const after = await attestSeconds(v);
    if (after.count - before.count !== 1) throw new Error('expected exactly one attestation');
    return { shim, spiffe, ms, attestMs: (after.sum - before.sum) * 1000 };
  } catch (err) {
    await shim.stop();
    throw err;
  }
}

async function wptRates(socketPath: string, rounds: number, roundMs: number) {
  const client = createShimClient({ socketPath });
  const aud = 'https://rp.example/v1/bench';
  const wit = (await client.wit()).token;
  const key = generateKey('P-256');
  const claims = () => ({
    aud,
    iat: Math.floor(Date.now() / 1000),
    exp: Math.floor(Date.now() / 1000) + 60,
    jti: 'x'.repeat(22),
    wth: tokenHash(wit),
  });
  const socket: number[] = [];
  const inProcess: number[] = [];
  try {
    // Warm-up (JIT, connection): one round of each, not counted.
    await timeBoxAsync(() => client.wpt({ aud }), roundMs);
    await timeBoxAsync(() => signCompact({ typ: 'wpt+jwt' }, claims(), key, 'ES256'), roundMs);
    for (let i = 0; i < rounds; i++) {
      // Alternate which goes first, so load shifts touch both alike.
      const pair = [
        async () => socket.push(rateOf(await timeBoxAsync(() => client.wpt({ aud }), roundMs))),
        async () =>
          inProcess.push(
            rateOf(
              await timeBoxAsync(
                () => signCompact({ typ: 'wpt+jwt' }, claims(), key, 'ES256'),
                roundMs,
              ),
            ),
          ),
      ];
      if (i % 2 === 1) pair.reverse();
      for (const f of pair) await f();
    }
  } finally {
    key.dispose();
  }
  return { socket, inProcess };
}

/** FetchJWTSVID and GET /v1/wit rates of one shim, alternating rounds after a warm-up of each. */
async function jwtSvidRates(socketPath: string, spiffe: string, rounds: number, roundMs: number) {
  const local = createShimClient({ socketPath });
  const api = createWorkloadApiClient({ endpoint: spiffe });
  const grpc: number[] = [];
  const http: number[] = [];
  const viaGrpc = () => api.fetchJWTSVID('https://rp.example/v1/bench');
  const viaHttp = () => local.wit();
  try {
    if ((await viaGrpc()).token !== (await viaHttp()).token) {
      throw new Error('the Workload API and the local API serve different tokens');
    }
    await timeBoxAsync(viaGrpc, roundMs);
    await timeBoxAsync(viaHttp, roundMs);
    for (let i = 0; i < rounds; i++) {
      const pair = [
        async () => grpc.push(rateOf(await timeBoxAsync(viaGrpc, roundMs))),
        async () => http.push(rateOf(await timeBoxAsync(viaHttp, roundMs))),
      ];
      if (i % 2 === 1) pair.reverse();
      for (const f of pair) await f();
    }
  } finally {
    api.close();
  }
  return { grpc, http };
}

/** Runs the shim bench for `platforms`; `quick` is one start and short WPT rounds. */
export async function runShimBench(
  platforms: readonly ShimBenchRow['platform'][],
  quick: boolean,
  progress: (line: string) => void,
): Promise<ShimBenchResults> {
  const starts = quick ? 1 : 3;
  const wptRounds = quick ? 2 : 5;
  const wptRoundMs = quick ? 100 : 500;
  const v = await startVerifier({ seed: 'shim-bench' });
  const dir = mkdtempSync(join(tmpdir(), 'twi-shim-bench-'));
  const rows: ShimBenchRow[] = [];
  try {
    for (const platform of platforms) {
      const startMs: number[] = [];
      const attestMs: number[] = [];
      let wpt = { socket: [] as number[], inProcess: [] as number[] };
      let jwt = { grpc: [] as number[], http: [] as number[] };
      for (let i = 0; i < starts; i++) {
        const r = await oneStart(v, platform, dir);
        startMs.push(round1(r.ms));
        attestMs.push(round1(r.attestMs));
        if (i === starts - 1) {
          wpt = await wptRates(r.shim.socket, wptRounds, wptRoundMs);
          jwt = await jwtSvidRates(r.shim.socket, r.spiffe, wptRounds, wptRoundMs);
        }
        await r.shim.stop();
      }
      const medianStartMs = median(startMs);
      const medianAttestMs = median(attestMs);
      const socket = median(wpt.socket);
      const inProcess = median(wpt.inProcess);
      const grpc = median(jwt.grpc);
      const http = median(jwt.http);
      rows.push({
        platform,
        startToCredentialMs: startMs,
        verifierAttestMs: attestMs,
        medianStartMs,
        medianAttestMs,
        startToAttestRatio: round1(medianStartMs / medianAttestMs),
        wptSocketRounds: wpt.socket.map(round1),
        wptInProcessRounds: wpt.inProcess.map(round1),
        wptSocketPerSec: round1(socket),
        wptInProcessPerSec: round1(inProcess),
        wptRatio: Math.round((socket / inProcess) * 1000) / 1000,
        jwtSvidRounds: jwt.grpc.map(round1),
        httpWitRounds: jwt.http.map(round1),
        jwtSvidPerSec: round1(grpc),
        httpWitPerSec: round1(http),
        jwtSvidRatio: Math.round((grpc / http) * 1000) / 1000,
      });
      progress(`  shim: ${platform}`);
    }
  } finally {
    await v.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { starts, wptRounds, wptRoundMs, rows };
}

/** The shim table of the report. */
export function formatShimReport(r: ShimBenchResults): string {
  const lines = [
    `Shim (${r.starts} start(s) per platform; WPT ${r.wptRounds} rounds × ${r.wptRoundMs} ms, medians)`,
    '',
    '| platform | start → credential | verifier attest | ratio | WPT via socket | WPT in-process | socket/in-process |',
    '| -------- | -----------------: | --------------: | ----: | -------------: | -------------: | ----------------: |',
  ];
  for (const row of r.rows) {
    lines.push(
      `| ${row.platform} | ${row.medianStartMs} ms | ${row.medianAttestMs} ms | ${row.startToAttestRatio}× | ` +
        `${Math.round(row.wptSocketPerSec)}/s | ${Math.round(row.wptInProcessPerSec)}/s | ${Math.round(row.wptRatio * 100)} % |`,
    );
  }
  lines.push(
    '',
    `SPIFFE Workload API FetchJWTSVID vs the local API's GET /v1/wit (same shim, same token; ${r.wptRounds} rounds × ${r.wptRoundMs} ms, medians)`,
    '',
    '| platform | FetchJWTSVID (gRPC, UDS) | GET /v1/wit (HTTP, UDS) | gRPC/HTTP |',
    '| -------- | -----------------------: | ----------------------: | --------: |',
  );
  for (const row of r.rows) {
    lines.push(
      `| ${row.platform} | ${Math.round(row.jwtSvidPerSec)}/s | ${Math.round(row.httpWitPerSec)}/s | ${Math.round(row.jwtSvidRatio * 100)} % |`,
    );
  }
  return lines.join('\n');
}
