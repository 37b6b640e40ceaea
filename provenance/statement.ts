/**
 * in-toto Statement v1 (in-toto/attestation `spec/v1/statement.md`, `digest_set.md`) and the
 * predicates the linker reads: SLSA provenance v1 (`https://slsa.dev/provenance/v1`: builder
 * id, build type, source repository and commit) and SBOM references (SPDX
 * `https://spdx.dev/Document[/…]`, CycloneDX `https://cyclonedx.org/bom[/…]`).
 *
 * Digest sets: a subject is usable when it carries at least one of `sha256`, `sha384`,
 * `sha512` (lowercase hex of the right length); other algorithms beside an accepted one are
 * ignored, as the spec says consumers must; a subject with none is refused
 * (`ERR_PROVENANCE_DIGEST_ALGORITHM`).
 *
 * @internal
 * @module
 */
import { malformed, ProvenanceError } from './errors.js';

/** `_type` of a Statement v1. */
export const STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
/** Predicate type of SLSA provenance v1. */
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';

/** Digest algorithms accepted in subjects, with their hex lengths. */
export const ACCEPTED_DIGESTS = { sha256: 64, sha384: 96, sha512: 128 } as const;
/** An accepted digest algorithm. */
export type DigestAlg = keyof typeof ACCEPTED_DIGESTS;

const MAX_SUBJECTS = 256;
const MAX_DEPENDENCIES = 1024;

/** One digest of a subject. */
export interface SubjectDigest {
  readonly alg: DigestAlg;
  /** Lowercase hex. */
  readonly value: string;
}

/** A Statement subject with its accepted digests. */
export interface Subject {
  readonly name?: string;
  readonly digests: readonly SubjectDigest[];
}

/** A parsed Statement v1. */
export interface Statement {
  readonly subjects: readonly Subject[];
  readonly predicateType: string;
  readonly predicate: Record<string, unknown>;
}

/** What the linker keeps of SLSA provenance v1. */
export interface SlsaSummary {
  readonly builderId: string;
  readonly buildType: string;
  readonly sourceRepository?: string;
  /** Lowercase hex git commit (40 or 64 digits). */
  readonly sourceCommit?: string;
}

