/**
 * `twi serve --config FILE`: the command's options from a YAML (or JSON) mapping whose keys are
 * the long flag names, kebab-case (`admin-token-file`) or camelCase (`adminTokenFile`). A flag
 * given on the command line wins over the file. An unknown key, or a value of the wrong kind,
 * is refused with one line naming it. docs/service.md "Configuration file" has an example.
 *
 * @internal
 * @module
 */
import type { Command, Option } from 'commander';
import { parseDocument } from 'yaml';
import { readInputFile } from '../io.js';

/** Largest configuration file read (bytes). */
const MAX_CONFIG_BYTES = 64 * 1024;

const camel = (key: string): string =>
  key.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/** The value a flag takes from the file: strings (numbers as text), booleans, lists. */
function flagValue(file: string, key: string, option: Option, v: unknown): unknown {
  const wrong = (what: string): TypeError =>
    new TypeError(`--config ${file}: ${key} must be ${what}`);
  if (option.isBoolean()) {
    if (typeof v !== 'boolean') throw wrong('true or false');
    return v;
  }
  const scalar = (x: unknown): string => {
    if (typeof x === 'string') return x;
    if (typeof x === 'number' && Number.isFinite(x)) return String(x);
    throw wrong(option.variadic ? 'a string or a list of strings' : 'a string or a number');
  };
  if (option.variadic) return Array.isArray(v) ? v.map(scalar) : [scalar(v)];
  return scalar(v);
}

/**
 * Reads `file` and sets every option of `cmd` that the command line did not give.
 *
 * @throws {TypeError} for unreadable YAML, a non-mapping, an unknown key or a bad value.
 * @throws `InputFileError` for a missing or oversized file.
 */
export function applyConfigFile(cmd: Command, file: string): void {
  const text = Buffer.from(readInputFile(file, MAX_CONFIG_BYTES)).toString('utf8');
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new TypeError(`--config ${file}: not YAML: ${doc.errors[0]!.message.split('\n')[0]!}`);
  }
  const data = doc.toJS({ maxAliasCount: 0 }) as unknown;
  if (data === null || data === undefined) return;
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new TypeError(`--config ${file}: must be a mapping of flag names to values`);
  }
  const options = new Map(
    cmd.options.filter((o) => o.long !== undefined).map((o) => [o.attributeName(), o]),
  );
  for (const [key, v] of Object.entries(data as Record<string, unknown>)) {
    const name = camel(key);
    const option = options.get(name);
    if (!option || name === 'config') {
      throw new TypeError(`--config ${file}: unknown key "${key}" (keys are serve's long flags)`);
    }
    const value = flagValue(file, key, option, v);
    if (cmd.getOptionValueSource(name) === 'cli') continue;
    cmd.setOptionValueWithSource(name, value, 'config');
  }
}
