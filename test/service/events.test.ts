import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { createBundleEvents, type BundleEvents } from '../../service/events.js';
import { createSseParser, watchBundle, type WatchedBundle } from '../../wimse/rp.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    assert.ok(Date.now() < end, `timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A bare Fastify app serving bundle events whose bundle is `{ keys: [], spiffe_sequence: n }`. */
async function eventServer(heartbeatMs = 15_000): Promise<{
  app: FastifyInstance;
  events: BundleEvents;
  url: string;
  bump(): Promise<void>;
}> {
  let sequence = 1;
  const events = createBundleEvents({
    build: async () => ({ keys: [], spiffe_sequence: sequence, revoked_jtis: [] }),
    heartbeatMs,
  });
  const app = Fastify();
  app.get('/events', (request, reply) => events.handle(request, reply));
  app.addHook('preClose', async () => events.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  assert.ok(addr && typeof addr === 'object');
  return {
    app,
    events,
    url: `http://127.0.0.1:${addr.port}/events`,
    bump: async () => {
      sequence += 1;
      await events.publish();
    },
  };
}

type Reader = ReadableStreamDefaultReader<Uint8Array>;

/** Reads a stream's text until `done(text)` holds or the stream ends; the reader stays open. */
async function readUntil(reader: Reader, done: (t: string) => boolean): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { value, done: ended } = await reader.read();
    if (ended) return text;
    text += decoder.decode(value, { stream: true });
    if (done(text)) return text;
  }
}

describe('bundle events (server-sent events)', () => {
  test('SSE parser: split chunks, CRLF, comments, multi-line data, default event', () => {
    const parse = createSseParser();
    assert.deepEqual(parse('retry: 1000\n\n: heartbeat\n\nid: 3\nevent: bun'), []);
    assert.deepEqual(parse('dle\r\ndata: {"a":\r\ndata: 1}\r\n'), []);
    assert.deepEqual(parse('\r\ndata:x\n\n'), [
      { event: 'bundle', data: '{"a":\n1}' },
      { event: 'message', data: 'x' },
    ]);
  });

  test('the current bundle on connect, one event per change, heartbeats, cleanup', async () => {
    const s = await eventServer(30);
    try {
      const controller = new AbortController();
      const r = await fetch(s.url, { signal: controller.signal });
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /^text\/event-stream/);
      const body = r.body!.getReader();
      const first = await readUntil(body, (t) => t.includes('\n\n: heartbeat'));
      assert.match(
        first,
        /^retry: \d+\n\nid: 1\nevent: bundle\ndata: \{"keys":\[\],"spiffe_sequence":1/,
      );
      assert.equal(s.events.size(), 1);
      await s.bump();
      const next = await readUntil(body, (t) => t.includes('"spiffe_sequence":2'));
      assert.match(next, /id: 2\nevent: bundle\ndata: /);
      controller.abort();
      await until(() => s.events.size() === 0, 'the subscriber to be dropped');
    } finally {
      await s.app.close();
    }
  });

  test('closing the service ends open streams', async () => {
    const s = await eventServer();
    const r = await fetch(s.url);
    await until(() => s.events.size() === 1, 'the subscriber');
    await s.app.close();
    const rest = await readUntil(r.body!.getReader(), () => false);
    assert.match(rest, /event: bundle/);
    assert.equal(s.events.size(), 0);
  });

  test('watchBundle: first bundle, updates, reconnection with backoff after failures', async () => {
    const s = await eventServer();
    const seen: number[] = [];
    const errors: unknown[] = [];
    let calls = 0;
    const flaky: typeof fetch = async (input, init) => {
      calls += 1;
      if (calls === 1) throw new Error('connection refused');
      if (calls === 2) return new Response('nope', { status: 503 });
      return fetch(input, init);
    };
    const watch = watchBundle(s.url, {
      fetch: flaky,
      minBackoffMs: 5,
      onBundle: (b: WatchedBundle) => seen.push(b.spiffe_sequence!),
      onError: (err) => errors.push(err),
    });
    try {
      assert.equal((await watch.ready).spiffe_sequence, 1);
      assert.equal(errors.length, 2);
      await s.bump();
      await until(() => watch.latest()?.spiffe_sequence === 2, 'the second bundle');
      s.events.close(); // the server drops the stream: the watcher reconnects
      await until(() => calls === 4 && seen.length === 3, 'the reconnection');
      assert.deepEqual(seen, [1, 2, 2]);
    } finally {
      watch.close();
      await s.app.close();
    }
  });
});
