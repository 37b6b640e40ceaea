/**
 * Reference values given on the `twi verify` command line (`--mrtd`, `--measurement`,
 * `--pcr 0=…`, `--min-tcb snp=8,…`): each flag sets one field of the appraisal policy, in
 * place of what `--policy` or `--corim` said for it, and limits the platforms the policy
 * allows to those the flags are about (so `--mrtd` never lets SEV-SNP evidence through
 * unchecked).
 *
 * @internal
 * @module
 */
import type { Command } from 'commander';
import { defaultPolicy } from '../../verifier/policy/normalize.js';
import type {
  NitroReferences,
  Policy,
  PolicyPlatform,
  SnpReferences,
  SnpTcbComponent,
  TdxReferences,
} from '../../verifier/policy/types.js';
import { collect, fixedHexOption, indexedHexOption, intOption } from '../args.js';

/** The reference-value options of `twi verify` (commander's camelCase names). @internal */
export interface ReferenceOptions {
  mrtd?: string;
  rtmr0?: string;
  rtmr1?: string;
  rtmr2?: string;
  rtmr3?: string;
  mrseam?: string;
  mrconfigid?: string;
  mrowner?: string;
  xfam?: string;
  measurement?: string;
  hostData?: string;
  idKeyDigest?: string;
  authorKeyDigest?: string;
  chipId?: string;
  vmpl?: string[];
  guestSvnMin?: string;
  minTcb?: string;
  pcr?: string[];
}

type HexFlag = readonly [keyof ReferenceOptions, string, number, string];

const TDX_FLAGS: readonly HexFlag[] = [
  ['mrtd', '--mrtd', 48, 'mrtd'],
  ['rtmr0', '--rtmr0', 48, 'rtmr0'],
  ['rtmr1', '--rtmr1', 48, 'rtmr1'],
  ['rtmr2', '--rtmr2', 48, 'rtmr2'],
  ['rtmr3', '--rtmr3', 48, 'rtmr3'],
  ['mrseam', '--mrseam', 48, 'mrseam'],
  ['mrconfigid', '--mrconfigid', 48, 'mrconfigid'],
  ['mrowner', '--mrowner', 48, 'mrowner'],
  ['xfam', '--xfam', 8, 'xfam'],
];

const SNP_FLAGS: readonly HexFlag[] = [
  ['measurement', '--measurement', 48, 'measurement'],
  ['hostData', '--host-data', 32, 'host_data'],
  ['idKeyDigest', '--id-key-digest', 48, 'id_key_digest'],
  ['authorKeyDigest', '--author-key-digest', 48, 'author_key_digest'],
  ['chipId', '--chip-id', 64, 'chip_ids'],
];

const TCB_COMPONENTS: readonly SnpTcbComponent[] = ['bl', 'tee', 'snp', 'ucode', 'fmc'];

function hexRefs(o: ReferenceOptions, flags: readonly HexFlag[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, name, size, field] of flags) {
    const v = o[key];
    if (typeof v !== 'string') continue;
    out[field] = [Buffer.from(fixedHexOption(name, v, size)).toString('hex')];
  }
  return out;
}

/** `--min-tcb bl=3,tee=0,snp=8,ucode=115[,fmc=N]`: SEV-SNP REPORTED_TCB floors. */
function minTcb(value: string): Partial<Record<SnpTcbComponent, number>> {
  const out: Partial<Record<SnpTcbComponent, number>> = {};
  for (const part of value.split(',')) {
    const m = /^\s*([a-z]+)\s*=\s*(\d+)\s*$/.exec(part);
    const comp = m?.[1] as SnpTcbComponent | undefined;
    if (!m || !comp || !TCB_COMPONENTS.includes(comp)) {
      throw new TypeError(
        `--min-tcb takes COMPONENT=N[,…] with components ${TCB_COMPONENTS.join(', ')}, got ${JSON.stringify(part)}`,
      );
    }
    out[comp] = intOption(`--min-tcb ${comp}`, m[2]!, 0, 255);
  }
  return out;
}

function snpRefs(o: ReferenceOptions): Record<string, unknown> {
  return {
    ...hexRefs(o, SNP_FLAGS),
    ...(o.vmpl !== undefined &&
      o.vmpl.length > 0 && {
        vmpl: { allowed: [...new Set(o.vmpl.map((v) => intOption('--vmpl', v, 0, 3)))] },
      }),
    ...(o.guestSvnMin !== undefined && {
      guest_svn_min: intOption('--guest-svn-min', o.guestSvnMin, 0, 0xffff_ffff),
    }),
    ...(o.minTcb !== undefined && { min_tcb: minTcb(o.minTcb) }),
  };
}

