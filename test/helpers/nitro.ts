/** Nitro test helper: an independent ES384 check of a document with node:crypto. */
import { verify, X509Certificate } from 'node:crypto';
import { nitroSigStructure, type NitroDocument } from '../../verifier/platforms/nitro/index.js';

/** True when the COSE_Sign1 signature verifies with the document's own `certificate`. */
export function signatureVerifies(doc: NitroDocument): boolean {
  const key = new X509Certificate(doc.payload.certificate).publicKey;
  return verify(
    'sha384',
    nitroSigStructure(doc),
    { key, dsaEncoding: 'ieee-p1363' },
    doc.signature,
  );
}
