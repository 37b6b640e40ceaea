/**
 * Malformed SEV-SNP endorsements are input errors, like malformed evidence: a VCEK/VLEK,
 * CA chain, certificate table or CRL the caller supplied that does not parse (bad DER or
 * PEM, a public key that does not decode, a broken table) is thrown before verification, so
 * the service answers 400 and `twi verify` exits 3. Endorsements that parse but do not
 * check out (profile, chain, signature) stay verification failures of the report.
 *
 * @internal
 * @module
 */
import { isTwiError } from '../../../../common/errors.js';
import type { VerificationCache } from '../../../verify/cache.js';
import type { SuppliedEndorsements } from '../../../verify/types.js';
import { decodeSnpSignerInfo } from '../abi/bit-fields.js';
import type { SnpReport } from '../abi/types.js';
import { resolveSnpEndorsements } from './endorsements.js';

const SYNTAX_CODES: ReadonlySet<string> = new Set([
  'ERR_EVIDENCE_MALFORMED',
  'ERR_EVIDENCE_UNSUPPORTED',
]);

/**
 * Parses the endorsements the report would be verified with (cached, so verification
 * reuses the work) and throws when one of them is malformed.
 *
 * @throws {EvidenceMalformedError | EvidenceUnsupportedError} naming the endorsement field,
 *   e.g. `snpKeyCert.tbsCertificate.subjectPublicKeyInfo`.
 * @example
 * checkSnpEndorsementSyntax(report, { snpKeyCert: vcekDer }, cache);
 */
export function checkSnpEndorsementSyntax(
  report: SnpReport,
  endorsements: SuppliedEndorsements,
  cache: VerificationCache,
): void {
  if (Object.keys(endorsements).length === 0) return;
  try {
    resolveSnpEndorsements(endorsements, decodeSnpSignerInfo(report.signerInfo).signingKey, cache);
  } catch (err) {
    // A missing key or a profile violation is the verify stage's to report; bugs are not.
    if (!isTwiError(err) || SYNTAX_CODES.has(err.code)) throw err;
  }
}
