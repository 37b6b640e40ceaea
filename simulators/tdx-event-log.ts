/**
 * A small synthetic CC event log for simulated TDs: what firmware, bootloader and kernel would
 * log into RTMR0-2 (CCEL, TCG2 crypto-agile, SHA-384 only), and the RTMRs it replays to. The
 * device emulator starts its TD from these RTMRs and serves the log as the CCEL table's data.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import {
  EV_NO_ACTION,
  TPM_ALG_SHA384,
  serializeTcgEventLog,
} from '../verifier/platforms/tdx/abi/event-log.js';
import type { TcgEvent, TcgEventLog } from '../verifier/platforms/tdx/abi/event-log.js';

/** A simulated CC event log and the registers it replays to. */
export interface SimulatedTdxEventLog {
  readonly log: TcgEventLog;
  /** The log area's bytes, as `/sys/firmware/acpi/tables/data/CCEL` reads (without padding). */
  readonly ccel: Uint8Array;
  /** RTMR0..RTMR3 after the log (RTMR3 is zero: the log extends only RTMR0-2). */
  readonly rtmr: [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
}

// TCG PC Client event types used below.
const EV_SEPARATOR = 0x4;
const EV_IPL = 0xd;
const EV_EFI_VARIABLE_DRIVER_CONFIG = 0x80000001;
const EV_EFI_BOOT_SERVICES_APPLICATION = 0x80000003;
const EV_EFI_PLATFORM_FIRMWARE_BLOB2 = 0x8000000a;

/**
 * The synthetic log of a TD simulated with `seed`: firmware blob, a Secure Boot variable and a
 * separator into RTMR0; the bootloader and a separator into RTMR1; kernel command line and
 * initrd into RTMR2. Each digest is SHA-384 of `seed ‖ 0 ‖ event data`.
 *
 * @example
 * ```ts
 * const { ccel, rtmr } = simulatedTdxEventLog('twi-tdx-sim');
 * simulateTdx(pki.intel(), { seed: 'twi-tdx-sim', rtmr });
 * ```
 */
export function simulatedTdxEventLog(seed = 'twi-tdx-sim'): SimulatedTdxEventLog {
  const event = (mrIndex: number, type: number, text: string): TcgEvent => {
    const data = new Uint8Array(Buffer.from(text, 'utf8'));
    const digest = createHash('sha384').update(seed).update(Buffer.of(0)).update(data).digest();
    return {
      mrIndex,
      type,
      digests: [{ alg: TPM_ALG_SHA384, digest: new Uint8Array(digest) }],
      data,
    };
  };
  const separator = (mrIndex: number): TcgEvent => ({
    mrIndex,
    type: EV_SEPARATOR,
    digests: [
      {
        alg: TPM_ALG_SHA384,
        digest: new Uint8Array(createHash('sha384').update(new Uint8Array(4)).digest()),
      },
    ],
    data: new Uint8Array(4),
  });
  const log: TcgEventLog = {
    specId: {
      platformClass: 0,
      specVersionMinor: 0,
      specVersionMajor: 2,
      specErrata: 0,
      uintnSize: 2,
      algorithms: [{ alg: TPM_ALG_SHA384, size: 48 }],
      vendorInfo: new Uint8Array(0),
    },
    events: [
      event(1, EV_NO_ACTION, 'simulated firmware (not extended)'),
      event(1, EV_EFI_PLATFORM_FIRMWARE_BLOB2, 'simulated TDVF'),
      event(1, EV_EFI_VARIABLE_DRIVER_CONFIG, 'SecureBoot=0'),
      separator(1),
      event(2, EV_EFI_BOOT_SERVICES_APPLICATION, 'simulated bootloader'),
      separator(2),
      event(3, EV_IPL, 'console=ttyS0 root=/dev/vda1'),
      event(3, EV_IPL, 'simulated initrd'),
    ],
  };
  const rtmr = [0, 1, 2, 3].map(() => new Uint8Array(48)) as SimulatedTdxEventLog['rtmr'];
  for (const e of log.events) {
    if (e.type === EV_NO_ACTION) continue;
    const i = e.mrIndex - 1;
    rtmr[i] = new Uint8Array(
      createHash('sha384').update(rtmr[i]).update(e.digests[0]!.digest).digest(),
    );
  }
  return { log, ccel: serializeTcgEventLog(log), rtmr };
}
