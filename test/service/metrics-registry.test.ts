/**
 * `/metrics` on prom-client: every line is valid Prometheus text format (0.0.4), each service
 * has a registry of its own, the process metrics are there, and the HTTP duration histogram is
 * labelled by method, route pattern and status (never the raw URL).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NOW, startTestService, type TestService } from './harness.js';

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABELS = `\\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*",?)*\\}`;
const VALUE = '(?:[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?|[+-]?Inf|NaN)';
const SAMPLE = new RegExp(`^(${NAME})(?:${LABELS})? ${VALUE}(?: -?\\d+)?$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const HELP = new RegExp(`^# HELP (${NAME}) .*$`);

/** Checks the grammar and that every sample belongs to a declared metric family. */
function assertExposition(text: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = TYPE.exec(line);
    if (type) {
      assert.ok(!types.has(type[1]!), `${type[1]} declared twice`);
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (HELP.test(line)) continue;
    const sample = SAMPLE.exec(line);
    assert.ok(sample, `not text format: ${line}`);
    const name = sample[1]!;
    const family = [name, name.replace(/_(bucket|sum|count)$/, '')].find((n) => types.has(n));
    assert.ok(family, `sample ${name} has no # TYPE`);
  }
  return types;
}

describe('metrics registry (prom-client)', { timeout: 120_000 }, () => {
  let a: TestService;
  let b: TestService;
  before(async () => {
    a = await startTestService({ seed: 'twi-prom-a', clock: () => NOW });
    b = await startTestService({ seed: 'twi-prom-b', clock: () => NOW });
  });
  after(async () => {
    await a?.close();
    await b?.close();
  });

  test('text format, process metrics, HTTP histogram by route pattern', async () => {
    assert.equal((await fetch(a.base + '/v1/challenge', { method: 'POST' })).status, 200);
    assert.equal((await fetch(a.base + '/no/such/path-123')).status, 404);
    const res = await fetch(a.base + '/metrics');
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const types = assertExposition(text);
    assert.equal(types.get('twi_appraisals_total'), 'counter');
    assert.equal(types.get('twi_attest_duration_seconds'), 'histogram');
    assert.equal(types.get('twi_nonces'), 'gauge');
    assert.equal(types.get('twi_http_request_duration_seconds'), 'histogram');
    assert.ok(types.has('process_cpu_user_seconds_total'), 'default process metrics');
    assert.ok(types.has('nodejs_eventloop_lag_seconds'), 'default Node.js metrics');
    assert.match(
      text,
      /^twi_http_request_duration_seconds_count\{method="POST",route="\/v1\/challenge",status="200"\} 1$/m,
    );
    assert.match(
      text,
      /^twi_http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} 1$/m,
    );
    assert.doesNotMatch(text, /path-123/, 'raw URLs never become labels');
    assert.match(text, /^twi_nonces 1$/m);
  });

  test('each service counts in its own registry', async () => {
    for (let i = 0; i < 3; i++) await fetch(b.base + '/v1/challenge', { method: 'POST' });
    const textB = await (await fetch(b.base + '/metrics')).text();
    const textA = await (await fetch(a.base + '/metrics')).text();
    const count = (t: string): string | undefined =>
      /^twi_http_request_duration_seconds_count\{method="POST",route="\/v1\/challenge",status="200"\} (\d+)$/m.exec(
        t,
      )?.[1];
    assert.equal(count(textB), '3');
    assert.equal(count(textA), '1');
  });
});
