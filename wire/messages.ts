/**
 * The v1 messages the shim and the service exchange (ARCHITECTURE "Wire contracts (v1)"):
 * `POST /v1/challenge`, `POST /v1/attest` and `POST /v1/appraise`, as JSON shapes, the JSON
 * schemas the service validates request bodies with, and the pure readers the shim checks
 * answers with. Adding a required member to a v1 request is a breaking change: don't.
 *
 * @module
 */
import type { CmwCollection } from './cmw.js';
import { MAX_CMW_ITEMS } from './cmw.js';
import { EventLogMalformedError } from '../common/errors.js';
import { WireError } from './errors.js';

/** Bytes of a verifier nonce. @internal */
export const NONCE_BYTES = 32;
/**
 * A nonce on the wire: {@link NONCE_BYTES} bytes as unpadded base64url (43 characters).
 *
 * @internal
 */
export const NONCE_PATTERN = '^[A-Za-z0-9_-]{43}$';
/** The attester's `workload` name: 1-128 of `A-Z a-z 0-9 . _ -`, not `.` or `..`. @internal */
export const WORKLOAD_NAME_PATTERN = '^(?!\\.{1,2}$)[A-Za-z0-9._-]{1,128}$';
/** Most `supply_chain` records one attestation may carry. @internal */
export const MAX_SUPPLY_CHAIN_RECORDS = 8;
/** Most selectors an agent request (`agent.selectors`) or a registration may carry. @internal */
export const MAX_AGENT_SELECTORS = 32;
/** Longest selector, characters. @internal */
export const MAX_SELECTOR_LENGTH = 1024;
/**
 * A workload selector (`docs/policy.md` "Agents"): `<kind>:<value>`, e.g. `unix:uid:1000`, no
 * control characters. @internal
 */
export const SELECTOR_PATTERN = '^[a-z][a-z0-9_-]*:[^\\x00-\\x1f\\x7f]+$';
/** JSON Schema of one selector. @internal */
export const selectorSchema = {
  type: 'string',
  maxLength: MAX_SELECTOR_LENGTH,
  pattern: SELECTOR_PATTERN,
} as const;
/** JSON Schema of a selector set: an agent request's, or a registration's. @internal */
export const selectorsSchema = {
  type: 'array',
  minItems: 1,
  maxItems: MAX_AGENT_SELECTORS,
  uniqueItems: true,
  items: selectorSchema,
} as const;

/** Answer of `POST /v1/challenge`. */
export interface ChallengeResponse {
  /** {@link NONCE_BYTES} random bytes, base64url. */
  readonly nonce: string;
  /** RFC 3339 instant after which the nonce is refused. */
  readonly expires_at: string;
}

/** Body of `POST /v1/attest`. */
export interface AttestRequest {
  /** The nonce of a challenge, as it was given. */
  readonly nonce: string;
  /** The evidence collection (`wire/cmw.ts`). */
  readonly evidence: CmwCollection;
  /** Any public JWK (the service checks it and answers `ERR_KEY_INVALID`). */
  readonly key: Readonly<Record<string, unknown>>;
  /** Optional workload name appended to the identifier ({@link WORKLOAD_NAME_PATTERN}). */
  readonly workload?: string;
  /**
   * The attester's event log: an {@link AttestEventLog} (read by {@link readAttestEventLog}), or
   * a log of another format, which is accepted and not appraised.
   */
  readonly event_log?: unknown;
  /** DSSE envelopes or `{ corim }` the attester vouches for (`docs/provenance.md`). */
  readonly supply_chain?: readonly unknown[];
  /**
   * A PKCS#10 certificate signing request, base64url DER, for the key `key` (signed with it):
   * with an affirming appraisal the answer carries an X.509 workload certificate (`x509`).
   */
  readonly csr?: string;
  /**
   * Agent mode (`docs/service.md` "Agent mode"): the evidence is the agent's, and the credential
   * is for the caller it identified by these selectors. Accepted only from an agent the policy
   * lists (`agents:`); the identity then comes only from a registration whose measurements and
   * selectors match.
   */
  readonly agent?: {
    /** The caller's selectors (at most {@link MAX_AGENT_SELECTORS}, unique). */
    readonly selectors: readonly string[];
  };
}

/** `event_log.format` of the shim's event log. @internal */
export const EVENT_LOG_FORMAT = 'tag:twi.dev,2026:shim-event-log#1';
/** Largest `event_log.ccel`, decoded (the LAML of real TDs is 64 KiB). @internal */
export const MAX_CCEL_BYTES = 128 * 1024;
/** Most events `event_log.events` may list. @internal */
export const MAX_EVENT_LOG_EVENTS = 16;

