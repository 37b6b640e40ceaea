/**
 * `twi simulate tdx|sev-snp|nitro --out FILE --pki DIR [...]`: writes simulated evidence
 * and its collateral, under a simulated vendor PKI created in (or reused from) DIR.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { bindingReportData, jwkThumbprint } from '../../wire/binding.js';
import type { SimulatedPki } from '../../simulators/pki/store.js';
import { openPkiWithProgress } from './simulate-progress.js';
import { simulateNitro } from '../../simulators/nitro.js';
import { simulateSnp } from '../../simulators/sev-snp.js';
import { simulateTdx } from '../../simulators/tdx.js';
import type { AmdProduct } from '../../simulators/pki/amd.js';
import {
  TCB_STATUSES,
  isTcbStatus,
  type TcbStatus,
} from '../../verifier/platforms/tdx/verify/tcb-status.js';
import {
  collect,
  fixedHexOption,
  hexOption,
  indexedHexOption,
  instantOption,
  intOption,
  padTo,
  readPublicKey,
} from '../args.js';
import { pathError, pkiError } from '../io.js';
import { runSimulateServe } from './simulate-serve.js';
import type { SimulateServeOptions } from './simulate-serve.js';

/** Options of `twi simulate`, as commander hands them over. @internal */
export interface SimulateCliOptions {
  /** Required except for `serve` (commander leaves it undefined; checked at run time). */
  out: string;
  pki: string;
  /** No progress on stderr while the PKI is created. */
  quiet?: boolean;
  seed?: string;
  pkiSeed?: string;
  at?: string;
  reportData?: string;
  nonce?: string;
  publicKey?: string;
  userData?: string;
  debug?: boolean;
  version?: string;
  bodyType?: string;
  product?: string;
  vlek?: boolean;
  measurement?: string;
  hostData?: string;
  mrtd?: string;
  rtmr?: string[];
  pcr?: string[];
  tcbStatus?: string;
  advisoryIds?: string;
}

/** What was written, for the caller to print. @internal */
export interface SimulateOutcome {
  platform: string;
  files: string[];
  evidenceBytes: number;
  rootsDir: string;
}

interface Binding {
  reportData?: Uint8Array;
  nonce?: Uint8Array;
  spki?: Uint8Array;
}

/** REPORT_DATA / nonce / public key as the options ask, with the twi binding when both are given. */
function binding(o: SimulateCliOptions): Binding {
  const nonce = o.nonce === undefined ? undefined : hexOption('--nonce', o.nonce, 512);
  const key = o.publicKey === undefined ? undefined : readPublicKey(o.publicKey);
  if (o.reportData !== undefined && nonce && key) {
    throw new TypeError('--report-data and --nonce with --public-key both set REPORT_DATA');
  }
  let reportData: Uint8Array | undefined;
  if (o.reportData !== undefined)
    reportData = padTo(hexOption('--report-data', o.reportData, 64), 64);
  else if (nonce && key) reportData = bindingReportData(nonce, jwkThumbprint(key.jwk));
  else if (nonce) reportData = padTo(hexOption('--nonce', o.nonce!, 64), 64);
  return { reportData, nonce, spki: key?.spki };
}

const PRODUCTS: Record<string, AmdProduct> = { milan: 'Milan', genoa: 'Genoa', turin: 'Turin' };

function writeOut(path: string, data: Uint8Array | string): string {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, data);
  } catch (err) {
    throw pathError(err, 'cannot write', path, '--out');
  }
  return path;
}

/** Creates the directory of `--out` before the (slow) PKI, so a bad path fails at once. */
function prepareOut(path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (err) {
    throw pathError(err, 'cannot create the directory of', path, '--out');
  }
}

