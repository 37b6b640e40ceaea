/**
 * SPIFFE ID validation exactly per SPIFFE-ID.md §2 (issue 16, item 4), on the table of
 * `spiffe-id-cases.ts` (the standard's rules and go-spiffe's public test cases): every valid ID
 * splits as expected, every invalid one is refused, each code point 0–255 is allowed in a trust
 * domain or a path segment exactly when the standard's character set has it, the 255-byte trust
 * domain and 2048-byte ID limits hold, and a workload identifier additionally needs a path
 * while only WIMSE identifiers refuse an IPv4 trust domain.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseWorkloadId,
  spiffeIdProblem,
  trustDomainProblem,
  workloadIdProblem,
} from '../../wimse/rp.js';
import { INVALID, PATH_CHARS, TRUST_DOMAIN_CHARS, VALID } from './spiffe-id-cases.js';

test('valid SPIFFE IDs are accepted and split into trust domain and path', () => {
  for (const [id, trustDomain, path] of VALID) {
    assert.equal(spiffeIdProblem(id), undefined, id);
    if (path === '') {
      assert.match(workloadIdProblem(id) ?? 'accepted', /path is empty/, id);
      continue;
    }
    assert.deepEqual(parseWorkloadId(id), { scheme: 'spiffe', trustDomain, path, uri: id });
  }
});

test('invalid SPIFFE IDs are refused, as SPIFFE IDs and as workload identifiers', () => {
  for (const [id, rule] of INVALID) {
    assert.notEqual(spiffeIdProblem(id), undefined, `${id} (${rule})`);
    assert.notEqual(workloadIdProblem(id), undefined, `${id} (${rule})`);
  }
  assert.equal(spiffeIdProblem(42), 'the identifier is not a string');
});

test('each code point 0-255 is allowed exactly when SPIFFE-ID §2.1 / §2.2 list it', () => {
  for (let i = 0; i < 256; i++) {
    if (i === 0x2f) continue; // '/' separates segments
    const c = String.fromCharCode(i);
    const inDomain = spiffeIdProblem(`spiffe://trustdomain${c}/path`) === undefined;
    assert.equal(inDomain, TRUST_DOMAIN_CHARS.includes(c), `trust domain char 0x${i.toString(16)}`);
    const inPath = spiffeIdProblem(`spiffe://trustdomain/path${c}`) === undefined;
    assert.equal(inPath, PATH_CHARS.includes(c), `path char 0x${i.toString(16)}`);
  }
});

test('a trust domain of 255 bytes and an ID of 2048 bytes pass; one byte more fails', () => {
  const td255 = 'a'.repeat(255);
  assert.equal(trustDomainProblem(td255), undefined);
  assert.equal(spiffeIdProblem(`spiffe://${td255}/x`), undefined);
  assert.match(spiffeIdProblem(`spiffe://${td255}a/x`) ?? 'accepted', /255/);
  const head = 'spiffe://example.org/';
  assert.equal(spiffeIdProblem(head + 'a'.repeat(2048 - head.length)), undefined);
  assert.match(spiffeIdProblem(head + 'a'.repeat(2049 - head.length)) ?? 'accepted', /2048/);
});

test('IPv4 trust domains: valid for SPIFFE (§2.1), refused for WIMSE (D7.1)', () => {
  assert.equal(trustDomainProblem('192.168.1.1'), undefined);
  assert.equal(workloadIdProblem('spiffe://192.168.1.1/db'), undefined);
  assert.match(workloadIdProblem('wimse://192.168.1.1/db') ?? 'accepted', /IP address/);
});