/** What the linker keeps of an SBOM attestation. */
export interface SbomSummary {
  readonly format: 'spdx' | 'cyclonedx';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readSubject(v: unknown, i: number): Subject {
  if (!isObject(v) || !isObject(v.digest)) throw malformed(`subject[${i}] needs a digest object`);
  if (v.name !== undefined && typeof v.name !== 'string') {
    throw malformed(`subject[${i}].name must be a string`);
  }
  const digests: SubjectDigest[] = [];
  for (const [alg, value] of Object.entries(v.digest)) {
    if (typeof value !== 'string') throw malformed(`subject[${i}].digest.${alg} must be a string`);
    if (!(alg in ACCEPTED_DIGESTS)) continue;
    const len = ACCEPTED_DIGESTS[alg as DigestAlg];
    if (value.length !== len || !/^[0-9a-f]+$/.test(value)) {
      throw malformed(`subject[${i}].digest.${alg} must be ${len} lowercase hex digits`);
    }
    digests.push({ alg: alg as DigestAlg, value });
  }
  if (digests.length === 0) {
    throw new ProvenanceError(
      'ERR_PROVENANCE_DIGEST_ALGORITHM',
      `subject[${i}] has no sha256, sha384 or sha512 digest (got ${Object.keys(v.digest).join(', ') || 'none'})`,
    );
  }
  return { ...(typeof v.name === 'string' && { name: v.name }), digests };
}

/**
 * Parses a Statement v1 from its JSON bytes (the DSSE payload).
 *
 * @throws {ProvenanceError} `ERR_PROVENANCE_MALFORMED`, `ERR_PROVENANCE_OVERSIZED`,
 *   `ERR_PROVENANCE_DIGEST_ALGORITHM`.
 */
export function parseStatement(payload: Uint8Array): Statement {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (err) {
    throw malformed('the payload is not UTF-8 JSON', { cause: err });
  }
  if (!isObject(json)) throw malformed('the Statement must be a JSON object');
  if (json._type !== STATEMENT_V1) {
    throw malformed(`_type must be ${STATEMENT_V1}, got ${JSON.stringify(json._type)}`);
  }
  const { subject, predicateType, predicate } = json;
  if (!Array.isArray(subject) || subject.length === 0) {
    throw malformed('subject must be a non-empty array');
  }
  if (subject.length > MAX_SUBJECTS) {
    throw new ProvenanceError('ERR_PROVENANCE_OVERSIZED', `more than ${MAX_SUBJECTS} subjects`);
  }
  if (typeof predicateType !== 'string' || predicateType === '') {
    throw malformed('predicateType must be a non-empty string');
  }
  if (predicate !== undefined && !isObject(predicate)) {
    throw malformed('predicate must be an object');
  }
  return { subjects: subject.map(readSubject), predicateType, predicate: predicate ?? {} };
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw malformed(`${what} must be a non-empty string`);
  return v;
}

/** `git+https://host/repo@ref` → `https://host/repo`. */
function repositoryOf(uri: string): string {
  const bare = uri.replace(/^git\+/, '');
  const at = bare.lastIndexOf('@');
  return at > bare.indexOf('://') + 3 ? bare.slice(0, at) : bare;
}

function gitCommitOf(digest: unknown): string | undefined {
  if (!isObject(digest) || typeof digest.gitCommit !== 'string') return undefined;
  const c = digest.gitCommit;
  if (!/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(c)) throw malformed('gitCommit must be 40 or 64 hex');
  return c;
}

function sourceOf(def: Record<string, unknown>): { repo?: string; commit?: string } {
  const deps = def.resolvedDependencies;
  if (deps !== undefined && !Array.isArray(deps)) {
    throw malformed('buildDefinition.resolvedDependencies must be an array');
  }
  if (Array.isArray(deps) && deps.length > MAX_DEPENDENCIES) {
    throw new ProvenanceError('ERR_PROVENANCE_OVERSIZED', 'too many resolvedDependencies');
  }
  for (const d of deps ?? []) {
    const commit = isObject(d) ? gitCommitOf(d.digest) : undefined;
    if (commit && isObject(d) && typeof d.uri === 'string') {
      return { repo: repositoryOf(d.uri), commit };
    }
  }
  // Build types that name the source in externalParameters (GitHub Actions workflow, a
  // `source` resource descriptor) give the repository even without a resolved commit.
  const ext = def.externalParameters as Record<string, unknown>;
  const workflow = isObject(ext.workflow) ? ext.workflow : undefined;
  const source = isObject(ext.source) ? ext.source : undefined;
  const commit = source ? gitCommitOf(source.digest) : undefined;
  const repo =
    typeof workflow?.repository === 'string'
      ? workflow.repository
      : typeof source?.uri === 'string'
        ? repositoryOf(source.uri)
        : undefined;
  return { ...(repo && { repo }), ...(commit && { commit }) };
}

/**
 * Reads a SLSA provenance v1 predicate.
 *
 * @throws {ProvenanceError} `ERR_PROVENANCE_MALFORMED` when a required field is missing.
 */
export function readSlsa(predicate: Record<string, unknown>): SlsaSummary {
  const def = predicate.buildDefinition;
  const run = predicate.runDetails;
  if (!isObject(def) || !isObject(run)) {
    throw malformed('SLSA provenance needs buildDefinition and runDetails objects');
  }
  if (!isObject(def.externalParameters)) {
    throw malformed('buildDefinition.externalParameters must be an object');
  }
  if (!isObject(run.builder)) throw malformed('runDetails.builder must be an object');
  const { repo, commit } = sourceOf(def);
  return {
    builderId: str(run.builder.id, 'runDetails.builder.id'),
    buildType: str(def.buildType, 'buildDefinition.buildType'),
    ...(repo && { sourceRepository: repo }),
    ...(commit && { sourceCommit: commit }),
  };
}

/** The SBOM format of a predicate type, or `undefined` when it is not an SBOM. */
export function sbomFormat(predicateType: string): SbomSummary['format'] | undefined {
  if (/^https:\/\/spdx\.dev\/Document(\/v[0-9.]+)?$/.test(predicateType)) return 'spdx';
  if (/^https:\/\/cyclonedx\.org\/bom(\/v[0-9.]+)?$/.test(predicateType)) return 'cyclonedx';
  return undefined;
}