function nitroRefs(o: ReferenceOptions): Record<string, readonly string[]> {
  const pcrs = indexedHexOption('--pcr', o.pcr ?? [], 31, [32, 48, 64]);
  return Object.fromEntries(
    [...pcrs].map(([i, bytes]) => [String(i), [Buffer.from(bytes).toString('hex')]]),
  );
}

/**
 * `base` (or the default policy) with the command line's reference values set, or `base`
 * itself when none was given. Each given field replaces the policy's; the allowed platforms
 * become those of the given fields (a usage error when the policy allows none of them).
 *
 * @internal
 */
export function applyReferenceOptions(
  base: Policy | undefined,
  o: ReferenceOptions,
): Policy | undefined {
  const tdx = hexRefs(o, TDX_FLAGS);
  const snp = snpRefs(o);
  const pcrs = nitroRefs(o);
  const stated: PolicyPlatform[] = [];
  if (Object.keys(tdx).length > 0) stated.push('tdx');
  if (Object.keys(snp).length > 0) stated.push('sev-snp');
  if (Object.keys(pcrs).length > 0) stated.push('nitro');
  if (stated.length === 0) return base;
  const policy = base ?? defaultPolicy();
  const platforms = policy.platforms.filter((p) => stated.includes(p));
  if (platforms.length === 0) {
    throw new TypeError(
      `the reference values given are for ${stated.join(', ')}, which the policy does not allow`,
    );
  }
  const note = `reference values from the command line (${stated.join(', ')})`;
  return {
    ...policy,
    id: `${policy.id}+command-line`,
    description: [policy.description, note].filter(Boolean).join('; '),
    platforms,
    ...(stated.includes('tdx') && { tdx: { ...policy.tdx, ...tdx } as TdxReferences }),
    ...(stated.includes('sev-snp') && {
      'sev-snp': { ...policy['sev-snp'], ...snp } as SnpReferences,
    }),
    ...(stated.includes('nitro') && {
      nitro: { ...policy.nitro, pcrs: { ...policy.nitro?.pcrs, ...pcrs } } as NitroReferences,
    }),
  };
}

/** Adds the reference-value options to `twi verify`. @internal */
export function referenceOptions(cmd: Command): Command {
  return cmd
    .option('--mrtd <hex>', 'tdx: the MRTD the quote must carry (48 bytes)')
    .option('--rtmr0 <hex>', 'tdx: RTMR0 (48 bytes)')
    .option('--rtmr1 <hex>', 'tdx: RTMR1 (48 bytes)')
    .option('--rtmr2 <hex>', 'tdx: RTMR2 (48 bytes)')
    .option('--rtmr3 <hex>', 'tdx: RTMR3 (48 bytes)')
    .option('--mrseam <hex>', 'tdx: MRSEAM of the TDX module (48 bytes)')
    .option('--mrconfigid <hex>', 'tdx: MRCONFIGID (48 bytes)')
    .option('--mrowner <hex>', 'tdx: MROWNER (48 bytes)')
    .option('--xfam <hex>', 'tdx: XFAM, the 8 raw bytes as twi inspect prints them')
    .option('--measurement <hex>', 'sev-snp: launch MEASUREMENT (48 bytes)')
    .option('--host-data <hex>', 'sev-snp: HOST_DATA (32 bytes)')
    .option('--id-key-digest <hex>', 'sev-snp: ID_KEY_DIGEST (48 bytes)')
    .option('--author-key-digest <hex>', 'sev-snp: AUTHOR_KEY_DIGEST (48 bytes)')
    .option('--chip-id <hex>', 'sev-snp: CHIP_ID (64 bytes)')
    .option('--vmpl <n>', 'sev-snp: an allowed VMPL, 0-3 (repeatable)', collect, [])
    .option('--guest-svn-min <n>', 'sev-snp: lowest GUEST_SVN accepted')
    .option(
      '--min-tcb <list>',
      'sev-snp: REPORTED_TCB floors, e.g. bl=3,tee=0,snp=8,ucode=115 (fmc on Turin)',
    )
    .option('--pcr <i=hex>', 'nitro: PCR I must be HEX (repeatable)', collect, []);
}
