/**
 * The emulated SEV-SNP guest: `/dev/sev-guest` (SNP_GET_REPORT, SNP_GET_EXT_REPORT,
 * SNP_GET_DERIVED_KEY) and the `sev_guest` configfs-tsm provider, with the error paths of
 * drivers/virt/coco/sev-guest/sev-guest.c (SPEC-DIGEST A2.2): msg_version 0 → EINVAL;
 * exitinfo2 = 0xff (no firmware call) written back on failures before the firmware;
 * firmware or VMM errors → EIO/ETIMEDOUT and the VMPCK wiped (ENOTTY afterwards);
 * certificate buffer too small → EIO, vmm_error 1, certs_len rewritten.
 *
 * @module
 */
import { createHmac } from 'node:crypto';
import type { AmdProduct } from '../pki/amd.js';
import { simulateSnp } from '../sev-snp.js';
import type { SnpSimOptions } from '../sev-snp-options.js';
import { DeviceErrno, errno, fail } from './protocol.js';
import type { BackendContext, DeviceRequestRecord, TsmProvider } from './types.js';
import { charDevice } from './vfs.js';
import type { EmuNode, IoctlAnswer, IoctlRequest } from './vfs.js';

/** @internal */
export const SNP_GET_REPORT = 0xc0205300;
/** @internal */
export const SNP_GET_DERIVED_KEY = 0xc0205301;
/** @internal */
export const SNP_GET_EXT_REPORT = 0xc0205302;
/** SEV_FW_BLOB_MAX_SIZE: the largest certificate buffer the kernel accepts. */
const FW_BLOB_MAX = 0x4000;
const PAGE = 4096;
const NO_FW_CALL = 0xffn;
const VMM_ERR_SHIFT = 32n;
const VMM_ERR_INVALID_LEN = 1n;
const VMM_ERR_BUSY = 2n;
/** SEV status codes used here (AMD SEV-SNP ABI, table "Status Codes"). @internal */
export const SEV_RET_INVALID_PARAM = 0x16;
/** @internal */
export const SEV_RET_INVALID_KEY = 0x27;
/** Kernel retry budget for a busy VMM: 60 s at one retry per 2 s. */
const BUSY_RETRY_LIMIT = 30;
const WRITE_EXITINFO2 = 1;
const WRITE_CERTS_LEN = 2;
const REQ_NULL = 1;
const RESP_NULL = 2;

/** What the emulated SNP guest is. */
export interface SnpEmuOptions extends Omit<SnpSimOptions, 'reportData' | 'vmpl'> {
  /** The AMD product of the emulated chip (default Milan). */
  product?: AmdProduct;
  /** The VMPL the guest runs at (= privlevel_floor; reports below it are refused). Default 0. */
  guestVmpl?: number;
}

interface GuestAnswer {
  exitinfo2: bigint;
  resp?: Uint8Array;
  certs?: Uint8Array;
  certsLen?: number;
}

/** A guest request that failed: errno plus what the kernel writes back. */
class GuestError extends DeviceErrno {
  constructor(
    name: ConstructorParameters<typeof DeviceErrno>[0],
    readonly exitinfo2: bigint,
    readonly certsLen?: number,
  ) {
    super(name);
  }
}

function u32(b: Uint8Array, at: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, true);
}
function u64(b: Uint8Array, at: number): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(at, true);
}
function le64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  return b;
}
function le32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

/** @internal */
export class SnpBackend {
  private vmpckDisabled = false;
  private readonly product: AmdProduct;
  private readonly guestVmpl: number;

  constructor(
    private readonly ctx: BackendContext,
    private readonly opts: SnpEmuOptions,
  ) {
    this.product = opts.product ?? 'Milan';
    this.guestVmpl = opts.guestVmpl ?? 0;
  }

  private simulate(reportData: Uint8Array, vmpl: number) {
    const sim: SnpSimOptions & { product?: unknown; guestVmpl?: unknown } = { ...this.opts };
    delete sim.product;
    delete sim.guestVmpl;
    return simulateSnp(this.ctx.pki.amd(this.product), { ...sim, reportData, vmpl });
  }

  /**
   * snp_send_guest_request: the VMPCK check, then the injected firmware / VMM faults, then
   * the firmware's answer from `answer`.
   */
  private guestRequest(answer: () => GuestAnswer): GuestAnswer {
    if (this.vmpckDisabled) throw new GuestError('ENOTTY', NO_FW_CALL);
    const f = this.ctx.faults.take('snp-vmpck-disabled', 'snp-fw-error', 'snp-vmm-busy');
    if (f?.kind === 'snp-vmpck-disabled') {
      this.vmpckDisabled = true;
      throw new GuestError('ENOTTY', NO_FW_CALL);
    }
    if (f?.kind === 'snp-fw-error') {
      this.vmpckDisabled = true; // "Detected error from ASP request" → snp_disable_vmpck
      throw new GuestError('EIO', BigInt(f.status >>> 0));
    }
    if (f?.kind === 'snp-vmm-busy' && (f.retries === undefined || f.retries >= BUSY_RETRY_LIMIT)) {
      this.vmpckDisabled = true;
      throw new GuestError('ETIMEDOUT', VMM_ERR_BUSY << VMM_ERR_SHIFT);
    }
    return answer();
  }

