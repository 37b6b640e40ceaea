/**
 * Every media type twi sends, accepts or labels bytes with: the one table of them
 * (ARCHITECTURE "Wire contracts (v1)"). No other product file spells one; a test over the
 * sources (`test/wire/media-types.test.ts`) holds that.
 *
 * twi's own `application/vnd.twi.*` types name evidence and endorsement formats for which no
 * registered type exists; they appear as the `type` of CMW records (draft-ietf-rats-msg-wrap
 * §3.1) and nowhere else.
 *
 * @module
 */

// --- Evidence (CMW records with `ind` 4) ---

/** An Intel TDX quote (v4 or v5), the bytes as the Quote Generation Service returns them. */
export const TDX_QUOTE_MEDIA_TYPE = 'application/vnd.twi.tdx-quote';
/** An AMD SEV-SNP attestation report (1184 bytes, SEV-SNP ABI §7.3 Table 23). */
export const SEV_SNP_REPORT_MEDIA_TYPE = 'application/vnd.twi.sev-snp-report';
/** An AWS Nitro Enclaves attestation document: the COSE_Sign1 bytes from the NSM. */
export const NITRO_ATTESTATION_MEDIA_TYPE = 'application/vnd.twi.nitro-attestation';

/** The evidence media type of each platform twi attests, keyed by platform name. */
export const EVIDENCE_MEDIA_TYPES = {
  tdx: TDX_QUOTE_MEDIA_TYPE,
  'sev-snp': SEV_SNP_REPORT_MEDIA_TYPE,
  nitro: NITRO_ATTESTATION_MEDIA_TYPE,
} as const;

// --- Endorsements the attester supplies (CMW records with `ind` 2) ---

/** TDX collateral in the `QuoteCollateralV3` JSON shape (Intel PCS answers, verbatim). */
export const TDX_COLLATERAL_MEDIA_TYPE = 'application/vnd.twi.tdx-collateral+json';
/**
 * The SEV-SNP GHCB certificate table (GHCB spec §4.1.8.1) from the extended report or the
 * configfs-tsm `auxblob`.
 */
export const SEV_SNP_CERTS_MEDIA_TYPE = 'application/vnd.twi.sev-snp-certs';
/** One DER X.509 certificate (RFC 2585 §4.1), e.g. a VCEK; also what AMD KDS serves. */
export const PKIX_CERT_MEDIA_TYPE = 'application/pkix-cert';

// --- Vendor endorsement services (Intel PCS, AMD KDS; served by the simulators) ---

/** One DER certificate revocation list (RFC 2585 §4.2). */
export const PKIX_CRL_MEDIA_TYPE = 'application/pkix-crl';
/** PEM text (unregistered; what Intel PCS and AMD KDS label certificate chains with). */
export const PEM_FILE_MEDIA_TYPE = 'application/x-pem-file';

// --- Conceptual Message Wrappers ---

/** A JSON CMW (RFC 9999; draft-ietf-rats-msg-wrap-23 §10.5), record or collection. */
export const CMW_JSON_MEDIA_TYPE = 'application/cmw+json';

// --- Attestation results and workload credentials ---

/** A signed Entity Attestation Token in JWT form (RFC 9782 §4). */
export const EAT_JWT_MEDIA_TYPE = 'application/eat+jwt';
/** The EAR profile of draft-ietf-rats-ear-04 (`eat_profile`), twi's default. */
export const EAR_PROFILE = 'tag:ietf.org,2026:rats/ear#04';
/** Media type of a signed EAR: {@link EAT_JWT_MEDIA_TYPE} with the EAR profile (EAR §4). */
export const EAR_MEDIA_TYPE = `${EAT_JWT_MEDIA_TYPE}; eat_profile="${EAR_PROFILE}"`;
/** A Workload Identity Token (draft-ietf-wimse-s2s-protocol §3.1, IANA considerations). */
export const WIT_MEDIA_TYPE = 'application/wit+jwt';
/** A Workload Proof Token (draft-ietf-wimse-s2s-protocol §4.3, IANA considerations). */
export const WPT_MEDIA_TYPE = 'application/wpt+jwt';

// --- Supply-chain records and reference values ---

/** The DSSE `payloadType` of an in-toto Statement (in-toto Attestation Framework v1). */
export const IN_TOTO_MEDIA_TYPE = 'application/vnd.in-toto+json';
/** An unsigned CoRIM (draft-ietf-rats-corim §4, CBOR); also the COSE content type of a signed one. */
export const CORIM_MEDIA_TYPE = 'application/rim+cbor';
/** A signed CoRIM, COSE_Sign1 (draft-ietf-rats-corim §4.2). */
export const SIGNED_CORIM_MEDIA_TYPE = 'application/rim+cose';
/** Any COSE object (RFC 9052 §9.1). */
export const COSE_MEDIA_TYPE = 'application/cose';
/** Bytes with no stated format. */
export const OCTET_STREAM_MEDIA_TYPE = 'application/octet-stream';
/** Media types `POST /v1/admin/provenance` reads as CoRIM bytes (signed or not). */
export const CORIM_UPLOAD_MEDIA_TYPES: readonly string[] = [
  CORIM_MEDIA_TYPE,
  SIGNED_CORIM_MEDIA_TYPE,
  COSE_MEDIA_TYPE,
  OCTET_STREAM_MEDIA_TYPE,
];

// --- HTTP bodies of the v1 API ---

