/**
 * Other JavaScript verifiers ("peers") run on the same samples as twi. Each is imported
 * dynamically, so that a peer that is missing or breaks only costs its own column; every
 * peer is called once and its answer checked before it is timed. The module shapes below
 * are the few members the bench calls, not the packages' full types.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { projectRoot } from '../helpers/vectors.js';
import type { BenchPlatform, SampleSpec } from './samples.js';
import type { Operation } from './timing.js';

/** What trying a peer on a sample gave: an operation to time, or why there is none. */
export interface PeerTrial {
  readonly peer: string;
  /**
   * `ok`: verified, timed. `rejected`: refused the sample after its cryptographic checks
   * (timed to the refusal, not counted as a verification). `unsupported`: cannot verify it.
   * `unavailable`: the package did not load.
   */
  readonly status: 'ok' | 'rejected' | 'unsupported' | 'unavailable';
  readonly note: string;
  readonly op?: Operation;
  readonly isAsync?: boolean;
}

/** A peer package and whether it loaded. */
export interface PeerInfo {
  readonly name: string;
  readonly platform: BenchPlatform;
  readonly version: string | null;
  readonly loaded: boolean;
  readonly note: string;
}

interface DcapResult {
  status: string;
}
interface DcapQvl {
  verify(quote: Uint8Array, collateral: unknown, nowSecs: number): DcapResult;
  QuoteVerifier: new (rootDer: Uint8Array) => {
    verify(quote: Uint8Array, collateral: unknown, nowSecs: number): DcapResult;
  };
}
interface DcapQvlWeb {
  initSync(m: { module: Uint8Array }): unknown;
  js_verify(quote: Uint8Array, collateral: unknown, now: bigint): DcapResult;
}
interface Tinfoil {
  PredicateType: { SevGuestV2: string };
  verifyAttestation(doc: { format: string; body: string }, vcekBase64: string): Promise<unknown>;
}
interface SequenceAttestation {
  verifySignature(): Promise<boolean>;
  verifyRootOfTrust(at: Date): Promise<boolean>;
  rootCertFingerprint(): Promise<string>;
}
interface SequenceTee {
  SignedAttestation: { fromDocument(base64: string): SequenceAttestation };
}
interface EvervaultWasm {
  initSync(m: { module: Uint8Array }): unknown;
  PCRs: { empty(): unknown };
  validateAttestationDocPcrs(docBase64: string, pcrs: unknown[]): boolean;
}

/** SHA-256 of the AWS Nitro Enclaves root G1 (DER), as published by AWS. */
const AWS_ROOT_SHA256 = '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b';

type Prepare = (spec: SampleSpec) => Promise<PeerTrial>;

interface Adapter {
  readonly name: string;
  readonly platform: BenchPlatform;
  load(): Promise<Prepare>;
}

