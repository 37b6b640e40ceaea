/**
 * Reading policy files: JSON or YAML text (or a file) → schema validation with every
 * problem named by its path → a normalised, frozen {@link Policy}.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import type { ErrorObject } from 'ajv';
import { visit } from 'yaml';
import { PolicyError } from './errors.js';
import type { PolicyIssue } from './errors.js';
import { policySchema } from './schema.js';
import { checkPolicySize, parsePolicyYamlDocument, policyYamlToJs } from './yaml.js';
import { normalizePolicy } from './normalize.js';
import type { Policy } from './types.js';

/** Options of {@link loadPolicy}. */
export interface LoadPolicyOptions {
  /** Text format; by default taken from the file extension, else `json` when the text starts with `{`. */
  readonly format?: 'json' | 'yaml';
  /** Force reading `source` as text or as a file path (see {@link loadPolicy}). */
  readonly source?: 'text' | 'file';
}

const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
const validate = ajv.compile(policySchema);

function pathOf(pointer: string): string {
  if (pointer === '') return '(root)';
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

function issueOf(e: ErrorObject): PolicyIssue {
  if (e.propertyName !== undefined) {
    const message = `is not an allowed name (${e.message ?? 'invalid'})`;
    return { path: pathOf(`${e.instancePath}/${e.propertyName}`), message };
  }
  if (e.keyword === 'additionalProperties') {
    const prop = String((e.params as { additionalProperty: string }).additionalProperty);
    return { path: pathOf(`${e.instancePath}/${prop}`), message: 'unknown property' };
  }
  const hint = e.parentSchema?.description ? ` (${String(e.parentSchema.description)})` : '';
  const allowed =
    e.keyword === 'enum'
      ? `: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`
      : '';
  return { path: pathOf(e.instancePath), message: `${e.message ?? 'is invalid'}${allowed}${hint}` };
}

/** Schema errors, without the noise of `anyOf` alternatives: one line per path. */
function schemaIssues(errors: readonly ErrorObject[]): PolicyIssue[] {
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of errors) {
    if (e.keyword === 'anyOf' || e.keyword === 'propertyNames') continue;
    const key = issueOf(e).path;
    byPath.set(key, [...(byPath.get(key) ?? []), e]);
  }
  const out: PolicyIssue[] = [];
  for (const group of byPath.values()) {
    const specific = group.filter((e) => e.keyword !== 'type');
    const chosen = specific.length > 0 ? specific : group;
    const issues = chosen.map(issueOf);
    const messages = [...new Set(issues.map((i) => i.message))];
    out.push({ path: issues[0]!.path, message: messages.join('; or ') });
  }
  return out;
}

const LONG_HEX = /^[0-9a-fA-F]{12,}$/;

/**
 * YAML resolves unquoted digit strings (and `1e5`-like hex) to numbers. No number in a policy
 * has 12 or more digits while every hex value does, so such scalars keep their source text.
 */
function parseYaml(text: string): unknown {
  const doc = parsePolicyYamlDocument(text);
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'number' && node.source && LONG_HEX.test(node.source)) {
        node.value = node.source;
      }
    },
  });
  return policyYamlToJs(doc);
}

function parseJson(text: string): unknown {
  checkPolicySize(text);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new PolicyError('ERR_POLICY_INVALID', [{ path: '(root)', message: `JSON: ${message}` }]);
  }
}

/**
 * Validates a parsed policy document (an object read from JSON or YAML) and normalises it.
 *
 * @throws PolicyError `ERR_POLICY_INVALID` listing every schema and semantic problem.
 *
 * @example
 * ```ts
 * const policy = parsePolicy({ id: 'prod-1', tdx: { mrtd: '91eb…' } });
 * ```
 */
export function parsePolicy(document: unknown): Policy {
  if (!validate(document)) {
    throw new PolicyError('ERR_POLICY_INVALID', schemaIssues(validate.errors ?? []));
  }
  return normalizePolicy(document as unknown as Record<string, unknown>);
}

function isPath(source: string, options: LoadPolicyOptions): boolean {
  if (options.source) return options.source === 'file';
  return !/[\r\n]/.test(source) && /\.(json|ya?ml)$/i.test(source.trim());
}

function readPolicyFile(path: string | URL): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const shown = typeof path === 'string' ? path : fileURLToPath(path);
    const message = `cannot read ${shown}: ${err instanceof Error ? err.message : String(err)}`;
    throw new PolicyError('ERR_POLICY_UNREADABLE', [{ path: '(root)', message }], { cause: err });
  }
}

function formatOf(text: string, file: string | undefined, options: LoadPolicyOptions) {
  if (options.format) return options.format;
  if (file && /\.json$/i.test(file)) return 'json';
  if (file && /\.ya?ml$/i.test(file)) return 'yaml';
  return text.trimStart().startsWith('{') ? 'json' : 'yaml';
}

/**
 * Loads a policy from JSON or YAML text, or from a file. `source` is read as a file when it
 * is a `URL`, when `options.source` is `'file'`, or when it is a single line ending in
 * `.json`, `.yaml` or `.yml`; otherwise it is the policy text.
 *
 * @throws PolicyError `ERR_POLICY_UNREADABLE` when the file cannot be read,
 *   `ERR_POLICY_INVALID` for syntax, schema or semantic errors (each named by its path).
 *
 * @example
 * ```ts
 * const policy = loadPolicy('docs/examples/policy.yaml');
 * const inline = loadPolicy('{"id": "dev", "allow_debug": true}');
 * ```
 */
export function loadPolicy(source: string | URL, options: LoadPolicyOptions = {}): Policy {
  if (typeof source !== 'string' && !(source instanceof URL)) {
    throw new TypeError('loadPolicy expects policy text, a file path or a file URL');
  }
  const file = source instanceof URL || isPath(source, options) ? source : undefined;
  const text = file === undefined ? (source as string) : readPolicyFile(file);
  const name = file === undefined ? undefined : String(file);
  const format = formatOf(text, name, options);
  return parsePolicy(format === 'json' ? parseJson(text) : parseYaml(text));
}
