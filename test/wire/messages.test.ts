/**
 * The v1 messages (`wire/messages.ts`): the request schemas keep the v1 contract (no new
 * required member, the patterns the service and the policy registrations share), and the
 * answer readers the shim uses refuse answers that break it with `ERR_MESSAGE_INVALID`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { MAX_CMW_ITEMS } from '../../wire/cmw.js';
import { WireError } from '../../wire/errors.js';
import {
  appraiseRequestSchema,
  attestRequestSchema,
  MAX_SUPPLY_CHAIN_RECORDS,
  NONCE_BYTES,
  NONCE_PATTERN,
  readAttestResponse,
  readChallengeResponse,
  WORKLOAD_NAME_PATTERN,
} from '../../wire/messages.js';

describe('v1 messages', { timeout: 30_000 }, () => {
  it('attest and appraise requests require only what v1 always required', () => {
    assert.deepEqual([...attestRequestSchema.required], ['nonce', 'evidence', 'key']);
    // `csr` is the optional v1 addition of the X.509 credentials (ARCHITECTURE "X.509
    // workload credentials (v1 additions)"), `agent` that of agent mode (docs/service.md
    // "Agent mode"); nothing else may join the request.
    assert.deepEqual(Object.keys(attestRequestSchema.properties).sort(), [
      'agent',
      'csr',
      'event_log',
      'evidence',
      'key',
      'nonce',
      'supply_chain',
      'workload',
    ]);
    assert.deepEqual([...appraiseRequestSchema.required], ['evidence']);
    assert.equal(attestRequestSchema.additionalProperties, false);
    assert.equal(attestRequestSchema.properties.evidence.maxProperties, MAX_CMW_ITEMS + 1);
    assert.equal(attestRequestSchema.properties.supply_chain.maxItems, MAX_SUPPLY_CHAIN_RECORDS);
  });

  it('a nonce is NONCE_BYTES random bytes in unpadded base64url', () => {
    const nonce = new RegExp(NONCE_PATTERN);
    assert.ok(nonce.test(randomBytes(NONCE_BYTES).toString('base64url')));
    assert.ok(!nonce.test(randomBytes(NONCE_BYTES - 1).toString('base64url')));
    assert.ok(!nonce.test(randomBytes(NONCE_BYTES).toString('base64')));
  });

  it('workload names: 1-128 of A-Z a-z 0-9 . _ -, never . or ..', () => {
    const name = new RegExp(WORKLOAD_NAME_PATTERN);
    for (const ok of ['payments', 'a.b_c-1', '...', 'x'.repeat(128)]) assert.ok(name.test(ok), ok);
    for (const bad of ['', '.', '..', 'a/b', 'a b', 'x'.repeat(129)]) {
      assert.ok(!name.test(bad), bad);
    }
  });

  it('reads challenge and attest answers', () => {
    const expires = '2026-12-07T12:00:00.000Z';
    assert.deepEqual(readChallengeResponse({ nonce: 'n', expires_at: expires }), {
      nonce: 'n',
      expiresAt: new Date(expires),
    });
    assert.deepEqual(readAttestResponse({ ear: 'e', wit: 'w', expires_at: expires, x: 1 }), {
      ear: 'e',
      wit: 'w',
      expiresAt: new Date(expires),
    });
  });

  it('refuses answers that break the contract with ERR_MESSAGE_INVALID', () => {
    const expires_at = '2026-12-07T12:00:00Z';
    const cases: [() => unknown, RegExp][] = [
      [() => readChallengeResponse({ expires_at }), /no nonce/],
      [() => readChallengeResponse({ nonce: '', expires_at }), /no nonce/],
      [() => readChallengeResponse({ nonce: 'n' }), /no valid expires_at/],
      [() => readChallengeResponse({ nonce: 'n', expires_at: 'soon' }), /no valid expires_at/],
      [() => readAttestResponse({ wit: 'w', expires_at }), /no ear/],
      [() => readAttestResponse({ ear: 'e', wit: 7, expires_at }), /no wit/],
      [() => readAttestResponse({ ear: 'e', wit: 'w', expires_at: 1 }), /no valid expires_at/],
    ];
    for (const [read, message] of cases) {
      assert.throws(read, (err: unknown) => {
        assert.ok(err instanceof WireError);
        assert.equal(err.code, 'ERR_MESSAGE_INVALID');
        assert.match(err.message, message);
        return true;
      });
    }
  });
});
