/**
 * Human output of `twi provenance show` and `query`: aligned `label: value` lines for one
 * answer, a table for a list of credentials. `--json` prints the service's answer instead.
 *
 * @internal
 * @module
 */

type Row = readonly [string, string];

/** `label: value` lines with the values in one column, indented by `indent` spaces. */
function aligned(rows: readonly Row[], indent = 0): string[] {
  const width = Math.max(0, ...rows.map(([k]) => k.length + 1));
  const pad = ' '.repeat(indent);
  return rows.map(([k, v]) => `${pad}${`${k}:`.padEnd(width)} ${v}`.trimEnd());
}

/** A table: a header row, then one row per entry, columns padded to their widest cell. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}

const isScalar = (v: unknown): boolean => v === null || typeof v !== 'object';

function scalarText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** A JSON value as nested aligned lines (objects indented, lists of scalars comma-joined). */
function nested(value: Record<string, unknown>, indent: number): string[] {
  const out: string[] = [];
  const rows: Row[] = [];
  const flush = () => out.push(...aligned(rows.splice(0), indent));
  for (const [k, v] of Object.entries(value)) {
    if (isScalar(v)) rows.push([k, scalarText(v)]);
    else if (Array.isArray(v) && v.every(isScalar)) rows.push([k, v.map(scalarText).join(', ')]);
    else {
      flush();
      out.push(`${' '.repeat(indent)}${k}:`);
      if (Array.isArray(v)) {
        v.forEach((item, i) => {
          out.push(`${' '.repeat(indent + 2)}[${i}]`);
          out.push(
            ...(isScalar(item)
              ? [`${' '.repeat(indent + 4)}${scalarText(item)}`]
              : nested(item as Record<string, unknown>, indent + 4)),
          );
        });
      } else out.push(...nested(v as Record<string, unknown>, indent + 2));
    }
  }
  flush();
  return out;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Lines for the answer of `GET /v1/provenance/{jti}`. */
export function showLines(answer: Record<string, unknown>): string[] {
  const head = (answer.tree_head ?? {}) as Record<string, unknown>;
  const proof = Array.isArray(answer.inclusion_proof) ? answer.inclusion_proof : [];
  const top: Row[] = [
    ['jti', scalarText(answer.jti)],
    ['leaf index', scalarText(answer.leaf_index)],
    ...(answer.revoked_at !== undefined
      ? [['revoked at', scalarText(answer.revoked_at)] as Row]
      : []),
    ['log id', scalarText(head.log_id)],
    ['tree size', scalarText(head.tree_size)],
    ['root hash', scalarText(head.root_hash)],
    ['signed at', typeof head.timestamp === 'number' ? iso(head.timestamp) : '?'],
    ['inclusion proof', `${proof.length} hash${proof.length === 1 ? '' : 'es'}`],
  ];
  const record = answer.record;
  return [
    ...aligned(top),
    'record:',
    ...(record !== null && typeof record === 'object' && !Array.isArray(record)
      ? nested(record as Record<string, unknown>, 2)
      : [`  ${scalarText(record)}`]),
  ];
}

/** Lines for the answer of `GET /v1/provenance?…`: one table row per credential. */
export function queryLines(answer: { credentials?: Record<string, unknown>[] }): string[] {
  const creds = answer.credentials ?? [];
  if (creds.length === 0) return ['no credentials match'];
  const state = (c: Record<string, unknown>): string =>
    c.revoked_at !== undefined
      ? `revoked ${scalarText(c.revoked_at)}`
      : c.live
        ? 'live'
        : 'expired';
  const time = (s: unknown): string => (typeof s === 'number' ? iso(s * 1000) : '?');
  const rows = creds.map((c) => [
    scalarText(c.jti),
    time(c.iat),
    time(c.exp),
    scalarText(c.leaf_index),
    state(c),
    scalarText(c.sub),
  ]);
  return [
    ...table(['JTI', 'ISSUED', 'EXPIRES', 'LEAF', 'STATE', 'SUBJECT'], rows),
    `${creds.length} credential${creds.length === 1 ? '' : 's'}`,
  ];
}
