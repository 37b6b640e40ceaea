/**
 * Issue 12 item 5, over real HTTP: the per-client rate limit, slow clients cut off by the
 * timeouts, the event-stream cap, NUL bytes and invalid UTF-8 refused before the store (SQLite
 * and PostgreSQL), store errors never echoed, YAML alias bombs, tokens in the query string
 * refused and never logged, and the default policy refusing SEV-SNP VMPL 1.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { loadPolicy } from '../../verifier/policy/loader.js';
import { PolicyError } from '../../verifier/policy/errors.js';
import { problemFor } from '../../service/problem.js';
import { StoreUnavailableError } from '../../service/store/errors.js';
import { dropPostgresSchema } from '../../service/store/postgres-store.js';
import { TEST_KEK } from '../helpers/kek.js';
import { openStore } from '../../service/store/open.js';
import type { Store } from '../../service/store/types.js';
import { bindingReportData, jwkThumbprint } from '../../wire/binding.js';
import { simulateSnp } from '../../simulators/index.js';
import { b64u, NOW, startTestService, workloadKey, type TestService } from './harness.js';

const TOKEN = 'hostile-admin-token-0123456789abcdef';
const pgUrl = process.env['TWI_TEST_PG_URL'];

async function json(r: Response): Promise<Record<string, unknown>> {
  return (await r.json()) as Record<string, unknown>;
}

/** Sends raw bytes as one HTTP/1.1 request and returns the status line's code. */
function rawRequest(base: string, head: string, body: Buffer = Buffer.alloc(0)): Promise<number> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), '127.0.0.1');
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('error', reject);
    s.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0)));
    s.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
  });
}

