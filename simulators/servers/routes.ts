/**
 * What the routes of the simulated collateral server share: the response shape, the
 * per-request context (PKI, instant, content faults) and the tampering helpers.
 *
 * @internal
 * @module
 */
import { TEXT_MEDIA_TYPE } from '../../wire/media-types.js';
import type { SimulatedPki } from '../pki/store.js';
import type { TdxSimOptions } from '../tdx-options.js';

/** A response of the simulated server. */
export interface SimResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string | Uint8Array;
}

/**
 * The platform the served TDX TCB Info and QE Identity describe: the simulator's options
 * minus the per-quote ones. With the defaults, a quote from `simulateTdx` with default
 * TCB options verifies against what the server serves.
 */
export type ServedTdxOptions = Omit<Partial<TdxSimOptions>, 'seed' | 'now' | 'fmspc'>;

/** Everything a route needs for one request. */
export interface RouteContext {
  readonly pki: SimulatedPki;
  readonly now: Date;
  readonly expired: boolean;
  readonly tampered: boolean;
  readonly tdx: ServedTdxOptions;
  /** FMSPCs with TCB Info (lowercase); undefined: every FMSPC. */
  readonly fmspcs: ReadonlySet<string> | undefined;
}

/** A route: a response, or undefined when the path is not this route's. */
export type Route = (url: URL, ctx: RouteContext) => SimResponse | undefined;

const DAY_MS = 24 * 3600 * 1000;

/**
 * The instant content is produced at: `now`, or with the `expired` fault 400 days earlier
 * (so that even the Root CA CRL, valid for a year, has passed its nextUpdate).
 */
export function contentInstant(ctx: RouteContext): Date {
  return ctx.expired ? new Date(ctx.now.getTime() - 400 * DAY_MS) : ctx.now;
}

/** A plain-text error response. */
export function textResponse(status: number, message: string): SimResponse {
  return {
    status,
    headers: { 'content-type': `${TEXT_MEDIA_TYPE}; charset=utf-8` },
    body: `${message}\n`,
  };
}

/**
 * Changes the last decimal digit of a JSON text (to the next digit), which keeps the
 * JSON valid, so that only the signature check can notice.
 */
export function tamperText(text: string): string {
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      return (
        text.slice(0, i) + String.fromCharCode(0x30 + ((c - 0x30 + 1) % 10)) + text.slice(i + 1)
      );
    }
  }
  throw new TypeError('no digit to tamper with');
}

/** Flips the low bit of the last byte: inside the signature of a certificate or CRL. */
export function tamperDer(der: Uint8Array): Uint8Array {
  const out = der.slice();
  out[out.length - 1]! ^= 0x01;
  return out;
}

/** `value` or, with the `tampered` fault, `tamper(value)`. */
export function maybeTamper<T>(ctx: RouteContext, value: T, tamper: (v: T) => T): T {
  return ctx.tampered ? tamper(value) : value;
}
