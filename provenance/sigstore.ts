/**
 * Sigstore bundles (sigstore/protobuf-specs `Bundle`, media types
 * `application/vnd.dev.sigstore.bundle+json;version=0.1|0.2|0.3` and
 * `application/vnd.dev.sigstore.bundle.v0.3+json`) whose content is a DSSE envelope: what
 * `cosign attest`, npm provenance and GitHub artifact attestations publish. A keyless signer
 * holds a short-lived Fulcio certificate naming its OIDC identity; the signature is logged in
 * Rekor.
 *
 * Verification is offline, by `@sigstore/verify` against a Sigstore `TrustedRoot` JSON
 * (Fulcio CAs, Rekor keys, CT log keys, TSAs): the certificate chains to a Fulcio CA of the
 * root and carries an SCT from a trusted CT log; the signing time comes from the bundle's
 * transparency-log entry (its integrated time) or an RFC 3161 timestamp, and the certificate
 * must be valid at that time (not now: Fulcio certificates live ten minutes); at least one
 * transparency-log entry must verify (inclusion proof or promise under a trusted Rekor key)
 * and match the envelope and certificate; the DSSE signature verifies with the certificate's
 * key. Then the certificate identity — OIDC issuer and subject alternative name — must be one
 * of the configured builder identities (exact SAN or a full-match regular expression; the
 * library's own SAN check is an unanchored match, so twi compares itself).
 *
 * Bundles signed with a plain public key (no certificate) and message-signature bundles are
 * not accepted: builders with a key use plain DSSE envelopes.
 *
 * @internal
 * @module
 */
import { Verifier, toSignedEntity, toTrustMaterial, type Signer } from '@sigstore/verify';
import {
  bundleFromJSON,
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
  type Bundle,
} from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { malformed, ProvenanceError, type ProvenanceCode } from './errors.js';
import { SIGSTORE_BUNDLE_MEDIA_TYPE_STEM } from '../wire/media-types.js';

/** The bundle media types accepted. */
export const SIGSTORE_BUNDLE_MEDIA_TYPES: readonly string[] = [
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
];

/** A keyless builder: the certificate identity its Sigstore bundles must carry. */
export interface SigstoreIdentity {
  /** OIDC issuer, exact (e.g. `https://token.actions.githubusercontent.com`). */
  readonly issuer: string;
  /** Exact subject alternative name (e.g. a GitHub workflow identity). */
  readonly subject?: string;
  /** Or a pattern the whole SAN must match (anchored by twi). */
  readonly subjectRegExp?: RegExp;
  /** SLSA builder ids this identity may sign for. */
  readonly builderIds: readonly string[];
}

/** The trust root and identities Sigstore bundles are checked against. */
export interface SigstoreTrust {
  readonly verifier: Verifier;
  readonly identities: readonly SigstoreIdentity[];
}

/** What a verified bundle yields. */
export interface VerifiedBundle {
  readonly payloadType: string;
  readonly payload: Uint8Array;
  /** The certificate identity. */
  readonly issuer: string;
  readonly subject: string;
  /** The configured identities it matches (at least one). */
  readonly identities: readonly SigstoreIdentity[];
}

/**
 * A {@link SigstoreIdentity} from its configuration entry
 * `{ "issuer": …, "subject": … }` or `{ "issuer": …, "subject_regexp": … }`.
 *
 * @throws TypeError naming what is wrong.
 */
