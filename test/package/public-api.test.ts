import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as twi from 'twi';
import { loadManifest, vectorsDir } from '../helpers/vectors.js';

test('the package entry point appraises a real quote end to end', () => {
  const sample = loadManifest().samples.find(
    (s) => s.platform === 'tdx' && s.expected.tcb_status === 'UpToDate',
  )!;
  const report = twi.appraiseEvidence({
    evidence: readFileSync(join(vectorsDir, sample.files.quote!)),
    endorsements: { tdxCollateral: readFileSync(join(vectorsDir, sample.files.collateral!)) },
    now: new Date(sample.verify_at),
    anchors: twi.loadAnchorStore(),
    cache: twi.createVerificationCache(),
  });
  assert.equal(report.platform, 'tdx');
  assert.equal(report.verified, true);
  assert.equal(report.tcbStatus, 'UpToDate');
  assert.equal(report.status, 'affirming');
  assert.ok(twi.isVerified(report.verifiedEvidence));
  assert.equal(typeof twi.tdx.parseTdxQuote, 'function');
  assert.equal(typeof twi.sevSnp.verifySnp, 'function');
  assert.equal(typeof twi.nitro.verifyNitro, 'function');
});
