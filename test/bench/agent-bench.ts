/**
 * The agent-mode part of `npm run bench` (issue 15): one `twi shim --agent` under TDX device
 * emulation, a verifier with a registration per caller uid (`unix:uid:<n>`), and N caller
 * processes under distinct uids asking `GET /v1/wit` on the agent's socket at once. The first
 * round makes the agent attest once per caller; a second round of the same callers is served
 * from its cache, so first − second is the credential cost without process start-up. The
 * reference is the verifier's own `/v1/attest` handling rate for this agent's attestations made
 * one at a time (single callers in turn before the rounds, from its metrics): its appraisal
 * capacity with nothing overlapping. Needs root (callers under other uids); otherwise skipped
 * with a reason.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureFiles, shimCodeFiles } from '../../shim/measure.js';
import { normalizePolicy } from '../../verifier/policy/normalize.js';
import { ADMIN_TOKEN, startShimProcess, startVerifier, waitForCredential } from '../shim/setup.js';
import type { ShimProcess } from '../shim/setup.js';
import { median, round1 } from './timing.js';
import { attestSeconds } from './shim-bench.js';

/** First uid of the callers; N callers use the next N uids (none of them need exist). */
const UID_BASE = 65600;

/** One N's figures. */
export interface AgentBenchRow {
  /** Callers (distinct uids), started at once. */
  readonly workloads: number;
  /** Spawning the N callers to the last one's credential, first round (ms). */
  readonly firstRoundMs: number;
  /** The same, second round (the agent's cache: start-up and the socket only) (ms). */
  readonly cachedRoundMs: number;
  /** workloads ÷ (firstRoundMs − cachedRoundMs). */
  /** Null when the cached round was not faster than the first (nothing measured). */
  readonly credentialsPerSec: number | null;
  /** The verifier's `/v1/attest` handling time per attestation of the first round, mean (ms). */
  readonly verifierAttestMs: number;
  /** credentialsPerSec ÷ the results' verifierSerialPerSec. */
  readonly ratio: number | null;
}

/** What the agent bench ran, or why not. */
export interface AgentBenchResults {
  readonly platform: 'tdx';
  /** Set when the part did not run (e.g. not root). */
  readonly skipped?: string;
  /** The reference: single callers in turn, the verifier's `/v1/attest` time of each (ms). */
  readonly verifierSerialMs: readonly number[];
  /** 1000 ÷ median(verifierSerialMs): attestations per second the verifier's handling allows. */
  readonly verifierSerialPerSec: number;
  readonly rows: AgentBenchRow[];
}

const payload = (jwt: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.trim().split('.')[1]!, 'base64url').toString()) as Record<
    string,
    unknown
  >;

interface Answer {
  status: number;
  jti?: string;
  error?: string;
}

/** `GET /v1/wit` on `socketPath` from a process under `uid`. */
function witAs(uid: number, socketPath: string): Promise<Answer> {
  const code = `
    const req = require('node:http').request({ socketPath: ${JSON.stringify(socketPath)}, path: '/v1/wit' }, (res) => {
      let b = ''; res.on('data', (c) => (b += c));
      res.on('end', () => { let j = {}; try { j = JSON.parse(b); } catch {} process.stdout.write(JSON.stringify({ status: res.statusCode, jti: j.jti })); });
    });
    req.on('error', (e) => process.stdout.write(JSON.stringify({ status: 0, error: e.message })));
    req.end();`;
  const child = spawn(process.execPath, ['-e', code], {
    uid,
    gid: uid,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve) =>
    // 'close', not 'exit': the exit can come before the child's output has been read.
    child.once('close', () => {
      try {
        resolve(JSON.parse(out) as Answer);
      } catch {
        resolve({ status: 0, error: `no answer: ${out}` });
      }
    }),
  );
}

/** Runs the N callers at once; the wall time and their answers. */
async function round(uids: readonly number[], socketPath: string) {
  const t0 = process.hrtime.bigint();
  const answers = await Promise.all(uids.map((u) => witAs(u, socketPath)));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const bad = answers.findIndex((a) => a.status !== 200 || !a.jti);
  if (bad >= 0) {
    const a = answers[bad]!;
    throw new Error(`caller uid ${uids[bad]} got ${a.status} ${a.error ?? ''}`);
  }
  return { ms, jtis: answers.map((a) => a.jti!) };
}

async function waitForLog(s: ShimProcess, re: RegExp, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  let exited = false;
  void s.exited.then(() => (exited = true));
  while (!re.test(s.stderr()) && !exited && Date.now() < until)
    await new Promise((r) => setTimeout(r, 50));
  if (!re.test(s.stderr())) throw new Error(`the agent did not start:\n${s.stderr()}`);
}

