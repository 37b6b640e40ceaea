/** Shared fixtures of the provider and bundle tests: endorsements with an HMAC "signature". */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { EndorsementInvalidError, EndorsementUnavailableError } from '../../common/errors.js';
import { sha256Hex } from '../../common/bytes.js';
import type { EndorsementVerifier } from '../../endorsements/provider/types.js';
import type {
  Endorsement,
  EndorsementProvider,
  EndorsementRequest,
  GetOptions,
} from '../../verifier/verify/endorsement-provider.js';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const T0 = new Date('2026-01-01T00:00:00Z');

export const at = (ms: number): Date => new Date(T0.getTime() + ms);

const HMAC_KEY = 'twi-test-endorsement-key';

export const TCB: EndorsementRequest = { kind: 'tdx-tcb-info', fmspc: '00906ED50000' };
export const QE: EndorsementRequest = { kind: 'tdx-qe-identity' };
export const VCEK: EndorsementRequest = {
  kind: 'amd-vcek',
  product: 'Milan',
  hwid: 'ab'.repeat(64),
  tcb: { bl: 3, tee: 0, snp: 8, ucode: 115 },
};
export const AMD_CRL: EndorsementRequest = { kind: 'amd-crl', product: 'Genoa', keyKind: 'vcek' };

function mac(body: Uint8Array): string {
  return createHmac('sha256', HMAC_KEY).update(body).digest('hex');
}

/** An endorsement whose `issuerChain` carries an HMAC of the body (what {@link hmacVerify} checks). */
export function makeEndorsement(
  request: EndorsementRequest,
  o: { fetchedAt?: Date; nextUpdate?: Date; text?: string } = {},
): Endorsement {
  const body = new TextEncoder().encode(o.text ?? `collateral for ${JSON.stringify(request)}`);
  return {
    request,
    body,
    issuerChain: `hmac:${mac(body)}`,
    sha256: sha256Hex(body),
    fetchedAt: o.fetchedAt ?? T0,
    nextUpdate: o.nextUpdate ?? at(30 * DAY),
    source: 'network',
  };
}

/** The stub verify hook: the HMAC in `issuerChain` matches the body, and it is not expired. */
export const hmacVerify: EndorsementVerifier = (e, now) => {
  const want = Buffer.from(mac(e.body), 'hex');
  const got = Buffer.from((e.issuerChain ?? '').replace(/^hmac:/, ''), 'hex');
  if (got.length !== want.length || !timingSafeEqual(got, want)) {
    throw new EndorsementInvalidError('HMAC does not match the body');
  }
  if (now.getTime() >= e.nextUpdate.getTime()) throw new EndorsementInvalidError('expired');
};

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** An inner provider whose behaviour tests switch: answer, fail, be invalid, or hang. */
export class FakeUpstream implements EndorsementProvider {
  calls = 0;
  mode: 'ok' | 'down' | 'invalid' | 'hold' = 'ok';
  lifetimeMs = 30 * DAY;
  held: Deferred<void>[] = [];
  version = 0;

  async get(request: EndorsementRequest, { now }: GetOptions): Promise<Endorsement> {
    this.calls++;
    const mode = this.mode;
    if (mode === 'hold') {
      const d = deferred<void>();
      this.held.push(d);
      await d.promise;
    }
    if (mode === 'down') throw new EndorsementUnavailableError('upstream: HTTP 503');
    if (mode === 'invalid') throw new EndorsementInvalidError('upstream: bad signature');
    this.version++;
    return makeEndorsement(request, {
      fetchedAt: now,
      nextUpdate: new Date(now.getTime() + this.lifetimeMs),
      text: `v${this.version} ${JSON.stringify(request)}`,
    });
  }

  release(): void {
    for (const d of this.held.splice(0)) d.resolve();
  }
}

/** Lets pending promise callbacks run (no timers). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise((r) => setImmediate(r));
}