/** The simulated PKI of `--pki`; a directory that cannot be made is a one-line error. */
function tdx(pki: SimulatedPki, o: SimulateCliOptions, now: Date, b: Binding): SimulateOutcome {
  const version = o.version === undefined ? 4 : intOption('--version', o.version, 4, 5);
  const bodyType =
    o.bodyType === undefined ? undefined : intOption('--body-type', o.bodyType, 2, 3);
  if (version === 4 && bodyType === 3) throw new TypeError('--body-type 3 needs --version 5');
  const rtmrs = indexedHexOption('--rtmr', o.rtmr ?? [], 3, [48]);
  const status = o.tcbStatus;
  if (status !== undefined && !isTcbStatus(status)) {
    throw new TypeError(`--tcb-status must be one of ${TCB_STATUSES.join(', ')}`);
  }
  const { quote, collateral } = simulateTdx(pki.intel(), {
    seed: o.seed ?? 'twi-tdx-sim',
    now,
    version: version as 4 | 5,
    ...(bodyType !== undefined && { bodyType: bodyType as 2 | 3 }),
    ...(b.reportData && { reportData: b.reportData }),
    ...(o.mrtd !== undefined && { mrTd: fixedHexOption('--mrtd', o.mrtd, 48) }),
    ...(rtmrs.size > 0 && { rtmr: defaultRtmrs(rtmrs) }),
    debug: o.debug ?? false,
    ...(status !== undefined && {
      platformTcb: {
        status: status as TcbStatus,
        advisoryIds: o.advisoryIds ? o.advisoryIds.split(',') : [],
      },
    }),
  });
  const files = [
    writeOut(o.out, quote),
    writeOut(`${o.out}.collateral.json`, JSON.stringify(collateral, null, 2) + '\n'),
  ];
  return { platform: 'tdx', files, evidenceBytes: quote.length, rootsDir: `${pki.dir}/roots` };
}

function defaultRtmrs(
  given: Map<number, Uint8Array>,
): [Uint8Array, Uint8Array, Uint8Array, Uint8Array] {
  const at = (i: number): Uint8Array => given.get(i) ?? new Uint8Array(48);
  return [at(0), at(1), at(2), at(3)];
}

function snp(pki: SimulatedPki, o: SimulateCliOptions, b: Binding): SimulateOutcome {
  const product = PRODUCTS[(o.product ?? 'milan').toLowerCase()];
  if (!product) throw new TypeError('--product must be milan, genoa or turin');
  const version = o.version === undefined ? 5 : intOption('--version', o.version, 2, 5);
  const result = simulateSnp(pki.amd(product), {
    seed: o.seed ?? 'twi-sev-snp-sim',
    version: version as 2 | 3 | 4 | 5,
    ...(b.reportData && { reportData: b.reportData }),
    ...(o.measurement !== undefined && {
      measurement: fixedHexOption('--measurement', o.measurement, 48),
    }),
    ...(o.hostData !== undefined && { hostData: fixedHexOption('--host-data', o.hostData, 32) }),
    debug: o.debug ?? false,
    signingKey: o.vlek ? 'vlek' : 'vcek',
  });
  const keyFile = `${o.out}.${result.keyKind}.der`;
  const files = [
    writeOut(o.out, result.report),
    writeOut(keyFile, result.vcekDer),
    writeOut(`${o.out}.ca-chain.pem`, result.caChainPem),
  ];
  return {
    platform: 'sev-snp',
    files,
    evidenceBytes: result.report.length,
    rootsDir: `${pki.dir}/roots`,
  };
}

function nitro(pki: SimulatedPki, o: SimulateCliOptions, now: Date, b: Binding): SimulateOutcome {
  const pcrs = indexedHexOption('--pcr', o.pcr ?? [], 31, [32, 48, 64]);
  let userData: Uint8Array | undefined;
  if (o.userData !== undefined) userData = hexOption('--user-data', o.userData, 512);
  else if (b.nonce && b.spki) userData = b.reportData;
  else if (o.reportData !== undefined) userData = b.reportData;
  const { document } = simulateNitro(pki.nitro(), {
    now,
    seed: o.seed ?? 'twi-nitro-sim',
    debug: o.debug ?? false,
    ...(pcrs.size > 0 && { pcrs: Object.fromEntries(pcrs) }),
    ...(b.nonce && { nonce: b.nonce }),
    ...(b.spki && { publicKey: b.spki }),
    ...(userData && { userData }),
  });
  return {
    platform: 'nitro',
    files: [writeOut(o.out, document)],
    evidenceBytes: document.length,
    rootsDir: `${pki.dir}/roots`,
  };
}

