/**
 * Freshness and key binding (ARCHITECTURE "Data flow" step 2): the evidence must carry the
 * verifier's nonce, and with a workload key thumbprint, the twi binding of both.
 *
 * @internal
 * @module
 */
import { bindingReportData } from '../../wire/binding.js';
import { toHex } from '../../common/bytes.js';
import { AR4SI } from '../policy/ar4si.js';
import { fail, hexClaim, pass, short } from './check-kit.js';
import type { CheckContext, Finding, WingChecks } from './check-kit.js';
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

/**
 * A binding comparison: instance-identity recognised when `actual` equals `expected`, else a
 * violation `code` on `field` naming `why` (e.g. `the nonce`) → instance-identity 96.
 */
export function compareBinding(
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

/**
 * The REPORT_DATA binding of platforms that carry a 64-byte REPORT_DATA (TDX, SEV-SNP):
 * REPORT_DATA = the nonce zero-padded to 64 bytes, or with `jkt` = `bindingReportData(nonce,
 * jkt)`; with `reportData`, REPORT_DATA = it zero-padded. A mismatch → instance-identity 96.
 */
export function reportDataBinding(ctx: CheckContext): Finding[] {
  const { nonce, jkt, reportData } = ctx.expectations;
  const actual = hexClaim(ctx.evidence.claims, 'report_data');
  const out: Finding[] = [];
  if (nonce !== undefined && jkt !== undefined) {
    const expected = toHex(bindingReportData(nonce, jkt));
    out.push(
      compareBinding(
        'ERR_REPORT_DATA_MISMATCH',
        'REPORT_DATA',
        actual,
        expected,
        'the key binding',
      ),
    );
  } else if (nonce !== undefined) {
    const expected = padded(nonce, 'the nonce');
    out.push(
      compareBinding('ERR_REPORT_DATA_MISMATCH', 'REPORT_DATA', actual, expected, 'the nonce'),
    );
  }
  if (reportData !== undefined) {
    const expected = padded(reportData, 'reportData');
    out.push(
      compareBinding(
        'ERR_REPORT_DATA_MISMATCH',
        'REPORT_DATA',
        actual,
        expected,
        'the report data',
      ),
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
 * Nonce and key binding, as the evidence's wing checks it (TDX/SNP: {@link reportDataBinding};
 * Nitro: `nonce`, `user_data` and `public_key`). Without expectations there is nothing to
 * check (noted).
 */
export function checkBinding(ctx: CheckContext, wing: Pick<WingChecks, 'binding'>): Finding[] {
  const { nonce, reportData } = ctx.expectations;
  if (nonce === undefined && reportData === undefined) {
    ctx.notes.push('no nonce was expected: the evidence freshness was not checked');
    return [];
  }
  return wing.binding(ctx);
}
