/**
 * End to end under TDX device emulation: the real `twi shim` reads the emulated CCEL, sends it
 * with its own RTMR3 event, and the verifier replays RTMR0-3; the replayed digest is the `shim`
 * claim in the EAR and the ledger record and a policy can pin it. A policy pinning another
 * digest (a tampered agent binary) refuses the shim.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { measureFiles, shimCodeFiles } from '../../shim/measure.js';
import { TWI_VERIFICATION_CLAIM } from '../../verifier/ear/claims.js';
import { normalizePolicy } from '../../verifier/policy/normalize.js';
import { startShimProcess, startVerifier, waitForCredential } from './setup.js';
import type { ShimProcess, TestVerifier } from './setup.js';

const payload = (jwt: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.trim().split('.')[1]!, 'base64url').toString()) as Record<
    string,
    unknown
  >;

const policyPinning = (seed: string, shim: string) =>
  normalizePolicy({ id: `tag:twi.dev,2026:policy/${seed}`, platforms: ['tdx'], tdx: { shim } });

describe(
  'tdx: the event log replays and the shim digest is a verified claim',
  { timeout: 240_000 },
  () => {
    const digest = Buffer.from(measureFiles(shimCodeFiles()).digest).toString('hex');
    let dir: string;
    const verifiers: TestVerifier[] = [];
    const shims: ShimProcess[] = [];
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'twi-evlog-e2e-'));
    });
    after(async () => {
      for (const s of shims) await s.stop();
      for (const v of verifiers) await v.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('a policy pinning this shim issues; EAR and ledger record carry `shim`', async () => {
      const verifier = await startVerifier({
        seed: 'evlog-ok',
        policy: policyPinning('evlog-ok', digest),
      });
      verifiers.push(verifier);
      const shim = startShimProcess({ platform: 'tdx', verifier, dir, name: 'ok' });
      shims.push(shim);
      await waitForCredential(shim);
      const ear = payload(readFileSync(join(shim.files, 'ear.jwt'), 'utf8'));
      const tdx = (ear.submods as Record<string, Record<string, unknown>>).tdx!;
      assert.equal(tdx.ear_status, 'affirming');
      assert.equal((tdx[TWI_VERIFICATION_CLAIM] as { shim?: string }).shim, digest);
      const jti = payload(readFileSync(join(shim.files, 'wit.jwt'), 'utf8')).jti as string;
      const stored = await verifier.store.credentials.get(jti);
      const record = stored?.record as { claims?: { shim?: string } } | undefined;
      assert.equal(record?.claims?.shim, digest);
    });

    it('a policy pinning another shim digest refuses the shim (tampered agent)', async () => {
      const verifier = await startVerifier({
        seed: 'evlog-pinned',
        policy: policyPinning('evlog-pinned', 'cd'.repeat(48)),
      });
      verifiers.push(verifier);
      const shim = startShimProcess({ platform: 'tdx', verifier, dir, name: 'pinned' });
      shims.push(shim);
      const until = Date.now() + 60_000;
      while (!/attestation failed/.test(shim.stderr()) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(
        shim.stderr(),
        /attestation failed \(ERR_SHIM_ATTEST_REFUSED: verifier answered 403 ERR_APPRAISAL_CONTRAINDICATED: .*ERR_REFERENCE_MISMATCH/,
      );
    });
  },
);
