/**
 * Faults the emulator can inject, each failing the way the hardware, the hypervisor or
 * the kernel does (drivers/virt/coco/sev-guest/sev-guest.c, tdx-guest.c, tsm report.c,
 * drivers/misc/nsm.c).
 *
 * @module
 */

/** NSM error codes (aws-nitro-enclaves-nsm-api `ErrorCode`). */
export type NsmErrorCode =
  | 'InvalidArgument'
  | 'InvalidIndex'
  | 'InvalidResponse'
  | 'ReadOnlyIndex'
  | 'InvalidOperation'
  | 'BufferTooSmall'
  | 'InputTooLarge'
  | 'InternalError';

/** An emulated device node or tree. */
export type EmulatedDevice = 'tdx_guest' | 'sev-guest' | 'nsm' | 'tsm';

/** One fault; `count` (default 1) is how many matching requests it hits. */
export type DeviceFault = { count?: number } & (
  | {
      /**
       * The SNP firmware fails the guest request with this status (e.g. 0x16 INVALID_PARAM)
       * in exitinfo2: the ioctl (or configfs read) fails EIO, and the kernel then wipes the
       * VMPCK, so every later request fails ENOTTY.
       */
      kind: 'snp-fw-error';
      status: number;
    }
  | {
      /**
       * MSG_REPORT_RSP / MSG_KEY_RSP carries this status: the ioctl succeeds with the status
       * in the response; configfs maps INVALID_PARAM/INVALID_KEY to EINVAL, others to ENXIO.
       */
      kind: 'snp-report-status';
      status: number;
    }
  | {
      /**
       * The hypervisor answers SNP_GUEST_VMM_ERR_BUSY. With `retries` below the kernel's
       * limit (60 s at 2 s per retry = 30) the kernel retries and succeeds; without it the
       * request times out: ETIMEDOUT, vmm_error 2, and the VMPCK is wiped. No time passes.
       */
      kind: 'snp-vmm-busy';
      retries?: number;
    }
  | {
      /** The VMPCK is wiped: ENOTTY on this and every later SNP request. */ kind: 'snp-vmpck-disabled';
    }
  | {
      /**
       * Another process writes the report's inblob right after ours is committed: the
       * generation advances by one more and the outblob answers the other writer's data.
       */
      kind: 'tsm-generation-race';
    }
  | {
      /** The next configfs store (privlevel write, inblob commit) fails EBUSY. */
      kind: 'tsm-busy';
    }
  | {
      /** The TDX GetQuote fails: EIO (default), ETIMEDOUT, EBUSY (quote in flight) or EINTR. */
      kind: 'tdx-quote-error';
      errno?: 'EIO' | 'ETIMEDOUT' | 'EBUSY' | 'EINTR';
    }
  | { /** TDG.MR.REPORT fails: TDX_CMD_GET_REPORT0 returns EIO. */ kind: 'tdx-report-error' }
  | { /** The NSM answers `{"Error": code}`. */ kind: 'nsm-error'; code: NsmErrorCode }
  | {
      /** The device disappears (ENOENT on open and stat from now on, for good). */
      kind: 'device-absent';
      device: EmulatedDevice;
    }
);

export type FaultKind = DeviceFault['kind'];

/** Pending faults, consumed by the requests they match. @internal */
export class FaultQueue {
  private readonly pending: DeviceFault[] = [];
  private readonly absent = new Set<EmulatedDevice>();

  add(fault: DeviceFault): void {
    if (fault.kind === 'device-absent') {
      this.absent.add(fault.device);
      return;
    }
    const count = fault.count ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new TypeError('count must be >= 1');
    this.pending.push({ ...fault, count });
  }

  isAbsent(device: EmulatedDevice): boolean {
    return this.absent.has(device);
  }

  /** Takes one use of the first pending fault of one of `kinds`, if any. */
  take<K extends FaultKind>(...kinds: K[]): Extract<DeviceFault, { kind: K }> | undefined {
    const i = this.pending.findIndex((f) => (kinds as FaultKind[]).includes(f.kind));
    if (i < 0) return undefined;
    const f = this.pending[i]!;
    f.count = (f.count ?? 1) - 1;
    if (f.count <= 0) this.pending.splice(i, 1);
    return f as Extract<DeviceFault, { kind: K }>;
  }

  clear(): void {
    this.pending.length = 0;
    this.absent.clear();
  }
}
