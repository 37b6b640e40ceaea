/**
 * in-toto Statements v1 and v0.1 (in-toto/attestation `spec/v1/statement.md`,
 * `spec/v0.1.0/statement.md`, `digest_set.md`) and the predicates the linker reads: SLSA
 * provenance v1 (`https://slsa.dev/provenance/v1`) and v0.2 (`https://slsa.dev/provenance/v0.2`)
 * — builder id, build type, source repository and commit — and SBOM references (SPDX
 * `https://spdx.dev/Document[/…]`, CycloneDX `https://cyclonedx.org/bom[/…]`). The two
 * Statement versions have the same `subject` / `predicateType` / `predicate` layout.
 *
 * Digest sets: the accepted algorithms are `sha256`, `sha384`, `sha512` (lowercase hex of the
 * right length). Other algorithms (`sha1`, `gitCommit`, `md5`…) are ignored, as the spec says
 * consumers must; a subject with none of the accepted ones is skipped, and the Statement is
 * refused (`ERR_PROVENANCE_DIGEST_ALGORITHM`) only when no subject has one.
 *
 * @internal
 * @module
 */
import { malformed, ProvenanceError } from './errors.js';

/** `_type` of a Statement v1. */
export const STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
/** `_type` of a Statement v0.1. */
export const STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1';
/** Predicate type of SLSA provenance v1. */
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** Predicate type of SLSA provenance v0.2. */
export const SLSA_PROVENANCE_V02 = 'https://slsa.dev/provenance/v0.2';

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

