/**
 * A simulated-PKI directory: the seed and creation instant in `pki.json`, and the public
 * roots under `roots/` with the file names of the real vendor roots, so a verifier can
 * be pointed at either. No private key is ever written: every key is re-derived from the
 * seed, which is therefore the simulator's only secret — keep `pki.json` private.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TwiError } from '../../common/errors.js';
import { createAmdPki, type AmdPki, type AmdProduct } from './amd.js';
import { createNitroPki, type NitroPki } from './aws.js';
import { createIntelPki, type IntelPki } from './intel.js';
import { addDays, addYears, wholeSeconds } from './util.js';

/** A simulated-PKI directory that cannot be used: unreadable or inconsistent state. */
export class SimulatorStateError extends TwiError {
  override readonly code = 'ERR_SIMULATOR_STATE';
}

/** An opened simulated PKI; the vendor PKIs are built on first use and memoised. */
export interface SimulatedPki {
  readonly dir: string;
  /** The secret every key derives from. */
  readonly seed: string;
  readonly createdAt: Date;
  intel(): IntelPki;
  amd(product: AmdProduct): AmdPki;
  nitro(): NitroPki;
}

interface StateFile {
  version: 1;
  seed: string;
  createdAt: string;
}

const PRODUCTS: readonly AmdProduct[] = ['Milan', 'Genoa', 'Turin'];

function startOfUtcDay(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return false;
      throw e;
    },
  );
}

