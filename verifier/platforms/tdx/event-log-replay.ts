/**
 * Replay of a TD's event log against its quote: the CC event log's RTMR events from zero, then
 * the attester's own events extended into RTMR3 (the shim's digest), each step
 * RTMR_new = SHA-384(RTMR_old ‖ digest) (TDG.MR.RTMR.EXTEND). All four RTMRs must come out as
 * the quote carries them; only then is the shim's digest a claim (`shim`).
 *
 * @internal
 * @module
 */
import { createHash } from 'node:crypto';
import { EventLogMalformedError, EventLogMismatchError } from '../../../common/errors.js';
import { toHex } from '../../../common/bytes.js';
import type { AttesterEventLog } from '../../../wire/messages.js';
import { EV_NO_ACTION, TPM_ALG_SHA384, parseTcgEventLog } from './abi/event-log.js';
import type { TcgEventLog } from './abi/event-log.js';
import type { TdxQuote } from './abi/types.js';

/** The register the shim extends and its `event_log.events[].register` name. */
const SHIM_REGISTER = 'rtmr3';
/** CC MR index of RTMR0 (1..4 = RTMR0..RTMR3; 0 is MRTD, which no event extends). */
const CC_MR_RTMR0 = 1;

/** RTMR0..RTMR3 replayed from zero: the CC log's events, then `rtmr3` digests into RTMR3. */
export function replayRtmrs(log: TcgEventLog, rtmr3Digests: readonly Uint8Array[]): Uint8Array[] {
  const rtmr = [0, 1, 2, 3].map(() => new Uint8Array(48));
  const extend = (i: number, d: Uint8Array): void => {
    rtmr[i] = new Uint8Array(createHash('sha384').update(rtmr[i]!).update(d).digest());
  };
  log.events.forEach((e, n) => {
    if (e.type === EV_NO_ACTION) return;
    const i = e.mrIndex - CC_MR_RTMR0;
    if (i < 0 || i > 3) {
      throw new EventLogMalformedError(`MR index ${e.mrIndex} is not an RTMR (1 to 4)`, {
        field: `event_log.ccel events[${n}].PCRIndex`,
      });
    }
    const d = e.digests.find((x) => x.alg === TPM_ALG_SHA384);
    if (!d) {
      throw new EventLogMalformedError('no SHA-384 digest', {
        field: `event_log.ccel events[${n}].Digests`,
      });
    }
    extend(i, d.digest);
  });
  for (const d of rtmr3Digests) extend(3, d);
  return rtmr;
}

/**
 * Replays `log` against the quote's RTMRs. Without a CC event log (`ccel`) nothing is replayed
 * and there is no `shim` claim; with one, RTMR0-3 must match.
 *
 * @returns `{ shim }` (hex SHA-384) when the log replays and the attester extended exactly one
 *   digest into RTMR3; `{}` when there was nothing to replay.
 * @throws {EventLogMalformedError} `ERR_EVENT_LOG_MALFORMED` for a CC log that does not parse
 *   or names no RTMR.
 * @throws {EventLogMismatchError} `ERR_EVENT_LOG_MISMATCH` naming the first RTMR that differs.
 */
export function replayTdxEventLog(quote: TdxQuote, log: AttesterEventLog): { shim?: string } {
  if (log.ccel === undefined) return {};
  const cc = parseTcgEventLog(log.ccel);
  const own = log.events.filter((e) => e.register === SHIM_REGISTER).map((e) => e.digest);
  const replayed = replayRtmrs(cc, own);
  for (let i = 0; i < 4; i++) {
    const quoted = quote.body.rtmr[i]!;
    if (!Buffer.from(replayed[i]!).equals(Buffer.from(quoted))) {
      throw new EventLogMismatchError(
        `the event log replays to ${toHex(replayed[i]!)}, the quote carries ${toHex(quoted)}`,
        { field: `RTMR${i}` },
      );
    }
  }
  return own.length === 1 ? { shim: toHex(own[0]!) } : {};
}
