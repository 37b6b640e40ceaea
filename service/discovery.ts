/**
 * OpenID discovery routes: the provider metadata (`openidConfiguration` in keys.ts) and the
 * authorization endpoint it names, which refuses every request with the OAuth error
 * `unsupported_response_type` (RFC 6749 §4.2.2.1): the issuer hands out tokens through
 * `/v1/attest` only. The error is answered directly, never by redirection, since no client and
 * no redirection URI is registered.
 *
 * @internal
 * @module
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AUTHORIZATION_PATH, openidConfiguration } from './keys.js';

/** The body of every answer of the authorization endpoint. */
export const AUTHORIZATION_REFUSAL = {
  error: 'unsupported_response_type',
  error_description:
    'this issuer runs no authorization flow: workload identity tokens come from POST /v1/attest',
} as const;

/** Registers `/.well-known/openid-configuration` and the authorization endpoint. */
export function registerDiscoveryRoutes(
  app: FastifyInstance,
  issuer: string,
  algs: () => Promise<readonly string[]>,
): void {
  app.get('/.well-known/openid-configuration', async () =>
    openidConfiguration(issuer, await algs()),
  );
  const refuse = async (_request: unknown, reply: FastifyReply): Promise<FastifyReply> =>
    reply.code(400).header('cache-control', 'no-store').send(AUTHORIZATION_REFUSAL);
  app.get(AUTHORIZATION_PATH, refuse);
  app.post(AUTHORIZATION_PATH, refuse);
}