function tempName(path: string): string {
  return `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/** Publishes `data` at `path` only if nothing is there yet (link is atomic and exclusive). */
async function createExclusive(path: string, data: string): Promise<boolean> {
  const tmp = tempName(path);
  await writeFile(tmp, data, { mode: 0o600 });
  try {
    await link(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await unlink(tmp);
  }
}

async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempName(path);
  await writeFile(tmp, data);
  await rename(tmp, path);
}

function parseState(text: string, path: string): StateFile {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new SimulatorStateError(`${path} is not JSON`, { cause: e });
  }
  const s = v as Partial<StateFile> | null;
  const created = typeof s?.createdAt === 'string' ? new Date(s.createdAt) : undefined;
  if (
    s?.version !== 1 ||
    typeof s.seed !== 'string' ||
    s.seed === '' ||
    !created ||
    Number.isNaN(created.getTime())
  ) {
    throw new SimulatorStateError(`${path} lacks version 1, seed or createdAt`);
  }
  return s as StateFile;
}

function buildPki(dir: string, seed: string, createdAt: Date): SimulatedPki {
  const notBefore = addDays(createdAt, -1);
  const window = { seed, notBefore, notAfter: addYears(notBefore, 25) };
  let intel: IntelPki | undefined;
  let nitro: NitroPki | undefined;
  const amd = new Map<AmdProduct, AmdPki>();
  return {
    dir,
    seed,
    createdAt,
    intel: () => (intel ??= createIntelPki(window)),
    nitro: () => (nitro ??= createNitroPki(window)),
    amd(product) {
      if (!PRODUCTS.includes(product)) {
        throw new TypeError(`unknown AMD product ${String(product)}`);
      }
      let pki = amd.get(product);
      if (!pki) amd.set(product, (pki = createAmdPki({ ...window, product })));
      return pki;
    },
  };
}

/** Root files, named as in the real vendor roots, the PKI each belongs to, and how to produce each. */
function rootFiles(pki: SimulatedPki): [string, string, () => string | Uint8Array][] {
  const files: [string, string, () => string | Uint8Array][] = [
    ['intel-sgx-root-ca.der', 'intel', () => pki.intel().root.der],
    ['intel-sgx-root-ca.pem', 'intel', () => pki.intel().root.pem],
    ['aws-nitro-enclaves-root-g1.pem', 'aws', () => pki.nitro().root.pem],
  ];
  for (const p of PRODUCTS) {
    const lower = p.toLowerCase();
    files.push([`amd-${lower}-ask-ark.pem`, `amd-${lower}`, () => pki.amd(p).caChainPem(false)]);
    files.push([`amd-${lower}-asvk-ark.pem`, `amd-${lower}`, () => pki.amd(p).caChainPem(true)]);
  }
  return files;
}

/**
 * Roots on disk must be the ones the seed derives, or a verifier trusting them would
 * reject everything this simulator signs. The EC roots are cheap to re-derive and catch a
 * foreign or edited directory; the RSA ones are left unchecked to keep opening fast.
 */
async function checkRoots(pki: SimulatedPki): Promise<void> {
  const expected: [string, Uint8Array][] = [
    ['intel-sgx-root-ca.der', pki.intel().root.der],
    ['aws-nitro-enclaves-root-g1.pem', Buffer.from(pki.nitro().root.pem)],
  ];
  for (const [name, bytes] of expected) {
    const path = join(pki.dir, 'roots', name);
    if (!Buffer.from(await readFile(path)).equals(bytes)) {
      throw new SimulatorStateError(`${path} is not the root that ${pki.dir}/pki.json derives`);
    }
  }
}

/**
 * Opens the simulated PKI in `dir`, creating it when absent.
 *
 * Creating writes `dir/pki.json` (seed and creation instant, mode 0600) and the public
 * roots under `dir/roots/`: `intel-sgx-root-ca.der` and `.pem`,
 * `amd-{milan,genoa,turin}-ask-ark.pem`, `amd-{milan,genoa,turin}-asvk-ark.pem` and
 * `aws-nitro-enclaves-root-g1.pem`. Reopening reads `pki.json` back, so the same keys and
 * certificates come out byte for byte; missing root files are rewritten.
 *
 * CAs are valid from `createdAt` − 1 day for 25 years. No private key is written: all are
 * derived from the seed, which makes the seed the secret of the whole simulated PKI.
 *
 * @param opts.seed - seed for a new directory (default: 16 random bytes, hex); must match
 *   the stored seed when reopening.
 * @param opts.now - creation instant for a new directory (default: now, truncated to the UTC day).
 * @param opts.onStep - called before each vendor PKI whose roots have to be made (`intel`,
 *   `aws`, `amd-milan`, `amd-genoa`, `amd-turin`; the AMD RSA keys take seconds), so a caller
 *   can show progress; not called when every root file is already there.
 * @throws {@link SimulatorStateError} when `pki.json` is unreadable or the Intel or AWS
 *   root on disk is not the one the seed derives;
 *   `TypeError` when `opts.seed` contradicts the stored seed.
 *
 * @example
 * ```ts
 * const sim = await openSimulatedPki('.twi/sim-pki');
 * const vcek = sim.amd('Milan').issueVcek({ hwid, tcb });
 * ```
 */
export async function openSimulatedPki(
  dir: string,
  opts: { seed?: string; now?: Date; onStep?: (step: string) => void } = {},
): Promise<SimulatedPki> {
  if (opts.seed !== undefined && (typeof opts.seed !== 'string' || opts.seed === '')) {
    throw new TypeError('seed must be a non-empty string');
  }
  await mkdir(join(dir, 'roots'), { recursive: true });
  const statePath = join(dir, 'pki.json');
  if (!(await exists(statePath))) {
    const fresh: StateFile = {
      version: 1,
      seed: opts.seed ?? randomBytes(16).toString('hex'),
      createdAt: wholeSeconds(opts.now ?? startOfUtcDay(new Date())).toISOString(),
    };
    await createExclusive(statePath, JSON.stringify(fresh, null, 2) + '\n');
  }
  const state = parseState(await readFile(statePath, 'utf8'), statePath);
  if (opts.seed !== undefined && opts.seed !== state.seed) {
    throw new TypeError(`${statePath} holds a different seed than the one given`);
  }
  const pki = buildPki(dir, state.seed, new Date(state.createdAt));
  let step: string | undefined;
  for (const [name, vendor, produce] of rootFiles(pki)) {
    const path = join(dir, 'roots', name);
    if (await exists(path)) continue;
    if (vendor !== step) opts.onStep?.((step = vendor));
    await writeAtomic(path, produce());
  }
  await checkRoots(pki);
  return pki;
}
