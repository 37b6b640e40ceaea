/**
 * Trust anchors: the pinned vendor roots, plus roots an operator adds (for example a
 * simulator's `DIR/roots`). An appraisal whose chain ends at an added root says so
 * (`anchor.source = 'configured'`).
 *
 * @module
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { TwiError } from '../common/errors.js';
import {
  parseCertificateDer,
  parsePemChain,
  type Certificate,
} from '../common/x509/certificate.js';
import { createTrustAnchors } from '../common/x509/chain.js';
import type { AnchorStore } from '../verifier/verify/types.js';
import { AMD_INTERMEDIATES, VENDOR_ROOT_PINS, VENDOR_ROOTS } from './vendor-roots.js';

/** A trust-anchor directory or file that cannot be used. */
export class TrustAnchorError extends TwiError {
  override readonly code = 'ERR_TRUST_ANCHORS';
}

const CERT_EXTENSIONS = new Set(['.pem', '.crt', '.cer', '.der']);
const MAX_ANCHOR_FILE = 256 * 1024;

type Vendor = 'intel' | 'amd' | 'aws';

/** Which vendor a root serves, from its subject CN (the simulators copy the real names). */
function vendorOf(cert: Certificate): Vendor | undefined {
  const cn = cert.subjectCn ?? '';
  if (cn === 'Intel SGX Root CA') return 'intel';
  if (/^ARK-/.test(cn)) return 'amd';
  if (/nitro-enclaves$/.test(cn)) return 'aws';
  return undefined;
}

function isSelfSigned(cert: Certificate): boolean {
  return (
    cert.subjectCn === cert.issuerCn &&
    cert.x509.checkIssued(cert.x509) &&
    cert.x509.verify(cert.x509.publicKey)
  );
}

function readCerts(path: string): Certificate[] {
  const bytes = readFileSync(path);
  if (bytes.length > MAX_ANCHOR_FILE)
    throw new TrustAnchorError(`${path}: too large for a certificate file`);
  try {
    return bytes.subarray(0, 11).toString('latin1') === '-----BEGIN '
      ? parsePemChain(new Uint8Array(bytes), path)
      : [parseCertificateDer(new Uint8Array(bytes), path)];
  } catch (err) {
    throw new TrustAnchorError(`${path}: not a certificate file (${(err as Error).message})`, {
      cause: err,
    });
  }
}

/** Certificates in a file, or in every certificate file of a directory. */
function certsAt(path: string): Certificate[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new TrustAnchorError(`${path}: no such trust-anchor file or directory`);
  }
  if (!st.isDirectory()) return readCerts(path);
  return readdirSync(path)
    .filter((f) => CERT_EXTENSIONS.has(extname(f).toLowerCase()))
    .sort()
    .flatMap((f) => readCerts(join(path, f)));
}

/**
 * Builds the anchor store: the pinned vendor roots, plus the roots found in `extra`
 * (files or directories of PEM/DER certificates). Self-signed certificates named like a
 * vendor root become anchors of that vendor; AMD ASK/ASVK certificates become known
 * intermediates; anything else is ignored.
 *
 * @throws {TrustAnchorError} when an extra path is unreadable or holds no usable root.
 */
export function loadAnchorStore(extra: readonly string[] = []): AnchorStore {
  const vendorCerts = VENDOR_ROOTS.map((r) => parsePemChain(r.pem, `vendor root ${r.vendor}`)[0]!);
  // Pins are checked here so that an edited vendor-roots file cannot slip in another root.
  createTrustAnchors(vendorCerts, VENDOR_ROOT_PINS);
  const byVendor: Record<Vendor, Certificate[]> = { intel: [], amd: [], aws: [] };
  for (const c of vendorCerts) byVendor[vendorOf(c)!].push(c);
  const intermediates = AMD_INTERMEDIATES.map(
    (i) => parsePemChain(i.pem, 'AMD intermediate')[0]!.der,
  );
  const configured = new Set<string>();
  for (const path of extra) {
    let roots = 0;
    for (const cert of certsAt(path)) {
      const vendor = vendorOf(cert);
      if (vendor && isSelfSigned(cert)) {
        if (!byVendor[vendor].some((c) => c.sha256 === cert.sha256)) {
          byVendor[vendor].push(cert);
          configured.add(cert.sha256);
        }
        roots++;
      } else if (/^SEV-(VLEK-)?(Milan|Genoa|Turin)$/.test(cert.subjectCn ?? '')) {
        intermediates.push(cert.der);
      }
    }
    if (roots === 0)
      throw new TrustAnchorError(`${path}: no Intel, AMD or AWS root certificate found`);
  }
  return Object.freeze({
    intel: createTrustAnchors(byVendor.intel),
    amd: createTrustAnchors(byVendor.amd),
    aws: createTrustAnchors(byVendor.aws),
    configured,
    amdIntermediates: Object.freeze(intermediates),
  });
}