  /** MSG_REPORT_RSP for a report request, with the firmware's parameter checks. */
  private reportResponse(req: Uint8Array): { resp: Uint8Array; certTable?: Uint8Array } {
    const reportData = req.slice(0, 64);
    const vmpl = u32(req, 0x40);
    const resp = new Uint8Array(4000);
    const injected = this.ctx.faults.take('snp-report-status');
    let status = injected?.status ?? 0;
    if (
      status === 0 &&
      (vmpl < this.guestVmpl || vmpl > 3 || req.subarray(0x44, 0x60).some((b) => b))
    )
      status = SEV_RET_INVALID_PARAM;
    resp.set(le32(status), 0);
    if (status !== 0) return { resp };
    const sim = this.simulate(reportData, vmpl);
    resp.set(le32(sim.report.length), 4);
    resp.set(sim.report, 0x20);
    return { resp, certTable: sim.certTable };
  }

  private record(entry: Omit<DeviceRequestRecord, 'device'>): void {
    this.ctx.record({ device: 'sev-guest', ...entry });
  }

  /** `/dev/sev-guest`. */
  device(): EmuNode {
    return charDevice((req) => this.ioctl(req));
  }

  private ioctl(req: IoctlRequest): IoctlAnswer {
    // snp_guest_ioctl: copy in, exitinfo2 = 0xff, msg_version must be non-zero.
    if (req.data.length < 1 || req.data[0] === 0) return { err: errno.EINVAL };
    const body = req.data.subarray(1);
    const op =
      req.cmd === SNP_GET_REPORT
        ? 'get-report'
        : req.cmd === SNP_GET_EXT_REPORT
          ? 'get-ext-report'
          : req.cmd === SNP_GET_DERIVED_KEY
            ? 'get-derived-key'
            : undefined;
    const fields: Record<string, unknown> = {};
    try {
      if (!op) throw new GuestError('ENOTTY', NO_FW_CALL);
      if (req.flags & (REQ_NULL | RESP_NULL)) throw new GuestError('EINVAL', NO_FW_CALL);
      const a =
        op === 'get-derived-key' ? this.derivedKey(body, fields) : this.report(op, body, fields);
      this.record({ op, ...fields, ...(a.exitinfo2 !== 0n && { exitinfo2: a.exitinfo2 }) });
      return {
        data1: a.resp,
        data2: a.certs,
        flags: a.exitinfo2 !== 0n ? WRITE_EXITINFO2 : 0,
        value: a.exitinfo2,
      };
    } catch (e) {
      if (!(e instanceof GuestError)) throw e;
      this.record({
        op: op ?? `ioctl 0x${req.cmd.toString(16)}`,
        ...fields,
        error: e.errnoName,
        exitinfo2: e.exitinfo2,
      });
      const certsLen = e.certsLen !== undefined ? WRITE_CERTS_LEN : 0;
      return {
        err: e.errno,
        flags: (e.exitinfo2 !== 0n ? WRITE_EXITINFO2 : 0) | certsLen,
        value: e.exitinfo2,
        value2: e.certsLen ?? 0,
      };
    }
  }

  private report(op: string, body: Uint8Array, fields: Record<string, unknown>): GuestAnswer {
    fields.reportData = body.slice(0, 64);
    fields.vmpl = u32(body, 0x40);
    if (op === 'get-report') {
      return this.guestRequest(() => ({ exitinfo2: 0n, resp: this.reportResponse(body).resp }));
    }
    // get_ext_report: no certificates wanted → a plain report.
    const certsAddress = u64(body, 0x60);
    const certsLen = u32(body, 0x68);
    fields.certsLen = certsLen;
    if (certsLen === 0 || certsAddress === 0n) {
      return this.guestRequest(() => ({ exitinfo2: 0n, resp: this.reportResponse(body).resp }));
    }
    if (certsLen > FW_BLOB_MAX || certsLen % PAGE !== 0) throw new GuestError('EINVAL', NO_FW_CALL);
    return this.guestRequest(() => {
      const { resp, certTable } = this.reportResponse(body);
      const table = certTable ?? new Uint8Array(0);
      const needed = Math.ceil(table.length / PAGE) * PAGE;
      if (needed > certsLen) {
        // The host asks for more pages; the kernel re-issues a plain request (IV sync) and
        // returns EIO with vmm_error INVALID_LEN and the page count it was told.
        throw new GuestError('EIO', VMM_ERR_INVALID_LEN << VMM_ERR_SHIFT, needed);
      }
      const certs = new Uint8Array(certsLen);
      certs.set(table);
      return { exitinfo2: 0n, resp, certs };
    });
  }

