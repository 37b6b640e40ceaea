/**
 * Child process of keys-at-rest.test.ts: opens the default SQLite store under `argv[2]` (KEK
 * generated beside it), runs the service at debug level (its log on stdout), makes it create,
 * use and rotate keys, then writes READY on stderr and keeps the store open until killed.
 */
import { loadAnchorStore } from '../../../endorsements/anchors.js';
import { createService } from '../../../service/service.js';
import { openStore } from '../../../service/store/open.js';

const [dbFile, token] = process.argv.slice(2) as [string, string];
const store = await openStore(`sqlite:${dbFile}`);
const app = await createService({
  store,
  anchors: loadAnchorStore([]),
  issuer: 'https://verifier.example',
  trustDomain: 'example.org',
  logLevel: 'debug',
  adminToken: token,
});
await app.listen({ host: '127.0.0.1', port: 0 });
const addr = app.server.address();
const base = `http://127.0.0.1:${addr && typeof addr === 'object' ? addr.port : 0}`;
const auth = { authorization: `Bearer ${token}` };
for (const [method, path] of [
  ['POST', '/v1/challenge'],
  ['GET', '/.well-known/jwks.json'],
  ['GET', '/v1/log/key'],
  ['GET', '/v1/log/tree-head'],
  ['POST', '/v1/admin/keys/rotate'],
  ['GET', '/v1/bundle'],
] as const) {
  const r = await fetch(base + path, { method, headers: auth });
  if (r.status >= 500) throw new Error(`${method} ${path}: ${r.status}`);
  await r.arrayBuffer();
}
process.stderr.write('READY\n');
setInterval(() => undefined, 60_000);
