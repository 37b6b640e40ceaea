/**
 * The configfs-tsm report tree, `/sys/kernel/config/tsm/report/<entry>/`, with the
 * semantics of drivers/virt/coco/guest/report.c (formerly tsm.c): one state per entry,
 * `write_generation` advanced by every inblob/privlevel store (EBUSY when it would wrap
 * onto `read_generation` without an intervening read), the report regenerated on the first
 * read after a store, outblob/auxblob served from the same generation, ENXIO without a
 * provider. The Documentation/ABI/testing/configfs-tsm-report attributes are emulated:
 * provider, generation, inblob, outblob, and for SNP auxblob, privlevel, privlevel_floor.
 *
 * @internal
 * @module
 */
import { fail } from './protocol.js';
import type { FaultQueue } from './faults.js';
import type { TsmProvider, TsmReport } from './types.js';
import { binAttr, dirNode, textAttr } from './vfs.js';
import type { EmuNode } from './vfs.js';

/** TSM_REPORT_INBLOB_MAX. */
const INBLOB_MAX = 64;
/** TSM_REPORT_OUTBLOB_MAX (SZ_32K in the first releases; later trees raised it). */
const OUTBLOB_MAX = 32 * 1024;
/** TSM_REPORT_PRIVLEVEL_MAX (the SEV-SNP GHCB allows VMPL 0..3). */
const PRIVLEVEL_MAX = 3;
const U64 = (1n << 64n) - 1n;

interface Entry {
  writeGeneration: bigint;
  readGeneration: bigint;
  inblob: Uint8Array;
  privlevel: number;
  report?: TsmReport;
  dead: boolean;
}

export class TsmReportTree {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly provider: TsmProvider | undefined,
    private readonly faults: FaultQueue,
  ) {}

  /** mkdir of `/sys/kernel/config/tsm/report/<name>` (tsm_report_make_item). */
  mkdir(name: string): void {
    if (this.entries.has(name)) fail('EEXIST');
    if (!this.provider) fail('ENXIO');
    this.entries.set(name, {
      writeGeneration: 0n,
      readGeneration: 0n,
      inblob: new Uint8Array(0),
      privlevel: 0,
      dead: false,
    });
  }

  /** rmdir of an entry: open files of it then fail ENOENT (configfs frag_dead). */
  rmdir(name: string): void {
    const e = this.entries.get(name);
    if (!e) fail('ENOENT');
    e.dead = true;
    this.entries.delete(name);
  }

  /** The report directory. */
  root(): EmuNode {
    return dirNode(() => [...this.entries.keys()].map((n) => ['d', n]));
  }

  private attributes(): string[] {
    if (!this.provider) return [];
    const common = ['generation', 'provider', 'inblob', 'outblob'];
    // sev_report_attr_visible / sev_report_bin_attr_visible; tdx shows only the common ones.
    return this.provider.name === 'sev_guest'
      ? [...common, 'privlevel', 'privlevel_floor', 'auxblob']
      : common;
  }

  /** An entry directory or one of its attributes, or undefined. */
  lookup(name: string, attr?: string): EmuNode | undefined {
    const e = this.entries.get(name);
    if (!e) return undefined;
    if (attr === undefined) return dirNode(() => this.attributes().map((a) => ['f', a]));
    if (!this.attributes().includes(attr)) return undefined;
    return this.attribute(e, attr);
  }

  private live(e: Entry): void {
    if (e.dead) fail('ENOENT');
  }

  /** try_advance_write_generation. */
  private advance(e: Entry): void {
    if (this.faults.take('tsm-busy')) fail('EBUSY');
    if (e.writeGeneration === ((e.readGeneration - 1n) & U64)) fail('EBUSY');
    e.writeGeneration = (e.writeGeneration + 1n) & U64;
  }

  /** tsm_report_read: the cached report if current, else report_new under the lock. */
  private read(e: Entry, pick: (r: TsmReport) => Uint8Array | undefined): Uint8Array {
    this.live(e);
    if (!this.provider) fail('ENXIO');
    if (e.inblob.length === 0) fail('EINVAL');
    if (!e.report || e.readGeneration !== e.writeGeneration) {
      e.report = undefined;
      e.report = this.provider.reportNew(
        { inblob: e.inblob, privlevel: e.privlevel },
        Number(e.writeGeneration),
      );
      e.readGeneration = e.writeGeneration;
    }
    return pick(e.report) ?? new Uint8Array(0);
  }

  private commitInblob(e: Entry, data: Uint8Array): void {
    if (e.dead) return;
    this.advance(e);
    e.inblob = new Uint8Array(data);
    if (this.faults.take('tsm-generation-race')) {
      // Another process's inblob lands between ours and our read of outblob.
      e.writeGeneration = (e.writeGeneration + 1n) & U64;
      e.inblob = new Uint8Array(64).fill(0xee);
    }
  }

  private attribute(e: Entry, attr: string): EmuNode {
    const p = this.provider!;
    switch (attr) {
      case 'provider':
        return textAttr(0o444, () => `${p.name}\n`);
      case 'generation':
        return textAttr(0o444, () => `${e.writeGeneration}\n`);
      case 'privlevel_floor':
        return textAttr(0o444, () => `${p.privlevelFloor ?? 0}\n`);
      case 'privlevel':
        return textAttr(0o200, undefined, (text) => {
          this.live(e);
          const val = parseUint(text);
          if ((p.privlevelFloor ?? 0) > val || val > PRIVLEVEL_MAX) fail('EINVAL');
          this.advance(e);
          e.privlevel = val;
        });
      case 'inblob':
        return binAttr(0o200, INBLOB_MAX, undefined, (data) => this.commitInblob(e, data));
      case 'outblob':
        return binAttr(0o444, OUTBLOB_MAX, () => this.read(e, (r) => r.outblob));
      default:
        return binAttr(0o444, OUTBLOB_MAX, () => this.read(e, (r) => r.auxblob));
    }
  }
}

/** kstrtouint(buf, 0, &val): decimal, 0x hex or 0 octal, one trailing newline allowed. */
function parseUint(text: string): number {
  const t = text.endsWith('\n') ? text.slice(0, -1) : text;
  let v: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) v = parseInt(t.slice(2), 16);
  else if (/^0[0-7]*$/.test(t)) v = parseInt(t, 8);
  else if (/^[1-9][0-9]*$/.test(t)) v = parseInt(t, 10);
  else fail('EINVAL');
  if (v > 0xffffffff) fail('ERANGE');
  return v;
}
