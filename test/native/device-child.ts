/**
 * Child process of the emulated-device tests: started with the device emulator's
 * LD_PRELOAD environment, it runs the native loader's functions on request. One JSON
 * command per stdin line, one JSON answer per stdout line; bytes travel as base64.
 */
import { createInterface } from 'node:readline';
import * as nativeDevices from '../../native/devices.js';
import * as nativeEvidence from '../../native/evidence.js';
import * as nativeKeys from '../../native/keys.js';
import type { NativeKey } from '../../native/keys.js';

type Json = Record<string, unknown>;

const keys = new Map<number, NativeKey>();
let nextKey = 1;

const b = (s: unknown): Uint8Array => new Uint8Array(Buffer.from(String(s), 'base64'));
const s = (u: Uint8Array): string => Buffer.from(u).toString('base64');

async function evidence(a: Json): Promise<Json> {
  const req: nativeEvidence.EvidenceRequest = {};
  for (const f of ['reportData', 'nonce', 'userData', 'publicKey'] as const) {
    if (a[f] !== undefined) req[f] = b(a[f]);
  }
  const ev = await nativeEvidence.getEvidence({
    ...req,
    ...(a.platform ? { platform: a.platform as nativeEvidence.TeePlatform } : {}),
  });
  return {
    platform: ev.platform,
    source: ev.source,
    mediaType: ev.mediaType,
    evidence: s(ev.evidence),
    endorsements: ev.endorsements.map((e) => ({ mediaType: e.mediaType, bytes: s(e.bytes) })),
  };
}

const ops: Record<string, (a: Json) => Promise<unknown>> = {
  detect: () => nativeDevices.detectPlatforms(),
  evidence,
  tsm: async (a) => {
    const r = await nativeDevices.tsmReport(b(a.inblob), a.provider as 'tdx_guest');
    return { ...r, outblob: s(r.outblob), auxblob: s(r.auxblob) };
  },
  snpReport: async (a) => {
    const r = await nativeDevices.snpGetReport(b(a.userData), { extended: Boolean(a.extended) });
    return { ...r, report: s(r.report), certs: s(r.certs) };
  },
  tdxReport: async (a) => s(await nativeDevices.tdxGetReport0(b(a.reportData))),
  rtmrExtend: async (a) => nativeDevices.tdxExtendRtmr(Number(a.index), b(a.digest)),
  rtmrRead: async (a) => s(await nativeDevices.tdxReadRtmr(Number(a.index))),
  nsm: async (a) =>
    s(
      await nativeDevices.nsmGetAttestation({
        ...(a.userData !== undefined && { userData: b(a.userData) }),
        ...(a.nonce !== undefined && { nonce: b(a.nonce) }),
        ...(a.publicKey !== undefined && { publicKey: b(a.publicKey) }),
      }),
    ),
  generateKey: async (a) => {
    const key = nativeKeys.generateKey((a.curve as nativeKeys.KeyCurve) ?? 'P-256');
    keys.set(nextKey, key);
    return { id: nextKey++, jwk: key.publicKey().jwk };
  },
  seal: async (a) =>
    s(
      await nativeKeys.sealKey(
        keys.get(Number(a.id))!,
        (a.options as nativeKeys.SealOptions) ?? {},
      ),
    ),
  unseal: async (a) => {
    const key = await nativeKeys.unsealKey(b(a.sealed));
    keys.set(nextKey, key);
    return { id: nextKey++, jwk: key.publicKey().jwk };
  },
  sign: async (a) => s(await keys.get(Number(a.id))!.sign(b(a.data))),
};

function describe(err: unknown): Json {
  const e = err as Json & Error;
  return {
    name: e.name,
    code: e.code,
    message: e.message,
    errno: e.errno,
    errnoName: e.errnoName,
    fwError: e.fwError,
    vmmError: e.vmmError,
    nsmError: e.nsmError,
  };
}

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  const { id, op, args } = JSON.parse(line) as { id: number; op: string; args: Json };
  let answer: Json;
  try {
    const f = ops[op];
    if (!f) throw new TypeError(`unknown op ${op}`);
    answer = { id, result: (await f(args)) ?? null };
  } catch (err) {
    answer = { id, error: describe(err) };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
}
