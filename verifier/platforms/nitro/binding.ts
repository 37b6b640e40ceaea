/**
 * Freshness and key binding of Nitro evidence: the document's `nonce` carries the verifier's
 * nonce, `user_data` the twi key binding (or the expected report data), and `public_key`, when
 * present, the workload key.
 *
 * @internal
 * @module
 */
import { createPublicKey } from 'node:crypto';
import { bindingReportData, jwkThumbprint } from '../../../wire/binding.js';
import { toHex } from '../../../common/bytes.js';
import { compareBinding } from '../../appraise/binding-checks.js';
import { fail, hexClaim, pass } from '../../appraise/check-kit.js';
import type { CheckContext, Finding } from '../../appraise/check-kit.js';
import { AR4SI } from '../../policy/ar4si.js';

function spkiThumbprint(hex: string): string | undefined {
  try {
    const key = createPublicKey({ key: Buffer.from(hex, 'hex'), format: 'der', type: 'spki' });
    return toHex(jwkThumbprint(key.export({ format: 'jwk' })));
  } catch {
    return undefined;
  }
}

function publicKeyCheck(ctx: CheckContext<'nitro'>, jkt: Uint8Array): Finding[] {
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

/**
 * Nitro binding: `nonce` = the nonce; with `jkt`, `user_data` = `bindingReportData(nonce, jkt)`
 * and `public_key` (when present) has thumbprint `jkt`; with `reportData`, `user_data` = it.
 * A mismatch → instance-identity 96.
 */
export function nitroBinding(ctx: CheckContext<'nitro'>): Finding[] {
  const { nonce, jkt, reportData } = ctx.expectations;
  const claims = ctx.evidence.claims;
  const out: Finding[] = [];
  if (nonce !== undefined) {
    const actual = hexClaim(claims, 'nonce');
    out.push(compareBinding('ERR_NONCE_MISMATCH', 'nonce', actual, toHex(nonce), 'the nonce'));
  }
  const userData = hexClaim(claims, 'user_data');
  if (nonce !== undefined && jkt !== undefined) {
    const expected = toHex(bindingReportData(nonce, jkt));
    out.push(
      compareBinding(
        'ERR_REPORT_DATA_MISMATCH',
        'user_data',
        userData,
        expected,
        'the key binding',
      ),
    );
    out.push(...publicKeyCheck(ctx, jkt));
  }
  if (reportData !== undefined) {
    const expected = toHex(reportData);
    out.push(
      compareBinding(
        'ERR_REPORT_DATA_MISMATCH',
        'user_data',
        userData,
        expected,
        'the report data',
      ),
    );
  }
  return out;
}
