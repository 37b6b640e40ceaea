/**
 * Progress of simulated PKI creation on stderr: creating the vendor PKIs takes seconds (the
 * AMD RSA-4096 keys), so `twi simulate` says what it is doing, one step after the other on
 * one line: `twi: creating simulated PKI in DIR: intel… aws… amd-milan… done (7.1 s)`.
 * Nothing is printed when the PKI already exists, or with `--quiet`.
 *
 * @internal
 * @module
 */
import { openSimulatedPki, type SimulatedPki } from '../../simulators/pki/store.js';

/** Opens (or creates) the simulated PKI in `dir`, reporting the creation steps on stderr. */
export async function openPkiWithProgress(
  dir: string,
  opts: { seed?: string; now?: Date; quiet?: boolean },
): Promise<SimulatedPki> {
  const started = performance.now();
  let steps = 0;
  const onStep = (step: string): void => {
    if (opts.quiet) return;
    const lead = steps++ === 0 ? `twi: creating simulated PKI in ${dir}: ` : '';
    process.stderr.write(`${lead}${step}… `);
  };
  try {
    const pki = await openSimulatedPki(dir, {
      ...(opts.seed !== undefined && { seed: opts.seed }),
      ...(opts.now !== undefined && { now: opts.now }),
      onStep,
    });
    if (steps > 0) {
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      process.stderr.write(`done (${seconds} s)\n`);
    }
    return pki;
  } catch (err) {
    if (steps > 0) process.stderr.write('failed\n');
    throw err;
  }
}
