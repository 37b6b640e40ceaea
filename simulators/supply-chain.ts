/**
 * A simulated build system: in-toto Statements v1 for SLSA provenance v1 and SBOM
 * references, DSSE-signed by a builder key, with the subjects a test chooses (e.g. a
 * simulated workload's MRTD as a `sha384` digest). Signatures are real (node:crypto).
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { IN_TOTO_MEDIA_TYPE } from '../wire/media-types.js';
import { signEnvelope } from '../provenance/dsse.js';
import { SLSA_PROVENANCE_V1, STATEMENT_V1 } from '../provenance/statement.js';

/** A subject: a name and a digest set (`{ sha384: hex }` …). */
export interface SimulatedSubject {
  readonly name: string;
  readonly digest: Readonly<Record<string, string>>;
}

/** Options of {@link simulateSlsaProvenance}. */
export interface SlsaSimOptions {
  readonly subjects: readonly SimulatedSubject[];
  readonly builderId: string;
  /** e.g. `https://github.com/acme/workload`. */
  readonly repository: string;
  /** 40 hex digits. */
  readonly commit: string;
  readonly buildType?: string;
  /** Keys that sign (each with an optional keyid). */
  readonly signers: readonly { key: KeyObject; keyid?: string }[];
}

/** The DSSE envelope (JSON) a builder would publish. */
export type SimulatedEnvelope = ReturnType<typeof signEnvelope>;

/** The in-toto Statement of a SLSA provenance v1 build (not signed). */
export function slsaStatement(o: Omit<SlsaSimOptions, 'signers'>): Record<string, unknown> {
  return {
    _type: STATEMENT_V1,
    subject: o.subjects,
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType:
          o.buildType ?? 'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1',
        externalParameters: {
          workflow: {
            ref: 'refs/heads/main',
            repository: o.repository,
            path: '.github/workflows/build.yml',
          },
        },
        resolvedDependencies: [
          { uri: `git+${o.repository}@refs/heads/main`, digest: { gitCommit: o.commit } },
        ],
      },
      runDetails: {
        builder: { id: o.builderId },
        metadata: { invocationId: `${o.repository}/actions/runs/1/attempts/1` },
      },
    },
  };
}

/** Signs any Statement (or other JSON) into a DSSE envelope of the in-toto payload type. */
export function signStatement(
  statement: unknown,
  signers: readonly { key: KeyObject; keyid?: string }[],
  payloadType = IN_TOTO_MEDIA_TYPE,
): SimulatedEnvelope {
  return signEnvelope(payloadType, new Uint8Array(Buffer.from(JSON.stringify(statement))), signers);
}

/**
 * SLSA provenance v1 for a simulated build, DSSE-signed by the builder.
 *
 * @example
 * ```ts
 * const env = simulateSlsaProvenance({ subjects: [{ name: 'td', digest: { sha384: mrtd } }],
 *   builderId, repository: 'https://github.com/acme/app', commit, signers: [{ key }] });
 * ```
 */
export function simulateSlsaProvenance(o: SlsaSimOptions): SimulatedEnvelope {
  return signStatement(slsaStatement(o), o.signers);
}

/** An SBOM reference (SPDX or CycloneDX predicate) for the subjects, DSSE-signed. */
export function simulateSbom(o: {
  readonly subjects: readonly SimulatedSubject[];
  readonly format: 'spdx' | 'cyclonedx';
  readonly signers: readonly { key: KeyObject; keyid?: string }[];
}): SimulatedEnvelope {
  const predicateType =
    o.format === 'spdx' ? 'https://spdx.dev/Document' : 'https://cyclonedx.org/bom';
  const predicate =
    o.format === 'spdx'
      ? { spdxVersion: 'SPDX-2.3', SPDXID: 'SPDXRef-DOCUMENT', name: 'simulated' }
      : { bomFormat: 'CycloneDX', specVersion: '1.6', components: [] };
  return signStatement(
    { _type: STATEMENT_V1, subject: o.subjects, predicateType, predicate },
    o.signers,
  );
}
