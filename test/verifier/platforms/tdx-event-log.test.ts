/**
 * The TD's CC event log: byte-exact round trip, bounded parsing (every truncation and an
 * oversize log fail with ERR_EVENT_LOG_MALFORMED), and replay against a simulated quote whose
 * RTMRs come from the log plus the shim's RTMR3 event; tampered logs are refused with
 * ERR_EVENT_LOG_MISMATCH naming the RTMR.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { EventLogMalformedError, EventLogMismatchError } from '../../../common/errors.js';
import { createIntelPki } from '../../../simulators/pki/intel.js';
import { simulateTdx } from '../../../simulators/tdx.js';
import { simulatedTdxEventLog } from '../../../simulators/tdx-event-log.js';
import {
  MAX_EVENT_LOG_BYTES,
  TPM_ALG_SHA384,
  parseTcgEventLog,
  serializeTcgEventLog,
  type TcgEvent,
  type TcgEventLog,
} from '../../../verifier/platforms/tdx/abi/event-log.js';
import { replayTdxEventLog } from '../../../verifier/platforms/tdx/event-log-replay.js';
import { parseTdxQuote } from '../../../verifier/platforms/tdx/index.js';
import { readAttestEventLog, EVENT_LOG_FORMAT } from '../../../wire/messages.js';
import { checkEventLog } from '../../../verifier/pipeline.js';
import { getPlatform } from '../../../verifier/platforms/registry.js';

const sha384 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha384');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function malformed(fn: () => unknown): EventLogMalformedError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof EventLogMalformedError, `not a malformed-log error: ${String(e)}`);
    assert.equal(e.code, 'ERR_EVENT_LOG_MALFORMED');
    return e;
  }
  assert.fail('did not throw');
}

describe('CC event log codec', () => {
  const sim = simulatedTdxEventLog('codec');

  it('round-trips byte for byte, and stops at the unused 0xFF / 0x00 log area', () => {
    const log = parseTcgEventLog(sim.ccel);
    assert.equal(log.events.length, sim.log.events.length);
    assert.deepEqual(serializeTcgEventLog(log), sim.ccel);
    assert.equal(log.specId.algorithms[0]!.alg, TPM_ALG_SHA384);
    for (const fill of [0xff, 0x00]) {
      const padded = new Uint8Array(sim.ccel.length + 4096).fill(fill);
      padded.set(sim.ccel);
      assert.deepEqual(serializeTcgEventLog(parseTcgEventLog(padded)), sim.ccel);
    }
  });

  it('every truncation is a prefix of the events or ERR_EVENT_LOG_MALFORMED with a field', () => {
    let refused = 0;
    for (let n = 0; n < sim.ccel.length; n++) {
      let log: TcgEventLog;
      try {
        log = parseTcgEventLog(sim.ccel.subarray(0, n));
      } catch (e) {
        assert.ok(e instanceof EventLogMalformedError, `cut at ${n}: ${String(e)}`);
        assert.ok(e.field.length > 0 && e.offset !== undefined);
        refused++;
        continue;
      }
      // Cut exactly between events: fewer events, each as it was.
      assert.ok(log.events.length < sim.log.events.length);
      assert.deepEqual(log.events, sim.log.events.slice(0, log.events.length));
    }
    assert.ok(refused > sim.ccel.length - sim.log.events.length - 1);
  });

  it('refuses an oversize log, a non-crypto-agile header and undeclared algorithms', () => {
    const big = new Uint8Array(MAX_EVENT_LOG_BYTES + 1);
    big.set(sim.ccel);
    assert.match(malformed(() => parseTcgEventLog(big)).message, /over/);
    const notAgile = new Uint8Array(sim.ccel);
    notAgile[32] = 0x41; // inside "Spec ID Event03"
    assert.equal(malformed(() => parseTcgEventLog(notAgile)).field, 'SpecIdEvent.signature');
    const sha256Event: TcgEvent = {
      mrIndex: 1,
      type: 1,
      digests: [{ alg: 0x000b, digest: new Uint8Array(48) }],
      data: new Uint8Array(0),
    };
    const bytes = serializeTcgEventLog({ ...sim.log, events: [sha256Event] });
    assert.match(malformed(() => parseTcgEventLog(bytes)).message, /not in the header/);
    const manyAlgs = new Uint8Array(sim.ccel);
    new DataView(manyAlgs.buffer).setUint32(56, 9, true); // numberOfAlgorithms
    assert.equal(malformed(() => parseTcgEventLog(manyAlgs)).field, 'numberOfAlgorithms');
  });
});

describe('TDX event-log replay', () => {
  const pki = createIntelPki({ seed: 'twi-evlog', notBefore: new Date('2024-01-01T00:00:00Z') });
  const now = new Date('2025-06-01T00:00:00Z');
  const sim = simulatedTdxEventLog('evlog-td');
  const shim = sha384(new Uint8Array(Buffer.from('the shim')));
  const rtmr3 = sha384(new Uint8Array(48), shim);
  const { quote } = simulateTdx(pki, {
    seed: 'evlog-td',
    now,
    rtmr: [sim.rtmr[0], sim.rtmr[1], sim.rtmr[2], rtmr3],
  });
  const parsed = parseTdxQuote(quote);
  const own = [{ register: 'rtmr3', digest: shim }];
  const withEvents = (events: TcgEvent[]): Uint8Array =>
    serializeTcgEventLog({ ...sim.log, events });

  function mismatch(ccel: Uint8Array, events = own): EventLogMismatchError {
    try {
      replayTdxEventLog(parsed, { events, ccel });
    } catch (e) {
      assert.ok(e instanceof EventLogMismatchError, String(e));
      assert.equal(e.code, 'ERR_EVENT_LOG_MISMATCH');
      return e;
    }
    assert.fail('replayed');
  }

  it('the log plus the shim event replays to RTMR0-3 and yields the shim claim', () => {
    assert.deepEqual(replayTdxEventLog(parsed, { events: own, ccel: sim.ccel }), {
      shim: hex(shim),
    });
    // Without a CC log nothing is replayed and there is no claim.
    assert.deepEqual(replayTdxEventLog(parsed, { events: own }), {});
  });

  it('refuses a changed digest, a dropped, an extra or a moved event, naming the RTMR', () => {
    const events = sim.log.events;
    const changed = events.map((e, i) =>
      i === 1 ? { ...e, digests: [{ alg: TPM_ALG_SHA384, digest: sha384(e.data, e.data) }] } : e,
    );
    assert.equal(mismatch(withEvents(changed)).field, 'RTMR0');
    assert.equal(mismatch(withEvents(events.filter((_, i) => i !== 4))).field, 'RTMR1');
    assert.equal(mismatch(withEvents([...events, events[6]!])).field, 'RTMR2');
    const moved = events.map((e, i) => (i === 4 ? { ...e, mrIndex: 3 } : e));
    assert.equal(mismatch(withEvents(moved)).field, 'RTMR1');
    // An RTMR3 event in the CC log that the quote does not carry.
    assert.equal(mismatch(withEvents([...events, { ...events[6]!, mrIndex: 4 }])).field, 'RTMR3');
  });

  it('refuses a different shim digest (a tampered agent) on RTMR3', () => {
    const other = [{ register: 'rtmr3', digest: sha384(new Uint8Array(Buffer.from('tampered'))) }];
    assert.equal(mismatch(sim.ccel, other).field, 'RTMR3');
    assert.equal(mismatch(sim.ccel, []).field, 'RTMR3');
  });

  it('refuses an event on a register that is not an RTMR as malformed', () => {
    const events = sim.log.events.map((e, i) => (i === 1 ? { ...e, mrIndex: 7 } : e));
    const e = malformed(() => replayTdxEventLog(parsed, { events: own, ccel: withEvents(events) }));
    assert.match(e.field, /events\[1\]\.PCRIndex/);
  });

  it('the pipeline check: a CC log with SEV-SNP evidence is refused, TDX replays', () => {
    const tdx = getPlatform('tdx');
    checkEventLog(tdx, parsed, { events: own, ccel: sim.ccel });
    assert.throws(
      () => checkEventLog(tdx, parsed, { events: own, ccel: withEvents([]) }),
      EventLogMismatchError,
    );
    malformed(() => checkEventLog(getPlatform('sev-snp'), {}, { events: [], ccel: sim.ccel }));
    checkEventLog(getPlatform('sev-snp'), {}, { events: [{ register: 'none', digest: shim }] });
  });
});

describe('event_log on the wire', () => {
  const digest = 'ab'.repeat(48);
  const event = { register: 'rtmr3', digest_alg: 'sha-384', digest, type: 'twi-shim-measurement' };

  it('reads the twi format and ignores other formats', () => {
    assert.equal(readAttestEventLog(undefined), undefined);
    assert.equal(readAttestEventLog({ format: 'something else', events: 3 }), undefined);
    const read = readAttestEventLog({ format: EVENT_LOG_FORMAT, events: [event], ccel: 'AAEC' });
    assert.deepEqual(read?.ccel, Uint8Array.of(0, 1, 2));
    assert.equal(hex(read!.events[0]!.digest), digest);
  });

  it('refuses a broken twi-format log with ERR_EVENT_LOG_MALFORMED naming the member', () => {
    const bad: [unknown, string][] = [
      [{ format: EVENT_LOG_FORMAT, events: {} }, 'event_log.events'],
      [{ format: EVENT_LOG_FORMAT, events: [{ ...event, digest: 'xyz' }] }, 'events[0].digest'],
      [{ format: EVENT_LOG_FORMAT, events: [{ ...event, digest_alg: 'sha-1' }] }, 'digest_alg'],
      [{ format: EVENT_LOG_FORMAT, events: [event], ccel: 'a+b/' }, 'event_log.ccel'],
      [{ format: EVENT_LOG_FORMAT, events: [event], ccel: 'A'.repeat(200_000) }, 'ccel'],
    ];
    for (const [log, field] of bad) {
      assert.match(
        malformed(() => readAttestEventLog(log)).field,
        new RegExp(field.replace(/[[\].]/g, '\\$&')),
      );
    }
  });
});
