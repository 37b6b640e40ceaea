/**
 * Freshness and key binding (ARCHITECTURE "Data flow" step 2): the evidence must carry the
 * verifier's nonce, and with a workload key thumbprint, the twi binding of both.
 *
 * @module
 */
import { createPublicKey } from 'node:crypto';
import { bindingReportData, jwkThumbprint } from '../../wire/binding.js';
import { toHex } from '../../common/bytes.js';
import { AR4SI } from '../policy/ar4si.js';
import { fail, hexClaim, pass, short } from './check-kit.js';
import type { CheckContext, Finding } from './check-kit.js';
import type { Expectations, ViolationCode } from './types.js';

const REPORT_DATA_LEN = 64;

function padded(bytes: Uint8Array, what: string): string {
  if (bytes.length > REPORT_DATA_LEN) {
    throw new TypeError(`${what} must be at most 64 bytes to fit REPORT_DATA`);
  }
  const out = new Uint8Array(REPORT_DATA_LEN);
  out.set(bytes);
  return toHex(out);
}

function compare(
  code: ViolationCode,
  field: string,
  actual: string | undefined,
  expected: string,
  why: string,
): Finding {
  if (actual === expected) return pass('instance-identity', AR4SI.identity.RECOGNIZED);
  const message =
    actual === undefined
      ? `${field} is absent, expected ${why}`
      : `${field} is ${short(actual)}, expected ${why} ${short(expected)}`;
  return fail(code, 'instance-identity', 96, field, expected, actual ?? null, message);
}

function reportDataChecks(ctx: CheckContext): Finding[] {
  const { nonce, jkt, reportData } = ctx.expectations;
  const actual = hexClaim(ctx.evidence.claims, 'report_data');
  const out: Finding[] = [];
  if (nonce !== undefined && jkt !== undefined) {
    const expected = toHex(bindingReportData(nonce, jkt));
    out.push(
      compare('ERR_REPORT_DATA_MISMATCH', 'REPORT_DATA', actual, expected, 'the key binding'),
    );
  } else if (nonce !== undefined) {
    const expected = padded(nonce, 'the nonce');
    out.push(compare('ERR_REPORT_DATA_MISMATCH', 'REPORT_DATA', actual, expected, 'the nonce'));
  }
  if (reportData !== undefined) {
    const expected = padded(reportData, 'reportData');
    out.push(
      compare('ERR_REPORT_DATA_MISMATCH', 'REPORT_DATA', actual, expected, 'the report data'),
    );
  }
  return out;
}

function spkiThumbprint(hex: string): string | undefined {
  try {
    const key = createPublicKey({ key: Buffer.from(hex, 'hex'), format: 'der', type: 'spki' });
    return toHex(jwkThumbprint(key.export({ format: 'jwk' })));
  } catch {
    return undefined;
  }
}

function publicKeyCheck(ctx: CheckContext, jkt: Uint8Array): Finding[] {
  const spki = hexClaim(ctx.evidence.claims, 'public_key');
  if (spki === undefined) return [];
  const expected = toHex(jkt);
  const actual = spkiThumbprint(spki);
  if (actual === expected) return [pass('instance-identity', AR4SI.identity.RECOGNIZED)];
  const shown = actual ?? 'not an SPKI public key';
  const message = `public_key thumbprint is ${shown}, expected the workload key thumbprint ${expected}`;
  return [
    fail(
      'ERR_PUBLIC_KEY_MISMATCH',
      'instance-identity',
      96,
      'public_key',
      expected,
      shown,
      message,
    ),
  ];
}

function nitroChecks(ctx: CheckContext): Finding[] {
  const { nonce, jkt, reportData } = ctx.expectations;
  const claims = ctx.evidence.claims;
  const out: Finding[] = [];
  if (nonce !== undefined) {
    const actual = hexClaim(claims, 'nonce');
    out.push(compare('ERR_NONCE_MISMATCH', 'nonce', actual, toHex(nonce), 'the nonce'));
  }
  const userData = hexClaim(claims, 'user_data');
  if (nonce !== undefined && jkt !== undefined) {
    const expected = toHex(bindingReportData(nonce, jkt));
    out.push(
      compare('ERR_REPORT_DATA_MISMATCH', 'user_data', userData, expected, 'the key binding'),
    );
    out.push(...publicKeyCheck(ctx, jkt));
  }
  if (reportData !== undefined) {
    const expected = toHex(reportData);
    out.push(
      compare('ERR_REPORT_DATA_MISMATCH', 'user_data', userData, expected, 'the report data'),
    );
  }
  return out;
}

/** Caller misuse of {@link Expectations} is a TypeError, not a violation. */
export function checkExpectations(e: Expectations): void {
  for (const k of ['nonce', 'reportData', 'jkt'] as const) {
    if (e[k] !== undefined && !(e[k] instanceof Uint8Array)) {
      throw new TypeError(`expectations.${k} must be a Uint8Array`);
    }
  }
  if (e.jkt !== undefined && e.jkt.length !== 32) {
    throw new TypeError('expectations.jkt must be a 32-byte SHA-256 thumbprint');
  }
  if (e.jkt !== undefined && e.nonce === undefined) {
    throw new TypeError('expectations.jkt needs expectations.nonce (the binding covers both)');
  }
}

/**
 * Nonce and key binding. TDX/SNP: REPORT_DATA = the nonce zero-padded to 64 bytes, or with
 * `jkt` = `bindingReportData(nonce, jkt)`. Nitro: `nonce` = the nonce; with `jkt`, `user_data`
 * = the binding and `public_key` (when present) has thumbprint `jkt`. A mismatch →
 * instance-identity 96. Without expectations there is nothing to check (noted).
 */
export function checkBinding(ctx: CheckContext): Finding[] {
  const { nonce, reportData } = ctx.expectations;
  if (nonce === undefined && reportData === undefined) {
    ctx.notes.push('no nonce was expected: the evidence freshness was not checked');
    return [];
  }
  return ctx.evidence.platform === 'nitro' ? nitroChecks(ctx) : reportDataChecks(ctx);
}
