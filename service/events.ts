/**
 * `GET /v1/bundle/events`: the SPIFFE bundle as server-sent events. Each subscriber gets the
 * current bundle on connect and a new `event: bundle` after every key rotation, key or
 * credential revocation and policy update, plus a heartbeat comment to keep proxies from
 * closing an idle stream.
 *
 * @internal
 * @module
 */
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { EVENT_STREAM_MEDIA_TYPE } from '../wire/media-types.js';
import { problem, sendProblem } from './problem.js';

/** Default interval between heartbeat comments. */
export const HEARTBEAT_MS = 15_000;

/** Reconnection delay suggested to clients (`retry:` field), milliseconds. */
export const SSE_RETRY_MS = 1_000;

/** A bundle as sent in an event (any JSON object with a sequence number). */
export interface BundleEventData {
  readonly spiffe_sequence: number;
}

/** Options of {@link createBundleEvents}. */
export interface BundleEventsOptions {
  /** Builds the current bundle (read from the store at the moment of the call). */
  readonly build: () => Promise<BundleEventData>;
  /** Heartbeat interval (default {@link HEARTBEAT_MS}). */
  readonly heartbeatMs?: number;
  /** Open streams in all; a further subscriber gets 429 `ERR_TOO_MANY_SUBSCRIBERS` (default 256). */
  readonly maxSubscribers?: number;
  /** Open streams per client address (default 8). */
  readonly maxSubscribersPerClient?: number;
}

/** The subscriber registry of one service instance. */
export interface BundleEvents {
  /** Route handler: answers with the event stream (hijacks the reply). */
  handle(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** Builds the bundle once and sends it to every subscriber; resolves when written. */
  publish(): Promise<BundleEventData>;
  /** Number of open streams. */
  size(): number;
  /** Ends every stream (the service calls it before closing). */
  close(): void;
}

/** One SSE frame: `id` = the sequence, `event: bundle`, the JSON on one `data:` line. */
export function bundleFrame(bundle: BundleEventData): string {
  return `id: ${bundle.spiffe_sequence}\nevent: bundle\ndata: ${JSON.stringify(bundle)}\n\n`;
}

interface Subscriber {
  readonly res: ServerResponse;
  readonly timer: NodeJS.Timeout;
  readonly client: string;
}

/** Seconds a subscriber refused for a full registry is told to wait. */
const FULL_RETRY_AFTER_SECONDS = 5;

/**
 * The registry behind `GET /v1/bundle/events`. Publications are serialised, so subscribers see
 * bundles in sequence order; a subscriber whose socket is gone is dropped.
 *
 * @example
 * ```ts
 * const events = createBundleEvents({ build: () => currentBundle() });
 * app.get('/v1/bundle/events', (req, reply) => events.handle(req, reply));
 * await events.publish(); // after a rotation
 * ```
 */
export function createBundleEvents(options: BundleEventsOptions): BundleEvents {
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
  const subscribers = new Set<Subscriber>();
  const perClient = new Map<string, number>();
  const maxAll = options.maxSubscribers ?? 256;
  const maxOne = options.maxSubscribersPerClient ?? 8;
  let chain: Promise<unknown> = Promise.resolve();

  const drop = (sub: Subscriber): void => {
    if (!subscribers.delete(sub)) return;
    const left = (perClient.get(sub.client) ?? 1) - 1;
    if (left > 0) perClient.set(sub.client, left);
    else perClient.delete(sub.client);
    clearInterval(sub.timer);
    if (!sub.res.writableEnded) sub.res.end();
  };

  const open = (res: ServerResponse, first: BundleEventData, client: string): void => {
    res.writeHead(200, {
      'content-type': `${EVENT_STREAM_MEDIA_TYPE}; charset=utf-8`,
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${SSE_RETRY_MS}\n\n` + bundleFrame(first));
    const timer = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs);
    timer.unref();
    const sub = { res, timer, client };
    subscribers.add(sub);
    perClient.set(client, (perClient.get(client) ?? 0) + 1);
    res.on('close', () => drop(sub));
    res.on('error', () => drop(sub));
  };

  return {
    async handle(request, reply) {
      const client = request.ip;
      if (subscribers.size >= maxAll || (perClient.get(client) ?? 0) >= maxOne) {
        reply.header('retry-after', String(FULL_RETRY_AFTER_SECONDS));
        sendProblem(
          reply,
          problem(429, 'ERR_TOO_MANY_SUBSCRIBERS', 'too many open event streams; retry later'),
        );
        return;
      }
      // Build before hijacking, so a store failure is still an ordinary problem response.
      const first = await options.build();
      reply.hijack();
      open(reply.raw, first, client);
    },
    publish() {
      const next = chain.then(async () => {
        const bundle = await options.build();
        const frame = bundleFrame(bundle);
        for (const sub of subscribers) {
          if (sub.res.writableEnded || sub.res.destroyed) drop(sub);
          else sub.res.write(frame);
        }
        return bundle;
      });
      chain = next.catch(() => undefined);
      return next;
    },
    size: () => subscribers.size,
    close() {
      for (const sub of [...subscribers]) drop(sub);
    },
  };
}