/** A parsed Statement (v1 or v0.1). */
export interface Statement {
  /** The Statement's `_type`. */
  readonly type: typeof STATEMENT_V1 | typeof STATEMENT_V01;
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

function isAccepted(alg: string): alg is DigestAlg {
  return Object.hasOwn(ACCEPTED_DIGESTS, alg);
}

/** The subject with its accepted digests (possibly none). */
function readSubject(v: unknown, i: number): Subject {
  if (!isObject(v) || !isObject(v.digest)) throw malformed(`subject[${i}] needs a digest object`);
  if (v.name !== undefined && typeof v.name !== 'string') {
    throw malformed(`subject[${i}].name must be a string`);
  }
  const digests: SubjectDigest[] = [];
  for (const [alg, value] of Object.entries(v.digest)) {
    // Algorithms the linker does not read are skipped whatever their value looks like.
    if (!isAccepted(alg)) continue;
    const len = ACCEPTED_DIGESTS[alg];
    if (typeof value !== 'string' || value.length !== len || !/^[0-9a-f]+$/.test(value)) {
      throw malformed(`subject[${i}].digest.${alg} must be ${len} lowercase hex digits`);
    }
    digests.push({ alg, value });
  }
  return { ...(typeof v.name === 'string' && { name: v.name }), digests };
}

function usableSubjects(subject: readonly unknown[]): Subject[] {
  const all = subject.map(readSubject);
  const usable = all.filter((s) => s.digests.length > 0);
  if (usable.length === 0) {
    const algs = new Set(
      subject.flatMap((s) => Object.keys((s as { digest: Record<string, unknown> }).digest)),
    );
    throw new ProvenanceError(
      'ERR_PROVENANCE_DIGEST_ALGORITHM',
      `no subject has a sha256, sha384 or sha512 digest (got ${[...algs].join(', ') || 'none'})`,
    );
  }
  return usable;
}

/**
 * Parses a Statement v1 or v0.1 from its JSON bytes (the DSSE payload). Subjects without an
 * accepted digest are left out.
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
  const type = json._type;
  if (type !== STATEMENT_V1 && type !== STATEMENT_V01) {
    throw malformed(
      `_type must be ${STATEMENT_V1} or ${STATEMENT_V01}, got ${JSON.stringify(type)}`,
    );
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
  return { type, subjects: usableSubjects(subject), predicateType, predicate: predicate ?? {} };
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

/**
 * The git commit a digest set names: `gitCommit` (40 or 64 hex), or `sha1` of a `git+…` URI
 * (the SLSA v0.2 generators' convention, e.g. `{"sha1": "dae8bd8e…"}`).
 */
function gitCommitOf(digest: unknown, uri?: unknown): string | undefined {
  if (!isObject(digest)) return undefined;
  if (typeof digest.gitCommit === 'string') {
    const c = digest.gitCommit;
    if (!/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(c)) throw malformed('gitCommit must be 40 or 64 hex');
    return c;
  }
  if (typeof uri === 'string' && uri.startsWith('git+') && typeof digest.sha1 === 'string') {
    if (!/^[0-9a-f]{40}$/.test(digest.sha1)) throw malformed('a git sha1 must be 40 hex');
    return digest.sha1;
  }
  return undefined;
}

/** The first of `deps` (resource descriptors / materials) naming a git commit. */
function gitSource(deps: unknown, what: string): { repo: string; commit: string } | undefined {
  if (deps !== undefined && !Array.isArray(deps)) throw malformed(`${what} must be an array`);
  if (Array.isArray(deps) && deps.length > MAX_DEPENDENCIES) {
    throw new ProvenanceError('ERR_PROVENANCE_OVERSIZED', `too many ${what}`);
  }
  for (const d of (deps as unknown[] | undefined) ?? []) {
    if (!isObject(d) || typeof d.uri !== 'string') continue;
    const commit = gitCommitOf(d.digest, d.uri);
    if (commit) return { repo: repositoryOf(d.uri), commit };
  }
  return undefined;
}

function sourceOf(def: Record<string, unknown>): { repo?: string; commit?: string } {
  const found = gitSource(def.resolvedDependencies, 'buildDefinition.resolvedDependencies');
  if (found) return found;
  // Build types that name the source in externalParameters (GitHub Actions workflow, a
  // `source` resource descriptor) give the repository even without a resolved commit.
  const ext = def.externalParameters as Record<string, unknown>;
  const workflow = isObject(ext.workflow) ? ext.workflow : undefined;
  const source = isObject(ext.source) ? ext.source : undefined;
  const commit = source ? gitCommitOf(source.digest, source.uri) : undefined;
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

/**
 * Reads a SLSA provenance v0.2 predicate, mapped the way SLSA's v0.2 → v1 migration notes map
 * it: `builder.id` → `runDetails.builder.id`, `buildType` → `buildDefinition.buildType`,
 * `invocation.configSource` (the top-level source) and `materials` →
 * `buildDefinition.resolvedDependencies`. The source is `invocation.configSource` when it names
 * a git commit, else the first material that does.
 *
 * @throws {ProvenanceError} `ERR_PROVENANCE_MALFORMED` when a required field is missing.
 */
export function readSlsaV02(predicate: Record<string, unknown>): SlsaSummary {
  if (!isObject(predicate.builder)) throw malformed('builder must be an object');
  const invocation = predicate.invocation;
  if (invocation !== undefined && !isObject(invocation)) {
    throw malformed('invocation must be an object');
  }
  const config = invocation?.configSource;
  if (config !== undefined && !isObject(config)) {
    throw malformed('invocation.configSource must be an object');
  }
  const configCommit = config ? gitCommitOf(config.digest, config.uri) : undefined;
  const source =
    configCommit && typeof config?.uri === 'string'
      ? { repo: repositoryOf(config.uri), commit: configCommit }
      : gitSource(predicate.materials, 'materials');
  return {
    builderId: str(predicate.builder.id, 'builder.id'),
    buildType: str(predicate.buildType, 'buildType'),
    ...(source && { sourceRepository: source.repo, sourceCommit: source.commit }),
  };
}

/** The SBOM format of a predicate type, or `undefined` when it is not an SBOM. */
export function sbomFormat(predicateType: string): SbomSummary['format'] | undefined {
  if (/^https:\/\/spdx\.dev\/Document(\/v[0-9.]+)?$/.test(predicateType)) return 'spdx';
  if (/^https:\/\/cyclonedx\.org\/bom(\/v[0-9.]+)?$/.test(predicateType)) return 'cyclonedx';
  return undefined;
}
