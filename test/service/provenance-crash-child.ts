/**
 * A verifier service process for the crash test: it kills itself with SIGKILL right after
 * the issuance commit, before the response is written. Arguments: the store file, the
 * simulated PKI roots directory and the clock instant (ISO).
 */
import { loadAnchorStore } from '../../endorsements/anchors.js';
import { createService } from '../../service/service.js';
import { openStore } from '../../service/store/open.js';

const [file, roots, at] = process.argv.slice(2) as [string, string, string];
const store = await openStore(`sqlite:${file}`);
const app = await createService({
  store,
  anchors: loadAnchorStore([roots]),
  issuer: 'https://verifier.example',
  trustDomain: 'example.org',
  now: () => new Date(at),
  logLevel: 'silent',
  provenance: { afterCommit: () => process.kill(process.pid, 'SIGKILL') },
});
await app.listen({ host: '127.0.0.1', port: 0 });
const addr = app.server.address();
process.stdout.write(`${typeof addr === 'object' && addr ? addr.port : 0}\n`);
