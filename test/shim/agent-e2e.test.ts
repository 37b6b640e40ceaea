/**
 * Agent mode end to end under TDX device emulation (issue 15, item 3): one `twi shim --agent`
 * serves workloads running under different uids; each gets the identity its registration's
 * selectors give it, with its own TEE key; a workload no registration lists gets the verifier's
 * 403; a policy whose `agents` list another shim digest (a tampered agent) refuses the agent.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { measureFiles, shimCodeFiles } from '../../shim/measure.js';
import { normalizePolicy } from '../../verifier/policy/normalize.js';
import {
  ADMIN_TOKEN,
  startShimProcess,
  startVerifier,
  waitForCredential,
  type ShimProcess,
  type TestVerifier,
} from './setup.js';

const ROOT = process.getuid?.() === 0;
const payload = (jwt: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.trim().split('.')[1]!, 'base64url').toString()) as Record<
    string,
    unknown
  >;

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** `GET /v1/wit` on the agent's socket from a process running under `uid`. */
function witAs(uid: number, socketPath: string): Promise<Answer> {
  const code = `
    const req = require('node:http').request({ socketPath: ${JSON.stringify(socketPath)}, path: '/v1/wit' }, (res) => {
      let b = ''; res.on('data', (c) => (b += c));
      res.on('end', () => { process.stdout.write(JSON.stringify({ status: res.statusCode, body: JSON.parse(b) })); });
    });
    req.on('error', (e) => { process.stdout.write(JSON.stringify({ status: 0, body: { error: e.message } })); });
    req.end();`;
  const child = spawn(process.execPath, ['-e', code], {
    uid,
    gid: uid,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', () => {
      try {
        resolve(JSON.parse(out) as Answer);
      } catch {
        reject(new Error(`no answer from the workload under uid ${uid}: ${out}`));
      }
    }),
  );
}

const CLIENT = fileURLToPath(new URL('../../shim/workload-api/client.js', import.meta.url));

/** `FetchJWTSVID` on the agent's Workload API socket from a process running under `uid`. */
function jwtSvidAs(uid: number, socketPath: string): Promise<Answer> {
  const code = `
    import(${JSON.stringify(CLIENT)}).then(async ({ createWorkloadApiClient }) => {
      const c = createWorkloadApiClient({ endpoint: ${JSON.stringify(socketPath)} });
      try {
        const s = await c.fetchJWTSVID('https://rp.example');
        process.stdout.write(JSON.stringify({ status: 0, body: { sub: s.spiffeId, wit: s.token } }));
      } catch (e) {
        process.stdout.write(JSON.stringify({ status: e.grpcStatus ?? -1, body: { code: e.code, message: e.message } }));
      } finally { c.close(); }
    });`;
  const child = spawn(process.execPath, ['-e', code], {
    uid,
    gid: uid,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', () => {
      try {
        resolve(JSON.parse(out) as Answer);
      } catch {
        reject(new Error(`no answer from the workload under uid ${uid}: ${out}`));
      }
    }),
  );
}

const policyWith = (seed: string, agentShim: string) =>
  normalizePolicy({
    id: `tag:twi.dev,2026:policy/${seed}`,
    platforms: ['tdx'],
    agents: { tdx: { shim: agentShim } },
  });

async function putRegistrations(v: TestVerifier, registrations: unknown[]): Promise<void> {
  const r = await fetch(`${v.base}/v1/admin/registrations`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ registrations }),
  });
  assert.equal(r.status, 200, await r.text());
}

async function waitForLog(s: ShimProcess, re: RegExp, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  let exited = false;
  void s.exited.then(() => (exited = true));
  while (!re.test(s.stderr()) && !exited && Date.now() < until)
    await new Promise((r) => setTimeout(r, 100));
  assert.match(s.stderr(), re);
}