/** JSON (RFC 8259 §11): every `/v1/*` request and answer body unless said otherwise. */
export const JSON_MEDIA_TYPE = 'application/json';
/** Problem details (RFC 9457 §3): every error answer of the service and the shim's local API. */
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';
/** YAML (RFC 9512 §2.1). */
export const YAML_MEDIA_TYPE = 'application/yaml';
/** Media types `PUT /v1/admin/policy` reads as YAML: RFC 9512's and its deprecated aliases. */
export const YAML_MEDIA_TYPES: readonly string[] = [
  YAML_MEDIA_TYPE,
  'application/x-yaml',
  'text/yaml',
];
/** Plain text (RFC 2046 §4.1.3): error bodies of the simulated vendor services. */
export const TEXT_MEDIA_TYPE = 'text/plain';
/** Server-sent events (HTML Living Standard §9.2): `GET /v1/bundle/events`. */
export const EVENT_STREAM_MEDIA_TYPE = 'text/event-stream';
/** A C2SP signed note (`GET /v1/log/checkpoint`, `GET /v1/log/note-key`): UTF-8 text. */
export const SIGNED_NOTE_MEDIA_TYPE = `${TEXT_MEDIA_TYPE}; charset=utf-8`;
/**
 * The stem every Sigstore bundle media type starts with
 * (`application/vnd.dev.sigstore.bundle+json;version=0.1…0.3`, `….bundle.v0.3+json`).
 */
export const SIGSTORE_BUNDLE_MEDIA_TYPE_STEM = 'application/vnd.dev.sigstore.bundle';
/** HTML (the landing page and the operator console, docs/console.md). */
export const HTML_MEDIA_TYPE = 'text/html';
/** CSS (RFC 2318): the operator console's style sheet. */
export const CSS_MEDIA_TYPE = 'text/css';
/** JavaScript (RFC 9239): the operator console's modules. */
export const JAVASCRIPT_MEDIA_TYPE = 'text/javascript';

/**
 * The JOSE `typ` of a JWT media type: the type without its `application/` prefix and
 * parameters, as RFC 7515 §4.1.9 recommends (`application/wit+jwt` → `wit+jwt`).
 *
 * @example
 * ```ts
 * joseTyp(EAR_MEDIA_TYPE); // 'eat+jwt'
 * ```
 */
export function joseTyp(mediaType: string): string {
  return mediaType
    .split(';')[0]!
    .trim()
    .replace(/^application\//, '');
}

/** The essence of a `content-type` value: type/subtype in lower case, parameters dropped. */
export function mediaTypeEssence(contentType: string): string {
  return contentType.split(';')[0]!.trim().toLowerCase();
}

/**
 * A media type taken apart (RFC 9110 §8.3.1): type and subtype in lower case (they are
 * case-insensitive), parameter names in lower case, parameter values as sent with quoted
 * strings unquoted (a quoted and an unquoted value are the same value, RFC 9110 §5.6.6).
 */
export interface MediaType {
  /** `type/subtype` in lower case: what a known-type check compares. */
  readonly essence: string;
  readonly type: string;
  readonly subtype: string;
  /** The parameters by lower-case name, in the order given. */
  readonly parameters: ReadonlyMap<string, string>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;
const OWS = /^[ \t]*/;
// qdtext and quoted-pair of RFC 9110 §5.6.4 (obs-text is %x80-FF).
const QUOTED = /^"((?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*)"/;

/**
 * Parses a media type with its parameters per RFC 9110 §8.3.1:
 * `type "/" subtype *( OWS ";" OWS [ name "=" ( token / quoted-string ) ] )`.
 * A parameter named twice makes the media type ambiguous and is refused too.
 *
 * @returns the parsed media type, or undefined when `text` does not follow the grammar.
 *
 * @example
 * ```ts
 * parseMediaType('Application/EAT+CWT; eat_profile="tag:psacertified.org,2023:psa#tfm"');
 * // { essence: 'application/eat+cwt', parameters: Map { 'eat_profile' => 'tag:psacertified.org,2023:psa#tfm' }, … }
 * ```
 */
export function parseMediaType(text: string): MediaType | undefined {
  const type = TOKEN.exec(text)?.[0];
  if (!type || text[type.length] !== '/') return undefined;
  let rest = text.slice(type.length + 1);
  const subtype = TOKEN.exec(rest)?.[0];
  if (!subtype) return undefined;
  rest = rest.slice(subtype.length);
  const parameters = new Map<string, string>();
  while (rest !== '') {
    rest = rest.slice(OWS.exec(rest)![0].length);
    if (rest[0] !== ';') return undefined;
    rest = rest.slice(1);
    rest = rest.slice(OWS.exec(rest)![0].length);
    const name = TOKEN.exec(rest)?.[0];
    if (!name) continue; // `[ parameter ]`: an empty parameter is allowed
    if (rest[name.length] !== '=') return undefined;
    rest = rest.slice(name.length + 1);
    let value: string;
    const quoted = QUOTED.exec(rest);
    if (quoted) {
      value = quoted[1]!.replace(/\\(.)/gs, '$1');
      rest = rest.slice(quoted[0].length);
    } else {
      const token = TOKEN.exec(rest)?.[0];
      if (!token) return undefined;
      value = token;
      rest = rest.slice(token.length);
    }
    const key = name.toLowerCase();
    if (parameters.has(key)) return undefined;
    parameters.set(key, value);
  }
  const lower = { type: type.toLowerCase(), subtype: subtype.toLowerCase() };
  return { essence: `${lower.type}/${lower.subtype}`, ...lower, parameters };
}
