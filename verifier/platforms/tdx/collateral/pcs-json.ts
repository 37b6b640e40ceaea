/**
 * Exact-bytes access to the signed part of an Intel PCS JSON response
 * (`{"tcbInfo":{…},"signature":"…"}`): Intel signs the bytes of the `tcbInfo` /
 * `enclaveIdentity` value as sent (spec digest C1.1), so the value is sliced out of the
 * received text, never re-serialised.
 *
 * @internal
 * @module
 */

/** Source span `[start, end)` of one member value in the JSON text. */
export interface JsonSpan {
  readonly start: number;
  readonly end: number;
}

/** A JSON text that is not a well-formed object, or whose members are ambiguous. */
export class JsonSliceError extends Error {
  override readonly name = 'JsonSliceError';
}

const WS = new Set([' ', '\t', '\n', '\r']);

function skipWs(text: string, pos: number): number {
  while (pos < text.length && WS.has(text[pos]!)) pos++;
  return pos;
}

function expect(text: string, pos: number, ch: string): void {
  if (text[pos] !== ch) {
    throw new JsonSliceError(`expected '${ch}' at ${pos}, found ${JSON.stringify(text[pos])}`);
  }
}

/** End (exclusive) of the string token starting at `pos` (a `"`). */
function skipString(text: string, pos: number): number {
  for (let i = pos + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '"') return i + 1;
  }
  throw new JsonSliceError(`unterminated string at ${pos}`);
}

/** End (exclusive) of an object or array starting at `pos`, skipping strings. */
function skipNested(text: string, pos: number): number {
  let depth = 0;
  for (let i = pos; i < text.length;) {
    const c = text[i]!;
    if (c === '"') {
      i = skipString(text, i);
      continue;
    }
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    i++;
    if (depth === 0) return i;
  }
  throw new JsonSliceError(`unterminated value at ${pos}`);
}

/** End (exclusive) of the value starting at `pos`. */
function skipValue(text: string, pos: number): number {
  const c = text[pos];
  if (c === '"') return skipString(text, pos);
  if (c === '{' || c === '[') return skipNested(text, pos);
  let i = pos;
  while (i < text.length && !WS.has(text[i]!) && !',}]'.includes(text[i]!)) i++;
  if (i === pos) throw new JsonSliceError(`missing value at ${pos}`);
  return i;
}

/**
 * The spans of every top-level member value of a JSON object text, by decoded key.
 *
 * The text is first validated with `JSON.parse`, so the scanner only has to find token
 * boundaries. A key that occurs twice is refused: `JSON.parse` keeps the last copy, and a
 * verifier that signs-checks one copy and reads another is the classic ambiguity attack.
 *
 * @throws {JsonSliceError} when the text is not a JSON object or repeats a key.
 * @example
 * const spans = jsonMemberSpans('{"a": {"b":1} , "c":2}');
 * spans.get('a'); // { start: 6, end: 13 } — the text '{"b":1}'
 */
export function jsonMemberSpans(text: string): ReadonlyMap<string, JsonSpan> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new JsonSliceError(`not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new JsonSliceError('not a JSON object');
  }
  const spans = new Map<string, JsonSpan>();
  let pos = skipWs(text, 0);
  expect(text, pos, '{');
  pos = skipWs(text, pos + 1);
  if (text[pos] === '}') return spans;
  for (;;) {
    expect(text, pos, '"');
    const keyEnd = skipString(text, pos);
    const key = JSON.parse(text.slice(pos, keyEnd)) as string;
    pos = skipWs(text, keyEnd);
    expect(text, pos, ':');
    const start = skipWs(text, pos + 1);
    const end = skipValue(text, start);
    if (spans.has(key)) throw new JsonSliceError(`member ${JSON.stringify(key)} appears twice`);
    spans.set(key, { start, end });
    pos = skipWs(text, end);
    if (text[pos] === ',') {
      pos = skipWs(text, pos + 1);
      continue;
    }
    expect(text, pos, '}');
    return spans;
  }
}

/**
 * The exact source text of the top-level member `key`'s value, or `undefined` when the
 * object has no such member.
 *
 * @throws {JsonSliceError} as {@link jsonMemberSpans}.
 * @example
 * sliceJsonMember('{"tcbInfo":{"id":"TDX"},"signature":"ab"}', 'tcbInfo'); // '{"id":"TDX"}'
 */
export function sliceJsonMember(text: string, key: string): string | undefined {
  const span = jsonMemberSpans(text).get(key);
  return span === undefined ? undefined : text.slice(span.start, span.end);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes a response body as strict UTF-8 (invalid sequences are an error, not U+FFFD,
 * so the text re-encodes to exactly the bytes received).
 *
 * @throws {JsonSliceError} on invalid UTF-8.
 */
export function decodeUtf8Strict(body: Uint8Array): string {
  try {
    return UTF8.decode(body);
  } catch {
    throw new JsonSliceError('response body is not valid UTF-8');
  }
}