export function sigstoreIdentity(json: unknown, builderIds: readonly string[]): SigstoreIdentity {
  const e = json as { issuer?: unknown; subject?: unknown; subject_regexp?: unknown } | null;
  if (typeof e !== 'object' || e === null) throw new TypeError('sigstore must be an object');
  if (typeof e.issuer !== 'string' || !/^https:\/\/\S+$/.test(e.issuer)) {
    throw new TypeError('sigstore.issuer must be an https URL');
  }
  const hasSubject = e.subject !== undefined;
  if (hasSubject === (e.subject_regexp !== undefined)) {
    throw new TypeError('sigstore needs exactly one of subject and subject_regexp');
  }
  if (hasSubject) {
    if (typeof e.subject !== 'string' || e.subject === '') {
      throw new TypeError('sigstore.subject must be a non-empty string');
    }
    return { issuer: e.issuer, subject: e.subject, builderIds: [...builderIds] };
  }
  if (typeof e.subject_regexp !== 'string' || e.subject_regexp === '') {
    throw new TypeError('sigstore.subject_regexp must be a non-empty string');
  }
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${e.subject_regexp})$`, 'u');
  } catch (err) {
    throw new TypeError(`sigstore.subject_regexp: ${(err as Error).message}`);
  }
  return { issuer: e.issuer, subjectRegExp: re, builderIds: [...builderIds] };
}

/**
 * Builds the Sigstore trust from a parsed `trusted_root.json` and the configured identities.
 *
 * @throws TypeError when the trusted root has no Fulcio CA or no Rekor key.
 *
 * @example
 * ```ts
 * const trust = sigstoreTrust(JSON.parse(readFileSync('trusted_root.json', 'utf8')), identities);
 * ```
 */
export function sigstoreTrust(
  trustedRoot: unknown,
  identities: readonly SigstoreIdentity[],
): SigstoreTrust {
  if (typeof trustedRoot !== 'object' || trustedRoot === null) {
    throw new TypeError('trusted root: expected a JSON object');
  }
  const root = TrustedRoot.fromJSON(trustedRoot);
  if (!/^application\/vnd\.dev\.sigstore\.trustedroot[.+]/.test(root.mediaType)) {
    throw new TypeError(`trusted root: unexpected mediaType ${JSON.stringify(root.mediaType)}`);
  }
  if (root.certificateAuthorities.length === 0) {
    throw new TypeError('trusted root: no certificateAuthorities (Fulcio)');
  }
  if (root.tlogs.length === 0) throw new TypeError('trusted root: no tlogs (Rekor)');
  const verifier = new Verifier(toTrustMaterial(root), {
    tlogThreshold: 1,
    ctlogThreshold: 1,
    timestampThreshold: 1,
  });
  return { verifier, identities: [...identities] };
}

/** Whether a submitted JSON record is a Sigstore bundle (by its `mediaType`). */
export function isSigstoreBundle(json: unknown): boolean {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return false;
  const t = (json as { mediaType?: unknown }).mediaType;
  return typeof t === 'string' && t.startsWith(SIGSTORE_BUNDLE_MEDIA_TYPE_STEM);
}

/** `@sigstore/verify` error codes → provenance codes. */
const VERIFY_CODES: Readonly<Record<string, ProvenanceCode>> = {
  SIGNATURE_ERROR: 'ERR_PROVENANCE_UNVERIFIABLE',
  CERTIFICATE_ERROR: 'ERR_PROVENANCE_CERTIFICATE',
  PUBLIC_KEY_ERROR: 'ERR_PROVENANCE_CERTIFICATE',
  TIMESTAMP_ERROR: 'ERR_PROVENANCE_TLOG',
  TLOG_ERROR: 'ERR_PROVENANCE_TLOG',
  TLOG_INCLUSION_PROOF_ERROR: 'ERR_PROVENANCE_TLOG',
  TLOG_INCLUSION_PROMISE_ERROR: 'ERR_PROVENANCE_TLOG',
  TLOG_MISSING_INCLUSION_ERROR: 'ERR_PROVENANCE_TLOG',
  TLOG_BODY_ERROR: 'ERR_PROVENANCE_TLOG',
  NOT_IMPLEMENTED_ERROR: 'ERR_PROVENANCE_UNSUPPORTED',
  UNTRUSTED_SIGNER_ERROR: 'ERR_PROVENANCE_IDENTITY',
};

function parseBundle(json: unknown): Bundle {
  const mediaType = (json as { mediaType: string }).mediaType;
  if (!SIGSTORE_BUNDLE_MEDIA_TYPES.includes(mediaType)) {
    throw new ProvenanceError(
      'ERR_PROVENANCE_UNSUPPORTED',
      `Sigstore bundle media type ${JSON.stringify(mediaType)} is not supported`,
    );
  }
  try {
    return bundleFromJSON(json);
  } catch (err) {
    throw malformed(`not a valid Sigstore bundle: ${(err as Error).message}`, { cause: err });
  }
}

function verifiedSigner(bundle: Bundle, trust: SigstoreTrust): Signer {
  try {
    return trust.verifier.verify(toSignedEntity(bundle));
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const mapped = typeof code === 'string' ? VERIFY_CODES[code] : undefined;
    if (mapped) {
      throw new ProvenanceError(mapped, `Sigstore bundle: ${(err as Error).message}`, {
        cause: err,
      });
    }
    // Anything else is a part that does not parse (a certificate, a timestamp…).
    throw malformed(`Sigstore bundle: ${(err as Error).message}`, { cause: err });
  }
}

function identityMatches(id: SigstoreIdentity, issuer: string, subject: string): boolean {
  if (id.issuer !== issuer) return false;
  return id.subject !== undefined ? id.subject === subject : id.subjectRegExp!.test(subject);
}

/**
 * Verifies a Sigstore bundle carrying a DSSE envelope and returns the envelope's payload and
 * the certificate identity. Nothing about the payload is checked here.
 *
 * @throws {ProvenanceError} `ERR_PROVENANCE_UNVERIFIABLE` (no trust root configured, bad
 *   signature), `ERR_PROVENANCE_CERTIFICATE`, `ERR_PROVENANCE_TLOG`, `ERR_PROVENANCE_IDENTITY`,
 *   `ERR_PROVENANCE_UNSUPPORTED` (media type, message signature, public-key bundle),
 *   `ERR_PROVENANCE_MALFORMED`.
 */
export function verifySigstoreBundle(
  json: unknown,
  trust: SigstoreTrust | undefined,
): VerifiedBundle {
  const bundle = parseBundle(json);
  if (bundle.content.$case !== 'dsseEnvelope') {
    throw new ProvenanceError(
      'ERR_PROVENANCE_UNSUPPORTED',
      'the Sigstore bundle holds a message signature, not a DSSE envelope',
    );
  }
  if (bundle.verificationMaterial.content.$case === 'publicKey') {
    throw new ProvenanceError(
      'ERR_PROVENANCE_UNSUPPORTED',
      'the Sigstore bundle is signed with a public key, not a Fulcio certificate',
    );
  }
  if (!trust) {
    throw new ProvenanceError(
      'ERR_PROVENANCE_UNVERIFIABLE',
      'no Sigstore trusted root is configured',
    );
  }
  const signer = verifiedSigner(bundle, trust);
  const issuer = signer.identity?.extensions?.issuer ?? '';
  const subject = signer.identity?.subjectAlternativeName ?? '';
  const identities = trust.identities.filter((id) => identityMatches(id, issuer, subject));
  if (identities.length === 0) {
    throw new ProvenanceError(
      'ERR_PROVENANCE_IDENTITY',
      `certificate identity ${JSON.stringify(subject)} from issuer ${JSON.stringify(issuer)} is not a configured builder`,
    );
  }
  const envelope = bundle.content.dsseEnvelope;
  return {
    payloadType: envelope.payloadType,
    payload: new Uint8Array(envelope.payload),
    issuer,
    subject,
    identities,
  };
}
