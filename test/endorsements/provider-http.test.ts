import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createHttpFetcher, FetchError } from '../../endorsements/provider/http-fetcher.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let base: string;
const sockets = new Set<Socket>();
const routes = new Map<string, Handler>();

before(async () => {
  server = createServer((req, res) => {
    const handler = routes.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (handler) handler(req, res);
    else res.writeHead(404).end('no route');
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

routes.set('/ok', (req, res) => {
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'X-Echo-UA': req.headers['user-agent'],
  });
  res.end('{"ok":true}');
});
routes.set('/never', () => undefined); // accepts, never answers
routes.set('/stall-body', (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  res.write('partial');
});
routes.set('/big-declared', (_req, res) => {
  res.writeHead(200, { 'content-length': String(2 << 20) });
  res.write(Buffer.alloc(1024));
});
routes.set('/big-chunked', (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  for (let i = 0; i < 64; i++) res.write(Buffer.alloc(1024, i));
  res.end();
});
routes.set('/status', (_req, res) => res.writeHead(503, { 'Retry-After': '7' }).end('busy'));

const signal = (): AbortSignal => new AbortController().signal;

test('GET returns status, lowercase headers and the body; sends the user agent', async () => {
  const fetcher = createHttpFetcher({ userAgent: 'twi-test/1' });
  const res = await fetcher(`${base}/ok`, { signal: signal() });
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'application/json');
  assert.equal(res.headers['x-echo-ua'], 'twi-test/1');
  assert.ok(Object.keys(res.headers).every((k) => k === k.toLowerCase()));
  assert.equal(new TextDecoder().decode(res.body), '{"ok":true}');
});

test('non-200 statuses are responses, not errors', async () => {
  const res = await createHttpFetcher()(`${base}/status`, { signal: signal() });
  assert.equal(res.status, 503);
  assert.equal(res.headers['retry-after'], '7');
});

test('a server that never answers times out with ERR_FETCH_TIMEOUT (retryable)', async () => {
  const started = performance.now();
  const err = await createHttpFetcher({ timeoutMs: 100 })(`${base}/never`, {
    signal: signal(),
  }).catch((e: unknown) => e);
  assert.ok(err instanceof FetchError);
  assert.equal(err.code, 'ERR_FETCH_TIMEOUT');
  assert.equal(err.retryable, true);
  assert.ok(performance.now() - started < 2_000);
});

test('a body that stalls after the headers times out too', async () => {
  const err = await createHttpFetcher({ timeoutMs: 100 })(`${base}/stall-body`, {
    signal: signal(),
  }).catch((e: unknown) => e);
  assert.equal((err as FetchError).code, 'ERR_FETCH_TIMEOUT');
});

test('body cap: a declared length over the cap is refused before reading', async () => {
  const err = await createHttpFetcher({ maxBodyBytes: 4096 })(`${base}/big-declared`, {
    signal: signal(),
  }).catch((e: unknown) => e);
  assert.ok(err instanceof FetchError);
  assert.equal(err.code, 'ERR_FETCH_BODY_TOO_LARGE');
  assert.equal(err.retryable, false);
});

test('body cap: a chunked body is cut off as soon as it passes the cap', async () => {
  const err = await createHttpFetcher({ maxBodyBytes: 10_000 })(`${base}/big-chunked`, {
    signal: signal(),
  }).catch((e: unknown) => e);
  assert.equal((err as FetchError).code, 'ERR_FETCH_BODY_TOO_LARGE');
  const ok = await createHttpFetcher({ maxBodyBytes: 64 * 1024 })(`${base}/big-chunked`, {
    signal: signal(),
  });
  assert.equal(ok.body.length, 64 * 1024);
});

test("the caller's abort rejects with its reason, not as a timeout", async () => {
  const controller = new AbortController();
  const pending = createHttpFetcher({ timeoutMs: 5_000 })(`${base}/never`, {
    signal: controller.signal,
  });
  setImmediate(() => controller.abort(new Error('caller gave up')));
  await assert.rejects(pending, /caller gave up/);
});

test('an already aborted signal rejects at once', async () => {
  const err = await createHttpFetcher()(`${base}/ok`, { signal: AbortSignal.abort() }).catch(
    (e: unknown) => e,
  );
  assert.equal((err as Error).name, 'AbortError');
});

test('connection refused is ERR_FETCH_NETWORK (retryable)', async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const err = await createHttpFetcher()(`http://127.0.0.1:${port}/`, { signal: signal() }).catch(
    (e: unknown) => e,
  );
  assert.ok(err instanceof FetchError);
  assert.equal(err.code, 'ERR_FETCH_NETWORK');
  assert.equal(err.retryable, true);
});

test('bad options are caller misuse', () => {
  assert.throws(() => createHttpFetcher({ timeoutMs: 0 }), TypeError);
  assert.throws(() => createHttpFetcher({ maxBodyBytes: -1 }), TypeError);
});
