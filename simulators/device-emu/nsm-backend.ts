/**
 * The emulated Nitro Secure Module behind `/dev/nsm` (drivers/misc/nsm.c NSM_IOCTL_RAW):
 * CBOR requests in the serde "externally tagged" form of aws-nitro-enclaves-nsm-api
 * (SPEC-DIGEST A4.2), answered with documents from {@link simulateNitro}.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { Decoder, Encoder } from 'cbor-x';
import { simulateNitro, simulatedNitroModuleId } from '../nitro.js';
import type { NitroSimOptions } from '../nitro.js';
import { fail } from './protocol.js';
import type { NsmErrorCode } from './faults.js';
import type { BackendContext, DeviceRequestRecord } from './types.js';
import { charDevice } from './vfs.js';
import type { EmuNode, IoctlAnswer, IoctlRequest } from './vfs.js';

/** NSM_IOCTL_RAW = _IOWR(0x0A, 0, struct nsm_raw) (include/uapi/linux/nsm.h). @internal */
export const NSM_IOCTL_RAW = 0xc0200a00;
/** NSM_REQUEST_MAX_SIZE. */
const REQUEST_MAX = 0x1000;
/** Attestation input limits (nsm-api attestation_process.md: user_data, nonce ≤ 512, public_key ≤ 1024). */
const USER_DATA_MAX = 512;
const NONCE_MAX = 512;
const PUBLIC_KEY_MAX = 1024;
const RANDOM_BYTES = 256;

/** What the emulated enclave is (everything {@link simulateNitro} takes except the request's fields). */
export type NitroEmuOptions = Omit<NitroSimOptions, 'now' | 'nonce' | 'userData' | 'publicKey'>;

// Byte strings must stay plain CBOR byte strings (no tag 64) for the NSM's serde decoder.
const encoder = new Encoder({ tagUint8Array: false, useRecords: false, mapsAsObjects: true });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: false });

type Field = Uint8Array | null;

class NsmRequestError extends Error {
  constructor(readonly code: NsmErrorCode) {
    super(code);
  }
}

function field(m: Map<unknown, unknown>, name: string, max: number): Field {
  const v = m.get(name);
  if (v === undefined || v === null) return null;
  if (!(v instanceof Uint8Array) || v.length > max) throw new NsmRequestError('InvalidArgument');
  return new Uint8Array(v);
}

/** @internal */
export class NsmBackend {
  private readonly moduleId: string;

  constructor(
    private readonly ctx: BackendContext,
    private readonly opts: NitroEmuOptions,
    startedAt: Date,
  ) {
    this.moduleId =
      opts.moduleId ??
      simulatedNitroModuleId(ctx.pki.nitro(), opts.seed ?? 'twi-nitro-sim', startedAt);
  }

  /** `/dev/nsm`. */
  device(): EmuNode {
    return charDevice((req) => this.ioctl(req));
  }

  private ioctl(req: IoctlRequest): IoctlAnswer {
    if (req.cmd !== NSM_IOCTL_RAW) fail('EINVAL');
    // fill_req_raw: a request larger than the device's buffer is refused.
    if (req.offset > BigInt(REQUEST_MAX)) {
      this.ctx.record({ device: 'nsm', op: 'raw', error: 'EMSGSIZE' });
      fail('EMSGSIZE');
    }
    return { data1: new Uint8Array(encoder.encode(this.answer(req.data))) };
  }

  private record(entry: Omit<DeviceRequestRecord, 'device'>): void {
    this.ctx.record({ device: 'nsm', ...entry });
  }

  private answer(bytes: Uint8Array): unknown {
    let request: unknown;
    try {
      request = decoder.decode(bytes);
    } catch {
      this.record({ op: 'undecodable', error: 'InvalidOperation' });
      return { Error: 'InvalidOperation' };
    }
    const op = requestName(request);
    const injected = this.ctx.faults.take('nsm-error');
    if (injected) {
      this.record({ op, error: injected.code });
      return { Error: injected.code };
    }
    try {
      return this.serve(op, request);
    } catch (e) {
      if (!(e instanceof NsmRequestError)) throw e;
      this.record({ op, error: e.code });
      return { Error: e.code };
    }
  }

  private serve(op: string, request: unknown): unknown {
    if (op === 'DescribeNSM') {
      this.record({ op });
      return {
        DescribeNSM: {
          version_major: 1,
          version_minor: 0,
          version_patch: 0,
          module_id: this.moduleId,
          max_pcrs: 32,
          locked_pcrs: Array.from({ length: 16 }, (_, i) => i),
          digest: 'SHA384',
        },
      };
    }
    if (op === 'GetRandom') {
      this.record({ op });
      return { GetRandom: { random: new Uint8Array(randomBytes(RANDOM_BYTES)) } };
    }
    if (op === 'Attestation') {
      const args = (request as Map<unknown, unknown>).get('Attestation');
      if (!(args instanceof Map)) throw new NsmRequestError('InvalidArgument');
      const userData = field(args, 'user_data', USER_DATA_MAX);
      const nonce = field(args, 'nonce', NONCE_MAX);
      const publicKey = field(args, 'public_key', PUBLIC_KEY_MAX);
      const { document } = simulateNitro(this.ctx.pki.nitro(), {
        ...this.opts,
        moduleId: this.moduleId,
        now: this.ctx.now(),
        userData,
        nonce,
        publicKey,
      });
      this.record({ op, userData, nonce, publicKey, evidence: document });
      return { Attestation: { document } };
    }
    throw new NsmRequestError('InvalidOperation');
  }
}

/** The request variant: a unit variant is a text string, a struct variant a one-entry map. */
function requestName(request: unknown): string {
  if (typeof request === 'string') return request;
  if (request instanceof Map && request.size === 1) {
    const [k] = request.keys();
    if (typeof k === 'string') return k;
  }
  return 'unknown';
}
