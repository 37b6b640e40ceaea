/**
 * `GET /openapi.json`: an OpenAPI 3.1 document (openapi, info, paths whose operations all have
 * responses, problem responses by reference, the admin security scheme) describing every route
 * the service registers (read from Fastify's route tree), and nothing it does not.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { NOW, startTestService, type TestService } from './harness.js';

type Json = Record<string, unknown>;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every `METHOD path` of the app, from `printRoutes` (HEAD left out: Fastify adds it to GETs). */
function registeredRoutes(app: FastifyInstance): Set<string> {
  const out = new Set<string>();
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([\s│]*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    // A prefixed plugin's `/` route answers with and without the slash: one path.
    const path = stack
      .join('')
      .replace(/:(\w+)/g, '{$1}')
      .replace(/(.)\/$/, '$1');
    for (const method of (m[3] ?? '').split(', ').filter((x) => x && x !== 'HEAD')) {
      out.add(`${method} ${path}`);
    }
  }
  return out;
}

describe('GET /openapi.json', () => {
  let service: TestService;
  let doc: Json;
  before(async () => {
    service = await startTestService({
      seed: 'openapi',
      clock: () => NOW,
      adminToken: 'x'.repeat(32),
    });
    const r = await fetch(service.base + '/openapi.json');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    doc = (await r.json()) as Json;
  });
  after(async () => service.close());

  test('is shaped like OpenAPI 3.1', () => {
    assert.match(String(doc.openapi), /^3\.1\.\d+$/);
    const info = doc.info as Json;
    assert.equal(typeof info.title, 'string');
    assert.equal(typeof info.version, 'string');
    const paths = doc.paths as Record<string, Json>;
    assert.ok(Object.keys(paths).length > 30);
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(paths)) {
      assert.match(path, /^\//);
      const ops = Object.entries(item);
      assert.ok(ops.length > 0, path);
      for (const [method, op] of ops as [string, Json][]) {
        assert.ok(METHODS.includes(method), `${method} ${path}`);
        const responses = op.responses as Record<string, Json>;
        assert.ok(Object.keys(responses).length > 0, `${method} ${path}`);
        for (const [status, response] of Object.entries(responses)) {
          assert.match(status, /^[1-5]\d\d$/);
          assert.ok(
            typeof response.description === 'string' || typeof response.$ref === 'string',
            `${method} ${path} ${status}`,
          );
          if (typeof response.$ref === 'string') {
            const name = response.$ref.replace('#/components/responses/', '');
            assert.ok((doc.components as { responses: Json }).responses[name], response.$ref);
          }
        }
        for (const p of (op.parameters ?? []) as Json[]) {
          assert.ok(['path', 'query'].includes(String(p.in)));
          if (p.in === 'path') assert.ok(path.includes(`{${String(p.name)}}`), String(p.name));
        }
        const id = String(op.operationId);
        assert.ok(!ids.has(id), `duplicate operationId ${id}`);
        ids.add(id);
        if (path.startsWith('/v1/admin/')) {
          assert.deepEqual(op.security, [{ adminToken: [] }], `${method} ${path}`);
        }
      }
    }
    const schemes = (doc.components as { securitySchemes: Json }).securitySchemes;
    assert.deepEqual((schemes.adminToken as Json).scheme, 'bearer');
    assert.deepEqual(doc.servers, [{ url: 'https://verifier.example' }]);
  });

  test('describes exactly the registered routes', () => {
    const registered = registeredRoutes(service.app);
    assert.ok(registered.has('POST /v1/attest'), [...registered].join('\n'));
    assert.ok(registered.has('POST /v1/admin/keys/{kid}/revoke'));
    const described = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
      for (const method of Object.keys(item)) described.add(`${method.toUpperCase()} ${path}`);
    }
    const missing = [...registered].filter((r) => !described.has(r));
    assert.deepEqual(missing, [], 'routes without an OpenAPI description');
    const extra = [...described].filter((r) => !registered.has(r));
    assert.deepEqual(extra, [], 'described routes the service does not have');
  });
});
