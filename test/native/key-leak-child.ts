/**
 * Child of keys-leak.test.ts. Loads the TWI_TEST_EXPORTS addon (argv[2]), wraps its
 * handles in the production NativeKey class, uses every method and property, and
 * writes what they returned plus a V8 heap snapshot into argv[3]. The scalar itself is
 * written by native code straight to a file; this process only reads it back in
 * `control` mode (argv[4]), to prove that the snapshot search finds it when it is there.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { writeHeapSnapshot } from 'node:v8';
import { NativeKey } from '../../native/keys.js';
import type { NativeBinding, RawKeyHandle } from '../../native/binding.js';

type TestBinding = NativeBinding & { testWriteScalar(h: RawKeyHandle, path: string): boolean };

const [addonPath, dir, mode] = process.argv.slice(2) as [string, string, string | undefined];
const binding = createRequire(import.meta.url)(addonPath) as TestBinding;
const outputs: string[] = [];
const keep: unknown[] = [];

function record(v: unknown): void {
  if (v instanceof Uint8Array) outputs.push(Buffer.from(v).toString('hex'));
  else outputs.push(typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v)));
}

/** Every property on the object and its prototypes: values of getters, results of 0/1-arg methods. */
async function exercise(o: object): Promise<void> {
  for (
    let p: object | null = o;
    p && p !== Object.prototype;
    p = Object.getPrototypeOf(p) as object | null
  ) {
    for (const name of Reflect.ownKeys(p)) {
      if (name === 'constructor' || name === 'dispose') continue;
      const v: unknown = Reflect.get(o, name, o);
      if (typeof v !== 'function') {
        record(v);
        continue;
      }
      try {
        record(await (v as (d: Uint8Array) => unknown).call(o, new Uint8Array([1, 2, 3])));
      } catch (err) {
        record((err as Error).message);
      }
    }
  }
  record(inspect(o, { showHidden: true, depth: 5 }));
  record(JSON.stringify(o));
  record(Object.getOwnPropertyNames(o));
}

for (const curve of ['P-256', 'P-384'] as const) {
  const raw = binding.generateKey(curve);
  binding.testWriteScalar(raw, join(dir, `scalar-${curve}.hex`));
  const key = new NativeKey(raw);
  await exercise(key);
  await exercise(raw);
  keep.push(key, raw, await key.sign(new TextEncoder().encode('m')), key.publicKey());
}
if (mode === 'control')
  keep.push(readFileSync(join(dir, 'scalar-P-256.hex'), 'utf8').toUpperCase() + '!');
writeFileSync(join(dir, 'outputs.json'), JSON.stringify(outputs));
writeHeapSnapshot(join(dir, 'heap.heapsnapshot'));
process.stdout.write(`kept ${keep.length}\n`);
