/**
 * Child process of the two-process nonce race (run by `race.ts`, compiled).
 *
 * Usage: `node race-worker.js STORE_URL SCHEMA PREFIX COUNT` (SCHEMA `-` for none).
 * Opens the store, prints `ready`, waits for `go` on stdin, consumes the nonces
 * `PREFIX-0 ... PREFIX-(COUNT-1)` in its own random order as fast as it can (several in flight), then prints one
 * JSON line `{ "ok": [indices], "refused": n }` and exits.
 *
 * @module
 */

import { randomInt } from 'node:crypto';
import { createInterface } from 'node:readline';
import { openStore } from '../../../service/store/open.js';

const IN_FLIGHT = 8;

/** `0 ... count-1` in random order (each worker its own), so both processes win some. */
function shuffled(count: number): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

async function consumeAll(
  url: string,
  schema: string,
  prefix: string,
  count: number,
): Promise<void> {
  const store = await openStore(url, schema === '-' ? {} : { schema, maxConnections: IN_FLIGHT });
  // Open every pooled connection now, so neither process starts the race still connecting.
  await Promise.all(Array.from({ length: IN_FLIGHT }, () => store.nonces.count()));
  const lines = createInterface({ input: process.stdin });
  const go = new Promise<void>((resolve) => lines.once('line', () => resolve()));
  process.stdout.write('ready\n');
  await go;
  lines.close();
  const ok: number[] = [];
  let refused = 0;
  const order = shuffled(count);
  const lane = async (): Promise<void> => {
    while (order.length > 0) {
      const index = order.pop()!;
      const result = await store.nonces.consume(`${prefix}-${index}`, new Date());
      if (result === 'ok') ok.push(index);
      else refused++;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  await store.close();
  process.stdout.write(`${JSON.stringify({ ok, refused })}\n`);
}

const [url, schema, prefix, count] = process.argv.slice(2);
if (!url || !schema || !prefix || !count) {
  process.stderr.write('usage: race-worker STORE_URL SCHEMA PREFIX COUNT\n');
  process.exit(2);
}
consumeAll(url, schema, prefix, Number(count)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