/** One event the attester itself measured (the shim's code), in `event_log.events`. @internal */
export interface AttestEvent {
  /** `rtmr3` when extended into it (TDX), else `none` (reported, not held by hardware). */
  readonly register: string;
  readonly digest_alg: 'sha-384';
  /** SHA-384, 96 lowercase hex digits. */
  readonly digest: string;
  readonly type: string;
  /** What the digest covers (the shim: each measured file's path and SHA-384). */
  readonly files?: readonly { readonly path: string; readonly sha384: string }[];
}

/**
 * The `event_log` of an attest request in twi's format (`docs/shim.md` "Self-measurement").
 *
 * @internal
 */
export interface AttestEventLog {
  readonly format: typeof EVENT_LOG_FORMAT;
  readonly events: readonly AttestEvent[];
  /**
   * TDX: the TD's CC event log (the CCEL table's log area as the kernel exposes it), unpadded
   * base64url; with it the verifier replays RTMR0-3.
   */
  readonly ccel?: string;
}

/** An {@link AttestEventLog} as read by {@link readAttestEventLog}. @internal */
export interface AttesterEventLog {
  readonly events: readonly { readonly register: string; readonly digest: Uint8Array }[];
  readonly ccel?: Uint8Array;
}

const HEX96 = /^[0-9a-f]{96}$/;
const B64U = /^[A-Za-z0-9_-]*$/;

function badLog(message: string, field: string): never {
  throw new EventLogMalformedError(message, { field });
}

/**
 * Reads the `event_log` of an attest request: `undefined` when there is none or it is of
 * another format (not appraised).
 *
 * @throws {EventLogMalformedError} `ERR_EVENT_LOG_MALFORMED` for a log of twi's format that
 *   breaks its shape (events, digests, a `ccel` that is not base64url or over
 *   {@link MAX_CCEL_BYTES}).
 *
 * @internal
 */
export function readAttestEventLog(v: unknown): AttesterEventLog | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const log = v as Record<string, unknown>;
  if (log.format !== EVENT_LOG_FORMAT) return undefined;
  const events = log.events;
  if (!Array.isArray(events) || events.length > MAX_EVENT_LOG_EVENTS) {
    badLog(`must be a list of at most ${MAX_EVENT_LOG_EVENTS} events`, 'event_log.events');
  }
  const read = events.map((e: unknown, i) => {
    const ev = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
    const at = `event_log.events[${i}]`;
    if (typeof ev.register !== 'string') badLog('register is not a string', `${at}.register`);
    if (ev.digest_alg !== 'sha-384') badLog('digest_alg is not sha-384', `${at}.digest_alg`);
    if (typeof ev.digest !== 'string' || !HEX96.test(ev.digest)) {
      badLog('digest is not 96 lowercase hex digits', `${at}.digest`);
    }
    return { register: ev.register, digest: new Uint8Array(Buffer.from(ev.digest, 'hex')) };
  });
  const ccel = log.ccel;
  if (ccel === undefined) return { events: read };
  if (typeof ccel !== 'string' || !B64U.test(ccel) || ccel.length % 4 === 1) {
    badLog('is not unpadded base64url', 'event_log.ccel');
  }
  if (Math.floor((ccel.length * 3) / 4) > MAX_CCEL_BYTES) {
    badLog(`is over ${MAX_CCEL_BYTES} bytes`, 'event_log.ccel');
  }
  return { events: read, ccel: new Uint8Array(Buffer.from(ccel, 'base64url')) };
}

/** The X.509 workload certificate of an attest answer. */
export interface X509Credential {
  /** The leaf certificate, then its issuing CA and the CA's issuers: base64url DER each. */
  readonly chain: readonly string[];
}

/** Answer of a successful `POST /v1/attest`. */
export interface AttestResponse {
  /** The signed EAR (`EAR_MEDIA_TYPE`, or the veraison/ear profile when the request chose it). */
  readonly ear: string;
  /** The Workload Identity Token (`WIT_MEDIA_TYPE`). */
  readonly wit: string;
  /** RFC 3339 instant the WIT expires at. */
  readonly expires_at: string;
  /** The workload certificate, when the request carried a `csr`. */
  readonly x509?: X509Credential;
}