/** Runs the agent bench: N = 1, 4, 16 (`quick`: N = 2). */
export async function runAgentBench(
  quick: boolean,
  progress: (line: string) => void,
): Promise<AgentBenchResults> {
  if (process.getuid?.() !== 0) {
    return {
      platform: 'tdx',
      skipped: 'needs root to run the callers under distinct uids',
      verifierSerialMs: [],
      verifierSerialPerSec: 0,
      rows: [],
    };
  }
  const sizes = quick ? [2] : [1, 4, 16];
  const serial = quick ? 1 : 5;
  const digest = Buffer.from(measureFiles(shimCodeFiles()).digest).toString('hex');
  const v = await startVerifier({
    seed: 'agent-bench',
    policy: normalizePolicy({
      id: 'tag:twi.dev,2026:policy/agent-bench',
      platforms: ['tdx'],
      agents: { tdx: { shim: digest } },
    }),
  });
  const dir = mkdtempSync(join(tmpdir(), 'twi-agent-bench-'));
  chmodSync(dir, 0o755);
  const shims: ShimProcess[] = [];
  const rows: AgentBenchRow[] = [];
  let verifierSerialMs: number[] = [];
  let verifierSerialPerSec = NaN;
  try {
    // The emulated TD's measurements, as the verifier saw them for a plain shim of this build.
    const plain = startShimProcess({ platform: 'tdx', verifier: v, dir, name: 'plain' });
    shims.push(plain);
    await waitForCredential(plain);
    const jti = payload(readFileSync(join(plain.files, 'wit.jwt'), 'utf8')).jti as string;
    const td = ((await v.store.credentials.get(jti))!.record as { claims: Record<string, string> })
      .claims;
    await plain.stop();
    // Each N takes fresh uids, so its first round finds nothing cached.
    const total = sizes.reduce((a, b) => a + b, serial);
    const registrations = Array.from({ length: total }, (_, i) => ({
      id: `w${i}`,
      identifier: `spiffe://shim.example/bench/w${i}`,
      platform: 'tdx',
      mrtd: td.mrtd,
      rtmr0: td.rtmr0,
      rtmr1: td.rtmr1,
      rtmr2: td.rtmr2,
      rtmr3: td.rtmr3,
      selectors: [`unix:uid:${UID_BASE + i}`],
    }));
    const put = await fetch(`${v.base}/v1/admin/registrations`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ registrations }),
    });
    if (put.status !== 200) throw new Error(`registrations: ${put.status} ${await put.text()}`);
    const agent = startShimProcess({
      platform: 'tdx',
      verifier: v,
      dir,
      name: 'agent',
      flags: ['--agent'],
      noFiles: true,
    });
    shims.push(agent);
    await waitForLog(agent, /agent serving/);
    // Warm-up: one caller under a uid no registration lists (a 403 costs a full attest, not
    // counted), so the first N does not pay the agent's and the verifier's cold start alone.
    await witAs(UID_BASE + total, agent.socket);
    // The reference: single first credentials in turn, the verifier's handling time of each.
    const serialMs: number[] = [];
    for (let i = 0; i < serial; i++) {
      const before = await attestSeconds(v);
      await round([UID_BASE + i], agent.socket);
      const after = await attestSeconds(v);
      if (after.count - before.count !== 1) throw new Error('expected one attestation');
      serialMs.push(round1((after.sum - before.sum) * 1000));
    }
    verifierSerialMs = serialMs;
    verifierSerialPerSec = 1000 / median(serialMs);
    let next = UID_BASE + serial;
    for (const n of sizes) {
      const uids = Array.from({ length: n }, (_, i) => next + i);
      next += n;
      const before = await attestSeconds(v);
      const first = await round(uids, agent.socket);
      const after = await attestSeconds(v);
      const second = await round(uids, agent.socket);
      if (after.count - before.count !== n) {
        throw new Error(`expected ${n} attestations, saw ${after.count - before.count}`);
      }
      if (second.jtis.some((j, i) => j !== first.jtis[i])) {
        throw new Error('the second round was not served from the cache');
      }
      const attestMs = ((after.sum - before.sum) * 1000) / n;
      // On a loaded machine the cached round can take as long as the first: then the
      // difference measures nothing, and the figure is left out (null in the JSON).
      const perSec = first.ms > second.ms ? (n * 1000) / (first.ms - second.ms) : NaN;
      if (Number.isNaN(perSec))
        progress(`  agent: N = ${n} not measurable (cached round not faster)`);
      rows.push({
        workloads: n,
        firstRoundMs: round1(first.ms),
        cachedRoundMs: round1(second.ms),
        credentialsPerSec: Number.isNaN(perSec) ? null : round1(perSec),
        verifierAttestMs: round1(attestMs),
        ratio: Number.isNaN(perSec)
          ? null
          : Math.round((perSec / verifierSerialPerSec) * 1000) / 1000,
      });
      progress(`  agent: N = ${n}`);
    }
  } finally {
    for (const s of shims) await s.stop();
    await v.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    platform: 'tdx',
    verifierSerialMs,
    verifierSerialPerSec: round1(verifierSerialPerSec),
    rows,
  };
}

/** The agent table of the report (or its one-line skip reason). */
export function formatAgentReport(r: AgentBenchResults): string {
  if (r.skipped) return `Agent mode (tdx): skipped — ${r.skipped}`;
  const lines = [
    'Agent mode (tdx; N callers under distinct uids at once, GET /v1/wit; first round − cached round)',
    '',
    `Reference: the verifier's /v1/attest handling, one attestation at a time: ${r.verifierSerialPerSec}/s ` +
      `(median of ${r.verifierSerialMs.length}: ${r.verifierSerialMs.join(', ')} ms)`,
    '',
    '| N | first round | cached round | agent credentials | verifier attest (mean, round 1) | agent/verifier |',
    '| -: | ----------: | -----------: | ----------------: | ------------------------------: | -------------: |',
  ];
  for (const row of r.rows) {
    lines.push(
      `| ${row.workloads} | ${row.firstRoundMs} ms | ${row.cachedRoundMs} ms | ` +
        `${row.credentialsPerSec === null ? 'not measurable' : `${row.credentialsPerSec}/s`} | ` +
        `${row.verifierAttestMs} ms | ${row.ratio === null ? '–' : `${Math.round(row.ratio * 100)} %`} |`,
    );
  }
  return lines.join('\n');
}
