/**
 * The emulated TDX guest: `/dev/tdx_guest` (TDX_CMD_GET_REPORT0), the `tdx_guest`
 * configfs-tsm provider (quotes) and the sysfs measurement registers
 * (`/sys/devices/virtual/misc/tdx_guest/measurements/`, kernel ≥ 6.16, SPEC-DIGEST A3.4).
 * TDREPORTs and quotes share one TD state, so extended RTMRs show in both. Unless the options
 * set the RTMRs, the TD starts from the replay of a synthetic CC event log, served as the CCEL
 * table's data (`/sys/firmware/acpi/tables/data/CCEL`).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { simulateTdx } from '../tdx.js';
import { simulatedTdxEventLog } from '../tdx-event-log.js';
import type { TdxSimOptions } from '../tdx-options.js';
import { simBody, simBodyType } from '../tdx-quote.js';
import { buildTdReport } from '../tdx-report.js';
import { DeviceErrno, fail } from './protocol.js';
import type { BackendContext, TsmProvider, TsmReport } from './types.js';
import { blobFile, charDevice, dirNode, registerAttr } from './vfs.js';
import type { EmuNode, IoctlAnswer, IoctlRequest } from './vfs.js';

/**
 * TDX_CMD_GET_REPORT0 = _IOWR('T', 1, struct tdx_report_req) (include/uapi/linux/tdx-guest.h).
 *
 * @internal
 */
export const TDX_CMD_GET_REPORT0 = 0xc4405401;
const REG = 48;

/** What the emulated TD is (everything {@link simulateTdx} takes except REPORTDATA and RTMRs). */
export type TdxEmuOptions = Omit<TdxSimOptions, 'reportData' | 'now'>;

/** @internal */
export class TdxBackend {
  private readonly rtmr: [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  /** The CC event log the initial RTMRs replay from; none when the options set the RTMRs. */
  readonly ccel: Uint8Array | undefined;

  constructor(
    private readonly ctx: BackendContext,
    private readonly opts: TdxEmuOptions,
  ) {
    // Without given RTMRs the TD boots through the synthetic firmware/kernel log (RTMR3 zero).
    const log = opts.rtmr ? undefined : simulatedTdxEventLog(opts.seed);
    const body = simBody(
      { ...opts, now: new Date(0), ...(log && { rtmr: log.rtmr }) },
      simBodyType({ ...opts, now: new Date(0) }),
    );
    this.rtmr = body.rtmr.map((r) => new Uint8Array(r)) as typeof this.rtmr;
    this.ccel = log?.ccel;
  }

  /** `/sys/firmware/acpi/tables/data/CCEL`: the event log area (root-only, as the kernel has it). */
  ccelFile(): EmuNode | undefined {
    const bytes = this.ccel;
    return bytes && blobFile(0o400, bytes);
  }

  private simOptions(reportData: Uint8Array): TdxSimOptions {
    return {
      ...this.opts,
      now: this.ctx.now(),
      reportData,
      rtmr: this.rtmr.map((r) => new Uint8Array(r)) as TdxSimOptions['rtmr'],
    };
  }

  /** TDG.MR.REPORT for `reportData`. */
  tdReport(reportData: Uint8Array): Uint8Array {
    const o = this.simOptions(reportData);
    const bodyType = simBodyType(o);
    return buildTdReport(simBody(o, bodyType), {
      seed: o.seed,
      cpuSvn: Uint8Array.from(o.sgxTcbComps ?? [3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0]),
      bodyType,
    });
  }

  /** The configfs provider: tdx_report_new (drivers/virt/coco/tdx-guest/tdx-guest.c). */
  readonly provider: TsmProvider = {
    name: 'tdx_guest',
    reportNew: (desc, generation): TsmReport => {
      const reportData = new Uint8Array(desc.inblob);
      const record = { device: 'tsm' as const, op: 'report', reportData, generation };
      try {
        if (desc.inblob.length !== 64) fail('EINVAL');
        const fault = this.ctx.faults.take('tdx-quote-error');
        if (fault) fail(fault.errno ?? 'EIO');
        const { quote, collateral } = simulateTdx(
          this.ctx.pki.intel(),
          this.simOptions(reportData),
        );
        this.ctx.record({ ...record, evidence: quote, collateral });
        return { outblob: quote };
      } catch (e) {
        if (e instanceof DeviceErrno) this.ctx.record({ ...record, error: e.errnoName });
        throw e;
      }
    },
  };

  /** `/dev/tdx_guest`. */
  device(): EmuNode {
    return charDevice((req) => this.ioctl(req));
  }

  private ioctl(req: IoctlRequest): IoctlAnswer {
    // tdx_guest_ioctl: only TDX_CMD_GET_REPORT0; anything else is ENOTTY.
    if (req.cmd !== TDX_CMD_GET_REPORT0) fail('ENOTTY');
    const reportData = new Uint8Array(req.data.subarray(0, 64));
    if (this.ctx.faults.take('tdx-report-error')) {
      this.ctx.record({ device: 'tdx_guest', op: 'get-report0', reportData, error: 'EIO' });
      fail('EIO');
    }
    const report = this.tdReport(reportData);
    this.ctx.record({ device: 'tdx_guest', op: 'get-report0', reportData, evidence: report });
    return { data1: report };
  }

  private extend(index: number, data: Uint8Array): void {
    // RTMR.extend: RTMR_new = SHA-384(RTMR_old ‖ data).
    const next = createHash('sha384').update(this.rtmr[index]!).update(data).digest();
    this.rtmr[index] = new Uint8Array(next);
    this.ctx.record({
      device: 'tdx_guest',
      op: 'rtmr-extend',
      rtmrIndex: index,
      extendData: new Uint8Array(data),
    });
  }

  /** The current RTMR values. */
  rtmrs(): Uint8Array[] {
    return this.rtmr.map((r) => new Uint8Array(r));
  }

  /** The files of the `measurements` directory. */
  measurements(): Map<string, EmuNode> {
    const body = () => {
      const o = this.simOptions(new Uint8Array(64));
      return simBody(o, simBodyType(o));
    };
    const files = new Map<string, EmuNode>([
      ['mrconfigid', registerAttr(0o444, REG, () => body().mrConfigId)],
      ['mrowner', registerAttr(0o444, REG, () => body().mrOwner)],
      ['mrownerconfig', registerAttr(0o444, REG, () => body().mrOwnerConfig)],
      ['mrtd:sha384', registerAttr(0o444, REG, () => body().mrTd)],
    ]);
    for (let i = 0; i < 4; i++) {
      files.set(
        `rtmr${i}:sha384`,
        registerAttr(
          0o600,
          REG,
          () => this.rtmr[i]!,
          (d) => this.extend(i, d),
        ),
      );
    }
    return files;
  }

  /** `/sys/devices/virtual/misc/tdx_guest` and its `measurements` directory. */
  sysfsDir(measurements: Map<string, EmuNode>): { dir: EmuNode; measurementsDir: EmuNode } {
    return {
      dir: dirNode(() => [['d', 'measurements']]),
      measurementsDir: dirNode(() => [...measurements.keys()].map((n) => ['f', n])),
    };
  }
}
