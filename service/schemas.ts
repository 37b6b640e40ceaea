/**
 * JSON schemas of the request bodies (validated by Fastify before a handler runs).
 *
 * @module
 */

const nonce = { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' } as const;
const evidence = { type: 'object', minProperties: 1, maxProperties: 17 } as const;

/** `POST /v1/attest`. `event_log` is accepted and not yet used; `supply_chain` see `docs/provenance.md`. */
export const attestBodySchema = {
  type: 'object',
  required: ['nonce', 'evidence', 'key'],
  additionalProperties: false,
  properties: {
    nonce,
    evidence,
    // Any JSON: the handler checks the JWK and answers ERR_KEY_INVALID (`workload-key.ts`).
    key: {},
    workload: { type: 'string', pattern: '^(?!\\.{1,2}$)[A-Za-z0-9._-]{1,128}$' },
    event_log: {},
    supply_chain: { type: 'array', maxItems: 8 },
  },
} as const;

/** `POST /v1/appraise`. */
export const appraiseBodySchema = {
  type: 'object',
  required: ['evidence'],
  additionalProperties: false,
  properties: { nonce, evidence },
} as const;