async function withService<T>(
  o: Parameters<typeof startTestService>[0],
  fn: (s: TestService) => Promise<T>,
): Promise<T> {
  const s = await startTestService(o);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

describe('hostile traffic', { timeout: 400_000 }, () => {
  it('429 ERR_RATE_LIMITED with Retry-After once the bucket is empty; /healthz exempt', async () => {
    await withService(
      { seed: 'hostile-rate', clock: () => NOW, limits: { rateLimit: { perSecond: 1, burst: 3 } } },
      async (s) => {
        const statuses: number[] = [];
        for (let i = 0; i < 3; i++) {
          statuses.push((await fetch(s.base + '/v1/challenge', { method: 'POST' })).status);
        }
        assert.deepEqual(statuses, [200, 200, 200]);
        const r = await fetch(s.base + '/v1/challenge', { method: 'POST' });
        assert.equal(r.status, 429);
        assert.equal(r.headers.get('content-type'), 'application/problem+json; charset=utf-8');
        assert.ok(Number(r.headers.get('retry-after')) >= 1);
        assert.equal((await json(r)).code, 'ERR_RATE_LIMITED');
        assert.equal((await fetch(s.base + '/.well-known/jwks.json')).status, 429);
        assert.equal((await fetch(s.base + '/healthz')).status, 200);
      },
    );
  });

  it('a client trickling its headers or body is cut off by the timeouts', async () => {
    const limits = { headersTimeoutMs: 400, requestTimeoutMs: 800, timeoutCheckIntervalMs: 100 };
    await withService({ seed: 'hostile-slow', clock: () => NOW, limits }, async (s) => {
      const { port } = new URL(s.base);
      const slow = (head: string, drip: string): Promise<number> =>
        new Promise((resolve) => {
          const started = Date.now();
          const sock = connect(Number(port), '127.0.0.1', () => sock.write(head));
          const timer = setInterval(() => sock.writable && sock.write(drip), 100);
          sock.on('error', () => undefined);
          sock.on('close', () => {
            clearInterval(timer);
            resolve(Date.now() - started);
          });
          setTimeout(() => sock.destroy(), 10_000).unref();
        });
      const headers = await slow('POST /v1/challenge HTTP/1.1\r\nHost: x\r\n', 'X-a: b\r\n');
      assert.ok(headers < 3000, `slow headers held the socket for ${headers} ms`);
      const body = await slow(
        'POST /v1/attest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
          'Content-Length: 100000\r\n\r\n',
        ' ',
      );
      assert.ok(body < 3000, `slow body held the socket for ${body} ms`);
    });
  });

  it('the event-stream cap answers 429 ERR_TOO_MANY_SUBSCRIBERS', async () => {
    const limits = { maxSubscribers: 3, maxSubscribersPerClient: 2 };
    await withService({ seed: 'hostile-sse', clock: () => NOW, limits }, async (s) => {
      const controllers = [new AbortController(), new AbortController()];
      const open = await Promise.all(
        controllers.map((c) => fetch(s.base + '/v1/bundle/events', { signal: c.signal })),
      );
      assert.deepEqual(
        open.map((r) => r.status),
        [200, 200],
      );
      const third = await fetch(s.base + '/v1/bundle/events');
      assert.equal(third.status, 429);
      assert.equal((await json(third)).code, 'ERR_TOO_MANY_SUBSCRIBERS');
      assert.ok(third.headers.get('retry-after'));
      const metrics = await (await fetch(s.base + '/metrics')).text();
      assert.match(metrics, /^twi_event_subscribers 2$/m);
      for (const c of controllers) c.abort();
    });
  });

  it('store errors answer a generic detail, never the store message', () => {
    const p = problemFor(new StoreUnavailableError('syntax error at or near "DROP" in SELECT …'));
    assert.equal(p.status, 503);
    assert.equal(p.code, 'ERR_STORE_UNAVAILABLE');
    assert.doesNotMatch(JSON.stringify(p), /SELECT|DROP|syntax/);
  });

  it('a YAML alias bomb in PUT /v1/admin/policy is 400 ERR_POLICY_INVALID', async () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++) {
      const prev = String.fromCharCode(96 + i);
      const next = String.fromCharCode(97 + i);
      lines.push(`${next}: &${next} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    await withService({ seed: 'hostile-yaml', clock: () => NOW, adminToken: TOKEN }, async (s) => {
      const r = await fetch(s.base + '/v1/admin/policy', {
        method: 'PUT',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/yaml' },
        body: `id: bomb\n${lines.join('\n')}\n`,
      });
      assert.equal(r.status, 400);
      assert.equal((await json(r)).code, 'ERR_POLICY_INVALID');
    });
  });

  it('every policy loader bounds aliases and size (loadPolicy, as --policy uses)', () => {
    const bomb = ['id: bomb', 'a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++) {
      const [p, n] = [String.fromCharCode(96 + i), String.fromCharCode(97 + i)];
      bomb.push(`${n}: &${n} [${Array(9).fill(`*${p}`).join(', ')}]`);
    }
    const refused = (text: string, format: 'json' | 'yaml'): void =>
      assert.throws(
        () => loadPolicy(text, { source: 'text', format }),
        (err: unknown) => err instanceof PolicyError && err.code === 'ERR_POLICY_INVALID',
      );
    refused(bomb.join('\n'), 'yaml');
    refused(`id: big\n# ${'x'.repeat(300 * 1024)}\n`, 'yaml');
    refused(JSON.stringify({ id: 'big', pad: 'x'.repeat(300 * 1024) }), 'json');
    const few = 'id: ok\nplatforms: &p [tdx]\ntcb: { accept: { SWHardeningNeeded: affirming } }\n';
    assert.equal(loadPolicy(few, { source: 'text', format: 'yaml' }).id, 'ok');
  });

  it('a token in the query string is refused and neither it nor the header is logged', async () => {
    const lines: string[] = [];
    const logStream = { write: (l: string) => void lines.push(l) };
    const o = { seed: 'hostile-log', clock: () => NOW, adminToken: TOKEN, logLevel: 'info' };
    await withService({ ...o, logStream }, async (s) => {
      for (const q of ['token', 'access_token']) {
        const r = await fetch(`${s.base}/v1/admin/keys?${q}=${TOKEN}`);
        assert.equal(r.status, 400);
        assert.equal((await json(r)).code, 'ERR_TOKEN_IN_QUERY');
      }
      const ok = await fetch(`${s.base}/v1/bundle?x=query-secret-value`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(ok.status, 200);
    });
    const log = lines.join('');
    assert.match(log, /\/v1\/admin\/keys/, 'requests are logged');
    assert.ok(!log.includes(TOKEN), 'the admin token is in the log');
    assert.ok(!log.includes('query-secret-value'), 'a query string is in the log');
  });

  it('the default policy refuses a SEV-SNP report from VMPL 1', async () => {
    await withService({ seed: 'hostile-vmpl', clock: () => NOW }, async (s) => {
      const key = workloadKey();
      const send = async (vmpl: number): Promise<Response> => {
        const { nonce } = await json(await fetch(s.base + '/v1/challenge', { method: 'POST' }));
        const nonceBytes = new Uint8Array(Buffer.from(String(nonce), 'base64url'));
        const reportData = bindingReportData(nonceBytes, jwkThumbprint(key.jwk));
        const sim = simulateSnp(s.pki.amd('Genoa'), { seed: 'vmpl', reportData, vmpl });
        const evidence = {
          __cmwc_t: 'tag:twi.dev,2026:evidence',
          snp: ['application/vnd.twi.sev-snp-report', b64u(sim.report), 4],
          certs: ['application/vnd.twi.sev-snp-certs', b64u(sim.certTable), 2],
        };
        return fetch(s.base + '/v1/attest', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ nonce, evidence, key: key.jwk }),
        });
      };
      assert.equal((await send(0)).status, 200);
      const refused = await send(1);
      assert.equal(refused.status, 403);
      assert.match(JSON.stringify(await json(refused)), /VMPL/);
    });
  });
});