  /** MSG_KEY_REQ → MSG_KEY_RSP (status, 28 reserved, 32-byte key). */
  private derivedKey(body: Uint8Array, fields: Record<string, unknown>): GuestAnswer {
    const rootKeySelect = u32(body, 0);
    const select = u64(body, 8);
    const vmpl = u32(body, 16);
    const guestSvn = u32(body, 20);
    const tcbVersion = u64(body, 24);
    fields.fieldSelect = select;
    fields.vmpl = vmpl;
    return this.guestRequest(() => {
      const resp = new Uint8Array(64);
      const injected = this.ctx.faults.take('snp-report-status');
      const key = this.deriveKey({
        rootKeySelect,
        rsvd: u32(body, 4),
        select,
        vmpl,
        guestSvn,
        tcbVersion,
      });
      const status = injected?.status ?? (key ? 0 : SEV_RET_INVALID_PARAM);
      resp.set(le32(status), 0);
      if (status === 0 && key) resp.set(key, 0x20);
      return { exitinfo2: 0n, resp };
    });
  }

  /**
   * The derived key: HMAC-SHA-256 under a per-chip root secret (VCEK- or VMRK-rooted,
   * derived from the PKI seed) over the selected launch fields, so the same measured
   * workload always gets the same key. Undefined when the firmware would refuse.
   */
  private deriveKey(r: {
    rootKeySelect: number;
    rsvd: number;
    select: bigint;
    vmpl: number;
    guestSvn: number;
    tcbVersion: bigint;
  }): Uint8Array | undefined {
    const launch = this.simulate(new Uint8Array(64), this.guestVmpl).fields;
    const tcbOk = [0, 1, 2, 3, 4, 5, 6, 7].every(
      (i) =>
        ((r.tcbVersion >> BigInt(8 * i)) & 0xffn) <=
        ((launch.committedTcb >> BigInt(8 * i)) & 0xffn),
    );
    if (r.rootKeySelect > 1 || r.rsvd !== 0 || r.select >> 7n !== 0n) return undefined;
    if (r.vmpl < this.guestVmpl || r.vmpl > 3 || r.guestSvn > launch.guestSvn || !tcbOk)
      return undefined;
    const root = createHmac('sha256', this.ctx.pki.seed)
      .update(
        `twi-devemu/snp/${this.product}/${this.opts.seed ?? ''}/${r.rootKeySelect ? 'vmrk' : 'vcek'}`,
      )
      .digest();
    const mac = createHmac('sha256', root).update('twi-devemu-snp-derived-key-v1');
    mac.update(le64(r.select)).update(le32(r.vmpl));
    const bit = (n: bigint) => ((r.select >> n) & 1n) === 1n;
    if (bit(0n)) mac.update(le64(launch.policy));
    if (bit(1n)) mac.update(launch.imageId);
    if (bit(2n)) mac.update(launch.familyId);
    if (bit(3n)) mac.update(launch.measurement);
    if (bit(4n)) mac.update(le32(r.guestSvn));
    if (bit(5n)) mac.update(le64(r.tcbVersion));
    if (bit(6n)) mac.update(le64(launch.launchMitVector ?? 0n));
    return new Uint8Array(mac.digest());
  }

  /** The configfs provider: sev_report_new (extended request with a 16 KiB cert buffer). */
  provider(): TsmProvider {
    return {
      name: 'sev_guest',
      privlevelFloor: this.guestVmpl,
      reportNew: (d, g) => this.reportNew(d, g),
    };
  }

  private reportNew(desc: { inblob: Uint8Array; privlevel: number }, generation: number) {
    const reportData = new Uint8Array(desc.inblob);
    const base = {
      device: 'tsm' as const,
      op: 'report',
      reportData,
      vmpl: desc.privlevel,
      generation,
    };
    try {
      if (desc.inblob.length !== 64) fail('EINVAL');
      const req = new Uint8Array(96);
      req.set(desc.inblob);
      req.set(le32(desc.privlevel), 0x40);
      const out = this.guestRequest(() => {
        const { resp, certTable } = this.reportResponse(req);
        return { exitinfo2: 0n, resp, certs: certTable };
      });
      const status = u32(out.resp!, 0);
      if (status === SEV_RET_INVALID_PARAM || status === SEV_RET_INVALID_KEY) fail('EINVAL');
      if (status !== 0) fail('ENXIO');
      const outblob = out.resp!.slice(0x20, 0x20 + u32(out.resp!, 4));
      this.ctx.record({ ...base, evidence: outblob });
      return { outblob, auxblob: out.certs };
    } catch (e) {
      if (e instanceof DeviceErrno) this.ctx.record({ ...base, error: e.errnoName });
      throw e;
    }
  }
}
