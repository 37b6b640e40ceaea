/**
 * What a TDX quote needs from the endorsement provider (spec digest C1.1): TCB Info for the
 * FMSPC of its PCK certificate, the TD_QE identity, the CRL of the PCK CA that issued the
 * certificate and the Intel Root CA CRL. The provider's collateral wins; the attester's is
 * used only when the provider has none to give, and then the rollback check applies
 * (docs/endorsements.md "Collateral precedence").
 *
 * @internal
 * @module
 */
import { EvidenceMalformedError } from '../../../../common/errors.js';
import { parseCertificateDer } from '../../../../common/x509/certificate.js';
import type { EndorsementPlan, EndorsementWing } from '../../../verify/collect.js';
import type { CollateralSource, SuppliedEndorsements } from '../../../verify/types.js';
import type { TdxQuote } from '../abi/types.js';
import { tdxCollateralOf } from '../collateral/pcs-body.js';
import { parsePckExtensions, pckCaKind } from '../collateral/pck-extensions.js';

const ATTESTER: Readonly<Record<string, CollateralSource>> = Object.freeze({
  'pck-chain': 'attester',
  'tcb-info': 'attester',
  'qe-identity': 'attester',
  'pck-crl': 'attester',
  'root-ca-crl': 'attester',
});

function needs(quote: TdxQuote, supplied: SuppliedEndorsements): EndorsementPlan {
  const leafDer = quote.signatureData.certificationData.pckCertChain.certificates[0];
  if (leafDer === undefined) {
    throw new EvidenceMalformedError('the quote carries no PCK certificate', {
      field: 'pck_cert_chain',
    });
  }
  const leaf = parseCertificateDer(leafDer, 'pck_certificate');
  const fromAttester = supplied.tdxCollateral !== undefined;
  return {
    needs: [
      {
        kind: 'tcb-info',
        request: { kind: 'tdx-tcb-info', fmspc: parsePckExtensions(leaf).fmspc },
      },
      { kind: 'qe-identity', request: { kind: 'tdx-qe-identity' } },
      { kind: 'pck-crl', request: { kind: 'pck-crl', ca: pckCaKind(leaf) } },
      { kind: 'root-ca-crl', request: { kind: 'intel-root-crl' } },
    ],
    fixedSources: { 'pck-chain': 'attester' },
    ...(fromAttester && {
      notes: ["the attester's TDX collateral was ignored: the verifier's own was available"],
      attesterFallback: (reason: string) =>
        `the verifier's TDX collateral is unavailable (${reason}); the attester's is used, ` +
        'subject to the policy minimum and the newest collateral seen for the FMSPC',
    }),
  };
}

/** The endorsement part of the TDX wing. */
export const tdxEndorsements: EndorsementWing<TdxQuote> = {
  suppliedSources: ATTESTER,
  needs,
  assemble(_quote, _supplied, answers) {
    const get = (kind: string) => {
      const e = answers.get(kind);
      if (e === undefined) throw new TypeError(`no ${kind} answer`);
      return e;
    };
    const tdxCollateral = tdxCollateralOf({
      tcbInfo: get('tcb-info'),
      qeIdentity: get('qe-identity'),
      pckCrl: get('pck-crl'),
      rootCrl: get('root-ca-crl'),
    });
    return { endorsements: { tdxCollateral } };
  },
};
