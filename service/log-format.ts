/**
 * Log options of `twi serve`: the level names pino knows and a small line formatter for
 * `--log-format pretty` (no dependency): each JSON log line becomes
 * `HH:MM:SS.mmm LEVEL message key=value ...`. Lines that are not JSON pass through unchanged.
 *
 * @internal
 * @module
 */

/** Levels of `--log-level`, most severe first; `silent` writes nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Formats of `--log-format`. */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const LEVEL_NAMES: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** Members not repeated as `key=value` (shown otherwise or noise on a terminal). */
const SKIPPED = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/**
 * One pino JSON line as a human line (without the newline); the line itself when it is not a
 * JSON object.
 *
 * @example
 * ```ts
 * prettyLogLine('{"level":30,"time":0,"msg":"listening","port":8443}');
 * // '00:00:00.000 INFO  listening port=8443'
 * ```
 */
export function prettyLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    const parsed = JSON.parse(line) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return line;
    entry = parsed as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time) : undefined;
  const clock = time && !Number.isNaN(time.getTime()) ? time.toISOString().slice(11, 23) : '--';
  const level = LEVEL_NAMES[Number(entry.level)] ?? String(entry.level ?? '?');
  const msg = typeof entry.msg === 'string' ? entry.msg : '';
  const rest = Object.entries(entry)
    .filter(([k]) => !SKIPPED.has(k))
    .map(([k, v]) => `${k}=${value(v)}`);
  return [clock, level.padEnd(5), msg, ...rest].filter((s) => s !== '').join(' ');
}

/** A log stream that writes {@link prettyLogLine}s to `out`. */
export function prettyLogStream(out: { write(text: string): unknown }): {
  write(line: string): void;
} {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) {
        if (line !== '') out.write(prettyLogLine(line) + '\n');
      }
    },
  };
}
