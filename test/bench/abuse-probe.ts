/**
 * The `/healthz` probe of the abuse run, in its own process so that the load generator's work
 * (simulating reports, issuing VCEKs) does not inflate the latency it measures. Usage:
 * `node dist/test/bench/abuse-probe.js PORT MILLISECONDS`; prints `{ ms: number[], failures }`.
 *
 * @module
 */
import { request } from 'node:http';

function once(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const req = request({ host: '127.0.0.1', port, path: '/healthz', timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve(
          res.statusCode === 200 ? Number(process.hrtime.bigint() - started) / 1e6 : undefined,
        ),
      );
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

async function main(): Promise<void> {
  const port = Number(process.argv[2]);
  const deadline = Date.now() + Number(process.argv[3]);
  const ms: number[] = [];
  let failures = 0;
  while (Date.now() < deadline) {
    const t = await once(port);
    if (t === undefined) failures++;
    else ms.push(t);
    await new Promise((r) => setTimeout(r, 50));
  }
  process.stdout.write(JSON.stringify({ ms, failures }) + '\n');
}

await main();