function packageVersion(name: string): string | null {
  try {
    const pkg = readFileSync(join(projectRoot, 'node_modules', name, 'package.json'), 'utf8');
    return (JSON.parse(pkg) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

function packageFile(name: string, file: string): Uint8Array {
  return new Uint8Array(readFileSync(join(projectRoot, 'node_modules', name, file)));
}

/** Imports `name` (the CommonJS export object when it is one). */
async function importPeer<T>(name: string): Promise<T> {
  const mod = (await import(name)) as { default?: unknown };
  return (mod.default !== undefined && typeof mod.default === 'object' ? mod.default : mod) as T;
}

function message(err: unknown): string {
  const e = err as { message?: unknown; cause?: { message?: unknown } };
  const cause = e?.cause?.message === undefined ? '' : ` (${String(e.cause.message)})`;
  return String(e?.message ?? err) + cause;
}

/** Runs `fn` with console output discarded (some peers print their failures). */
async function quietly<T>(fn: () => T | Promise<T>): Promise<T> {
  const saved = { log: console.log, error: console.error, warn: console.warn };
  const none = (): void => undefined;
  Object.assign(console, { log: none, error: none, warn: none });
  try {
    return await fn();
  } finally {
    Object.assign(console, saved);
  }
}

/** Calls `op` once; `ok` when `accept` holds for the answer, else the peer's refusal. */
async function trial(
  peer: string,
  op: Operation,
  isAsync: boolean,
  accept: (result: unknown) => string | undefined,
): Promise<PeerTrial> {
  try {
    const refusal = accept(await quietly(op));
    if (refusal === undefined) return { peer, status: 'ok', note: '', op, isAsync };
    return { peer, status: 'unsupported', note: refusal };
  } catch (err) {
    return { peer, status: 'unsupported', note: message(err) };
  }
}

function tdxInputs(spec: SampleSpec) {
  const text = new TextDecoder().decode(spec.endorsements.tdxCollateral);
  return {
    quote: Buffer.from(spec.evidence),
    collateral: JSON.parse(text) as unknown,
    nowSecs: Math.floor(Date.parse(spec.now) / 1000),
  };
}

function sameStatus(spec: SampleSpec): (r: unknown) => string | undefined {
  return (r) => {
    const status = (r as DcapResult | undefined)?.status;
    return status === spec.tcbStatus ? undefined : `TCB status ${status}, twi ${spec.tcbStatus}`;
  };
}

const dcapQvl: Adapter = {
  name: '@phala/dcap-qvl',
  platform: 'tdx',
  async load() {
    const api = await importPeer<DcapQvl>(this.name);
    return async (spec) => {
      const { quote, collateral, nowSecs } = tdxInputs(spec);
      const custom = spec.rootDer && new api.QuoteVerifier(Buffer.from(spec.rootDer));
      const op = custom
        ? () => custom.verify(quote, collateral, nowSecs)
        : () => api.verify(quote, collateral, nowSecs);
      return trial(this.name, op, false, sameStatus(spec));
    };
  },
};

const dcapQvlWeb: Adapter = {
  name: '@phala/dcap-qvl-web',
  platform: 'tdx',
  async load() {
    const api = await importPeer<DcapQvlWeb>(this.name);
    api.initSync({ module: packageFile(this.name, 'dcap-qvl-web_bg.wasm') });
    return async (spec) => {
      if (spec.rootDer) {
        return {
          peer: this.name,
          status: 'unsupported',
          note: 'Intel root built in, no other root',
        };
      }
      const { quote, collateral, nowSecs } = tdxInputs(spec);
      const op = () => api.js_verify(quote, collateral, BigInt(nowSecs));
      return trial(this.name, op, false, sameStatus(spec));
    };
  },
};

const tinfoil: Adapter = {
  name: '@tinfoilsh/verifier',
  platform: 'sev-snp',
  async load() {
    const api = await importPeer<Tinfoil>(this.name);
    return async (spec) => {
      if (spec.rootDer) {
        return { peer: this.name, status: 'unsupported', note: 'AMD Genoa ARK/ASK built in' };
      }
      // Its wire format: base64 of the gzipped report; the VCEK as base64 DER.
      const doc = {
        format: api.PredicateType.SevGuestV2,
        body: gzipSync(spec.evidence).toString('base64'),
      };
      const vcek = Buffer.from(spec.endorsements.snpKeyCert!).toString('base64');
      const op = () => api.verifyAttestation(doc, vcek);
      const first = await trial(this.name, op, true, () => undefined);
      // Its fixed validation policy runs after the chain and report signature checks: a
      // policy refusal is timed (all the cryptography done), but is no verification.
      if (first.status === 'ok' || !/policy violation/i.test(first.note)) return first;
      const toRefusal = () => op().catch((err: unknown) => message(err));
      return {
        peer: this.name,
        status: 'rejected',
        note: first.note,
        op: toRefusal,
        isAsync: true,
      };
    };
  },
};

const sequenceTee: Adapter = {
  name: '@0xsequence/tee-verifier',
  platform: 'nitro',
  async load() {
    // It reads `window.crypto`; in Node, `globalThis` has what it needs.
    const g = globalThis as { window?: unknown };
    g.window ??= globalThis;
    const api = await importPeer<SequenceTee>(this.name);
    return async (spec) => {
      const doc = Buffer.from(spec.evidence).toString('base64');
      const at = new Date(spec.now);
      const root = spec.rootDer
        ? createHash('sha256').update(spec.rootDer).digest('hex')
        : AWS_ROOT_SHA256;
      const op = async () => {
        const a = api.SignedAttestation.fromDocument(doc);
        if (!(await a.verifySignature())) throw new Error('signature does not verify');
        if (!(await a.verifyRootOfTrust(at))) throw new Error('chain does not verify');
        if ((await a.rootCertFingerprint()) !== root) throw new Error('unexpected root');
        return a;
      };
      return trial(this.name, op, true, () => undefined);
    };
  },
};

const evervaultWasm: Adapter = {
  name: '@evervault/wasm-attestation-bindings',
  platform: 'nitro',
  async load() {
    const api = await importPeer<EvervaultWasm>(this.name);
    api.initSync({ module: packageFile(this.name, 'index_bg.wasm') });
    return async (spec) => {
      const doc = Buffer.from(spec.evidence).toString('base64');
      const t = Date.parse(spec.now);
      // It checks validity at `Date.now()`; pinned to the sample's instant for the call.
      const op = () => {
        const saved = Date.now;
        Date.now = () => t;
        try {
          return api.validateAttestationDocPcrs(doc, [api.PCRs.empty()]);
        } finally {
          Date.now = saved;
        }
      };
      const refusal = spec.rootDer ? 'AWS root built in, no other root' : 'returned false';
      return trial(this.name, op, false, (r) => (r === true ? undefined : refusal));
    };
  },
};

const evervaultNative: Adapter = {
  name: '@evervault/attestation-bindings',
  platform: 'nitro',
  async load() {
    await importPeer<unknown>(this.name);
    return async () => ({
      peer: this.name,
      status: 'unsupported',
      note:
        'attestEnclave(cert, pcrs, doc) needs the enclave TLS certificate whose key the ' +
        'document carries, and checks validity at the system clock (no time option)',
    });
  },
};

const ADAPTERS: readonly Adapter[] = [
  dcapQvl,
  dcapQvlWeb,
  tinfoil,
  sequenceTee,
  evervaultWasm,
  evervaultNative,
];

/** Loaded peers for some platforms, ready to be tried on samples. */
export interface Peers {
  readonly info: readonly PeerInfo[];
  /** Tries every peer of `spec.platform` on it. */
  trials(spec: SampleSpec): Promise<PeerTrial[]>;
}

/**
 * Imports the peers of `platforms`; a peer that fails to load is listed with the error and
 * reported `unavailable` on every sample.
 *
 * @example
 * ```ts
 * const peers = await loadPeers(['nitro']);
 * for (const t of await peers.trials(spec)) console.log(t.peer, t.status);
 * ```
 */
export async function loadPeers(platforms: readonly BenchPlatform[]): Promise<Peers> {
  const info: PeerInfo[] = [];
  const ready = new Map<string, Prepare>();
  for (const a of ADAPTERS.filter((x) => platforms.includes(x.platform))) {
    const version = packageVersion(a.name);
    try {
      ready.set(a.name, await quietly(() => a.load()));
      info.push({ name: a.name, platform: a.platform, version, loaded: true, note: '' });
    } catch (err) {
      info.push({ name: a.name, platform: a.platform, version, loaded: false, note: message(err) });
    }
  }
  return {
    info,
    async trials(spec) {
      const out: PeerTrial[] = [];
      for (const p of info.filter((x) => x.platform === spec.platform)) {
        const prepare = ready.get(p.name);
        out.push(
          prepare === undefined
            ? { peer: p.name, status: 'unavailable', note: p.note }
            : await prepare(spec),
        );
      }
      return out;
    },
  };
}
