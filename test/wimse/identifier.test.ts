import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWorkloadId, workloadIdProblem } from '../../wimse/rp.js';

const good = [
  'wimse://example.com/payments/api',
  'wimse://trust.corp.example.com/ns/x%2Fy/sa/a:b@c',
  'spiffe://prod.example/ns/payments/sa/api',
  'spiffe://td_1-a.example/a.b-c_d',
  `wimse://example.com/${'a'.repeat(2048 - 'wimse://example.com/'.length)}`,
];

const bad: [string, RegExp][] = [
  ['https://example.com/app', /scheme/],
  ['wimse:example.com/app', /absolute URI/],
  ['wimse:///app', /empty/],
  ['wimse://example.com', /path is empty/],
  ['wimse://example.com/', /path is empty/],
  ['wimse://example.com/app/', /ends with/],
  ['wimse://example.com/a//b', /empty segment/],
  ['wimse://example.com/a/../b', /\.\. segment/],
  ['wimse://example.com/app?x=1', /query/],
  ['wimse://example.com/app#frag', /fragment/],
  ['wimse://user@example.com/app', /userinfo/],
  ['wimse://example.com:8443/app', /port/],
  ['wimse://Example.com/app', /lowercase/],
  ['wimse://10.0.0.1/app', /IP address/],
  ['wimse://[::1]/app', /port/],
  ['wimse://example.com/a%zz', /forbidden/],
  ['spiffe://example.com/a%2Fb', /forbidden/],
  ['spiffe://example.com/a b', /forbidden/],
  ['WIMSE://example.com/app', /scheme/],
  [`wimse://example.com/${'a'.repeat(2049 - 'wimse://example.com/'.length)}`, /2048/],
  [`spiffe://${'a'.repeat(256)}/x`, /255/],
];

test('accepts WIMSE URIs and SPIFFE IDs', () => {
  for (const id of good) assert.equal(workloadIdProblem(id), undefined, id);
  const parsed = parseWorkloadId('spiffe://prod.example/ns/payments');
  assert.deepEqual(parsed, {
    scheme: 'spiffe',
    trustDomain: 'prod.example',
    path: '/ns/payments',
    uri: 'spiffe://prod.example/ns/payments',
  });
});

test('rejects identifiers that break D7.1 / SPIFFE-ID rules, naming the rule', () => {
  for (const [id, why] of bad) assert.match(workloadIdProblem(id) ?? 'accepted', why, id);
  assert.equal(workloadIdProblem(42), 'the identifier is not a string');
  assert.throws(() => parseWorkloadId('wimse://example.com'), TypeError);
});
