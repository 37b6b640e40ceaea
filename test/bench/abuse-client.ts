/**
 * Client side of the bounded abuse run (`abuse.ts`): HTTP requests from chosen loopback source
 * addresses (each address is a separate client to the rate limiter), slowloris sockets, and a
 * sampler of the server process's open file descriptors.
 *
 * @module
 */
import { readdirSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';

/** One answer: status (0 for a network error) and the problem `code`, if any. */
export interface Answer {
  readonly status: number;
  readonly code?: string;
  readonly retryAfter?: string;
  readonly body: Buffer;
}

/** Options of one {@link send}. */
export interface SendOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer | string;
  /** Loopback source address, e.g. `127.0.0.5`. */
  readonly from: string;
  /** Give up reading after this many ms (streams). Default 10 000. */
  readonly timeoutMs?: number;
}

const agents = new Map<string, Agent>();

function agentFor(from: string): Agent {
  let a = agents.get(from);
  if (!a) {
    a = new Agent({ keepAlive: true, maxSockets: 16, localAddress: from });
    agents.set(from, a);
  }
  return a;
}

/** Closes the keep-alive agents. */
export function closeAgents(): void {
  for (const a of agents.values()) a.destroy();
  agents.clear();
}

function codeOf(body: Buffer): string | undefined {
  try {
    const v = JSON.parse(body.toString('utf8')) as { code?: unknown };
    return typeof v.code === 'string' ? v.code : undefined;
  } catch {
    return undefined;
  }
}

/** Sends one request to `127.0.0.1:port` from `o.from`; never rejects. */
export function send(port: number, path: string, o: SendOptions): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: o.method ?? 'GET',
        headers: o.headers,
        agent: agentFor(o.from),
        timeout: o.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', () => undefined);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const retry = res.headers['retry-after'];
          resolve({
            status: res.statusCode ?? 0,
            body,
            ...(codeOf(body) !== undefined && { code: codeOf(body) }),
            ...(retry !== undefined && { retryAfter: retry }),
          });
        });
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, code: 'NETWORK_ERROR', body: Buffer.alloc(0) }));
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}

/** Opens an SSE stream and keeps it until `signal` aborts; resolves with the status. */
export function openStream(port: number, from: string, signal: AbortSignal): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/v1/bundle/events', localAddress: from, signal },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const body = Buffer.concat(chunks);
            resolve({ status, body, ...(codeOf(body) && { code: codeOf(body) }) });
          });
          return;
        }
        res.on('data', () => undefined);
        res.on('error', () => undefined);
        resolve({ status, body: Buffer.alloc(0) });
      },
    );
    req.on('error', () => resolve({ status: 0, code: 'NETWORK_ERROR', body: Buffer.alloc(0) }));
    req.end();
  });
}

/**
 * A slowloris socket: sends a request line and one header line every `dripMs` and never ends
 * the headers. Resolves with how long the server kept it open (capped at `maxMs`).
 */
export function slowloris(port: number, from: string, dripMs: number, maxMs: number) {
  return new Promise<{ heldMs: number; cut: boolean }>((resolve) => {
    const started = Date.now();
    const s = connect({ host: '127.0.0.1', port, localAddress: from });
    s.on('connect', () => s.write('POST /v1/challenge HTTP/1.1\r\nHost: 127.0.0.1\r\n'));
    const drip = setInterval(() => s.writable && s.write(`X-Slow-${Date.now()}: 1\r\n`), dripMs);
    const cap = setTimeout(() => {
      s.destroy();
      finish(false);
    }, maxMs);
    let done = false;
    const finish = (cut: boolean): void => {
      if (done) return;
      done = true;
      clearInterval(drip);
      clearTimeout(cap);
      resolve({ heldMs: Date.now() - started, cut });
    };
    s.on('data', () => undefined);
    s.on('error', () => undefined);
    s.on('close', () => finish(true));
  });
}

/** Samples `/proc/<pid>/fd` every `everyMs`; `stop()` returns the peak and the first sample. */
export function sampleDescriptors(pid: number, everyMs = 100) {
  const count = (): number => {
    try {
      return readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      return 0;
    }
  };
  const first = count();
  let peak = first;
  const timer = setInterval(() => (peak = Math.max(peak, count())), everyMs);
  return {
    stop(): { baseline: number; peak: number; end: number } {
      clearInterval(timer);
      return { baseline: first, peak: Math.max(peak, count()), end: count() };
    },
  };
}