describe(
  'tdx: twi shim --agent serves workloads under different uids',
  { timeout: 300_000 },
  () => {
    const digest = Buffer.from(measureFiles(shimCodeFiles()).digest).toString('hex');
    const UIDS = { alice: 65501, bob: 65502, nobody: 65503 };
    let dir: string;
    const verifiers: TestVerifier[] = [];
    const shims: ShimProcess[] = [];
    let td: Record<string, string>;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'twi-agent-e2e-'));
      chmodSync(dir, 0o755);
    });
    after(async () => {
      for (const s of shims) await s.stop();
      for (const v of verifiers) await v.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('two registered workloads get their identities, a third the verifier 403', async (t) => {
      if (!ROOT) return t.skip('needs root to run workloads under other uids');
      const verifier = await startVerifier({
        seed: 'agent-ok',
        policy: policyWith('agent-ok', digest),
      });
      verifiers.push(verifier);
      // The emulated TD's measurements, as the verifier saw them for a plain shim of this build.
      const plain = startShimProcess({ platform: 'tdx', verifier, dir, name: 'plain' });
      shims.push(plain);
      await waitForCredential(plain);
      const jti = payload(readFileSync(join(plain.files, 'wit.jwt'), 'utf8')).jti as string;
      td = (
        (await verifier.store.credentials.get(jti))!.record as { claims: Record<string, string> }
      ).claims;
      await plain.stop();
      assert.equal(td.shim, digest);
      const exe = realpathSync(process.execPath);
      const entry = (id: string, selectors: string[]) => ({
        id,
        identifier: `spiffe://shim.example/${id}`,
        platform: 'tdx',
        mrtd: td.mrtd,
        rtmr0: td.rtmr0,
        rtmr1: td.rtmr1,
        rtmr2: td.rtmr2,
        rtmr3: td.rtmr3,
        selectors,
      });
      await putRegistrations(verifier, [
        entry('alice', [`unix:uid:${UIDS.alice}`, `unix:path:${exe}`]),
        entry('bob', [`unix:uid:${UIDS.bob}`]),
      ]);

      const agent = startShimProcess({
        platform: 'tdx',
        verifier,
        dir,
        name: 'agent',
        flags: ['--agent', '--workload-api-socket', join(dir, 'agent-wl.sock')],
        noFiles: true,
      });
      shims.push(agent);
      await waitForLog(agent, /agent serving/);
      const [a, b, none] = await Promise.all([
        witAs(UIDS.alice, agent.socket),
        witAs(UIDS.bob, agent.socket),
        witAs(UIDS.nobody, agent.socket),
      ]);
      assert.equal(a.status, 200, JSON.stringify(a.body) + agent.stderr());
      assert.equal(b.status, 200, JSON.stringify(b.body));
      assert.equal(a.body.sub, 'spiffe://shim.example/alice');
      assert.equal(b.body.sub, 'spiffe://shim.example/bob');
      // Distinct TEE keys: the WITs confirm different keys.
      const cnf = (x: Answer) => JSON.stringify(payload(String(x.body.wit)).cnf);
      assert.notEqual(cnf(a), cnf(b));
      assert.equal(none.status, 403, JSON.stringify(none.body));
      assert.equal(none.body.code, 'ERR_NO_REGISTRATION');
      // Cached per selector set: the same caller again gets the same credential.
      const again = await witAs(UIDS.alice, agent.socket);
      assert.equal(again.body.jti, a.body.jti);
      // The ledger records the caller's selectors.
      const rec = (await verifier.store.credentials.get(String(a.body.jti)))!.record as {
        identity: { agent?: { selectors: string[] } };
      };
      assert.ok(rec.identity.agent!.selectors.includes(`unix:uid:${UIDS.alice}`));
      assert.ok(rec.identity.agent!.selectors.includes(`unix:path:${exe}`));
      assert.ok(rec.identity.agent!.selectors.some((s) => s.startsWith('unix:sha256:')));
      // The Workload API tells callers apart the same way: alice's JWT-SVID is her WIT, and the
      // caller without a registration is refused PERMISSION_DENIED (7) with the verifier's code.
      const wlSocket = join(dir, 'agent-wl.sock');
      const [wa, wn] = await Promise.all([
        jwtSvidAs(UIDS.alice, wlSocket),
        jwtSvidAs(UIDS.nobody, wlSocket),
      ]);
      assert.equal(wa.status, 0, JSON.stringify(wa.body));
      assert.equal(wa.body.sub, 'spiffe://shim.example/alice');
      assert.equal(payload(String(wa.body.wit)).jti, a.body.jti);
      assert.equal(wn.status, 7, JSON.stringify(wn.body));
      assert.match(String(wn.body.message), /ERR_NO_REGISTRATION/);
    });

    it('a policy whose agents list another shim digest refuses the agent', async (t) => {
      if (!ROOT) return t.skip('needs root to run workloads under other uids');
      const verifier = await startVerifier({
        seed: 'agent-untrusted',
        policy: policyWith('agent-untrusted', 'cd'.repeat(48)),
      });
      verifiers.push(verifier);
      await putRegistrations(verifier, [
        {
          id: 'alice',
          identifier: 'spiffe://shim.example/alice',
          platform: 'tdx',
          mrtd: td.mrtd,
          rtmr0: td.rtmr0,
          rtmr1: td.rtmr1,
          rtmr2: td.rtmr2,
          rtmr3: td.rtmr3,
          selectors: [`unix:uid:${UIDS.alice}`],
        },
      ]);
      const agent = startShimProcess({
        platform: 'tdx',
        verifier,
        dir,
        name: 'untrusted',
        flags: ['--agent'],
        noFiles: true,
      });
      shims.push(agent);
      await waitForLog(agent, /agent serving/);
      const a = await witAs(UIDS.alice, agent.socket);
      assert.equal(a.status, 403, JSON.stringify(a.body));
      assert.equal(a.body.code, 'ERR_AGENT_NOT_TRUSTED');
    });
  },
);