/** Runs one simulation and writes its files. @internal */
export async function simulateToFiles(
  platform: string,
  o: SimulateCliOptions,
): Promise<SimulateOutcome> {
  if (!['tdx', 'sev-snp', 'nitro'].includes(platform)) {
    throw new TypeError(`platform must be tdx, sev-snp, nitro or serve, not ${platform}`);
  }
  if (o.out === undefined) throw new TypeError(`simulate ${platform} needs --out <file>`);
  const now = o.at === undefined ? new Date() : instantOption('--at', o.at);
  const b = binding(o);
  prepareOut(o.out);
  const pki = await openPkiWithProgress(o.pki, {
    ...(o.pkiSeed !== undefined && { seed: o.pkiSeed }),
    now,
    ...(o.quiet && { quiet: true }),
  }).catch((err: unknown) => {
    throw pkiError(err, o.pki);
  });
  if (platform === 'tdx') return tdx(pki, o, now, b);
  if (platform === 'sev-snp') return snp(pki, o, b);
  return nitro(pki, o, now, b);
}

/** @internal */
export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description(
      'write simulated TDX, SEV-SNP or Nitro evidence and its collateral, or (serve) run a simulated PCS + KDS',
    )
    .argument('<platform>', 'tdx | sev-snp | nitro | serve')
    .option('--out <file>', 'evidence file to write (collateral is written beside it)')
    .requiredOption(
      '--pki <dir>',
      'simulated PKI directory (created when absent, roots in DIR/roots)',
    )
    .option('--seed <seed>', 'seed of the evidence (keys, default measurements)')
    .option('--pki-seed <seed>', 'seed of a PKI created by this call (default random)')
    .option('--at <iso8601>', 'instant the evidence is produced at (default now)')
    .option('--report-data <hex>', 'REPORT_DATA, up to 64 bytes, zero-padded (nitro: user_data)')
    .option(
      '--nonce <hex>',
      'verifier nonce: bound with --public-key into REPORT_DATA (nitro: nonce)',
    )
    .option(
      '--public-key <file>',
      'workload public key (SPKI PEM/DER or JWK) bound to the evidence',
    )
    .option('--user-data <hex>', 'nitro: user_data (default: the binding, or --report-data)')
    .option('--debug', 'a debug TEE (TDX DEBUG, SNP POLICY.DEBUG, Nitro zero PCRs)')
    .option('--version <n>', 'tdx: quote version 4|5; sev-snp: report version 2|3|4|5')
    .option('--body-type <n>', 'tdx v5: 2 (TD 1.0) or 3 (TD 1.5, default)')
    .option('--product <name>', 'sev-snp: milan | genoa | turin (default milan)')
    .option('--vlek', 'sev-snp: sign with a VLEK instead of a VCEK')
    .option('--measurement <hex>', 'sev-snp: MEASUREMENT (48 bytes)')
    .option('--host-data <hex>', 'sev-snp: HOST_DATA (32 bytes)')
    .option('--mrtd <hex>', 'tdx: MRTD (48 bytes)')
    .option('--rtmr <i=hex>', 'tdx: RTMR i (0-3), repeatable', collect)
    .option('--pcr <i=hex>', 'nitro: PCR i (0-31), repeatable', collect)
    .option('--tcb-status <status>', 'tdx: status of the platform TCB level (e.g. OutOfDate)')
    .option('--advisory-ids <ids>', 'tdx: comma-separated advisory IDs of that level')
    .option('--quiet', 'no progress on stderr while the simulated PKI is created')
    .action(async (platform: string, opts: SimulateCliOptions) => {
      if (platform === 'serve')
        return runSimulateServe(opts as SimulateCliOptions & SimulateServeOptions);
      const r = await simulateToFiles(platform, opts);
      process.stdout.write(
        `${r.platform}: wrote ${r.files.join(', ')} (${r.evidenceBytes} bytes of evidence); ` +
          `simulated roots in ${r.rootsDir}\n`,
      );
    });
}
