/**
 * The OpenID discovery document of the service against authlib's metadata validation rules,
 * restated in oidc-rules.ts: the RFC 8414 rules all pass, the OpenID Connect Discovery rules
 * pass but for the one documented deviation (RS256, docs/service.md "Discovery"); an http
 * issuer and the earlier document (no authorization endpoint, no grant types) fail them; the
 * authorization endpoint answers `unsupported_response_type`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AUTHORIZATION_PATH, openidConfiguration } from '../../service/keys.js';
import {
  DOCUMENTED_OIDC_DEVIATION,
  OIDC_RULES,
  RFC8414_RULES,
  validateMetadata,
} from './oidc-rules.js';
import { NOW, startTestService } from './harness.js';

test('the discovery document passes the RFC 8414 rules and the OIDC rules but RS256', () => {
  const doc = openidConfiguration('https://verifier.example', ['ES256', 'ES256']);
  assert.deepEqual(validateMetadata(doc, RFC8414_RULES), {});
  assert.deepEqual(validateMetadata(doc, OIDC_RULES), DOCUMENTED_OIDC_DEVIATION);
  assert.equal(doc.authorization_endpoint, `https://verifier.example${AUTHORIZATION_PATH}`);
  assert.equal(doc.jwks_uri, 'https://verifier.example/.well-known/jwks.json');
  assert.deepEqual(doc.id_token_signing_alg_values_supported, ['ES256']);
  // A path component: the endpoints go below it, the trailing slash is not doubled.
  const nested = openidConfiguration('https://example.org/twi/', ['ES384']);
  assert.equal(nested.jwks_uri, 'https://example.org/twi/.well-known/jwks.json');
  assert.equal(nested.issuer, 'https://example.org/twi/');
});

test('the ported rules fail an http issuer and the earlier minimal document', () => {
  const http = openidConfiguration('http://verifier.example:8443', ['ES256']);
  const problems = validateMetadata(http, RFC8414_RULES);
  assert.equal(problems.issuer, 'issuer must use https');
  assert.equal(problems.authorization_endpoint, 'authorization_endpoint must be https');
  assert.equal(problems.jwks_uri, 'jwks_uri must be https');
  const before = {
    issuer: 'https://verifier.example',
    jwks_uri: 'https://verifier.example/.well-known/jwks.json',
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256'],
  };
  assert.deepEqual(Object.keys(validateMetadata(before, RFC8414_RULES)).sort(), [
    'authorization_endpoint',
    'token_endpoint',
  ]);
  // The grant types decide whether the endpoints are required (RFC 8414 §2 defaults).
  const codeFlow = { ...openidConfiguration('https://v.example', ['ES256']) };
  delete codeFlow.grant_types_supported;
  assert.equal(
    validateMetadata(codeFlow, RFC8414_RULES).token_endpoint,
    'token_endpoint is required',
  );
});

test('the served document validates; the authorization endpoint refuses with an OAuth error', async () => {
  const svc = await startTestService({ seed: 'oidc-disc', clock: () => NOW });
  try {
    const r = await fetch(`${svc.base}/.well-known/openid-configuration`);
    assert.equal(r.status, 200);
    const doc = (await r.json()) as Record<string, unknown>;
    assert.deepEqual(validateMetadata(doc, RFC8414_RULES), {});
    assert.deepEqual(validateMetadata(doc, OIDC_RULES), DOCUMENTED_OIDC_DEVIATION);
    const jwks = (await (await fetch(`${svc.base}/.well-known/jwks.json`)).json()) as {
      keys: { alg: string }[];
    };
    assert.deepEqual(doc.id_token_signing_alg_values_supported, [jwks.keys[0]!.alg]);
    for (const method of ['GET', 'POST']) {
      const a = await fetch(
        `${svc.base}${AUTHORIZATION_PATH}?response_type=code&client_id=x&redirect_uri=https://evil.example/`,
        { method, redirect: 'manual' },
      );
      assert.equal(a.status, 400, method);
      assert.equal(a.headers.get('location'), null);
      assert.equal(a.headers.get('cache-control'), 'no-store');
      const body = (await a.json()) as { error: string };
      assert.equal(body.error, 'unsupported_response_type');
    }
  } finally {
    await svc.close();
  }
});
