/**
 * One verifier instance of a load run, in its own process: opens the store, builds the
 * service with `createService`, listens on a free loopback port and reports its URL (and
 * then its RSS every second) to the parent over the IPC channel. SIGTERM or a `stop`
 * message closes the service and the store and exits.
 *
 * Usage (forked by `attest-load.ts` and the multi-instance tests): `server-process.js
 * --store URL [--schema S] --anchors DIR [--admin-token T] [--sync-interval-ms N]
 * [--bundle-refresh-hint S]`.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { loadAnchorStore } from '../../endorsements/anchors.js';
import { createService } from '../../service/service.js';
import { openStore } from '../../service/store/open.js';
import { TEST_KEK } from '../helpers/kek.js';

/** What a server process sends its parent. */
export type ServerMessage =
  | { readonly type: 'ready'; readonly url: string; readonly rss: number }
  | { readonly type: 'rss'; readonly rss: number };

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      store: { type: 'string' },
      schema: { type: 'string' },
      anchors: { type: 'string' },
      'admin-token': { type: 'string' },
      'sync-interval-ms': { type: 'string' },
      'bundle-refresh-hint': { type: 'string' },
    },
    strict: true,
  });
  if (!values.store || !values.anchors) throw new TypeError('--store and --anchors are required');
  if (!process.send) throw new Error('server-process must be forked with an IPC channel');
  const send = process.send.bind(process);
  const store = await openStore(values.store, {
    ...(values.schema !== undefined && { schema: values.schema }),
    maxConnections: 10,
    kek: TEST_KEK,
  });
  const app = await createService({
    store,
    anchors: loadAnchorStore([values.anchors]),
    issuer: 'http://127.0.0.1',
    trustDomain: 'load.example',
    logLevel: 'silent',
    // A load generator is one client sending as fast as it can: no per-client rate limit.
    limits: {
      rateLimit: false,
      maxConnections: 65_536,
      maxSubscribers: 65_536,
      maxSubscribersPerClient: 65_536,
    },
    ...(values['admin-token'] !== undefined && { adminToken: values['admin-token'] }),
    ...(values['sync-interval-ms'] !== undefined && {
      syncIntervalMs: Number(values['sync-interval-ms']),
    }),
    ...(values['bundle-refresh-hint'] !== undefined && {
      bundleRefreshHintSeconds: Number(values['bundle-refresh-hint']),
    }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  if (!addr || typeof addr !== 'object') throw new Error('no listen address');
  const ready: ServerMessage = {
    type: 'ready',
    url: `http://127.0.0.1:${addr.port}`,
    rss: process.memoryUsage.rss(),
  };
  send(ready);
  const timer = setInterval(() => send({ type: 'rss', rss: process.memoryUsage.rss() }), 1000);
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    await app.close();
    await store.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('message', (m) => {
    if (m === 'stop') void stop();
  });
  process.on('disconnect', () => void stop());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