/** NUL bytes and invalid UTF-8 in paths, queries and JSON bodies: 400 before any SQL. */
function nulSuite(name: string, open: (() => Promise<Store>) | undefined, skip: string | false) {
  describe(`NUL bytes and invalid UTF-8 (${name})`, { timeout: 120_000, skip }, () => {
    it('are refused with 400 ERR_REQUEST_INVALID and no store text', async () => {
      await withService(
        {
          seed: `hostile-nul-${name}`,
          clock: () => NOW,
          adminToken: TOKEN,
          ...(open && { openStore: open }),
        },
        async (s) => {
          const gets = [
            '/v1/provenance/abc%00def',
            '/v1/provenance/records/%00',
            '/v1/provenance?sub=a%00b',
            '/v1/provenance/abc%ffdef',
            '/v1/provenance?sub=%c3%28',
            '/v1/provenance/%zz',
          ];
          for (const path of gets) {
            const r = await fetch(s.base + path);
            const body = await json(r);
            assert.equal(r.status, 400, `${path}: ${JSON.stringify(body)}`);
            assert.equal(body.code, 'ERR_REQUEST_INVALID', path);
            assert.doesNotMatch(JSON.stringify(body), /SQL|sqlite|postgres|0x00|byte sequence/i);
          }
          const post = (body: Buffer): Promise<Response> =>
            fetch(s.base + '/v1/attest', {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body,
            });
          const nul = await post(Buffer.from('{"nonce":"a\\u0000b","evidence":{},"key":{}}'));
          assert.equal(nul.status, 400);
          assert.equal((await json(nul)).code, 'ERR_REQUEST_INVALID');
          const bad = Buffer.concat([
            Buffer.from('{"nonce":"'),
            Buffer.from([0xff, 0xfe]),
            Buffer.from('","evidence":{},"key":{}}'),
          ]);
          const utf = await post(bad);
          assert.equal(utf.status, 400);
          assert.equal((await json(utf)).code, 'ERR_REQUEST_INVALID');
          const raw = await rawRequest(
            s.base,
            'GET /v1/provenance/a\x00b HTTP/1.1\r\nHost: x\r\n\r\n',
          );
          assert.ok(raw === 400 || raw === 0, `raw NUL in the request line: ${raw}`);
          assert.equal((await fetch(s.base + '/readyz')).status, 200, 'the store still works');
        },
      );
    });
  });
}

nulSuite('SQLite', undefined, false);
const pgSchema = `twi_hostile_${randomBytes(5).toString('hex')}`;
nulSuite(
  'PostgreSQL',
  pgUrl
    ? async () => {
        const store = await openStore(pgUrl, { schema: pgSchema, kek: TEST_KEK });
        const close = store.close.bind(store);
        return Object.assign(store, {
          close: async () => {
            await close();
            await dropPostgresSchema(pgUrl, pgSchema);
          },
        });
      }
    : undefined,
  pgUrl ? false : 'TWI_TEST_PG_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)',
);
