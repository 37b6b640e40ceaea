/**
 * `POST /v1/attest` with an `event_log`: a TDX CC event log that does not replay to the quoted
 * RTMRs is refused 400 ERR_EVENT_LOG_MISMATCH before anything is written (the nonce stays
 * usable); a malformed one is ERR_EVENT_LOG_MALFORMED; a log of another format is ignored.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { simulatedTdxEventLog } from '../../simulators/tdx-event-log.js';
import { EVENT_LOG_FORMAT } from '../../wire/messages.js';
import { NOW, evidenceCmw, startTestService, workloadKey, type TestService } from './harness.js';

const shimEvent = {
  register: 'rtmr3',
  digest_alg: 'sha-384',
  digest: 'ab'.repeat(48),
  type: 'twi-shim-measurement',
};

describe('attest with an event log', { timeout: 120_000 }, () => {
  let svc: TestService;
  before(async () => {
    svc = await startTestService({ seed: 'svc-evlog', clock: () => NOW });
  });
  after(async () => svc.close());

  async function attest(nonce: string, eventLog: unknown): Promise<Response> {
    const key = workloadKey();
    return fetch(svc.base + '/v1/attest', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        nonce,
        evidence: evidenceCmw(svc.pki, 'tdx', nonce, key),
        key: key.jwk,
        ...(eventLog !== undefined && { event_log: eventLog }),
      }),
    });
  }
  const challenge = async (): Promise<string> =>
    (
      (await (await fetch(svc.base + '/v1/challenge', { method: 'POST' })).json()) as {
        nonce: string;
      }
    ).nonce;

  it('refuses a CC log that does not replay, names the RTMR, and writes nothing', async () => {
    const nonce = await challenge();
    const ccel = Buffer.from(simulatedTdxEventLog('not-this-td').ccel).toString('base64url');
    const r = await attest(nonce, { format: EVENT_LOG_FORMAT, events: [shimEvent], ccel });
    assert.equal(r.status, 400);
    const p = (await r.json()) as { code: string; detail: string };
    assert.equal(p.code, 'ERR_EVENT_LOG_MISMATCH');
    assert.match(p.detail, /^RTMR0: /);
    // The nonce was not consumed: the same nonce attests without the log (no `shim` claim).
    const ok = await attest(nonce, { format: EVENT_LOG_FORMAT, events: [shimEvent] });
    assert.equal(ok.status, 200);
  });

  it('refuses a malformed CC log with ERR_EVENT_LOG_MALFORMED; ignores other formats', async () => {
    const bad = await attest(await challenge(), {
      format: EVENT_LOG_FORMAT,
      events: [shimEvent],
      ccel: 'AAAA',
    });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { code: string }).code, 'ERR_EVENT_LOG_MALFORMED');
    const other = await attest(await challenge(), { format: 'urn:example:other', blob: 1 });
    assert.equal(other.status, 200);
  });
});
