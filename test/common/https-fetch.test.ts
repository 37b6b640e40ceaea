/**
 * `fetchTrusting`: against a local https server with a development certificate (a real CA and
 * leaf from `ensureDevTls`), a GET and POSTs with string and byte bodies arrive with their
 * method, headers and body; the response body streams (the first chunk is read while the
 * server still holds the rest); an abort before the answer rejects with the signal's reason
 * (an AbortError without one), an abort during the body errors the stream; a redirect is
 * returned, not followed; a server whose CA is not the given one is refused; `http:` URLs go
 * to the global fetch.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchTrusting } from '../../common/https-fetch.js';
import { ensureDevTls } from '../../service/dev-tls.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}

function collect(handler: Handler) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks).toString('utf8'), res));
  };
}

describe('fetchTrusting', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'twi-https-fetch-'));
  const routes = new Map<string, Handler>();
  const server = createServer(
    collect((req, body, res) => {
      const route = routes.get(req.url ?? '');
      if (route) return route(req, body, res);
      res.writeHead(200, { 'content-type': 'application/json', 'x-twi': 'yes' });
      res.end(
        JSON.stringify({
          method: req.method,
          type: req.headers['content-type'] ?? null,
          auth: req.headers.authorization ?? null,
          body,
        }),
      );
    }),
  );
  let origin = '';
  let ca = '';
  let otherCa = '';

  before(async () => {
    const dev = await ensureDevTls(join(dir, 'a'));
    ca = readFileSync(dev.caFile, 'utf8');
    otherCa = readFileSync((await ensureDevTls(join(dir, 'b'))).caFile, 'utf8');
    server.setSecureContext({ cert: readFileSync(dev.certFile), key: readFileSync(dev.keyFile) });
    origin = `https://${await listen(server)}`;
  });

  after(() => {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('GET: status, headers and body of the answer', async () => {
    const res = await fetchTrusting(ca)(`${origin}/get`, {
      headers: { authorization: 'Bearer t' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.ok, true);
    assert.equal(res.headers.get('x-twi'), 'yes');
    assert.deepEqual(await res.json(), { method: 'GET', type: null, auth: 'Bearer t', body: '' });
  });

  it('POST with a string body and with a byte body (a list of CAs)', async () => {
    const f = fetchTrusting([otherCa, ca]);
    const a = await f(new URL('/post', origin), {
      method: 'POST',
      headers: new Headers({ 'content-type': 'application/json' }),
      body: '{"a":1}',
    });
    assert.deepEqual(await a.json(), {
      method: 'POST',
      type: 'application/json',
      auth: null,
      body: '{"a":1}',
    });
    const b = await f(`${origin}/put`, { method: 'put', body: new TextEncoder().encode('bytes') });
    assert.equal(((await b.json()) as { body: string; method: string }).body, 'bytes');
  });

  it('streams the body: the first chunk is read while the server holds the rest', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let ended = false;
    routes.set('/stream', (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: one\n\n');
      void released.then(() => {
        ended = true;
        res.end('event: two\n\n');
      });
    });
    const res = await fetchTrusting(ca)(`${origin}/stream`);
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), 'event: one\n\n');
    assert.equal(ended, false);
    release();
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      rest += new TextDecoder().decode(r.value);
    }
    assert.equal(rest, 'event: two\n\n');
  });

  it('abort before the answer rejects with the reason, or an AbortError', async () => {
    const held: ServerResponse[] = [];
    routes.set('/hang', (_req, _body, res) => void held.push(res));
    const f = fetchTrusting(ca);
    const c = new AbortController();
    const pending = f(`${origin}/hang`, { signal: c.signal });
    setTimeout(() => c.abort(new Error('stop now')), 100);
    await assert.rejects(pending, { message: 'stop now' });
    await assert.rejects(f(`${origin}/hang`, { signal: AbortSignal.timeout(100) }), {
      name: 'TimeoutError',
    });
    const d = new AbortController();
    d.abort();
    await assert.rejects(f(`${origin}/get`, { signal: d.signal }), { name: 'AbortError' });
    for (const res of held) res.destroy();
  });

  it('abort during the body errors the stream', async () => {
    routes.set('/endless', (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('start');
    });
    const c = new AbortController();
    const res = await fetchTrusting(ca)(`${origin}/endless`, { signal: c.signal });
    const reader = res.body!.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), 'start');
    c.abort();
    await assert.rejects(reader.read());
  });

  it('returns a redirect as it is', async () => {
    routes.set('/moved', (_req, _body, res) => {
      res.writeHead(302, { location: '/get' });
      res.end();
    });
    const res = await fetchTrusting(ca)(`${origin}/moved`);
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/get');
  });

  it('refuses a server whose certificate is not from the given CA', async () => {
    await assert.rejects(fetchTrusting(otherCa)(`${origin}/get`), (err: unknown) => {
      assert.ok(err instanceof TypeError);
      const cause = (err as { cause?: { code?: string } }).cause;
      assert.match(String(cause?.code), /CERT|SIGNATURE|ISSUER/);
      return true;
    });
  });

  it('sends http: URLs to the global fetch', async () => {
    const plain = createHttpServer(
      collect((req, body, res) => res.end(`${req.method} ${req.url} ${body}`)),
    );
    const where = await listen(plain);
    const real = globalThis.fetch;
    const seen: string[] = [];
    globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
      seen.push(String(input));
      return real(input, init);
    }) as typeof fetch;
    try {
      const res = await fetchTrusting(ca)(`http://${where}/plain`, { method: 'POST', body: 'x' });
      assert.equal(await res.text(), 'POST /plain x');
      assert.deepEqual(seen, [`http://${where}/plain`]);
    } finally {
      globalThis.fetch = real;
      plain.close();
    }
  });

  it('needs a certificate', () => {
    assert.throws(() => fetchTrusting([]), TypeError);
  });
});