/** Body of `POST /v1/appraise` (background-check model). */
export interface AppraiseRequest {
  readonly evidence: CmwCollection;
  /** When given, consumed and bound into the EAR. */
  readonly nonce?: string;
}

/** A {@link ChallengeResponse} as read by {@link readChallengeResponse}. @internal */
export interface Challenge {
  readonly nonce: string;
  readonly expiresAt: Date;
}

/** An {@link AttestResponse} as read by {@link readAttestResponse}. @internal */
export interface AttestAnswer {
  readonly ear: string;
  readonly wit: string;
  readonly expiresAt: Date;
  /** The certificate chain (DER, leaf first), when the answer carried one. */
  readonly x509Chain?: readonly Uint8Array[];
}

/** Answer of `POST /v1/appraise`. */
export interface AppraiseResponse {
  readonly ear: string;
}

const nonce = { type: 'string', pattern: NONCE_PATTERN } as const;
// The type key plus MAX_CMW_ITEMS records; the records themselves are checked by the decoder.
const evidence = { type: 'object', minProperties: 1, maxProperties: MAX_CMW_ITEMS + 1 } as const;

/** JSON Schema of the {@link AttestRequest} body. @internal */
export const attestRequestSchema = {
  type: 'object',
  required: ['nonce', 'evidence', 'key'],
  additionalProperties: false,
  properties: {
    nonce,
    evidence,
    // Any JSON: the service checks the JWK itself, to answer ERR_KEY_INVALID.
    key: {},
    workload: { type: 'string', pattern: WORKLOAD_NAME_PATTERN },
    event_log: {},
    supply_chain: { type: 'array', maxItems: MAX_SUPPLY_CHAIN_RECORDS },
    // Any string: the service checks the request itself, to answer its ERR_CSR_* code.
    csr: { type: 'string' },
    agent: {
      type: 'object',
      required: ['selectors'],
      additionalProperties: false,
      properties: {
        selectors: selectorsSchema,
      },
    },
  },
} as const;

/** JSON Schema of the {@link AppraiseRequest} body. @internal */
export const appraiseRequestSchema = {
  type: 'object',
  required: ['evidence'],
  additionalProperties: false,
  properties: { nonce, evidence },
} as const;

function member(o: Readonly<Record<string, unknown>>, name: string): string {
  const v = o[name];
  if (typeof v !== 'string' || v === '') {
    throw new WireError('ERR_MESSAGE_INVALID', `verifier answer has no ${name}`);
  }
  return v;
}

function instant(o: Readonly<Record<string, unknown>>, name: string): Date {
  const v = o[name];
  const d = typeof v === 'string' ? new Date(v) : new Date(NaN);
  if (Number.isNaN(d.getTime())) {
    throw new WireError('ERR_MESSAGE_INVALID', `verifier answer has no valid ${name}`);
  }
  return d;
}

/**
 * Reads a `POST /v1/challenge` answer.
 *
 * @throws {WireError} `ERR_MESSAGE_INVALID` without a nonce or a valid `expires_at`.
 *
 * @internal
 */
export function readChallengeResponse(json: Readonly<Record<string, unknown>>): Challenge {
  return { nonce: member(json, 'nonce'), expiresAt: instant(json, 'expires_at') };
}

/**
 * Reads a `POST /v1/attest` answer.
 *
 * @throws {WireError} `ERR_MESSAGE_INVALID` without an EAR, a WIT or a valid `expires_at`.
 *
 * @example
 * ```ts
 * const { ear, wit, expiresAt } = readAttestResponse(await res.json());
 * ```
 *
 * @internal
 */
export function readAttestResponse(json: Readonly<Record<string, unknown>>): AttestAnswer {
  const x509 = readX509(json['x509']);
  return {
    ear: member(json, 'ear'),
    wit: member(json, 'wit'),
    expiresAt: instant(json, 'expires_at'),
    ...(x509 && { x509Chain: x509 }),
  };
}

const B64U_DER = /^[A-Za-z0-9_-]+$/;

function readX509(v: unknown): Uint8Array[] | undefined {
  if (v === undefined) return undefined;
  const chain = (v as { chain?: unknown } | null)?.chain;
  if (
    !Array.isArray(chain) ||
    chain.length === 0 ||
    !chain.every((c) => typeof c === 'string' && B64U_DER.test(c))
  ) {
    throw new WireError('ERR_MESSAGE_INVALID', 'verifier answer has a malformed x509.chain');
  }
  return chain.map((c: string) => new Uint8Array(Buffer.from(c, 'base64url')));
}
